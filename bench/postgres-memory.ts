import * as fs from 'node:fs';

/**
 * Samples the memory of the local PostgreSQL server while the bench runs: the postmaster and all its
 * children (backends, autovacuum, checkpointer…). PSS rather than RSS, because every backend maps the
 * same shared buffers and summing their RSS would count them once per process. Linux only; on another
 * system (or a server on another machine) the figures stay null.
 */
export class PostgresMemory {
  private peakPssKb = 0;
  private peakBackendRssKb = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly postmasterPid: number | undefined) {}

  /** The server whose postmaster is the parent of a given server process. */
  static childOf(serverPid: number | undefined): PostgresMemory {
    const ppid = serverPid === undefined ? undefined : parentOf(serverPid);
    return new PostgresMemory(ppid !== undefined && ppid > 1 ? ppid : undefined);
  }

  start(everyMs = 1000): this {
    if (this.postmasterPid === undefined) return this;
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    return this;
  }

  stop(): { peak_pss_mb: number | null; peak_backend_rss_mb: number | null } {
    if (this.timer) clearInterval(this.timer);
    if (this.postmasterPid === undefined) return { peak_pss_mb: null, peak_backend_rss_mb: null };
    this.sample();
    return { peak_pss_mb: Math.round(this.peakPssKb / 1024), peak_backend_rss_mb: Math.round(this.peakBackendRssKb / 1024) };
  }

  private sample(): void {
    let pss = 0;
    for (const pid of [this.postmasterPid!, ...childrenOf(this.postmasterPid!)]) {
      pss += kb(`/proc/${pid}/smaps_rollup`, /^Pss:\s+(\d+)/m);
      if (pid !== this.postmasterPid) this.peakBackendRssKb = Math.max(this.peakBackendRssKb, kb(`/proc/${pid}/status`, /VmRSS:\s+(\d+)/));
    }
    this.peakPssKb = Math.max(this.peakPssKb, pss);
  }
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && parentOf(Number(entry)) === parent) out.push(Number(entry));
  }
  return out;
}

/** A process's parent pid from /proc/PID/stat (after the command name in parentheses); undefined once it has ended. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined; // the process ended between the listing and the read
  }
}

function kb(file: string, pattern: RegExp): number {
  try {
    return Number(pattern.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
