import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { temporal } from '@temporalio/proto';
import { Client as PgClient } from 'pg';
import { PROJECT_ROOT, parseConfig } from '../config/env';
import { applyDdl, migrateStaging } from '../db/migrate';
import { connectClient } from '../lib/temporal';
import { fatal, UsageError } from '../lib/cli-errors';
import { ensureDatabases, localPorts, postgresUrl, stackUp } from '../stack/local-stack';
import { mutateSource, seedSource } from '../stack/seed';
import { MigrationResult, WORKFLOW_TYPE } from '../workflows/definitions';
import { measureBulkLimit } from './bulk-limit';
import { measureFloor } from './floor';
import { PostgresMemory } from './postgres-memory';

const DATABASES = { source: 'bench_source', staging: 'bench_staging', destination: 'bench_destination', floor: 'bench_floor', bulk: 'bench_bulk' };
const TASK_QUEUE = 'customer-migration-bench';

function args() {
  try {
    const { values } = parseArgs({
      options: {
        rows: { type: 'string', default: '1000000' },
        workers: { type: 'string', default: '1' },
        seed: { type: 'string', default: '42' },
        json: { type: 'boolean', default: false },
        'batch-size': { type: 'string' },
        parallelism: { type: 'string' },
        'cpu-prof': { type: 'string' },
        // The floor (INSERT … SELECT) is the old yardstick; a scale run (10M rows) may leave it out.
        'skip-floor': { type: 'boolean', default: false },
      },
      strict: true,
    });
    const int = (name: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const n = Number(v.replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} takes a positive whole number, not '${v}'`);
      return n;
    };
    return {
      rows: int('rows', values.rows)!,
      workers: int('workers', values.workers)!,
      seed: int('seed', values.seed)!,
      json: values.json ?? false,
      batchSize: int('batch-size', values['batch-size']),
      parallelism: int('parallelism', values.parallelism),
      cpuProfDir: values['cpu-prof'],
      skipFloor: values['skip-floor'] ?? false,
    };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `${(err as Error).message} (usage: npm run bench -- --rows N [--workers N] [--seed S] [--batch-size N] [--parallelism N] [--cpu-prof DIR] [--skip-floor] [--json])`,
    );
  }
}

async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new PgClient({ connectionString: url, application_name: 'customer-migration:bench', options: '-c TimeZone=UTC' });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Peak resident set of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function startWorker(env: NodeJS.ProcessEnv, index: number, cpuProfDir?: string): Promise<ChildProcess> {
  const logFile = path.join(PROJECT_ROOT, '.data', 'logs', `bench-worker-${index}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'w');
  // The worker runs with the Node options `npm run worker` uses (package.json "config").
  const nodeOptions: string = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).config.workerNodeOptions;
  // --cpu-prof DIR: V8 writes the worker's CPU profile there when it exits (open it in Chrome DevTools).
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfDir)}`] : [];
  const child = spawn(process.execPath, [...nodeOptions.split(/\s+/).filter(Boolean), ...profile, path.join(PROJECT_ROOT, 'dist', 'worker', 'main.js')], {
    env,
    stdio: ['ignore', log, log],
  });
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const text = fs.readFileSync(logFile, 'utf8');
      if (text.includes('"worker started"')) {
        clearInterval(poll);
        resolve(child);
      } else if (child.exitCode !== null || Date.now() - started > 60_000) {
        clearInterval(poll);
        reject(new Error(`bench worker ${index} did not start; see ${logFile}:\n${text.split('\n').slice(-5).join('\n')}`));
      }
    }, 200);
  });
}

/**
 * Phases of a run from its records: prepare (start → first batch), load (first batch → last batch,
 * or → the bulk path's keys rebuilt: the rebuild is part of loading), reconcile (→ finished).
 */
async function phaseSeconds(stagingUrl: string, runId: number) {
  const [row] = await sql<{ prepare: number; load: number; reconcile: number; total: number; keys: number | null; path: string | null }>(
    stagingUrl,
    `WITH b AS (SELECT min(started_at) AS first, max(finished_at) AS last FROM migration_batch WHERE run_id = $1),
          k AS (SELECT restored_at FROM migration_bulk_load WHERE run_id = $1)
     SELECT EXTRACT(EPOCH FROM b.first - r.started_at)::float AS prepare,
            EXTRACT(EPOCH FROM GREATEST(b.last, (SELECT restored_at FROM k)) - b.first)::float AS load,
            EXTRACT(EPOCH FROM r.finished_at - GREATEST(b.last, (SELECT restored_at FROM k)))::float AS reconcile,
            EXTRACT(EPOCH FROM (SELECT restored_at FROM k) - b.last)::float AS keys,
            r.load_path->>'path' AS path,
            EXTRACT(EPOCH FROM r.finished_at - r.started_at)::float AS total
     FROM migration_run r, b WHERE r.run_id = $1`,
    [runId],
  );
  return row;
}

async function main(): Promise<void> {
  const opts = args();
  const say = (line: string) => !opts.json && process.stderr.write(line + '\n');
  await stackUp(opts.json ? () => undefined : (l) => say(l));
  const url = (db: string) => postgresUrl(localPorts().pg, db);
  await ensureDatabases(url('postgres'), Object.values(DATABASES));
  const urls = { source: url(DATABASES.source), staging: url(DATABASES.staging), destination: url(DATABASES.destination) };
  await applyDdl(urls.destination, 'destination');
  await migrateStaging(urls.staging);
  await sql(urls.destination, 'TRUNCATE customer_profile, customer');
  await sql(
    urls.staging,
    `TRUNCATE stg_customer, customer_uuids, migration_issue, migration_batch, migration_watermark, migration_lock, migration_run CASCADE`,
  );

  say(`seeding ${opts.rows} rows…`);
  const seeded = await seedSource({ sourceUrl: urls.source, stagingUrl: urls.staging, rows: opts.rows, seed: opts.seed });
  const floor = opts.skipFloor
    ? { seconds: NaN, rows: null }
    : (say(`measuring the in-database floor…`), await measureFloor(urls.source, urls.staging, url(DATABASES.floor)));

  // The same quiet start the floor had: the freshly seeded source analysed and vacuumed (autovacuum
  // would do it in the middle of the run otherwise), dirty pages flushed.
  await sql(urls.source, 'VACUUM ANALYZE efz_customer');
  await sql(urls.source, 'CHECKPOINT');

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SOURCE_DATABASE_URL: urls.source,
    STAGING_DATABASE_URL: urls.staging,
    DESTINATION_DATABASE_URL: urls.destination,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    LOG_LEVEL: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info', // the bench waits for the worker's "worker started" line
    ...(opts.batchSize ? { BATCH_SIZE: String(opts.batchSize) } : {}),
    ...(opts.parallelism ? { BATCH_PARALLELISM: String(opts.parallelism) } : {}),
  };
  const config = parseConfig(env);
  say(`starting ${opts.workers} worker(s)…`);
  const workers = await Promise.all(Array.from({ length: opts.workers }, (_, i) => startWorker(env, i + 1, opts.cpuProfDir)));
  const { client, connection } = await connectClient(config);
  try {
    const run = async (mode: 'full' | 'incremental') => {
      const workflowId = `bench-${mode}-${Date.now()}`;
      const started = process.hrtime.bigint();
      const result: MigrationResult = await client.workflow.execute(WORKFLOW_TYPE, { taskQueue: TASK_QUEUE, workflowId, args: [{ mode }] });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let maxEvents = 0;
      const activitySeconds: Record<string, number> = {};
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
        maxEvents = Math.max(maxEvents, history.events?.length ?? 0);
        Object.assign(activitySeconds, activityDurations(history.events ?? []));
      }
      return { result, seconds, maxEvents, workflowId, activitySeconds };
    };
    // The checkpointer lives as long as the server: its parent is the postmaster.
    const [checkpointer] = await sql<{ pid: number }>(urls.staging, `SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`);
    const pgMemory = PostgresMemory.childOf(checkpointer?.pid).start();
    say('full migration through Temporal…');
    const full = await run('full');
    const pgPeak = pgMemory.stop();
    const sizes = await databaseSizes(urls);
    if (full.result.status !== 'COMPLETED') throw new Error(`the full run ended ${full.result.status}`);
    const phases = await phaseSeconds(urls.staging, full.result.runId!);
    say('measuring the bulk-load limit on the rows the run wrote…');
    const bulk = await measureBulkLimit(urls.destination, url(DATABASES.bulk));
    say('changing 1% of the source rows, then an incremental run…');
    const mutated = await mutateSource({ sourceUrl: urls.source, fraction: 0.01, seed: opts.seed });
    const incremental = await run('incremental');
    const rss = workers.map((w) => peakRssMb(w.pid!));
    const [pg] = await sql<{ server_version: string }>(urls.staging, 'SHOW server_version');

    const rows = opts.rows;
    const report = {
      rows,
      machine: {
        cores: os.cpus().length,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        postgres: pg.server_version,
        node: process.version,
      },
      settings: { batchSize: config.BATCH_SIZE, parallelism: config.BATCH_PARALLELISM, workers: opts.workers, extractChunkSize: config.EXTRACT_CHUNK_SIZE },
      seed_seconds: round(seeded.seconds),
      floor_seconds: round(floor.seconds),
      floor_rows: floor.rows,
      prepare_seconds: round(phases.prepare),
      extract_seconds: round(full.activitySeconds.extract ?? NaN),
      ids_seconds: round(full.activitySeconds.assignUuids ?? NaN),
      load_seconds: round(phases.load),
      load_path: phases.path,
      key_rebuild_seconds: phases.keys === null ? null : round(phases.keys),
      reconcile_seconds: round(phases.reconcile),
      total_seconds: round(full.seconds),
      ratio_load: round(floor.seconds / phases.load, 3),
      ratio_total: round(floor.seconds / full.seconds, 3),
      bulk_limit_seconds: round(bulk.seconds),
      bulk_limit_rows: bulk.rows,
      ratio_bulk_load: round(bulk.seconds / phases.load, 3),
      ratio_bulk_total: round(bulk.seconds / full.seconds, 3),
      loaded: full.result.counts.loaded,
      rejected: full.result.counts.rejected,
      reconciliation_ok: full.result.reconciliation?.ok ?? false,
      incremental_rows_changed: mutated.updated,
      incremental_seconds: round(incremental.seconds),
      incremental_share_of_full: round(incremental.seconds / full.seconds, 3),
      incremental_reconciliation_ok: incremental.result.reconciliation?.ok ?? false,
      worker_peak_rss_mb: Math.max(...rss),
      workers_peak_rss_mb: rss,
      max_history_events: Math.max(full.maxEvents, incremental.maxEvents),
      microseconds_per_row: round((1e6 * full.seconds) / rows, 1),
      postgres_peak_pss_mb: pgPeak.peak_pss_mb,
      postgres_peak_backend_rss_mb: pgPeak.peak_backend_rss_mb,
      staging_mb: sizes.staging,
      destination_mb: sizes.destination,
    };
    if (opts.json) {
      console.log(JSON.stringify(report));
      return;
    }
    const perSecond = (seconds: number) => (seconds > 0 ? Math.round(rows / seconds).toLocaleString('en') : '-');
    const line = (name: string, seconds: number, note = '') =>
      console.log(`${name.padEnd(34)}${seconds.toFixed(2).padStart(9)} s${perSecond(seconds).padStart(12)} rows/s  ${note}`);
    console.log(
      `\nBenchmark: ${rows.toLocaleString('en')} rows, ${report.machine.cores} cores (${report.machine.cpu}), PostgreSQL ${report.machine.postgres}, Node ${report.machine.node}`,
    );
    console.log(`settings: batch ${report.settings.batchSize}, parallelism ${report.settings.parallelism}, ${report.settings.workers} worker(s)\n`);
    if (opts.skipFloor) console.log(`${'in-database floor (INSERT…SELECT)'.padEnd(34)}  skipped (--skip-floor)`);
    else line('in-database floor (INSERT…SELECT)', floor.seconds, `${floor.rows} rows`);
    line('bulk-load limit (COPY, keys after)', bulk.seconds, `${bulk.rows} rows: the run's own rows, read back, COPYed into key-less copies, keys built`);
    line('full run: extract + ids + plan', phases.prepare, `extract ${report.extract_seconds} s, ids ${report.ids_seconds} s`);
    line(
      `full run: transform + load (${phases.path})`,
      phases.load,
      `${phases.keys === null ? '' : `keys rebuilt in ${report.key_rebuild_seconds} s; `}ratio_load ${report.ratio_load} (floor ÷ load; target ≥ 0.7); ratio_bulk_load ${report.ratio_bulk_load} (bulk ÷ load; target ≥ 0.9)`,
    );
    line('full run: reconcile + finish', phases.reconcile);
    line(
      'full run: total, through Temporal',
      full.seconds,
      `ratio_total ${report.ratio_total} (target ≥ 0.5); ratio_bulk_total ${report.ratio_bulk_total} (target ≥ 0.5)`,
    );
    console.log(
      `${'incremental run (1% changed)'.padEnd(34)}${incremental.seconds.toFixed(2).padStart(9)} s  ${mutated.updated} rows changed; ${(100 * report.incremental_share_of_full).toFixed(1)}% of the full run (target ≤ 5%)`,
    );
    console.log(
      `\nloaded ${report.loaded}, rejected ${report.rejected}, reconciliation ${report.reconciliation_ok ? 'PASSED' : 'FAILED'} (incremental: ${report.incremental_reconciliation_ok ? 'PASSED' : 'FAILED'})`,
    );
    console.log(
      `worker peak RSS ${report.worker_peak_rss_mb} MB (target ≤ 300 MB); largest workflow history ${report.max_history_events} events (target < 10,000)`,
    );
    console.log(
      `full run ${report.microseconds_per_row} µs per row; PostgreSQL peak ${report.postgres_peak_pss_mb ?? '-'} MB (PSS of all its processes), largest backend ${report.postgres_peak_backend_rss_mb ?? '-'} MB RSS; staging ${report.staging_mb} MB, destination ${report.destination_mb} MB`,
    );
  } finally {
    await connection.close();
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
  }
}

