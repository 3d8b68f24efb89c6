/**
 * TCP ports of the local stack: whether one answers, a free one, and who holds a taken one, for the
 * one line `npm run stack -- up` prints when a port of the local stack is taken. Read from /proc (Linux, no tool needed): the listening sockets of /proc/net/tcp{,6} and
 * the processes whose /proc/<pid>/fd point at them. Another user's processes are visible to root
 * only; elsewhere the line says the holder cannot be seen.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const LISTEN = '0A'; // TCP_LISTEN in /proc/net/tcp's "st" column

/** The inodes of the sockets listening on `port` (any address). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== LISTEN) continue;
      if (parseInt(fields[1].split(':').pop() ?? '', 16) === port) inodes.add(fields[9]);
    }
  }
  return inodes;
}

function describeProcess(pid: number): string {
  const read = (fn: () => string) => {
    try {
      return fn();
    } catch {
      return undefined;
    }
  };
  const cmdline = read(() => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '));
  const cwd = read(() => fs.readlinkSync(`/proc/${pid}/cwd`));
  const command = cmdline && cmdline.length > 120 ? `${cmdline.slice(0, 117)}...` : cmdline;
  return `pid ${pid}${command ? ` (${command}${cwd ? `, in ${cwd}` : ''})` : ''}`;
}

/** "pid 123 (postgres -D /x, in /x)" for the process listening on `port`; undefined when nothing is seen to listen. */
export function portHolder(port: number): string | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: number[];
  try {
    pids = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        const socket = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (socket && inodes.has(socket[1])) return describeProcess(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return 'a process this user cannot see';
}

export class PortTakenError extends Error {
  override name = 'PortTakenError';
}

/**
 * Throws one line when something answers on host:port: the port, what it was meant for, who holds it
 * (when that can be seen) and the setting that moves the local stack off it.
 */
export async function assertPortFree(host: string, port: number, purpose: string, setting: string): Promise<void> {
  if (!(await isPortOpen(host, port))) return;
  const holder = portHolder(port);
  throw new PortTakenError(
    `port ${port} (${purpose}) on ${host} is already taken${holder ? ` by ${holder}` : ''}: ` +
      `set ${setting} to a free port (in the environment or .env) to move the local stack there, or stop what holds it`,
  );
}
