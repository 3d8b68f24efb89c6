/**
 * Issue 6, faults: every run below is interrupted by a real fault (a SIGKILLed worker process, a
 * stopped Temporal server, terminated or refused PostgreSQL connections, an interrupted extraction)
 * and must still end with exactly the destination of a clean run: both tables, every column
 * (destinationDigest), with staged = loaded + rejected and no batch or issue recorded twice.
 *
 * The clean run is made first (in-process worker) and its digest kept; each faulted run starts from
 * an empty destination (customer_uuids stay, so the ids are the same) and is compared with it.
 * Workers are real `node dist/worker/main.js` processes. A slow-statement trigger (pg_sleep) on the
 * destination or staging table stretches a phase so that the fault lands in the middle of it.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { destinationDigest, pool, startWorker, testConfig } from '../support/harness';
import {
  adminQuery,
  fastInserts,
  runCli,
  serviceEnv,
  setConnectionsAllowed,
  sleep,
  slowInserts,
  startWorkerProcess,
  TemporalDevServer,
  terminateServiceConnections,
  until,
  WorkerProcess,
} from '../support/processes';
import { seedSource } from '../../stack/seed';
import type { AppConfig } from '../../config/env';
import { MigrationInput, MigrationResult, progressQuery, WORKFLOW_TYPE } from '../../workflows/definitions';

const ROWS = 2000;
const BATCH = 200; // 10 batches

type Digest = Awaited<ReturnType<typeof destinationDigest>>;

/** Decoded JSON payloads of a history's activity results, by activity type, with their attempts. */
async function activityOutcomes(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const started: { type: string; attempt: number; identity: string; eventTime: number }[] = [];
  const completed: { type: string; result: any }[] = [];
  const decode = (p: any) => (p?.data ? JSON.parse(Buffer.from(p.data).toString('utf8')) : undefined);
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    const s = e.activityTaskStartedEventAttributes;
    if (s) {
      const t = e.eventTime as { seconds?: { toNumber?: () => number } | number; nanos?: number } | null;
      const seconds = typeof t?.seconds === 'number' ? t.seconds : (t?.seconds?.toNumber?.() ?? 0);
      // Milliseconds, nanos included: whole seconds would blur which side of a kill an event is on.
      const eventTime = seconds * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
      started.push({ type: scheduled.get(String(s.scheduledEventId)) ?? '', attempt: s.attempt ?? 1, identity: s.identity ?? '', eventTime });
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (c) completed.push({ type: scheduled.get(String(c.scheduledEventId)) ?? '', result: decode(c.result?.payloads?.[0]) });
  }
  return { started, completed };
}

