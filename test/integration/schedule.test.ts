import { strict as assert } from 'node:assert';
import { Client as PgClient } from 'pg';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { pool, RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { CliResult, runCli, waitFor } from '../support/cli';
import { seedSource } from '../../stack/seed';
import type { AppConfig } from '../../config/env';
import type { MigrationResult } from '../../workflows/definitions';

const ROWS = 400;

describe('Temporal Schedules of incremental runs, through the real CLI', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: RunningWorker;
  let source: Pool;
  let destination: Pool;
  const cronId = `test-schedule-cron-${process.pid}`;
  const everyId = `test-schedule-every-${process.pid}`;
  let nextCode = 1;

  const cli = (...args: string[]): Promise<CliResult> => runCli(config, [...args, '--json']);
  const describeSchedule = async (id: string) => {
    const d = await cli('schedule', 'describe', id);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    return d.json;
  };
  /** Changes `count` loaded customers in the source; answers their codes. */
  const changeSome = async (count: number, marker: string): Promise<number[]> => {
    const codes = (
      await destination.query(`SELECT "customerNumber"::int AS code FROM customer_profile WHERE "customerNumber"::int >= $1 ORDER BY 1 LIMIT $2`, [
        nextCode,
        count,
      ])
    ).rows.map((r) => Number(r.code));
    nextCode = codes[codes.length - 1] + 1;
    await source.query(
      `UPDATE efz_customer SET address_line2 = $2 || ' ' || customer_code, updated_at = clock_timestamp() WHERE customer_code = ANY($1::int[])`,
      [codes, marker],
    );
    return codes;
  };
  const landed = async (codes: number[], marker: string): Promise<number> =>
    (
      await destination.query(
        `SELECT count(*)::int AS n FROM customer_profile WHERE "customerNumber"::int = ANY($1::int[]) AND "customerProfileData" -> 'address' ->> 'line2' = $2 || ' ' || ("customerNumber"::int)`,
        [codes, marker],
      )
    ).rows[0].n;
  const resultOf = (workflowId: string): Promise<MigrationResult> => servers.temporal.client.workflow.getHandle(workflowId).result();

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 41 });
    config = testConfig(servers.urls, servers.temporal.address);
    worker = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    [source, destination] = [pool(servers.urls.source), pool(servers.urls.destination)];
    // A watermark exists, so scheduled runs are incremental.
    const full = await runMigration(servers.temporal.client, config, { mode: 'full' });
    assert.equal(full.status, 'COMPLETED');
  });
  after(async () => {
    for (const id of [cronId, everyId])
      await servers.temporal.client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await Promise.allSettled([source?.end(), destination?.end()]);
    await worker?.stop();
  });

  it('creates a cron schedule whose trigger starts an incremental run that completes', async () => {
    const created = await cli('schedule', 'create', '--id', cronId, '--cron', '0 3 1 1 *', '--catchup-window', '1h');
    assert.equal(created.code, 0, created.stdout + created.stderr);
    assert.equal(created.json.created, true);
    assert.equal(created.json.schedule.scheduleId, cronId);
    assert.deepEqual(created.json.schedule.cron, ['0 3 1 1 *']);
    assert.equal(created.json.schedule.overlap, 'SKIP');
    assert.equal(created.json.schedule.catchupWindow, '1h');
    assert.equal(created.json.schedule.paused, false);
    assert.equal(created.json.schedule.actionsTaken, 0);
    assert.match(created.json.schedule.next[0], /-01-01T03:00:00/);

    const codes = await changeSome(5, 'scheduled');
    const triggered = await cli('schedule', 'trigger', cronId);
    assert.equal(triggered.code, 0, triggered.stderr);
    assert.deepEqual(triggered.json, { scheduleId: cronId, triggered: true });
    const done = await waitFor('the triggered run to finish', async () => {
      const d = await describeSchedule(cronId);
      return d.recent.length === 1 && d.running.length === 0 ? d : undefined;
    });
    assert.equal(done.actionsTaken, 1);
    const workflowId: string = done.recent[0].workflowId;
    assert.ok(workflowId.startsWith(`${cronId}-run`), workflowId);
    const result = await resultOf(workflowId);
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    assert.equal(result.mode, 'incremental');
    assert.ok(result.counts.extracted >= codes.length && result.counts.extracted < ROWS, `extracted ${result.counts.extracted}`);
    assert.equal(await landed(codes, 'scheduled'), codes.length);
  });

  it('skips a trigger while its previous run is still going (overlap SKIP): one run only', async () => {
    const codes = await changeSome(5, 'overlap');
    const before = await describeSchedule(cronId);
    // Hold the source so that the run waits in its extraction.
    const blocker = new PgClient({ connectionString: servers.urls.source, application_name: 'customer-migration:test-blocker' });
    await blocker.connect();
    let running: string;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE efz_customer IN ACCESS EXCLUSIVE MODE');
      assert.equal((await cli('schedule', 'trigger', cronId)).code, 0);
      running = await waitFor('the scheduled run to start', async () => (await describeSchedule(cronId)).running[0] as string | undefined);
      assert.equal((await cli('schedule', 'trigger', cronId)).code, 0);
      const skipped = await waitFor(
        'the second trigger to be skipped',
        async () => {
          const d = await describeSchedule(cronId);
          return d.skippedOverlap > before.skippedOverlap ? d : undefined;
        },
        30_000,
        1000,
      );
      assert.equal(skipped.skippedOverlap, before.skippedOverlap + 1);
      assert.equal(skipped.actionsTaken, before.actionsTaken + 1, 'the second trigger started nothing');
      assert.deepEqual(skipped.running, [running]);
    } finally {
      await blocker.query('COMMIT').catch(() => undefined);
      await blocker.end();
    }
    const result = await resultOf(running!);
    assert.equal(result.status, 'COMPLETED');
    assert.equal(await landed(codes, 'overlap'), codes.length);
    const after = await waitFor('the schedule to see the run end', async () => {
      const d = await describeSchedule(cronId);
      return d.running.length === 0 ? d : undefined;
    });
    assert.equal(after.recent.length, before.recent.length + 1, 'exactly one more run');
    assert.equal(after.actionsTaken, before.actionsTaken + 1);
  });

  it('creates an --every schedule, lists it, and refuses to create over an existing id, explaining what exists', async () => {
    const created = await cli('schedule', 'create', '--id', everyId, '--every', '15m');
    assert.equal(created.code, 0, created.stdout + created.stderr);
    const s = created.json.schedule;
    assert.deepEqual([s.every, s.everyMs, s.overlap, s.catchupWindow, s.catchupWindowMs, s.paused], [['15m'], [900_000], 'SKIP', '10m', 600_000, false]);
    const next = Date.parse(s.next[0]);
    assert.ok(next > Date.now() - 5_000 && next <= Date.now() + 900_000, `next run at ${s.next[0]}`);
    assert.equal(Date.parse(s.next[1]) - next, 900_000);

    const listed = await waitFor(
      'the schedule to be listed',
      async () => {
        const l = await cli('schedule', 'list');
        assert.equal(l.code, 0, l.stderr);
        return (l.json.schedules as { scheduleId: string }[]).some((x) => x.scheduleId === everyId) ? l.json.schedules : undefined;
      },
      60_000,
      1000,
    );
    assert.ok(listed.some((x: { scheduleId: string }) => x.scheduleId === cronId));

    const again = await cli('schedule', 'create', '--id', everyId, '--cron', '*/5 * * * *');
    assert.equal(again.code, 1);
    assert.equal(again.json.created, false);
    assert.equal(again.json.reason, 'exists');
    assert.deepEqual(again.json.schedule.every, ['15m']);
    const text = await runCli(config, ['schedule', 'create', '--id', everyId, '--every', '1h']);
    assert.equal(text.code, 1);
    assert.match(text.stdout, new RegExp(`A schedule with id '${everyId}' already exists; nothing was changed`));
    assert.match(text.stdout, /runs: incremental, every 15m; overlap SKIP; catch-up window 10m/);
    assert.match(text.stdout, /schedule delete/);
    assert.deepEqual((await describeSchedule(everyId)).every, ['15m'], 'the existing schedule is unchanged');
  });

  it('pauses and unpauses a schedule', async () => {
    const paused = await cli('schedule', 'pause', everyId);
    assert.equal(paused.code, 0, paused.stderr);
    assert.deepEqual(paused.json, { scheduleId: everyId, paused: true });
    let d = await describeSchedule(everyId);
    assert.equal(d.paused, true);
    assert.equal(d.note, 'paused by migrate schedule pause');
    assert.equal((await cli('schedule', 'unpause', everyId)).code, 0);
    d = await describeSchedule(everyId);
    assert.equal(d.paused, false);
    assert.equal((await cli('schedule', 'pause', everyId)).code, 0);
    assert.equal((await describeSchedule(everyId)).paused, true);
  });

  it('deletes schedules; a deleted or unknown id is reported as missing', async () => {
    for (const id of [everyId, cronId]) {
      const deleted = await cli('schedule', 'delete', id);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.deepEqual(deleted.json, { scheduleId: id, deleted: true });
      const gone = await cli('schedule', 'describe', id);
      assert.equal(gone.code, 2);
      assert.match(gone.json.error, new RegExp(`no schedule '${id}'`));
    }
    assert.equal((await cli('schedule', 'trigger', everyId)).code, 2);
    await waitFor(
      'the schedules to leave the list',
      async () => {
        const l = await cli('schedule', 'list');
        return !(l.json.schedules as { scheduleId: string }[]).some((x) => x.scheduleId === everyId || x.scheduleId === cronId);
      },
      60_000,
      1000,
    );
  });

  it('rejects bad schedule options with a usage error', async () => {
    for (const args of [
      ['schedule', 'create'],
      ['schedule', 'create', '--every', '15'],
      ['schedule', 'create', '--every', '15m', '--cron', '* * * * *'],
      ['schedule', 'frobnicate'],
    ]) {
      const r = await cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.equal(r.json.kind, 'UsageError');
    }
  });
});
