import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ConfigError, parseConfig } from '../../config/env';
import { classifyError, failureMessage } from '../../activities/errors';
import { errorFields, log, rowValue, scrubRowValues, setLogLevel, setLogRowValues } from '../../lib/log';
import { describeError } from '../../lib/cli-errors';
import { connectionOptions, temporalTls } from '../../lib/temporal';

const SECRET = 'Pa55w0rd-that-must-not-leak';

/** A pg DatabaseError look-alike (what pg gives for an error message from the server). */
function pgError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}

describe('configuration: problems are named, secrets are not', () => {
  it('a malformed URL names the variable, never its value', () => {
    for (const bad of [`postgres://migrator:${SECRET}@db:notaport/efz`, `mysql://migrator:${SECRET}@db/efz`, `postgres://migrator:${SECRET}@db:5432/`]) {
      assert.throws(
        () => parseConfig({ SOURCE_DATABASE_URL: bad }),
        (err: Error) => err instanceof ConfigError && /SOURCE_DATABASE_URL/.test(err.message) && !err.message.includes(SECRET),
      );
    }
  });

  it('sslmode must be one pg understands', () => {
    for (const mode of ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify']) {
      assert.equal(parseConfig({ SOURCE_DATABASE_URL: `postgres://u@h:5432/db?sslmode=${mode}` }).SOURCE_DATABASE_URL.endsWith(mode), true);
    }
    assert.throws(
      () => parseConfig({ DESTINATION_DATABASE_URL: 'postgres://u@h:5432/db?sslmode=verify_full' }),
      /DESTINATION_DATABASE_URL: sslmode must be one of/,
    );
  });

  it('TEMPORAL_ADDRESS is host:port (IPv6 in brackets too)', () => {
    assert.equal(parseConfig({ TEMPORAL_ADDRESS: '[::1]:7233' }).TEMPORAL_ADDRESS, '[::1]:7233');
    assert.equal(parseConfig({ TEMPORAL_ADDRESS: 'ns.a1b2c.tmprl.cloud:7233' }).TEMPORAL_ADDRESS, 'ns.a1b2c.tmprl.cloud:7233');
    assert.throws(() => parseConfig({ TEMPORAL_ADDRESS: 'http://temporal:7233' }), /TEMPORAL_ADDRESS: must be host:port/);
  });

  it('mTLS needs both the certificate and the key', () => {
    assert.throws(() => parseConfig({ TEMPORAL_TLS_CERT_PATH: '/c.pem' }), /TEMPORAL_TLS_KEY_PATH: mTLS needs both/);
    assert.throws(() => parseConfig({ TEMPORAL_TLS_KEY_PATH: '/k.pem' }), /TEMPORAL_TLS_CERT_PATH: mTLS needs both/);
  });
});