/** Seconds from scheduling to completion of each activity type that completed once in a history (extract, assignUuids). */
function activityDurations(events: readonly temporal.api.history.v1.IHistoryEvent[]): Record<string, number> {
  const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) => {
    const seconds = typeof t?.seconds === 'number' ? t.seconds : (t?.seconds?.toNumber() ?? 0); // a protobuf Long
    return seconds * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  };
  const scheduled = new Map<string, { type: string; at: number }>();
  const out: Record<string, number> = {};
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), { type: s.activityType?.name ?? '', at: ms(e.eventTime) });
    const c = e.activityTaskCompletedEventAttributes;
    const from = c ? scheduled.get(String(c.scheduledEventId)) : undefined;
    if (from && (from.type === 'extract' || from.type === 'assignUuids')) out[from.type] = (ms(e.eventTime) - from.at) / 1000;
  }
  return out;
}

/** Sizes on disk (MB) of the run's staging and destination databases after the full run. */
async function databaseSizes(urls: { staging: string; destination: string }): Promise<{ staging: number; destination: number }> {
  const size = async (url: string) => Number((await sql<{ mb: string }>(url, 'SELECT pg_database_size(current_database()) / 1048576 AS mb'))[0].mb);
  return { staging: await size(urls.staging), destination: await size(urls.destination) };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

main().then(() => process.exit(0), fatal);
