/**
 * Issue 6, security:
 * - no customer data in Temporal: the full event history of a completed run, and of a run whose
 *   batches failed on an error that quotes a customer value, holds no email, phone, BVN or name of
 *   the migrated rows (nor does what describe() and the progress query answer);
 * - worker logs are JSON lines with the run id and batch, and hold no row values unless
 *   LOG_ROW_VALUES=true (which shows them in the log, never in Temporal);
 * - secrets are never logged: a worker or CLI with a wrong password (or an API key) in its settings
 *   does not print it, whatever LOG_LEVEL;
 * - TLS: PostgreSQL URLs honour sslmode (a private cluster with SSL on, hostssl only), and the
 *   Temporal connection of the CLI and of the worker does TLS, mTLS, a server name override and an
 *   API key (a TLS-terminating gRPC proxy in front of the dev server, which has no TLS of its own).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { pool, testConfig } from '../support/harness';
import { adminQuery, lines, runCli, runNode, serviceEnv, startWorkerProcess, until, WORKER_MAIN, WorkerProcess } from '../support/processes';
import { CertFiles, makeCertificates, startTlsProxy, TlsProxy } from '../support/tls';
import { seedSource } from '../../stack/seed';
import { freePort, initPgCluster, postgresOsUser, startPgCluster, stopPgCluster } from '../../stack/local-stack';
import { postgresTempDir } from '../../stack/places';
import { createPool } from '../../db/pools';
import type { AppConfig } from '../../config/env';
import { MigrationInput, progressQuery, WORKFLOW_TYPE } from '../../workflows/definitions';

const ROWS = 1200;
const SECRET = 'Wr0ng-Pa55word-4f7a';
const API_KEY = 'tmprl_test.ApiKey-9c1e5b7a3d';

/**
 * Customer values worth searching for: emails, phone numbers, BVNs and names of the source rows,
 * as given and as normalised. Values too short or too common to mean anything when found (names
 * under 6 characters, numbers under 7 digits) are left out; digit strings must stand alone (not
 * inside a longer number such as a timestamp).
 */
async function customerValues(source: Pool, destination: Pool): Promise<{ text: string[]; digits: string[] }> {
  const text = new Set<string>();
  const digits = new Set<string>();
  const add = (v: unknown, minLength = 6) => {
    if (typeof v !== 'string') return;
    const t = v.trim();
    if (/^\+?\d+$/.test(t)) {
      if (t.replace('+', '').length >= 7) digits.add(t.replace('+', ''));
    } else if (t.length >= minLength) text.add(t);
  };
  const src = await source.query(`SELECT email, phone, alt_phone, bvn, first_name, middle_name, last_name, business_name, address_line1 FROM efz_customer`);
  for (const r of src.rows) for (const v of Object.values(r)) add(v);
  const dst = await destination.query(`SELECT bvn, "customerProfileData" AS d FROM customer_profile`);
  for (const { bvn, d } of dst.rows) {
    add(bvn);
    for (const k of ['email', 'phoneNumber', 'alternatePhoneNumber', 'fullName', 'firstName', 'lastName', 'businessName']) add(d[k]);
  }
  return { text: [...text], digits: [...digits] };
}

/**
 * The customer values found in `corpus` (an empty list is what we want). A value equal to a name
 * the corpus itself uses as a JSON key ('pending', 'status'…) is a word of the service, not
 * customer data found: it is left out.
 */
function leaks(corpus: string, values: { text: string[]; digits: string[] }): string[] {
  const vocabulary = new Set([...corpus.matchAll(/"([A-Za-z_][A-Za-z0-9_]*)":/g)].map((m) => m[1].toLowerCase()));
  const found = values.text.filter((v) => !vocabulary.has(v.toLowerCase()) && corpus.includes(v));
  const digitRuns = new Set(corpus.match(/\d{7,}/g) ?? []);
  for (const d of values.digits) if (digitRuns.has(d)) found.push(d);
  return found;
}

/**
 * Everything Temporal holds or answers about a workflow, as searchable text: the JSON of every
 * history event (all runs of the workflow id), describe() and, while the run is open, the progress
 * query; then every string in it raw (unescaped), every payload decoded from its bytes, and every
 * string inside a payload's JSON, so that a value with quotes or control characters is found too.
 */
