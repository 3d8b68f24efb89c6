/**
 * Real processes for the fault, bad-input and security tests: the compiled worker and CLI as an
 * operator runs them, a Temporal dev server of our own on a persistent SQLite file, and small
 * PostgreSQL fault injections (slow statements, terminated connections, refused connections).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client as PgClient } from 'pg';
import type { AppConfig } from '../../config/env';
import { freePort, waitForTemporal } from '../../stack/local-stack';
import { resolveTemporalCli, searchAttributeArgs } from '../../stack/temporal-cli';

const DIST = path.resolve(__dirname, '..', '..');
export const WORKER_MAIN = path.join(DIST, 'worker', 'main.js');
export const CLIENT_MAIN = path.join(DIST, 'client', 'main.js');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something other than undefined/false/null; fails after timeoutMs. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The environment of a worker or CLI process for a test config: only what the service reads, so
 * nothing of the test process (a TEMPORAL_ADDRESS of the developer's shell, say) leaks in.
 */
export function serviceEnv(config: AppConfig, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SOURCE_DATABASE_URL: config.SOURCE_DATABASE_URL,
    STAGING_DATABASE_URL: config.STAGING_DATABASE_URL,
    DESTINATION_DATABASE_URL: config.DESTINATION_DATABASE_URL,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    PIPELINE: config.PIPELINE,
    BATCH_SIZE: String(config.BATCH_SIZE),
    BATCH_PARALLELISM: String(config.BATCH_PARALLELISM),
    EXTRACT_CHUNK_SIZE: String(config.EXTRACT_CHUNK_SIZE),
    MAPPING_FILE: config.MAPPING_FILE,
    LOG_LEVEL: 'info',
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node <script> ...args` to its end (SIGKILL after timeoutMs). */
export function runNode(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

export function runCli(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 60_000): Promise<ProcessResult> {
  return runNode(CLIENT_MAIN, args, env, timeoutMs);
}

/** Non-empty lines of a process's output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** A worker process (`node dist/worker/main.js`) of the service. */
export class WorkerProcess {
  readonly child: ChildProcess;
  stderr = '';
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [WORKER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return !this.done;
  }

  /** The worker's JSON log lines (every stderr line must be one). */
  logLines(): Record<string, unknown>[] {
    return lines(this.stderr).map((l) => JSON.parse(l));
  }

  /** Resolves once the worker logged 'worker started'; fails if it exits first. */
  async ready(timeoutMs = 60_000): Promise<this> {
    await until(
      `worker ${this.pid} to start`,
      () => {
        if (this.done) throw new Error(`worker ${this.pid} exited before it started:\n${this.stderr}`);
        return this.stderr.includes('"msg":"worker started"');
      },
      timeoutMs,
      100,
    );
    return this;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.done) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM (graceful), then SIGKILL if it has not exited after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.done) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  return new WorkerProcess(env).ready();
}

/**
 * A Temporal dev server of the test's own (not the shared TestWorkflowEnvironment), on a free port
 * and a persistent SQLite file, so that it can be stopped and started again with its history.
 */
export class TemporalDevServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  readonly address: string;
  log = '';

  private constructor(
    readonly port: number,
    readonly dbFile: string,
  ) {
    this.address = `127.0.0.1:${port}`;
  }

  static async create(dir: string): Promise<TemporalDevServer> {
    fs.mkdirSync(dir, { recursive: true });
    return new TemporalDevServer(await freePort(), path.join(dir, 't.db'));
  }

  async start(): Promise<void> {
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--headless',
      '--db-filename',
      this.dbFile,
      '--namespace',
      'default',
      ...searchAttributeArgs(),
      '--log-level',
      'error',
    ];
    // The CLI reads TEMPORAL_* variables too: none of ours may reach it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
    const child = spawn(resolveTemporalCli(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    let gone = false;
    this.exited = new Promise((resolve) => child.once('exit', () => ((gone = true), resolve())));
    await waitForTemporal(this.address, 'default', 60_000, () => !gone);
  }

  /** SIGTERM and wait for the exit (SIGKILL after 15 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** One statement on a fresh connection (for DDL and admin commands the pools must not hold). */
export async function adminQuery(url: string, sql: string, values: unknown[] = []): Promise<any[]> {
  const client = new PgClient({ connectionString: url, application_name: 'customer-migration-test:admin' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Terminates the service's PostgreSQL connections: application_name LIKE 'customer-migration:%',
 * the worker's pools (source, staging, destination), not the test's own connections.
 */
export async function terminateServiceConnections(adminUrl: string, roles = ['source', 'staging', 'destination']): Promise<number> {
  const rows = await adminQuery(
    adminUrl,
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
      WHERE application_name LIKE 'customer-migration:%' AND application_name = ANY($1) AND pid <> pg_backend_pid()`,
    [roles.map((r) => `customer-migration:${r}`)],
  );
  return rows.filter((r) => r.ok).length;
}

/**
 * Makes every INSERT statement on `table` sleep `seconds` inside its transaction (an AFTER …
 * FOR EACH STATEMENT trigger), so that a phase lasts long enough to be interrupted in the middle.
 */
export async function slowInserts(url: string, table: string, seconds: number): Promise<void> {
  await adminQuery(
    url,
    `CREATE OR REPLACE FUNCTION test_fault_slow() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_sleep(${Number(seconds)}); RETURN NULL; END $$;
     DROP TRIGGER IF EXISTS test_fault_slow ON ${table};
     CREATE TRIGGER test_fault_slow AFTER INSERT ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION test_fault_slow();`,
  );
}

export async function fastInserts(url: string, table: string): Promise<void> {
  await adminQuery(url, `DROP TRIGGER IF EXISTS test_fault_slow ON ${table}`);
}

/** Refuses (or allows again) every new connection to a database; existing ones are terminated. */
export async function setConnectionsAllowed(adminUrl: string, database: string, allowed: boolean): Promise<void> {
  await adminQuery(adminUrl, `ALTER DATABASE ${database} ALLOW_CONNECTIONS ${allowed ? 'true' : 'false'}`);
  if (!allowed) {
    await adminQuery(adminUrl, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database]);
  }
}
