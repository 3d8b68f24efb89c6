/**
 * Cutover control on the real servers: live progress (query, UI details, search attributes, status),
 * failed-batch isolation and the lead's decisions (retry through the real CLI, accept-failures,
 * abort), the reject threshold, the reconciliation report and rejects CSV, and the read-only preview.
 */
import { strict as assert } from 'node:assert';
import { parseCsv } from '../support/csv';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { destinationDigest, pool, RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { mutateSource, seedSource } from '../../stack/seed';
import type { AppConfig } from '../../config/env';
import { MigrationInput, MigrationResult, Progress, progressQuery, searchAttributeKeys, WORKFLOW_TYPE } from '../../workflows/definitions';
import type { customerMigration } from '../../workflows';
import { readStatus } from '../../client/commands/status';
import { CliResult, runCli } from '../support/cli';
import { sleep, until } from '../support/processes';

const ROWS = 1200;
const BATCH_SIZE = 100;
const BATCHES = ROWS / BATCH_SIZE;
/** Set SHOW_CLI=1 to see what the CLI printed (status, report, preview) in the test output. */
const SHOW = Boolean(process.env.SHOW_CLI);

type Handle = WorkflowHandle<typeof customerMigration>;

/** Polls `probe` (a probe that throws counts as not ready yet) until it answers, or fails after timeoutMs. */
const waitFor = <T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> =>
  until<T>(what, () => probe().catch(() => null), timeoutMs, 150);

describe('cutover control: progress, failed batches, decisions, threshold, reports, preview', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: RunningWorker;
  let source: Pool;
  let staging: Pool;
  let destination: Pool;
  let seq = 0;

  /** Runs the real CLI (dist/client/main.js) as an operator would. */
  const cli = async (...args: string[]): Promise<CliResult> => {
    const result = await runCli(config, args);
    if (SHOW)
      process.stdout.write(
        `\n$ migrate ${args.join(' ')}   (exit ${result.code})\n${args.includes('--json') ? result.stdout.slice(0, 600) : result.stdout}${result.stderr}`,
      );
    return result;
  };

  const start = (input: MigrationInput): Promise<Handle> =>
    servers.temporal.client.workflow.start<typeof customerMigration>(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: `cutover-${process.pid}-${++seq}-${input.mode}`,
      args: [input],
    });
  const progressOf = (handle: Handle): Promise<Progress> => handle.query(progressQuery);
  const waitForPhase = (handle: Handle, phase: Progress['phase'], extra: (p: Progress) => boolean = () => true) =>
    waitFor(`phase ${phase}`, 120_000, async () => {
      const p = await progressOf(handle);
      return p.phase === phase && extra(p) ? p : null;
    });
  const currentDetails = async (handle: Handle): Promise<string> =>
    ((await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '') as string;

  /** A destination that refuses one customer: a failure outside the data, for exactly one batch. */
  const blockCustomer = async (customerId: string) => {
    await destination.query(`CREATE OR REPLACE FUNCTION test_refuse_customer() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."customerId" = '${customerId}'::uuid THEN RAISE EXCEPTION 'test: destination refuses customer %', NEW."customerId"; END IF;
        RETURN NEW;
      END $$`);
    await destination.query(`DROP TRIGGER IF EXISTS test_refuse_customer ON customer`);
    await destination.query(`CREATE TRIGGER test_refuse_customer BEFORE INSERT OR UPDATE ON customer FOR EACH ROW EXECUTE FUNCTION test_refuse_customer()`);
  };
  const unblock = () => destination.query(`DROP TRIGGER IF EXISTS test_refuse_customer ON customer`);
  /** A loaded (never rejected) code with its customerId, inside the given code range. */
  const loadedCode = async (lo: number, hi: number): Promise<{ code: number; id: string }> => {
    const row = (
      await staging.query(
        `SELECT u.customer_code AS code, u."customerId"::text AS id FROM customer_uuids u
       WHERE u.customer_code BETWEEN $1 AND $2
         AND NOT EXISTS (SELECT 1 FROM migration_issue i WHERE i.customer_code = u.customer_code AND i.severity = 'REJECT')
       ORDER BY u.customer_code LIMIT 1`,
        [lo, hi],
      )
    ).rows[0];
    assert.ok(row, `a loaded code between ${lo} and ${hi} (customer_uuids is filled by an earlier run)`);
    return { code: Number(row.code), id: row.id };
  };
  const runRow = async (runNumber: number) =>
    (await staging.query(`SELECT status, error, watermark_before, watermark_after, counts FROM migration_run WHERE run_id = $1`, [runNumber])).rows[0];
  const batchRow = async (runNumber: number, batchNo: number) =>
    (await staging.query(`SELECT status, attempts, error, lo, hi FROM migration_batch WHERE run_id = $1 AND batch_no = $2`, [runNumber, batchNo])).rows[0];
  const batchOfCode = async (runNumber: number, code: number): Promise<number> =>
    Number((await staging.query(`SELECT batch_no FROM migration_batch WHERE run_id = $1 AND $2 BETWEEN lo AND hi`, [runNumber, code])).rows[0].batch_no);
  const watermark = async (): Promise<string | null> =>
    (await staging.query(`SELECT watermark FROM migration_watermark WHERE pipeline = $1`, [config.PIPELINE])).rows[0]?.watermark ?? null;
  const lockCount = async () => (await staging.query(`SELECT count(*)::int AS n FROM migration_lock`)).rows[0].n as number;

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 11 });
    config = testConfig(servers.urls, servers.temporal.address, { BATCH_SIZE: String(BATCH_SIZE), EXTRACT_CHUNK_SIZE: '200' });
    worker = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    [source, staging, destination] = [pool(servers.urls.source), pool(servers.urls.staging), pool(servers.urls.destination)];
  });
  after(async () => {
    await unblock().catch(() => undefined);
    await Promise.allSettled([source?.end(), staging?.end(), destination?.end()]);
    await worker?.stop();
  });

  it('reports live progress (query, status, UI details, search attributes) that ends equal to the reconciliation', async () => {
    // Slow both ends a little (a pause per extracted chunk and per loaded batch) so that polling sees the run move.
    for (const [db, table] of [
      [staging, 'stg_customer'],
      [destination, 'customer'],
    ] as const) {
      await db.query(`CREATE OR REPLACE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$`);
      await db.query(`CREATE TRIGGER test_slow AFTER INSERT ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION test_slow()`);
    }
    try {
      const handle = await start({ mode: 'full' });
      let done = false;
      const result = handle.result().finally(() => (done = true));
      const phases: string[] = [];
      const attributePhases = new Set<string>();
      const details = new Set<string>();
      let extractedMidway = 0;
      let heartbeatRows = 0;
      let processedMidway = 0;
      let maxRunning = 0;
      let rateSeen = false;
      let etaSeen = false;
      // Sample until the run ends, then once more: the last sample sees the finished run.
      for (let last = false; !last;) {
        last = done;
        const view = await readStatus({ client: servers.temporal.client, staging }, handle.workflowId).catch(() => null);
        const p = view?.progress;
        if (p) {
          if (phases[phases.length - 1] !== p.phase) phases.push(p.phase);
          if (p.phase === 'extracting' && p.counts.extracted > 0 && p.counts.extracted < ROWS) extractedMidway = Math.max(extractedMidway, p.counts.extracted);
          const processed = p.counts.loaded + p.counts.rejected;
          if (p.phase === 'loading' && processed > 0 && processed < ROWS) processedMidway = processed;
          maxRunning = Math.max(maxRunning, p.batches.running);
          if (p.phase === 'loading' && p.rowsPerSecond !== null && p.rowsPerSecond > 0) rateSeen = true;
          if (p.phase === 'loading' && p.etaSeconds !== null) etaSeen = true;
        }
        const d = await handle.describe().catch(() => null);
        const saPhase = d?.typedSearchAttributes.get(searchAttributeKeys.phase);
        if (saPhase) attributePhases.add(saPhase);
        for (const a of d?.raw.pendingActivities ?? []) {
          const payload = a.heartbeatDetails?.payloads?.[0];
          if (a.activityType?.name === 'extract' && payload?.data) {
            heartbeatRows = Math.max(heartbeatRows, Number(JSON.parse(Buffer.from(payload.data).toString('utf8')).rowsRead ?? 0));
          }
        }
        const text = await currentDetails(handle).catch(() => '');
        const m = /phase \*\*([a-z-]+)\*\*/.exec(text);
        if (m) details.add(m[1]);
        await sleep(100);
      }
      const r = await result;
      assert.equal(r.status, 'COMPLETED');
      assert.ok(r.reconciliation?.ok);

      assert.deepEqual(
        phases.filter((ph) => ['extracting', 'loading', 'finished'].includes(ph)),
        ['extracting', 'loading', 'finished'],
        `phases seen: ${phases.join(' → ')}`,
      );
      assert.ok(extractedMidway > 0, 'status showed rows extracted while the extraction was still running (staging rows_extracted)');
      assert.ok(heartbeatRows > 0, 'the extract activity heartbeats its rows read (visible in the UI under Pending Activities)');
      assert.ok(processedMidway > 0, 'the loaded + rejected count grew during loading');
      assert.ok(maxRunning >= 1, 'batches were seen running');
      assert.ok(rateSeen, 'rows per second while loading');
      assert.ok(etaSeen, 'an ETA while loading');
      for (const ph of ['extracting', 'loading', 'finished']) {
        assert.ok(attributePhases.has(ph), `search attribute MigrationPhase was ${ph} at some point (seen: ${[...attributePhases].join(', ')})`);
        assert.ok(details.has(ph), `the UI's current details said phase ${ph} (seen: ${[...details].join(', ')})`);
      }
      const description = await handle.describe();
      assert.equal(description.typedSearchAttributes.get(searchAttributeKeys.mode), 'full');
      assert.equal(description.typedSearchAttributes.get(searchAttributeKeys.pipeline), config.PIPELINE);
      assert.equal(description.typedSearchAttributes.get(searchAttributeKeys.phase), 'finished');

      // The final progress equals the reconciliation's counts.
      const final = await progressOf(handle);
      const total = (f: 'staged' | 'loaded' | 'rejected') => Object.values(r.reconciliation!.byType).reduce((n, c) => n + c[f], 0);
      assert.equal(final.phase, 'finished');
      assert.equal(final.status, 'COMPLETED');
      assert.equal(final.counts.extracted, ROWS);
      assert.equal(final.counts.staged, total('staged'));
      assert.equal(final.counts.loaded, total('loaded'));
      assert.equal(final.counts.rejected, total('rejected'));
      assert.equal(final.counts.staged, final.counts.loaded + final.counts.rejected);
      assert.deepEqual(final.batches, { total: BATCHES, done: BATCHES, running: 0, failed: 0, pending: 0 });
      assert.equal(final.etaSeconds, 0);

      // The CLI says the same, as one JSON object; the text form shows the bar and the reconciliation.
      const status = await cli('status', handle.workflowId, '--json');
      assert.equal(status.code, 0, status.stderr);
      assert.equal(status.json.runId, handle.workflowId);
      assert.equal(status.json.runNumber, r.runId);
      assert.equal(status.json.workflowStatus, 'COMPLETED');
      assert.equal(status.json.progressSource, 'workflow');
      assert.deepEqual(status.json.counts, final.counts);
      const text = await cli('status', String(r.runId));
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /\[finished\]/);
      assert.match(text.stdout, /Reconciliation: PASSED/);
      assert.match(text.stdout, new RegExp(`loaded ${final.counts.loaded}`));
    } finally {
      await staging.query(`DROP TRIGGER IF EXISTS test_slow ON stg_customer`);
      await destination.query(`DROP TRIGGER IF EXISTS test_slow ON customer`);
    }
  });

  it('isolates a batch that keeps failing, waits for a decision, and loads it after `migrate retry` (same destination as a clean run)', async () => {
    await destination.query('TRUNCATE customer, customer_profile');
    const blocked = await loadedCode(550, 650);
    await blockCustomer(blocked.id);
    const handle = await start({ mode: 'full', loadAttempts: 3 });
    const waiting = await waitForPhase(handle, 'awaiting-decision');
    const runNumber = waiting.runId!;
    const failedNo = await batchOfCode(runNumber, blocked.code);

    // The failed batch is recorded with its error and attempts; every other batch loaded.
    assert.equal(waiting.failedBatches.length, 1);
    assert.equal(waiting.failedBatches[0].batchNo, failedNo);
    assert.equal(waiting.failedBatches[0].attempts, 3);
    assert.match(waiting.failedBatches[0].error, /destination refuses customer/);
    assert.deepEqual(waiting.batches, { total: BATCHES, done: BATCHES - 1, running: 0, failed: 1, pending: 0 });
    assert.ok(waiting.decisionDeadline && Date.parse(waiting.decisionDeadline) > Date.now());
    const failedRow = await batchRow(runNumber, failedNo);
    assert.equal(failedRow.status, 'FAILED');
    assert.equal(failedRow.attempts, 3);
    assert.match(failedRow.error, /destination refuses customer/);
    const others = (await staging.query(`SELECT count(*)::int AS n FROM migration_batch WHERE run_id = $1 AND status = 'DONE'`, [runNumber])).rows[0].n;
    assert.equal(others, BATCHES - 1);
    const loadedSoFar = (await destination.query(`SELECT count(*)::int AS n FROM customer`)).rows[0].n;
    assert.equal(loadedSoFar, waiting.counts.loaded);
    assert.equal((await destination.query(`SELECT count(*)::int AS n FROM customer WHERE "customerId" = $1`, [blocked.id])).rows[0].n, 0);
    assert.equal((await runRow(runNumber)).status, 'RUNNING');
    assert.equal((await handle.describe()).typedSearchAttributes.get(searchAttributeKeys.phase), 'awaiting-decision');
    const detailText = await currentDetails(handle);
    assert.match(detailText, /awaiting-decision/);
    assert.match(detailText, new RegExp(`failed batches: ${failedNo} \\(3 attempts`));
    assert.match(detailText, /retryFailedBatches/);

    // The CLI shows the wait and refuses a batch that did not fail.
    const status = await cli('status', handle.workflowId);
    assert.match(status.stdout, /WAITING for a decision on 1 failed batch/);
    assert.match(status.stdout, new RegExp(`FAILED batch ${failedNo} after 3 attempt`));
    const wrong = await cli('retry', handle.workflowId, '--batch', String(failedNo === 1 ? 2 : 1), '--json');
    assert.equal(wrong.code, 2);
    assert.match(wrong.json.error, /not failed; failed: /);

    // The lead fixes the cause outside the data and retries through the real CLI.
    await unblock();
    const retry = await cli('retry', handle.workflowId, '--json');
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(retry.json, { runId: handle.workflowId, scheduled: [failedNo] });
    const r = await handle.result();
    assert.equal(r.status, 'COMPLETED', JSON.stringify(r.reconciliation?.checks));
    assert.ok(r.reconciliation?.ok);
    assert.deepEqual(r.failedBatches, []);
    assert.equal(r.batches.done, BATCHES);
    assert.equal(r.counts.loaded + r.counts.rejected, ROWS);
    assert.deepEqual(
      r.decisions.map((d) => [d.action, d.via, d.batches]),
      [['retry', 'update', [failedNo]]],
    );
    const retried = await batchRow(runNumber, failedNo);
    assert.equal(retried.status, 'DONE');
    assert.equal(retried.attempts, 4, 'three failed attempts and the successful retry');
    assert.equal(retried.error, null);
    const run = await runRow(runNumber);
    assert.equal(run.status, 'COMPLETED');
    assert.ok(run.watermark_after, 'a completed run moves the watermark');
    assert.equal((await destination.query(`SELECT count(*)::int AS n FROM customer WHERE "customerId" = $1`, [blocked.id])).rows[0].n, 1);
    const afterRetry = await destinationDigest(destination);
    assert.equal(afterRetry.customers, r.counts.loaded);

    // A clean run into an empty destination writes exactly the same tables.
    await destination.query('TRUNCATE customer, customer_profile');
    const clean = await runMigration(servers.temporal.client, config, { mode: 'full' });
    assert.equal(clean.status, 'COMPLETED');
    assert.deepEqual(clean.counts, r.counts);
    assert.deepEqual(await destinationDigest(destination), afterRetry);
  });

  it('accept-failures ends a waiting run COMPLETED_WITH_FAILURES without moving the watermark', async () => {
    await mutateSource({ sourceUrl: servers.urls.source, fraction: 0.2, seed: 5 }); // newer rows: a completed run would move the watermark
    const before = await watermark();
    assert.ok(before);
    const blocked = await loadedCode(100, 300);
    await blockCustomer(blocked.id);
    try {
      const handle = await start({ mode: 'full', loadAttempts: 2 });
      const waiting = await waitForPhase(handle, 'awaiting-decision');
      const failedNo = await batchOfCode(waiting.runId!, blocked.code);
      assert.deepEqual(
        waiting.failedBatches.map((f) => [f.batchNo, f.attempts]),
        [[failedNo, 2]],
      );
      const answer = await cli('accept-failures', handle.workflowId, '--json');
      assert.equal(answer.code, 0, answer.stderr);
      assert.deepEqual(answer.json, { runId: handle.workflowId, accepted: [failedNo] });
      const r = await handle.result();
      assert.equal(r.status, 'COMPLETED_WITH_FAILURES');
      assert.deepEqual(
        r.failedBatches.map((f) => f.batchNo),
        [failedNo],
      );
      assert.equal(r.batches.done, BATCHES - 1);
      assert.equal(r.reconciliation?.ok, false);
      const notDone = r.reconciliation!.checks.find((c) => c.name === 'all_batches_done')!;
      assert.equal(notDone.ok, false);
      assert.equal(notDone.count, 1);
      assert.equal(r.watermarkAfter, r.watermarkBefore);
      const run = await runRow(r.runId!);
      assert.equal(run.status, 'COMPLETED_WITH_FAILURES');
      assert.equal(await watermark(), before, 'the watermark stays where it was');
      assert.equal(await lockCount(), 0, 'the pipeline lock is released');
      assert.equal((await batchRow(r.runId!, failedNo)).status, 'FAILED');
      // The report says it is not ready for sign-off, and why.
      const report = await cli('report', handle.workflowId, '--json');
      assert.equal(report.code, 0, report.stderr);
      assert.equal(report.json.signOff.ready, false);
      assert.equal(report.json.batches.failed, 1);
      assert.deepEqual(
        report.json.batches.failedBatches.map((f: { batchNo: number }) => f.batchNo),
        [failedNo],
      );
      // The decision is final: the run is over.
      const late = await cli('retry', handle.workflowId, '--json');
      assert.equal(late.code, 2);
      assert.match(late.json.error, /is COMPLETED: decisions apply only to a running run/);
    } finally {
      await unblock();
    }
  });

  it('a retry by signal (as from the Temporal UI) counts attempts across rounds; abort ends the run ABORTED, watermark unchanged', async () => {
    const before = await watermark();
    const blocked = await loadedCode(900, 1100);
    await blockCustomer(blocked.id);
    try {
      const handle = await start({ mode: 'full', loadAttempts: 2 });
      const waiting = await waitForPhase(handle, 'awaiting-decision');
      const failedNo = waiting.failedBatches[0].batchNo;
      assert.equal(waiting.failedBatches[0].attempts, 2);
      await handle.signal('retryFailedBatchesSignal', {});
      const again = await waitForPhase(handle, 'awaiting-decision', (p) => p.decisions.length === 1 && p.failedBatches[0]?.attempts === 4);
      assert.deepEqual(
        again.decisions.map((d) => [d.action, d.via]),
        [['retry', 'signal']],
      );
      assert.equal((await batchRow(again.runId!, failedNo)).attempts, 4);

      const answer = await cli('abort', handle.workflowId, '--reason', 'cutover postponed', '--json');
      assert.equal(answer.code, 0, answer.stderr);
      assert.equal(answer.json.aborted, true);
      const r = await handle.result();
      assert.equal(r.status, 'ABORTED');
      assert.match(r.error ?? '', /cutover postponed/);
      assert.deepEqual(
        r.decisions.map((d) => d.action),
        ['retry', 'abort'],
      );
      const run = await runRow(r.runId!);
      assert.equal(run.status, 'ABORTED');
      assert.match(run.error, /cutover postponed/);
      assert.equal(run.watermark_after, run.watermark_before);
      assert.equal(await watermark(), before);
      assert.equal(await lockCount(), 0);
      assert.equal((await handle.describe()).typedSearchAttributes.get(searchAttributeKeys.phase), 'finished');
    } finally {
      await unblock();
    }
  });

  it('a run nobody decides on fails with DecisionTimeout after input.decisionTimeout; bad input fails at once', async () => {
    const before = await watermark();
    const blocked = await loadedCode(300, 500);
    await blockCustomer(blocked.id);
    try {
      const handle = await start({ mode: 'full', loadAttempts: 1, decisionTimeout: '3s' });
      const waiting = await waitForPhase(handle, 'awaiting-decision');
      assert.equal(waiting.failedBatches[0].attempts, 1);
      assert.ok(waiting.decisionDeadline, 'the wait shows its deadline');
      const failure = await handle.result().then(
        () => null,
        (err: unknown) => err,
      );
      assert.ok(failure instanceof WorkflowFailedError, String(failure));
      assert.ok(failure.cause instanceof ApplicationFailure);
      assert.equal(failure.cause.type, 'DecisionTimeout');
      assert.match(failure.cause.message, /no decision on failed batches within 3s/);
      const run = await runRow(waiting.runId!);
      assert.equal(run.status, 'FAILED');
      assert.match(run.error, /no decision/);
      assert.equal(await watermark(), before);
      assert.equal(await lockCount(), 0);
    } finally {
      await unblock();
    }
    // From the UI or a schedule the input is not checked by the CLI: the workflow refuses it itself.
    const bad = await start({ mode: 'full', parallelism: 0, decisionTimeout: 'soon' } as MigrationInput);
    const refused = await bad.result().then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(refused instanceof WorkflowFailedError && refused.cause instanceof ApplicationFailure, String(refused));
    assert.equal(refused.cause.type, 'ConfigError');
    assert.match(refused.cause.message, /parallelism must be a whole number of at least 1, not 0; decisionTimeout must be a duration/);
    assert.equal((await staging.query(`SELECT count(*)::int AS n FROM migration_run WHERE workflow_id = $1`, [bad.workflowId])).rows[0].n, 0);
  });

  it('abort while loading lets in-flight batches finish, starts no new one, and ends ABORTED', async () => {
    await destination.query(`CREATE OR REPLACE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.4); RETURN NULL; END $$`);
    await destination.query(`CREATE TRIGGER test_slow AFTER INSERT ON customer FOR EACH STATEMENT EXECUTE FUNCTION test_slow()`);
    try {
      const handle = await start({ mode: 'full' });
      await waitForPhase(handle, 'loading', (p) => p.batches.done >= 1);
      await handle.executeUpdate('abort', { args: [{ reason: 'stop now' }] });
      const r = await handle.result();
      assert.equal(r.status, 'ABORTED');
      assert.ok(r.batches.done < BATCHES, `stopped early (${r.batches.done} of ${BATCHES} done)`);
      const states = (await staging.query(`SELECT status, count(*)::int AS n FROM migration_batch WHERE run_id = $1 GROUP BY status`, [r.runId])).rows;
      const byState = Object.fromEntries(states.map((s) => [s.status, s.n]));
      assert.equal(byState.DONE, r.batches.done, 'every started batch finished its transaction');
      assert.ok(byState.PENDING > 0);
      assert.equal((await runRow(r.runId!)).status, 'ABORTED');
    } finally {
      await destination.query(`DROP TRIGGER IF EXISTS test_slow ON customer`);
    }
  });

  it('report --json and the rejects CSV list every reject of a dirty data set, with its exact source values', async () => {
    const tricky = 'no, "bvn"\nhere ';
    const trickyCodes = [5, 17, 404];
    await source.query(`UPDATE efz_customer SET bvn = $1, updated_at = clock_timestamp() WHERE customer_code = ANY($2)`, [tricky, trickyCodes]);
    const r = await runMigration(servers.temporal.client, config, { mode: 'full' });
    assert.equal(r.status, 'COMPLETED', JSON.stringify(r.reconciliation?.checks));
    assert.ok(r.counts.rejected > trickyCodes.length, 'the synthetic data set is dirty');

    const report = await cli('report', String(r.runId), '--json');
    assert.equal(report.code, 0, report.stderr);
    const j = report.json;
    assert.equal(j.status, 'COMPLETED');
    assert.equal(j.runNumber, r.runId);
    assert.equal(j.signOff.ready, true, JSON.stringify(j.signOff));
    assert.equal(j.rejects, r.counts.rejected);
    const rejectIssues = j.issues.filter((i: { severity: string }) => i.severity === 'REJECT');
    assert.equal(
      rejectIssues.reduce((n: number, i: { count: number }) => n + i.count, 0),
      r.counts.rejected,
    );
    for (const i of j.issues) assert.ok(i.examples.length >= 1 && i.examples.length <= 5 && i.reason);
    assert.ok(rejectIssues.some((i: { reason: string }) => i.reason === 'INVALID_BVN'));
    const types = Object.values(j.byType as Record<string, { staged: number; loaded: number; rejected: number }>);
    assert.equal(
      types.reduce((n, t) => n + t.staged, 0),
      ROWS,
    );
    assert.equal(
      types.reduce((n, t) => n + t.rejected, 0),
      r.counts.rejected,
    );
    assert.deepEqual(
      j.reconciliation.checks.map((c: { ok: boolean }) => c.ok),
      j.reconciliation.checks.map(() => true),
    );
    assert.equal(j.batches.total, BATCHES);
    assert.equal(j.batches.done, BATCHES);
    assert.equal(j.batches.attempts, BATCHES);

    const text = await cli('report', String(r.runId));
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /sign-off: READY/);
    assert.match(text.stdout, /Reconciliation: PASSED/);
    for (const c of j.reconciliation.checks) assert.match(text.stdout, new RegExp(`PASS  ${c.name}`));
    assert.match(text.stdout, /INVALID_BVN/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-rejects-'));
    try {
      const file = path.join(dir, 'rejects.csv');
      const exported = await cli('rejects', String(r.runId), '--csv', file, '--json');
      assert.equal(exported.code, 0, exported.stderr);
      assert.equal(exported.json.rows, r.counts.rejected);
      const [header, ...records] = parseCsv(fs.readFileSync(file, 'utf8'));
      assert.deepEqual(header, ['customer_code', 'severity', 'reason', 'field', 'value', 'batch_no', 'source_row']);
      assert.equal(records.length, r.counts.rejected);
      for (const rec of records) assert.equal(rec.length, header.length, `a record of 7 fields: ${JSON.stringify(rec)}`);
      const codes = records.map((rec) => Number(rec[0]));
      assert.equal(new Set(codes).size, codes.length, 'one reject per code');
      const expected = (
        await staging.query(`SELECT customer_code, reason FROM migration_issue WHERE run_id = $1 AND severity = 'REJECT' ORDER BY 1`, [r.runId])
      ).rows;
      assert.deepEqual(
        records.map((rec) => [Number(rec[0]), rec[2]]),
        expected.map((e) => [e.customer_code, e.reason]),
      );
      for (const code of trickyCodes) {
        const rec = records.find((x) => Number(x[0]) === code);
        assert.ok(rec, `code ${code} (a bvn with a comma, quotes and a newline) is rejected`);
        assert.equal(JSON.parse(rec[6]).bvn, tricky, 'the original source row survives the CSV');
        if (rec[2] === 'INVALID_BVN') assert.equal(rec[4], tricky);
      }
      assert.ok(records.some((x) => x[2] === 'INVALID_BVN' && x[4] === tricky));

      const all = await cli('rejects', String(r.runId), '--csv', file, '--warnings', '--json');
      const issueCount = (await staging.query(`SELECT count(*)::int AS n FROM migration_issue WHERE run_id = $1`, [r.runId])).rows[0].n;
      assert.equal(all.json.rows, issueCount);
      assert.equal(parseCsv(fs.readFileSync(file, 'utf8')).length - 1, issueCount);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('preview maps staged or source rows as a run would, with placeholder ids for new codes, and writes nothing', async () => {
    // A source-only code (never extracted): a copy of a loaded customer's row under a new code.
    const model = await loadedCode(1, 100);
    await source.query(
      `INSERT INTO efz_customer SELECT (jsonb_populate_record(NULL::efz_customer, to_jsonb(e) || '{"customer_code": 99999}')).* FROM efz_customer e WHERE customer_code = $1`,
      [model.code],
    );
    const countAll = async () => {
      const counts: Record<string, number> = {};
      for (const [name, db] of [
        ['source', source],
        ['staging', staging],
        ['destination', destination],
      ] as const) {
        const tables = (
          await db.query(
            `SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
          )
        ).rows;
        for (const { t } of tables) counts[`${name}:${t}`] = (await db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
      }
      return counts;
    };
    const digestBefore = await destinationDigest(destination);
    const uuidsBefore = (await staging.query(`SELECT md5(string_agg(u::text, ',' ORDER BY customer_code)) AS h FROM customer_uuids u`)).rows[0].h;
    const before = await countAll();
    assert.ok(Object.keys(before).length >= 10);

    const sample = await cli('preview', '--limit', '8', '--json');
    assert.equal(sample.code, 0, sample.stderr);
    const p = sample.json;
    assert.equal(p.from, 'staging');
    assert.equal(p.wroteNothing, true);
    assert.deepEqual(
      p.rows.map((x: { code: number }) => x.code),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(p.summary.rows, 8);
    assert.equal(p.summary.load + p.summary.reject, 8);
    assert.equal(p.summary.placeholderIds, 0);
    const lastRun = (await staging.query(`SELECT max(run_id) AS id FROM migration_run WHERE status = 'COMPLETED'`)).rows[0].id;
    for (const row of p.rows) {
      if (row.outcome === 'LOAD') {
        // What preview shows is what the load wrote.
        const c = (await destination.query(`SELECT * FROM customer WHERE "customerId" = $1`, [row.customer.customerId])).rows[0];
        const pr = (await destination.query(`SELECT * FROM customer_profile WHERE "customerId" = $1`, [row.customer.customerId])).rows[0];
        assert.deepEqual(row.customer, JSON.parse(JSON.stringify(c)), `customer of code ${row.code}`);
        assert.deepEqual(row.profile, JSON.parse(JSON.stringify(pr)), `customer_profile of code ${row.code}`);
      } else {
        const issue = (
          await staging.query(`SELECT reason, field FROM migration_issue WHERE run_id = $1 AND customer_code = $2 AND severity = 'REJECT'`, [lastRun, row.code])
        ).rows[0];
        assert.deepEqual([row.reject.reason, row.reject.field], [issue.reason, issue.field], `reject of code ${row.code}`);
      }
    }
    assert.equal(
      p.issues.filter((i: { severity: string }) => i.severity === 'REJECT').reduce((n: number, i: { count: number }) => n + i.count, 0),
      p.summary.reject,
    );

    const fromSource = await cli('preview', '--source', '--codes', `${model.code},99999,123456`, '--json');
    assert.equal(fromSource.code, 0, fromSource.stderr);
    const s = fromSource.json;
    assert.equal(s.from, 'source');
    assert.deepEqual(s.notFound, [123456]);
    assert.deepEqual(
      s.rows.map((x: { code: number }) => x.code),
      [model.code, 99999],
    );
    const [known, fresh] = s.rows;
    assert.equal(known.placeholderIds, false);
    assert.equal(known.customer.customerId, model.id);
    assert.equal(fresh.placeholderIds, true);
    assert.equal(fresh.outcome, 'LOAD');
    assert.equal(fresh.customer.customerId, '00000000-0000-0000-0000-000000099999');
    assert.equal(fresh.profile.customerNumber, '0000099999');
    assert.deepEqual(fresh.profile.customerProfileData, known.profile.customerProfileData, 'same source values, same mapped data');

    const text = await cli('preview', '--limit', '3');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /nothing is written/);
    assert.match(text.stdout, /code 1 /);
    const bad = await cli('preview', '--codes', '12,abc', '--json');
    assert.equal(bad.code, 2);
    assert.match(bad.json.error, /--codes/);

    assert.deepEqual(await countAll(), before, 'no table of any database changed its row count');
    assert.deepEqual(await destinationDigest(destination), digestBefore);
    assert.equal((await staging.query(`SELECT md5(string_agg(u::text, ',' ORDER BY customer_code)) AS h FROM customer_uuids u`)).rows[0].h, uuidsBefore);
    await source.query(`DELETE FROM efz_customer WHERE customer_code = 99999`);
  });

  it('stops a run whose source is mostly invalid with a non-retryable RejectThresholdExceeded', async () => {
    const before = await watermark();
    await source.query(`UPDATE efz_customer SET bvn = 'bad', updated_at = clock_timestamp() WHERE customer_code % 10 <> 0`);
    let failure: unknown;
    let result: MigrationResult | undefined;
    const workflowId = `cutover-${process.pid}-threshold`;
    try {
      result = await runMigration(servers.temporal.client, config, { mode: 'full', rejectMaxRatio: 0.5 }, workflowId);
    } catch (err) {
      failure = err;
    }
    assert.equal(result, undefined, 'the run must not complete');
    assert.ok(failure instanceof WorkflowFailedError, String(failure));
    const cause = failure.cause;
    assert.ok(cause instanceof ApplicationFailure, String(cause));
    assert.equal(cause.type, 'RejectThresholdExceeded');
    assert.equal(cause.nonRetryable, true);
    assert.match(cause.message, /reject threshold exceeded: rejected rows are \d+\.\d% of \d+ processed, above the limit of 50\.0%/);
    const run = (await staging.query(`SELECT run_id, status, error FROM migration_run WHERE workflow_id = $1`, [workflowId])).rows[0];
    assert.equal(run.status, 'FAILED');
    assert.match(run.error, /reject threshold exceeded/);
    const pending = (await staging.query(`SELECT count(*)::int AS n FROM migration_batch WHERE run_id = $1 AND status = 'PENDING'`, [run.run_id])).rows[0].n;
    assert.ok(pending > 0, 'the run stopped before loading every batch');
    assert.equal(await watermark(), before);
    assert.equal(await lockCount(), 0);
    const status = await cli('status', workflowId, '--json');
    assert.equal(status.json.workflowStatus, 'FAILED');
    assert.equal(status.json.status, 'FAILED');
    assert.match(status.json.error, /reject threshold exceeded/);
  });
});