async function temporalText(client: Client, workflowId: string): Promise<string> {
  const strings: string[] = [];
  const walk = (v: unknown, depth = 0): void => {
    if (depth > 64 || v === null || v === undefined) return;
    if (typeof v === 'string') {
      strings.push(v);
      return;
    }
    const bytes =
      v instanceof Uint8Array
        ? v
        : (v as { type?: string; data?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)
          ? Uint8Array.from((v as { data: number[] }).data)
          : null;
    if (bytes) {
      const text = Buffer.from(bytes).toString('utf8');
      strings.push(text);
      try {
        walk(JSON.parse(text), depth + 1);
      } catch {
        // not JSON (encoding metadata such as "json/plain")
      }
      return;
    }
    if (typeof v === 'object') for (const x of Object.values(v as object)) walk(x, depth + 1);
  };
  const documents: unknown[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const handle = client.workflow.getHandle(workflowId, execution.runId);
    documents.push(await handle.fetchHistory(), (await handle.describe()).raw, execution);
  }
  // What the progress query answers (only an open run has a worker to answer it).
  const handle = client.workflow.getHandle(workflowId);
  if ((await handle.describe()).status.name === 'RUNNING') documents.push(await handle.query(progressQuery));
  const asJson = (_k: string, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v);
  for (const d of documents) {
    strings.push(JSON.stringify(d, asJson));
    walk(d);
  }
  return strings.join('\n');
}

describe('security: no customer data in Temporal or the logs, no secret anywhere (real processes)', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let source: Pool;
  let destination: Pool;
  let values: { text: string[]; digits: string[] };
  let cleanRun: string;
  let logs: string;
  const workers: WorkerProcess[] = [];

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 29 });
    config = testConfig(servers.urls, servers.temporal.address, { BATCH_SIZE: '300', PIPELINE: 'security' });
    [source, destination] = [pool(servers.urls.source), pool(servers.urls.destination)];
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });
  after(async () => {
    await adminQuery(servers.urls.destination, 'DROP TRIGGER IF EXISTS test_value_error ON customer_profile');
    await Promise.allSettled([source?.end(), destination?.end()]);
  });

  async function worker(overrides: Record<string, string> = {}): Promise<WorkerProcess> {
    const w = await startWorkerProcess(serviceEnv(config, { LOG_LEVEL: 'debug', ...overrides }));
    workers.push(w);
    return w;
  }

  it('a completed run: its whole history holds no email, phone, BVN or name of the migrated rows', async () => {
    const w = await worker();
    cleanRun = `security-clean-${process.pid}`;
    const result = await servers.temporal.client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: cleanRun,
      args: [{ mode: 'full', pipeline: 'security' } satisfies MigrationInput],
    });
    assert.equal(result.status, 'COMPLETED');
    values = await customerValues(source, destination);
    assert.ok(values.text.length > 1000 && values.digits.length > 1000, `values to look for: ${values.text.length} texts, ${values.digits.length} numbers`);

    const history = await temporalText(servers.temporal.client, cleanRun);
    // The corpus is decoded: the run's own (non-customer) data is readable in it.
    assert.ok(history.includes('{"mode":"full","pipeline":"security"}') && history.includes('loadBatch') && history.includes('"loaded":'), 'payloads decoded');
    assert.deepEqual(leaks(history, values).slice(0, 10), []);
    // The search itself works: a value planted in the corpus is found.
    const email = values.text.find((v) => v.includes('@'))!;
    assert.deepEqual(leaks(`${history}\n{"x":"${email}"}\n99${values.digits[0]}\n ${values.digits[1]},`, values), [email, values.digits[1]]);
    await w.stop();
    logs = w.stderr;
  });

  it('worker logs: JSON lines with run id and batch, no row values', async () => {
    const parsed = lines(logs).map((l, i) => {
      try {
        return JSON.parse(l);
      } catch {
        assert.fail(`log line ${i + 1} is not JSON: ${l.slice(0, 200)}`);
      }
    });
    assert.ok(parsed.length > 5);
    for (const l of parsed) assert.ok(typeof l.time === 'string' && typeof l.level === 'string' && typeof l.msg === 'string', JSON.stringify(l));
    const batches = parsed.filter((l) => l.msg === 'batch loaded');
    assert.equal(batches.length, Math.ceil(ROWS / 300));
    assert.ok(batches.every((l) => typeof l.runId === 'number' && typeof l.batchNo === 'number'));
    assert.ok(
      parsed.some((l) => l.sdk === true),
      "the SDK's own lines are JSON too",
    );
    assert.deepEqual(leaks(logs, values).slice(0, 10), []);
  });

  it('an error that quotes a customer value: scrubbed from the history and the log; LOG_ROW_VALUES shows it in the log only', async () => {
    // PostgreSQL itself quotes the value: `invalid input syntax for type integer: "<email>"`.
    await adminQuery(
      servers.urls.destination,
      `CREATE OR REPLACE FUNCTION test_value_error() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM (NEW."customerProfileData"->>'email')::integer; RETURN NEW; END $$;
       DROP TRIGGER IF EXISTS test_value_error ON customer_profile;
       CREATE TRIGGER test_value_error BEFORE INSERT OR UPDATE ON customer_profile FOR EACH ROW
         WHEN (NEW."customerProfileData"->>'email' IS NOT NULL) EXECUTE FUNCTION test_value_error();`,
    );
    await adminQuery(servers.urls.destination, 'TRUNCATE customer_profile, customer');
    const runs: [string, WorkerProcess][] = [];
    try {
      for (const rowValues of ['false', 'true']) {
        const w = await worker({ LOG_ROW_VALUES: rowValues });
        const id = `security-value-error-${rowValues}-${process.pid}`;
        const handle = await servers.temporal.client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          workflowId: id,
          args: [{ mode: 'full', pipeline: 'security', decisionTimeout: '1h' } satisfies MigrationInput],
        });
        const waiting = await until(
          'the failed batches',
          async () => {
            const p = await handle.query(progressQuery).catch(() => undefined);
            return p?.phase === 'awaiting-decision' ? p : undefined;
          },
          120_000,
          250,
        );
        assert.ok(waiting.failedBatches.length > 0);
        assert.ok(
          waiting.failedBatches.every((f) => /invalid input syntax for type integer: "\[value hidden\]"/.test(f.error)),
          JSON.stringify(waiting.failedBatches[0]),
        );
        // While it waits: history, describe() and the progress query (failed batches and their errors).
        const live = await temporalText(servers.temporal.client, id);
        assert.ok(live.includes('"failedBatches":[{'), 'the progress query answered');
        assert.deepEqual(leaks(live, values).slice(0, 10), [], `${id} while it waits`);
        const aborted = await runCli(serviceEnv(config), ['abort', id, '--reason', 'security test']);
        assert.equal(aborted.code, 0, aborted.stderr);
        await handle.result().catch(() => undefined);
        await w.stop();
        runs.push([id, w]);
      }
    } finally {
      await adminQuery(servers.urls.destination, 'DROP TRIGGER IF EXISTS test_value_error ON customer_profile');
    }
    const emails = (await source.query(`SELECT lower(trim(email)) AS e FROM efz_customer WHERE email LIKE '%@%'`)).rows.map((r) => r.e);
    // As PostgreSQL quotes it, inside a JSON log line or history (quotes escaped) or as it is.
    const quoted = (text: string) => emails.filter((e) => text.includes(`\\"${e}\\"`) || text.includes(`"${e}"`));
    for (const [id, w] of runs) {
      const history = await temporalText(servers.temporal.client, id);
      assert.ok(history.includes('[value hidden]') && history.includes('DataError'), 'the failure is in the history, scrubbed');
      assert.deepEqual(leaks(history, values).slice(0, 10), [], `history of ${id}`);
      const failures = w.logLines().filter((l) => l.msg === 'activity attempt failed');
      assert.ok(failures.length > 0 && failures.every((l) => typeof l.runId === 'number' && typeof l.batchNo === 'number'));
      if (id.includes('-false-')) {
        assert.deepEqual(leaks(w.stderr, values).slice(0, 10), [], 'LOG_ROW_VALUES=false: no value in the log');
      } else {
        // The positive control: with LOG_ROW_VALUES=true the log shows the offending values (so the
        // search above would have found them), while the history of the same run does not.
        assert.ok(quoted(w.stderr).length > 0, 'LOG_ROW_VALUES=true: the offending value is in the log');
        assert.deepEqual(quoted(history), []);
      }
    }
  });

  it('secrets: a wrong password in any database URL, or an API key, is never printed (worker and CLI, any LOG_LEVEL)', async () => {
    const withPassword = (url: string) => url.replace(/\/\/postgres:[^@]*@/, `//postgres:${SECRET}@`);
    const outputs: string[] = [];
    for (const variable of ['SOURCE_DATABASE_URL', 'STAGING_DATABASE_URL', 'DESTINATION_DATABASE_URL'] as const) {
      for (const level of ['info', 'debug']) {
        const r = await runNode(WORKER_MAIN, [], serviceEnv(config, { [variable]: withPassword(config[variable]), LOG_LEVEL: level }));
        assert.equal(r.code, 1);
        assert.match(r.stderr, /database unreachable: password authentication failed for user \\"postgres\\"/);
        outputs.push(r.stdout + r.stderr);
      }
    }
    // A malformed URL with a password, and an API key sent to a server without TLS.
    const malformed = await runNode(
      WORKER_MAIN,
      [],
      serviceEnv(config, { SOURCE_DATABASE_URL: `postgres://postgres:${SECRET}@127.0.0.1:notaport/efz_source`, LOG_LEVEL: 'debug' }),
    );
    assert.equal(malformed.code, 1);
    outputs.push(malformed.stdout + malformed.stderr);
    const apiKey = await runNode(WORKER_MAIN, [], serviceEnv(config, { TEMPORAL_API_KEY: API_KEY, LOG_LEVEL: 'debug' }));
    assert.equal(apiKey.code, 1);
    assert.match(apiKey.stderr, /cannot reach Temporal at .* over TLS/);
    outputs.push(apiKey.stdout + apiKey.stderr);
    for (const args of [['full'], ['status', '1'], ['report', '1']]) {
      const r = await runCli(serviceEnv(config, { STAGING_DATABASE_URL: withPassword(config.STAGING_DATABASE_URL), LOG_LEVEL: 'debug' }), args);
      assert.notEqual(r.code, 0);
      outputs.push(r.stdout + r.stderr);
    }
    const all = outputs.join('\n');
    assert.ok(!all.includes(SECRET), 'no password');
    assert.ok(!all.includes(encodeURIComponent(SECRET)));
    assert.ok(!all.includes(API_KEY), 'no API key');
    assert.ok(!all.includes('postgres:postgres@'), 'not even the right password of the other URLs');
  });

  describe('TLS', () => {
    let tmp: string;
    let certs: CertFiles;
    before(() => {
      tmp = postgresTempDir('security-tls-'); // its cluster's files must be reachable by the postgres OS user
      certs = makeCertificates(path.join(tmp, 'certs'), ['temporal.test']);
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('PostgreSQL URLs honour sslmode (pg reads it from the connection string; the service passes the URL as is)', async function () {
      // A private cluster with SSL on and only hostssl entries in pg_hba.conf.
      const dataDir = path.join(tmp, 'pg');
      const pgCerts = makeCertificates(path.join(tmp, 'pgcerts'), ['localhost', '127.0.0.1']);
      const ids = postgresOsUser();
      for (const f of [pgCerts.serverCert, pgCerts.serverKey]) {
        fs.chmodSync(f, 0o600);
        if (ids.uid !== undefined) fs.chownSync(f, ids.uid, ids.gid!);
      }
      fs.chmodSync(path.dirname(pgCerts.serverKey), 0o755);
      const port = await freePort();
      await initPgCluster(
        { dataDir, port, password: 'postgres', settings: { ssl: 'on', ssl_cert_file: pgCerts.serverCert, ssl_key_file: pgCerts.serverKey, fsync: 'off' } },
        () => undefined,
      );
      fs.writeFileSync(path.join(dataDir, 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 scram-sha-256\n');
      await startPgCluster(dataDir, path.join(tmp, 'pg.log'));
      const base = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
      /** ssl in use on the connection, or the error's message. */
      const attempt = async (query: string): Promise<boolean | string> => {
        const p = createPool({ url: `${base}?${query}`, role: 'source', max: 1 });
        try {
          const r = await p.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
          return r.rows[0].ssl;
        } catch (err) {
          return (err as Error).message;
        } finally {
          await p.end().catch(() => undefined);
        }
      };
      try {
        // disable: plaintext, which this server refuses.
        assert.match(String(await attempt('sslmode=disable')), /no pg_hba\.conf entry .* no encryption/);
        // verify-full against the right CA: encrypted, certificate and host name checked.
        assert.equal(await attempt(`sslmode=verify-full&sslrootcert=${pgCerts.ca}`), true);
        // verify-full against another CA: refused.
        assert.match(String(await attempt(`sslmode=verify-full&sslrootcert=${pgCerts.otherCa}`)), /self[- ]signed|unable to verify|certificate/i);
        // node-postgres reads require / verify-ca / prefer as verify-full: without the CA, refused.
        assert.match(String(await attempt('sslmode=require')), /self[- ]signed|unable to verify|certificate/i);
        // libpq's meaning of require (encrypted, not verified) is opt-in, and so is no-verify.
        assert.equal(await attempt('sslmode=require&uselibpqcompat=true'), true);
        assert.equal(await attempt('sslmode=no-verify'), true);
        // require with the CA: verified, encrypted.
        assert.equal(await attempt(`sslmode=require&sslrootcert=${pgCerts.ca}`), true);
      } finally {
        await stopPgCluster(dataDir, 'immediate');
      }
    });

    it('Temporal over TLS: CLI and worker do mTLS with a server name override and an API key; without them they are refused', async () => {
      const proxy: TlsProxy = await startTlsProxy({ target: servers.temporal.address, certs, requireClientCert: true, apiKey: API_KEY });
      try {
        const tls = {
          TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
          TEMPORAL_TLS_CA_PATH: certs.ca,
          TEMPORAL_TLS_CERT_PATH: certs.clientCert,
          TEMPORAL_TLS_KEY_PATH: certs.clientKey,
          TEMPORAL_TLS_SERVER_NAME: 'temporal.test', // the certificate names temporal.test, not 127.0.0.1
          TEMPORAL_API_KEY: API_KEY,
        };
        const w = await worker({ ...tls, LOG_LEVEL: 'info' });
        const run = await runCli(serviceEnv(config, tls), ['full', '--wait', '--json', '--id', `security-tls-${process.pid}`], 180_000);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(JSON.parse(run.stdout).status, 'COMPLETED');
        assert.ok(w.stderr.includes('"msg":"worker started"') && w.stderr.includes('"msg":"run finished"'));
        assert.ok(!w.stderr.includes(API_KEY) && !run.stderr.includes(API_KEY) && !run.stdout.includes(API_KEY));
        assert.deepEqual([...proxy.clientSubjects], ['migration-worker'], 'the client certificate was presented');
        assert.deepEqual([...proxy.authorizations], [`Bearer ${API_KEY}`], 'every call carried the API key');
        assert.equal(proxy.refusedCalls, 0);

        const status = ['status', `security-tls-${process.pid}`, '--json'];
        const refused: [string, Record<string, string>, RegExp][] = [
          ['no client certificate', { ...tls, TEMPORAL_TLS_CERT_PATH: '', TEMPORAL_TLS_KEY_PATH: '' }, /cannot reach Temporal/],
          ['the wrong server name (or CA)', { ...tls, TEMPORAL_TLS_SERVER_NAME: 'evil.test' }, /cannot reach Temporal/],
          ['a wrong API key', { ...tls, TEMPORAL_API_KEY: 'tmprl_wrong.key-000000' }, /cannot reach Temporal|Unauthenticated|API key/i],
        ];
        for (const [what, env, expected] of refused) {
          const r = await runCli(serviceEnv(config, env), status, 60_000);
          assert.equal(r.code, 1, `${what}: ${r.stderr}`);
          assert.equal(lines(r.stderr).length, 1, `${what}: one line`);
          assert.match(r.stderr, expected, what);
          assert.ok(!r.stderr.includes('tmprl_wrong') && !r.stderr.includes(API_KEY), `${what}: no key printed`);
        }
        // The same CLI with everything right reads the run.
        const ok = await runCli(serviceEnv(config, tls), status);
        assert.equal(ok.code, 0, ok.stderr);
        await w.stop();
        assert.ok(!w.stderr.includes(API_KEY));
      } finally {
        await proxy.close();
      }
    });
  });
});