describe('faults: the run survives crashes and outages and loses nothing (real processes)', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let destination: Pool;
  let staging: Pool;
  let reference: Digest;
  let referenceCounts: { loaded: number; rejected: number };
  const workers: WorkerProcess[] = [];
  let counter = 0;

  /** A config of its own for one test: task queue and pipeline (the run lock) nobody else uses. */
  function configFor(overrides: Record<string, string> = {}): AppConfig {
    counter++;
    return testConfig(servers.urls, servers.temporal.address, {
      BATCH_SIZE: String(BATCH),
      PIPELINE: `faults_${process.pid}_${counter}`,
      ...overrides,
    });
  }

  async function worker(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
    const w = await startWorkerProcess(env);
    workers.push(w);
    return w;
  }

  function start(client: Client, config: AppConfig, input: Partial<MigrationInput> = {}): Promise<WorkflowHandle> {
    return client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: `faults-${config.PIPELINE}`,
      args: [{ mode: 'full', pipeline: config.PIPELINE, ...input } satisfies MigrationInput],
    });
  }

  async function batchRows(workflowId: string) {
    return (
      await staging.query(
        `SELECT b.batch_no, b.status, b.attempts FROM migration_batch b JOIN migration_run r USING (run_id)
        WHERE r.workflow_id = $1 ORDER BY b.batch_no`,
        [workflowId],
      )
    ).rows as { batch_no: number; status: string; attempts: number }[];
  }

  /** Waits until the run is loading with at least `done` batches DONE and some still to do. */
  async function midLoad(workflowId: string, done = 2) {
    return until(
      `${workflowId} in the middle of its load`,
      async () => {
        const rows = await batchRows(workflowId);
        const finished = rows.filter((b) => b.status === 'DONE').length;
        // …and a batch being loaded right now (not the gap between one batch's end and the next's start).
        const loading = rows.some((b) => b.status !== 'DONE' && b.attempts > 0);
        return rows.length && finished >= done && finished < rows.length && loading ? rows : undefined;
      },
      120_000,
      100,
    );
  }

  /** The destination equals the clean run's, and the run's own records add up. */
  async function assertLikeCleanRun(result: MigrationResult, workflowId: string) {
    assert.equal(result.status, 'COMPLETED', JSON.stringify({ status: result.status, failed: result.failedBatches, checks: result.reconciliation?.checks }));
    assert.ok(result.reconciliation?.ok, 'reconciliation passed');
    assert.equal(result.counts.staged, ROWS);
    assert.equal(result.counts.loaded + result.counts.rejected, ROWS, 'staged = loaded + rejected');
    assert.deepEqual({ loaded: result.counts.loaded, rejected: result.counts.rejected }, referenceCounts);
    assert.deepEqual(await destinationDigest(destination), reference, 'both destination tables, every column, equal to the clean run');
    const batches = await batchRows(workflowId);
    assert.ok(batches.length === ROWS / BATCH && batches.every((b) => b.status === 'DONE'), JSON.stringify(batches));
    const issues = (
      await staging.query(
        `SELECT count(*)::int AS n, count(DISTINCT (customer_code, severity, reason, field))::int AS distinct_n,
              count(*) FILTER (WHERE severity = 'REJECT')::int AS rejects
         FROM migration_issue i JOIN migration_run r USING (run_id) WHERE r.workflow_id = $1`,
        [workflowId],
      )
    ).rows[0];
    assert.equal(issues.n, issues.distinct_n, 'no reject or warning recorded twice');
    assert.equal(issues.rejects, result.counts.rejected);
    return batches;
  }

  before(async function () {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 11 });
    [destination, staging] = [pool(servers.urls.destination), pool(servers.urls.staging)];
    // The clean run every faulted run is compared with.
    const config = configFor();
    const w = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    try {
      const clean: MigrationResult = await servers.temporal.client.workflow.execute(WORKFLOW_TYPE, {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: `faults-clean-${process.pid}`,
        args: [{ mode: 'full', pipeline: config.PIPELINE }],
      });
      assert.equal(clean.status, 'COMPLETED');
      referenceCounts = { loaded: clean.counts.loaded, rejected: clean.counts.rejected };
      reference = await destinationDigest(destination);
      assert.equal(reference.customers, clean.counts.loaded);
    } finally {
      await w.stop();
    }
  });

  beforeEach(async () => {
    await adminQuery(servers.urls.destination, 'TRUNCATE customer_profile, customer');
  });

  afterEach(async function () {
    this.timeout(60_000);
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await setConnectionsAllowed(servers.postgres.adminUrl, 'corebank', true);
    await fastInserts(servers.urls.destination, 'customer');
    await fastInserts(servers.urls.staging, 'stg_customer');
    await adminQuery(servers.urls.staging, 'DROP TRIGGER IF EXISTS test_count_upserts ON stg_customer');
  });

  after(async () => {
    await Promise.allSettled([destination?.end(), staging?.end()]);
  });

  it('a worker process SIGKILLed in the middle of the load phase and started again: the run completes, nothing lost or doubled', async () => {
    const config = configFor();
    const env = serviceEnv(config);
    await slowInserts(servers.urls.destination, 'customer', 0.5);
    const first = await worker(env);
    const handle = await start(servers.temporal.client, config);
    await midLoad(handle.workflowId);
    const killed = await first.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const atKill = await batchRows(handle.workflowId);
    const inFlight = atKill.filter((b) => b.status !== 'DONE' && b.attempts > 0).map((b) => b.batch_no);
    assert.ok(inFlight.length > 0, `some batches were in flight when the worker died: ${JSON.stringify(atKill)}`);
    await fastInserts(servers.urls.destination, 'customer');

    const second = await worker(env);
    const result: MigrationResult = await handle.result();
    const batches = await assertLikeCleanRun(result, handle.workflowId);
    // The batches the dead worker held were loaded again by the new one (after the heartbeat timeout).
    for (const b of inFlight) assert.ok(batches.find((x) => x.batch_no === b)!.attempts >= 2, `batch ${b} was retried`);
    const { started } = await activityOutcomes(servers.temporal.client, handle.workflowId);
    const identities = new Set(started.filter((s) => s.type === 'loadBatch').map((s) => s.identity));
    assert.ok(
      [...identities].some((i) => i.startsWith(`${first.pid}@`)) && [...identities].some((i) => i.startsWith(`${second.pid}@`)),
      [...identities].join(', '),
    );
  });

  it('two workers share the task queue and one is SIGKILLed mid-run: the other finishes the run', async () => {
    const config = configFor();
    const env = serviceEnv(config);
    await slowInserts(servers.urls.destination, 'customer', 0.5);
    const [a, b] = await Promise.all([worker(env), worker(env)]);
    const handle = await start(servers.temporal.client, config);
    await midLoad(handle.workflowId);
    // Kill the worker that holds a running batch right now.
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const holders = pending.map((p) => p.lastWorkerIdentity ?? '').filter(Boolean);
    const victim = holders.some((h) => h.startsWith(`${a.pid}@`)) ? a : b;
    const survivor = victim === a ? b : a;
    assert.ok(
      holders.some((h) => h.startsWith(`${victim.pid}@`)),
      `the victim holds a batch: ${holders.join(', ')}`,
    );
    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    await fastInserts(servers.urls.destination, 'customer');

    const result: MigrationResult = await handle.result();
    await assertLikeCleanRun(result, handle.workflowId);
    assert.ok(survivor.alive, 'the other worker is still running');
    const { started } = await activityOutcomes(servers.temporal.client, handle.workflowId);
    // Server and test share one clock: every batch started after the kill is the survivor's.
    const after = started.filter((s) => s.eventTime > killedAt && s.type === 'loadBatch');
    assert.ok(after.length > 0 && after.every((s) => s.identity.startsWith(`${survivor.pid}@`)), JSON.stringify(after));
    assert.ok(
      started.some((s) => s.type === 'loadBatch' && s.attempt >= 2 && s.identity.startsWith(`${survivor.pid}@`)),
      "the survivor took over the dead worker's batch",
    );
  });

  it('the Temporal server is stopped mid-run and started again on its persistent database: the run resumes and completes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-temporal-'));
    const temporal = await TemporalDevServer.create(dir);
    let connection: Connection | undefined;
    try {
      await temporal.start();
      const config = configFor({ TEMPORAL_ADDRESS: temporal.address });
      const env = serviceEnv(config);
      await slowInserts(servers.urls.destination, 'customer', 0.5);
      const w = await worker(env);
      connection = await Connection.connect({ address: temporal.address });
      const handle = await start(new Client({ connection }), config);
      await midLoad(handle.workflowId);
      await connection.close();
      await temporal.stop();
      const downAt = await batchRows(handle.workflowId);
      await sleep(5_000); // the worker keeps loading the batches it holds, and cannot report them
      assert.ok(w.alive, 'the worker survives the outage');
      await temporal.start();
      await fastInserts(servers.urls.destination, 'customer');

      connection = await Connection.connect({ address: temporal.address });
      const client = new Client({ connection });
      const result: MigrationResult = await client.workflow.getHandle(handle.workflowId).result();
      await assertLikeCleanRun(result, handle.workflowId);
      assert.ok(w.alive, 'the same worker process finished the run');
      assert.ok(
        downAt.some((b) => b.status !== 'DONE'),
        'the server went down with batches still to load',
      );
    } finally {
      await connection?.close().catch(() => undefined);
      await temporal.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the worker's PostgreSQL connections are terminated mid-batch (pg_terminate_backend): the batches retry and the run completes", async () => {
    const config = configFor();
    const env = serviceEnv(config);
    await slowInserts(servers.urls.destination, 'customer', 0.5);
    const w = await worker(env);
    const handle = await start(servers.temporal.client, config);
    let terminated = 0;
    for (let round = 0; round < 3; round++) {
      // Mid-batch: a destination transaction of the worker is inside its upsert (the pg_sleep).
      await until(
        'a batch inside its destination transaction',
        async () => {
          const rows = await adminQuery(
            servers.postgres.adminUrl,
            `SELECT 1 FROM pg_stat_activity WHERE application_name = 'customer-migration:destination' AND wait_event = 'PgSleep'`,
          );
          return rows.length > 0;
        },
        60_000,
        50,
      );
      terminated += await terminateServiceConnections(servers.postgres.adminUrl);
      await sleep(1_500);
    }
    await fastInserts(servers.urls.destination, 'customer');
    const result: MigrationResult = await handle.result();
    const batches = await assertLikeCleanRun(result, handle.workflowId);
    assert.ok(terminated >= 3, `connections terminated: ${terminated}`);
    assert.ok(
      batches.some((b) => b.attempts >= 2),
      `some batch was retried: ${JSON.stringify(batches)}`,
    );
    assert.ok(w.alive, 'terminated connections do not crash the worker process');
    const failures = w.logLines().filter((l) => l.msg === 'activity attempt failed');
    assert.ok(
      failures.some((l) => l.activity === 'loadBatch' && l.retryable === true && typeof l.batchNo === 'number'),
      JSON.stringify(failures.slice(0, 3)),
    );
  });

  it('the destination refuses connections for a while, then returns: retries with backoff carry the run through', async () => {
    const config = configFor();
    const env = serviceEnv(config);
    await slowInserts(servers.urls.destination, 'customer', 0.3);
    const w = await worker(env);
    const handle = await start(servers.temporal.client, config);
    await midLoad(handle.workflowId, 1);
    await setConnectionsAllowed(servers.postgres.adminUrl, 'corebank', false);
    await sleep(4_000);
    await setConnectionsAllowed(servers.postgres.adminUrl, 'corebank', true);
    await fastInserts(servers.urls.destination, 'customer');
    const result: MigrationResult = await handle.result();
    const batches = await assertLikeCleanRun(result, handle.workflowId);
    assert.ok(
      batches.some((b) => b.attempts >= 2),
      JSON.stringify(batches),
    );
    const refused = w.logLines().filter((l) => l.msg === 'activity attempt failed' && JSON.stringify(l.error).includes('55000'));
    assert.ok(refused.length > 0, 'the refusals were seen (SQLSTATE 55000) and retried');
    assert.ok(refused.every((l) => l.retryable === true));
  });

  it('past the retry limits the batches end FAILED; `migrate retry` loads them once the destination is back, without loss', async () => {
    const config = configFor();
    const env = serviceEnv(config);
    await slowInserts(servers.urls.destination, 'customer', 0.3);
    await worker(env);
    const handle = await start(servers.temporal.client, config, { loadAttempts: 2 });
    await midLoad(handle.workflowId, 1);
    await setConnectionsAllowed(servers.postgres.adminUrl, 'corebank', false);
    const waiting = await until(
      'the run to wait for a decision on its failed batches',
      async () => {
        const p = await handle.query(progressQuery).catch(() => undefined);
        return p?.phase === 'awaiting-decision' ? p : undefined;
      },
      120_000,
      250,
    );
    assert.ok(waiting.failedBatches.length > 0);
    const failedRows = (await batchRows(handle.workflowId)).filter((b) => b.status === 'FAILED');
    assert.deepEqual(
      failedRows.map((b) => b.batch_no).sort((x, y) => x - y),
      waiting.failedBatches.map((f) => f.batchNo).sort((x, y) => x - y),
    );
    assert.ok(
      waiting.failedBatches.every((f) => /not currently accepting connections/.test(f.error)),
      JSON.stringify(waiting.failedBatches),
    );

    await setConnectionsAllowed(servers.postgres.adminUrl, 'corebank', true);
    await fastInserts(servers.urls.destination, 'customer');
    const retried = await runCli(env, ['retry', handle.workflowId, '--json']);
    assert.equal(retried.code, 0, retried.stderr);
    assert.deepEqual(
      JSON.parse(retried.stdout).scheduled.sort((x: number, y: number) => x - y),
      failedRows.map((b) => b.batch_no).sort((x, y) => x - y),
    );
    const result: MigrationResult = await handle.result();
    await assertLikeCleanRun(result, handle.workflowId);
  });

  it('an interrupted extraction resumes from its heartbeat cursor instead of starting over', async () => {
    const CHUNK = 100;
    const config = configFor({ EXTRACT_CHUNK_SIZE: String(CHUNK) });
    const env = serviceEnv(config);
    // Fresh staging rows, so that re-extracting a row would show as an UPDATE of stg_customer; the
    // ids (customer_uuids) stay. Two sequences count the upsert's inserts and updates (nextval is
    // not rolled back: an interrupted chunk's inserts count too).
    await adminQuery(
      servers.urls.staging,
      `TRUNCATE stg_customer;
       CREATE SEQUENCE IF NOT EXISTS test_extract_inserts; CREATE SEQUENCE IF NOT EXISTS test_extract_updates;
       SELECT setval('test_extract_inserts', 1, false), setval('test_extract_updates', 1, false);
       CREATE OR REPLACE FUNCTION test_count_upserts() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM nextval(CASE TG_OP WHEN 'INSERT' THEN 'test_extract_inserts' ELSE 'test_extract_updates' END); RETURN NEW; END $$;
       DROP TRIGGER IF EXISTS test_count_upserts ON stg_customer;
       CREATE TRIGGER test_count_upserts BEFORE INSERT OR UPDATE ON stg_customer FOR EACH ROW EXECUTE FUNCTION test_count_upserts();`,
    );
    await slowInserts(servers.urls.staging, 'stg_customer', 0.25); // ~5 s for 20 chunks
    const w = await worker(env);
    const handle = await start(servers.temporal.client, config);
    const cut = await until(
      'the extraction half-way',
      async () => {
        const r = (await staging.query(`SELECT rows_extracted FROM migration_run WHERE workflow_id = $1`, [handle.workflowId])).rows[0];
        return r && Number(r.rows_extracted) >= 6 * CHUNK ? Number(r.rows_extracted) : undefined;
      },
      60_000,
      50,
    );
    assert.ok(cut < ROWS);
    const terminated = await terminateServiceConnections(servers.postgres.adminUrl, ['source', 'staging']);
    assert.ok(terminated > 0);
    await fastInserts(servers.urls.staging, 'stg_customer');

    const result: MigrationResult = await handle.result();
    await assertLikeCleanRun(result, handle.workflowId);
    assert.equal(result.counts.extracted, ROWS, 'rows read, counted across both attempts, equal the source once');
    const { started, completed } = await activityOutcomes(servers.temporal.client, handle.workflowId);
    assert.ok(
      started.some((s) => s.type === 'extract' && s.attempt >= 2),
      'the extraction was retried',
    );
    const extracted = completed.find((c) => c.type === 'extract')!.result;
    assert.ok(extracted.resumedFromCursor >= cut - CHUNK, `resumed from key ${extracted.resumedFromCursor}, the cut was at ${cut} rows`);
    assert.equal(extracted.rowsRead, ROWS);
    const run = (await staging.query(`SELECT rows_extracted, rows_staged FROM migration_run WHERE workflow_id = $1`, [handle.workflowId])).rows[0];
    assert.equal(Number(run.rows_extracted), ROWS);
    assert.equal(Number(run.rows_staged), ROWS);
    const counts = (
      await adminQuery(
        servers.urls.staging,
        `SELECT (SELECT last_value FROM test_extract_inserts) AS ins, (SELECT is_called FROM test_extract_inserts) AS ins_called,
              (SELECT is_called FROM test_extract_updates) AS upd_called`,
      )
    )[0];
    assert.equal(counts.upd_called, false, 'no row was extracted twice (no upsert ever updated a staged row)');
    assert.ok(Number(counts.ins) >= ROWS && Number(counts.ins) <= ROWS + CHUNK, `inserts ${counts.ins}: every row once, plus at most the interrupted chunk`);
    const resumes = w.logLines().filter((l) => l.msg === 'extraction resumes from its heartbeat cursor');
    assert.ok(
      resumes.some((l) => l.cursor === extracted.resumedFromCursor),
      JSON.stringify({ resumes, extracted }),
    );
    // The first snapshot died with its connection: the retry read the rest under a new one, and the run
    // keeps the earliest snapshot time as its watermark (every row the first could not see is after it).
    const record = (await staging.query(`SELECT snapshot_at, extraction, watermark_after FROM migration_run WHERE workflow_id = $1`, [handle.workflowId]))
      .rows[0];
    assert.equal(record.extraction.snapshots.length, 2, JSON.stringify(record.extraction));
    assert.equal(record.extraction.snapshots[1].afterKey, extracted.resumedFromCursor);
    assert.ok(record.extraction.snapshots[0].at < record.extraction.snapshots[1].at);
    assert.equal(record.snapshot_at, record.extraction.snapshots[0].at);
    assert.equal(record.watermark_after, record.snapshot_at, 'the watermark is the earliest snapshot');
    assert.equal(record.extraction.sourceCount, null, 'no single snapshot counts what two read');
    assert.ok(result.reconciliation?.checks.find((c) => c.name === 'staged_equals_source_snapshot')?.ok, 'staging equals what the source held, chunk by chunk');
  });
});