describe('Temporal TLS options (lib/temporal.ts)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-unit-'));
    for (const f of ['ca.pem', 'client.pem', 'client.key']) fs.writeFileSync(path.join(dir, f), `-----BEGIN ${f}-----\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('plaintext without any TLS setting (the local dev server)', () => {
    assert.equal(temporalTls(parseConfig({})), undefined);
    assert.deepEqual(connectionOptions(parseConfig({ TEMPORAL_ADDRESS: 'localhost:7233' })), { address: 'localhost:7233', tls: undefined });
  });

  it('TEMPORAL_TLS=true: TLS against the system CAs', () => {
    assert.deepEqual(temporalTls(parseConfig({ TEMPORAL_TLS: 'true' })), {});
  });

  it('mTLS with a private CA and a server name', () => {
    const tls = temporalTls(
      parseConfig({
        TEMPORAL_TLS_CA_PATH: path.join(dir, 'ca.pem'),
        TEMPORAL_TLS_CERT_PATH: path.join(dir, 'client.pem'),
        TEMPORAL_TLS_KEY_PATH: path.join(dir, 'client.key'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.bank.internal',
      }),
    )!;
    assert.equal(tls.serverNameOverride, 'temporal.bank.internal');
    assert.equal(String(tls.serverRootCACertificate), '-----BEGIN ca.pem-----\n');
    assert.equal(String(tls.clientCertPair!.crt), '-----BEGIN client.pem-----\n');
    assert.equal(String(tls.clientCertPair!.key), '-----BEGIN client.key-----\n');
  });

  it('a CA alone turns TLS on (it is not silently ignored)', () => {
    assert.ok(temporalTls(parseConfig({ TEMPORAL_TLS_CA_PATH: path.join(dir, 'ca.pem') }))?.serverRootCACertificate);
  });

  it('an API key turns TLS on and is passed to the connection', () => {
    const options = connectionOptions(parseConfig({ TEMPORAL_API_KEY: 'tmprl_key' }));
    assert.deepEqual(options.tls, {});
    assert.equal((options as { apiKey?: string }).apiKey, 'tmprl_key');
  });

  it('an unreadable certificate is a ConfigError naming the variable', () => {
    assert.throws(
      () => temporalTls(parseConfig({ TEMPORAL_TLS_CA_PATH: path.join(dir, 'nope.pem') })),
      (err: Error) => err instanceof ConfigError && /TEMPORAL_TLS_CA_PATH: cannot read .*nope\.pem: ENOENT/.test(err.message),
    );
  });
});

describe('activity errors: classified, and never carrying a password or a customer value', () => {
  it('bad data, a wrong schema and bad credentials are non-retryable; connection trouble is retried', () => {
    const expectations: [Error, boolean, string][] = [
      [pgError('invalid input syntax for type integer: "12a"', '22P02'), true, 'DataError'],
      [pgError('duplicate key value violates unique constraint "customer_pkey"', '23505'), true, 'DataError'],
      [pgError('relation "customer" does not exist', '42P01'), true, 'SchemaError'],
      [pgError('password authentication failed for user "postgres"', '28P01'), true, 'ConfigError'],
      [pgError('database "x" does not exist', '3D000'), true, 'ConfigError'],
      [pgError('terminating connection due to administrator command', '57P01'), false, 'DatabaseError'],
      [pgError('database "corebank" is not currently accepting connections', '55000'), false, 'DatabaseError'],
      [pgError('deadlock detected', '40P01'), false, 'DatabaseError'],
      [pgError('canceling statement due to statement timeout', '57014'), false, 'DatabaseError'],
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), false, 'ECONNREFUSED'],
      [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), false, 'EPIPE'],
      [new Error('Connection terminated unexpectedly'), false, 'Error'],
    ];
    for (const [err, nonRetryable, type] of expectations) {
      const f = classifyError(err) as ApplicationFailure;
      assert.ok(f instanceof ApplicationFailure, err.message);
      assert.equal(f.nonRetryable, nonRetryable, err.message);
      assert.equal(f.type, type, err.message);
    }
  });

  it('Temporal failures (ours, cancellations) pass through unchanged', () => {
    const own = ApplicationFailure.nonRetryable('refused', 'RunAlreadyActive');
    assert.equal(classifyError(own), own);
    const cancelled = new CancelledFailure('cancelled');
    assert.equal(classifyError(cancelled), cancelled);
  });

  it('values PostgreSQL quotes are scrubbed from failure messages (they go to the Temporal history)', () => {
    const messages: [string, string][] = [
      ['invalid input syntax for type integer: "adaeze.okafor@example.com"', 'invalid input syntax for type integer: "[value hidden]"'],
      ['value "+2348031234567" is out of range for type integer', 'value "[value hidden]" is out of range for type integer'],
      ['invalid input value for enum gender: "Fem"ale"', 'invalid input value for enum gender: "[value hidden]"'],
      ['Key (bvn)=(22212345678) already exists.', 'Key (bvn)=([value hidden]) already exists.'],
      ['Failing row contains (1, Adaeze, Okafor).', 'Failing row contains ([value hidden]).'],
      [
        'new row for relation "customer" violates check constraint "customer_type_check"',
        'new row for relation "customer" violates check constraint "customer_type_check"',
      ],
    ];
    for (const [raw, scrubbed] of messages) assert.equal(scrubRowValues(raw), scrubbed);
    const f = classifyError(pgError(`invalid input syntax for type integer: "adaeze.okafor@example.com" (postgres://u:${SECRET}@h/db)`, '22P02'));
    assert.ok(!f.message.includes('adaeze') && !f.message.includes(SECRET), f.message);
    assert.equal(failureMessage(new Error(`at postgres://u:${SECRET}@h/db`)), 'at postgres://u:***@h/db');
  });

  it('CLI messages are one line, without passwords', () => {
    const msg = describeError(Object.assign(new Error(`boom\n  at postgres://u:${SECRET}@h/db`), { name: 'ConfigError' }));
    assert.equal(msg, 'error: boom | at postgres://u:***@h/db');
  });
});

describe('log lines: JSON, redacted, row values only with LOG_ROW_VALUES', () => {
  let written: string[];
  const original = process.stderr.write.bind(process.stderr);
  beforeEach(() => {
    written = [];
    (process.stderr as { write: unknown }).write = (chunk: string) => (written.push(String(chunk)), true);
    setLogLevel('debug');
  });
  afterEach(() => {
    (process.stderr as { write: unknown }).write = original;
    setLogRowValues(false);
    setLogLevel('info');
  });

  it('one JSON object per line, errors serialised with their message, secrets redacted, values scrubbed', () => {
    log('warn', 'activity attempt failed', {
      runId: 3,
      batchNo: 7,
      error: pgError(`invalid input syntax for type integer: "adaeze@example.com" via postgres://u:${SECRET}@h/db`, '22P02'),
      big: 10n,
    });
    assert.equal(written.length, 1);
    assert.ok(written[0].endsWith('\n') && !written[0].slice(0, -1).includes('\n'));
    const line = JSON.parse(written[0]);
    assert.equal(line.level, 'warn');
    assert.equal(line.runId, 3);
    assert.equal(line.batchNo, 7);
    assert.equal(line.error.code, '22P02');
    assert.equal(line.big, '10');
    assert.ok(!written[0].includes(SECRET) && !written[0].includes('adaeze'), written[0]);
  });

  it('rowValue shows a value only with LOG_ROW_VALUES', () => {
    assert.match(String(rowValue('adaeze@example.com')), /^\[hidden: 18 chars/);
    assert.deepEqual(
      errorFields(pgError('value "99999999999" is out of range for type integer', '22003')).message,
      'value "[value hidden]" is out of range for type integer',
    );
    setLogRowValues(true);
    assert.equal(rowValue('adaeze@example.com'), 'adaeze@example.com');
    assert.equal(
      errorFields(pgError('value "99999999999" is out of range for type integer', '22003')).message,
      'value "99999999999" is out of range for type integer',
    );
    // Secrets stay redacted even then.
    log('info', 'x', { error: new Error(`postgres://u:${SECRET}@h/db`) });
    assert.ok(!written.join('').includes(SECRET));
  });
});
