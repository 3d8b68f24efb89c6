/**
 * Issue 6, bad input:
 * - dirty data: every reject and warning reason of the contract, and values the contract does not
 *   foresee (control characters, 10,000-character fields, numbers in text fields, emoji, odd
 *   Unicode, SQL-looking text, a lone surrogate) go through a real run: each row is loaded or
 *   rejected with its reason, no batch fails, nothing is dropped (staged = loaded + rejected);
 * - NUL bytes and invalid UTF-8 cannot be stored in PostgreSQL text: the source refuses them, so
 *   they can never reach the migration;
 * - bad configuration and arguments (the real `node dist/worker/main.js` and `node dist/client/main.js`
 *   processes): one clear line on stderr, a non-zero exit, nothing written;
 * - hostile identifiers in the mapping file are refused at start-up.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client as PgClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { pool, RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { adminQuery, lines, runCli, runNode, serviceEnv, WORKER_MAIN } from '../support/processes';
import { upsertBranches } from '../../stack/seed';
import { EFZ_COLUMNS, LONG_VALUE } from '../../stack/synthetic';
import { freePort } from '../../stack/local-stack';
import { PROJECT_ROOT, type AppConfig } from '../../config/env';

type Row = Record<string, unknown>;

const INDIVIDUAL: Row = {
  customer_type: 'Individual',
  title: 'Mr',
  first_name: 'Chinedu',
  middle_name: null,
  last_name: 'Okafor',
  business_name: null,
  registration_number: null,
  tax_id: null,
  date_of_incorporation: null,
  gender: 'M',
  date_of_birth: '1987-03-05',
  marital_status: 'Single',
  nationality: 'NG',
  email: 'chinedu.okafor@example.com',
  phone: '08031234567',
  alt_phone: null,
  address_line1: '12 Marina Road',
  address_line2: null,
  city: 'Lagos',
  state: 'Lagos',
  country: 'NG',
  postal_code: '101001',
  bvn: '22212345678',
  id_type: 'NIN',
  id_number: '12345678901',
  id_expiry_date: '2030-01-31',
  occupation: 'Engineer',
  employer_name: 'Acme Ltd',
  branch_code: 'LAG001',
  account_officer: 'AO-0042',
  kyc_level: 2,
  risk_rating: 'LOW',
  status: 'ACTIVE',
  is_deleted: false,
  created_at: '2019-05-01 08:00:00.123456+00',
  updated_at: '2024-02-03 10:11:12.654321+00',
};
const CORPORATE: Row = {
  ...INDIVIDUAL,
  customer_type: 'SME',
  title: null,
  first_name: null,
  last_name: null,
  gender: null,
  date_of_birth: null,
  marital_status: null,
  nationality: null,
  id_type: null,
  id_expiry_date: null,
  employer_name: null,
  business_name: 'Okafor Foods Ltd',
  registration_number: 'RC123456',
  tax_id: '12345678-0001',
  date_of_incorporation: '2011-06-30',
  occupation: 'Food Processing',
  email: 'info@okaforfoods.example',
  kyc_level: 3,
};

interface Case {
  name: string;
  row: Row;
  /** The reject reason and source column, or undefined for a loaded row. */
  reject?: [string, string];
  /** Warnings of a loaded row, as 'REASON:column'. */
  warnings?: string[];
  /** Checks on a loaded row: the profile data (customerProfileData) and the customer row. */
  check?: (data: any, customer: any, profile: any) => void;
}

const CONTROL = 'Block 5\u0007\u001b[31m red\u001b[0m \u0001\u0002\u007f\b\u000b\u000c';
const COPY_SPECIALS = 'C:\\Users\\new \\N \\. tab\tinside line1\nline2 crlf\r\nend \\t ends\\';

const CASES: Case[] = [
  // Every reject reason of the contract (4.2), with the precedence of 4.5.
  { name: 'unknown customer type', row: { ...INDIVIDUAL, customer_type: 'Alien' }, reject: ['UNKNOWN_CUSTOMER_TYPE', 'customer_type'] },
  {
    name: 'blank customer type (unicode spaces)',
    row: { ...INDIVIDUAL, customer_type: ' \u00a0\u2003\t' },
    reject: ['UNKNOWN_CUSTOMER_TYPE', 'customer_type'],
  },
  {
    name: 'unknown type wins over an invalid bvn',
    row: { ...INDIVIDUAL, customer_type: '12345', bvn: 'x' },
    reject: ['UNKNOWN_CUSTOMER_TYPE', 'customer_type'],
  },
  { name: 'missing first name', row: { ...INDIVIDUAL, first_name: null }, reject: ['MISSING_NAME', 'first_name'] },
  { name: 'blank last name', row: { ...INDIVIDUAL, last_name: '\u00a0 \u2003' }, reject: ['MISSING_NAME', 'last_name'] },
  { name: 'missing business name', row: { ...CORPORATE, business_name: '' }, reject: ['MISSING_BUSINESS_NAME', 'business_name'] },
  { name: 'bvn of 10 digits', row: { ...INDIVIDUAL, bvn: '2221234567' }, reject: ['INVALID_BVN', 'bvn'] },
  { name: 'bvn of 10,000 digits', row: { ...INDIVIDUAL, bvn: '1'.repeat(10_000) }, reject: ['INVALID_BVN', 'bvn'] },
  { name: 'bvn in Arabic-Indic digits', row: { ...INDIVIDUAL, bvn: '٠١٢٣٤٥٦٧٨٩٠' }, reject: ['INVALID_BVN', 'bvn'] },
  { name: 'corporate bvn with letters', row: { ...CORPORATE, bvn: '2221234567O' }, reject: ['INVALID_BVN', 'bvn'] },
  { name: 'impossible date of birth', row: { ...INDIVIDUAL, date_of_birth: '31/02/1990' }, reject: ['INVALID_DATE_OF_BIRTH', 'date_of_birth'] },
  { name: 'date of birth in the future', row: { ...INDIVIDUAL, date_of_birth: '2999-01-01' }, reject: ['INVALID_DATE_OF_BIRTH', 'date_of_birth'] },
  { name: 'date of birth before 1900', row: { ...INDIVIDUAL, date_of_birth: '31-Dec-1899' }, reject: ['INVALID_DATE_OF_BIRTH', 'date_of_birth'] },
  { name: 'date of birth of emoji', row: { ...INDIVIDUAL, date_of_birth: '🎂🎂🎂' }, reject: ['INVALID_DATE_OF_BIRTH', 'date_of_birth'] },
  { name: 'unknown branch', row: { ...INDIVIDUAL, branch_code: 'XXX999' }, reject: ['UNKNOWN_BRANCH', 'branch_code'] },
  { name: 'missing branch', row: { ...CORPORATE, branch_code: null }, reject: ['UNKNOWN_BRANCH', 'branch_code'] },
  { name: 'unknown status', row: { ...INDIVIDUAL, status: 'ZOMBIE' }, reject: ['UNKNOWN_STATUS', 'status'] },

  // Every warning reason (loaded, the value nulled).
  { name: 'invalid gender', row: { ...INDIVIDUAL, gender: 'X' }, warnings: ['INVALID_GENDER:gender'], check: (d) => assert.equal(d.gender, null) },
  { name: 'invalid email', row: { ...INDIVIDUAL, email: 'not-an-email' }, warnings: ['INVALID_EMAIL:email'], check: (d) => assert.equal(d.email, null) },
  { name: 'email of 10,000 characters', row: { ...INDIVIDUAL, email: `${'a'.repeat(9_990)}@example` }, warnings: ['INVALID_EMAIL:email'] },
  {
    name: 'phone N/A and alt phone too short',
    row: { ...INDIVIDUAL, phone: 'N/A', alt_phone: '12' },
    warnings: ['INVALID_PHONE:phone', 'INVALID_PHONE:alt_phone'],
    check: (d) => assert.deepEqual([d.phoneNumber, d.alternatePhoneNumber], [null, null]),
  },
  { name: 'phone of 10,000 digits', row: { ...CORPORATE, phone: '0'.repeat(10_000) }, warnings: ['INVALID_PHONE:phone'] },
  {
    name: 'invalid id expiry date',
    row: { ...INDIVIDUAL, id_expiry_date: '2020-13-01' },
    warnings: ['INVALID_DATE:id_expiry_date'],
    check: (d) => assert.equal(d.identification.expiryDate, null),
  },
  {
    name: 'incorporation in the future',
    row: { ...CORPORATE, date_of_incorporation: '3000-01-01' },
    warnings: ['INVALID_DATE:date_of_incorporation'],
    check: (d) => assert.equal(d.dateOfIncorporation, null),
  },

  // Edge cases the contract settles.
  {
    name: 'soft-deleted with an unknown status: CLOSED, no reject',
    row: { ...INDIVIDUAL, is_deleted: true, status: 'ZOMBIE' },
    check: (_d, c) => assert.deepEqual([c.status, c.isTerminated], ['CLOSED', true]),
  },
  {
    name: 'customer type padded with no-break spaces',
    row: { ...INDIVIDUAL, customer_type: '\u00a0Individual\u00a0' },
    check: (_d, c) => assert.equal(c.customerType, 'INDIVIDUAL'),
  },

  // Values the contract does not foresee: loaded exactly as given (trimmed), never a crash.
  {
    name: 'control characters and COPY specials',
    row: {
      ...INDIVIDUAL,
      first_name: 'Chi\u0001ne\u0007du',
      address_line1: CONTROL,
      address_line2: COPY_SPECIALS,
      employer_name: "Robert'); DROP TABLE customer;--",
    },
    check: (d) => {
      assert.equal(d.firstName, 'Chi\u0001ne\u0007du');
      assert.equal(d.address.line1, CONTROL.trim());
      assert.equal(d.address.line2, COPY_SPECIALS);
      assert.equal(d.employerName, "Robert'); DROP TABLE customer;--");
    },
  },
  {
    name: '10,000-character text fields',
    row: {
      ...INDIVIDUAL,
      first_name: LONG_VALUE,
      last_name: LONG_VALUE,
      address_line1: LONG_VALUE,
      city: LONG_VALUE,
      occupation: LONG_VALUE,
      account_officer: LONG_VALUE,
    },
    check: (d) => {
      assert.equal(d.firstName, LONG_VALUE);
      assert.equal(d.fullName, `${LONG_VALUE} ${LONG_VALUE}`);
      assert.equal(d.address.line1.length, 10_000);
      assert.equal(d.address.city, LONG_VALUE);
      assert.equal(d.occupation, LONG_VALUE.toUpperCase());
      assert.equal(d.accountOfficer, LONG_VALUE);
    },
  },
  {
    name: '10,000-character business name',
    row: { ...CORPORATE, business_name: LONG_VALUE, occupation: LONG_VALUE },
    check: (d, c) => {
      assert.equal(d.businessName, LONG_VALUE);
      assert.equal(c.CategoryOfBusiness, LONG_VALUE.toUpperCase());
    },
  },
  {
    name: 'numbers in text fields stay text',
    row: { ...INDIVIDUAL, first_name: '12345', middle_name: '0', last_name: '007', city: '1e5', state: '-1', occupation: '3.14159', postal_code: '000000' },
    check: (d) => {
      assert.deepEqual([d.firstName, d.middleName, d.lastName, d.fullName], ['12345', '0', '007', '12345 0 007']);
      assert.deepEqual([d.address.city, d.address.state, d.address.postalCode, d.occupation], ['1e5', '-1', '000000', '3.14159']);
    },
  },
  {
    name: 'emoji',
    row: { ...INDIVIDUAL, first_name: 'Adaeze 👩🏾‍💼', last_name: 'Okafor 🇳🇬', address_line1: '🏙️ Lagos' },
    check: (d) => assert.deepEqual([d.firstName, d.lastName, d.fullName, d.address.line1], ['Adaeze 👩🏾‍💼', 'Okafor 🇳🇬', 'Adaeze 👩🏾‍💼 Okafor 🇳🇬', '🏙️ Lagos']),
  },
  {
    name: 'emoji business name',
    row: { ...CORPORATE, business_name: '🚀 Rocket Ventures Ltd', occupation: 'Trader 🛒' },
    check: (d, c) => assert.deepEqual([d.businessName, d.natureOfBusiness, c.CategoryOfBusiness], ['🚀 Rocket Ventures Ltd', 'TRADER 🛒', 'TRADER 🛒']),
  },
  {
    name: 'odd unicode',
    row: {
      ...INDIVIDUAL,
      title: 'ı',
      first_name: 'Ade\u0301bayo',
      middle_name: 'Chi\u200Dnedu',
      last_name: 'عائشة',
      occupation: 'Straße',
      address_line1: '\u202Eevil',
      address_line2: 'line\u2028separator',
      city: 'bom\uFEFFinside',
      state: '𝐁𝐨𝐥𝐝 𝐌𝐚𝐭𝐡',
      country: 'ng',
      postal_code: 'ＬＡＧＯＳ',
    },
    check: (d) => {
      assert.deepEqual([d.title, d.firstName, d.middleName, d.lastName, d.occupation], ['I', 'Ade\u0301bayo', 'Chi\u200Dnedu', 'عائشة', 'STRASSE']);
      assert.deepEqual(d.address, {
        line1: '\u202Eevil',
        line2: 'line\u2028separator',
        city: 'bom\uFEFFinside',
        state: '𝐁𝐨𝐥𝐝 𝐌𝐚𝐭𝐡',
        country: 'NG',
        postalCode: 'ＬＡＧＯＳ',
      });
    },
  },
  {
    name: 'a lone UTF-16 surrogate is stored as U+FFFD by the driver, then loads',
    row: { ...INDIVIDUAL, first_name: 'Bad\uD800Surrogate' },
    check: (d) => assert.equal(d.firstName, 'Bad\uFFFDSurrogate'),
  },
];

async function insertRow(client: PgClient, code: number, row: Row): Promise<void> {
  const columns = EFZ_COLUMNS as readonly string[];
  const values = columns.map((c) => (c === 'customer_code' ? code : (row[c] ?? null)));
  await client.query(`INSERT INTO efz_customer (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
}

describe('bad input: dirty and hostile data are loaded or rejected with a reason, never crash a batch, never vanish', function () {
  this.timeout(300_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: RunningWorker;
  let staging: Pool;
  let destination: Pool;

  before(async () => {
    servers = shared();
    await upsertBranches(servers.urls.staging);
    const source = new PgClient({ connectionString: servers.urls.source });
    await source.connect();
    try {
      for (let i = 0; i < CASES.length; i++) await insertRow(source, i + 1, CASES[i].row);
    } finally {
      await source.end();
    }
    config = testConfig(servers.urls, servers.temporal.address, { BATCH_SIZE: '7', PIPELINE: 'bad_input' });
    worker = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    [staging, destination] = [pool(servers.urls.staging), pool(servers.urls.destination)];
  });
  after(async () => {
    await Promise.allSettled([staging?.end(), destination?.end()]);
    await worker?.stop();
  });

  it('loads or rejects every row with the contract reason; no batch fails; staged = loaded + rejected', async () => {
    const result = await runMigration(servers.temporal.client, config, { mode: 'full', pipeline: 'bad_input', rejectMaxRatio: 1 });
    assert.equal(result.status, 'COMPLETED', JSON.stringify(result.reconciliation?.checks));
    assert.ok(result.reconciliation?.ok);
    const expectedRejects = CASES.filter((c) => c.reject).length;
    assert.equal(result.counts.staged, CASES.length);
    assert.equal(result.counts.rejected, expectedRejects);
    assert.equal(result.counts.loaded, CASES.length - expectedRejects);
    assert.equal(result.counts.loaded + result.counts.rejected, result.counts.staged);

    const batches = (await staging.query(`SELECT status, attempts FROM migration_batch WHERE run_id = $1`, [result.runId])).rows;
    assert.ok(batches.length >= 5);
    assert.ok(
      batches.every((b) => b.status === 'DONE' && b.attempts === 1),
      `no batch failed or retried: ${JSON.stringify(batches)}`,
    );

    const issues = (
      await staging.query(`SELECT customer_code, severity, reason, field, value, source_row FROM migration_issue WHERE run_id = $1`, [result.runId])
    ).rows;
    const loaded = new Map(
      (
        await destination.query(
          `SELECT p."customerNumber" AS number, p."customerProfileData" AS data, row_to_json(c) AS customer, row_to_json(p) AS profile
           FROM customer_profile p JOIN customer c USING ("customerId")`,
        )
      ).rows.map((r) => [Number(r.number), r]),
    );
    for (let i = 0; i < CASES.length; i++) {
      const code = i + 1;
      const c = CASES[i];
      const mine = issues.filter((x) => x.customer_code === code);
      const rejects = mine.filter((x) => x.severity === 'REJECT');
      if (c.reject) {
        assert.equal(loaded.has(code), false, `${c.name}: not loaded`);
        assert.deepEqual(
          rejects.map((r) => [r.reason, r.field]),
          [c.reject],
          `${c.name}: rejected once with its reason`,
        );
        const original = c.row[c.reject[1]];
        assert.equal(rejects[0].value, original === undefined ? null : original, `${c.name}: the offending value is recorded as given`);
        assert.equal(rejects[0].source_row.customer_code, code);
        for (const col of ['first_name', 'last_name', 'bvn', 'address_line1'])
          assert.equal(rejects[0].source_row[col], c.row[col] ?? null, `${c.name}: source_row.${col}`);
      } else {
        const r = loaded.get(code);
        assert.ok(r, `${c.name}: loaded`);
        assert.equal(rejects.length, 0, `${c.name}: no reject`);
        const warnings = mine
          .filter((x) => x.severity === 'WARNING')
          .map((w) => `${w.reason}:${w.field}`)
          .sort();
        assert.deepEqual(warnings, [...(c.warnings ?? [])].sort(), `${c.name}: warnings`);
        c.check?.(r.data, r.customer, r.profile);
      }
    }
    // Nothing vanished: every source code is in the destination or recorded as rejected.
    const accounted = new Set([...loaded.keys(), ...issues.filter((x) => x.severity === 'REJECT').map((x) => x.customer_code)]);
    assert.equal(accounted.size, CASES.length);
  });

  it('NUL bytes and invalid UTF-8 cannot even be stored in the source: PostgreSQL refuses them (SQLSTATE 22021)', async () => {
    const source = new PgClient({ connectionString: servers.urls.source });
    await source.connect();
    try {
      const before = (await source.query('SELECT count(*)::int AS n FROM efz_customer')).rows[0].n;
      // A NUL inside a JS string sent as a parameter.
      await assert.rejects(insertRow(source, 90_001, { ...INDIVIDUAL, first_name: 'Nul\u0000Byte' }), (err: any) => {
        assert.equal(err.code, '22021');
        assert.match(err.message, /invalid byte sequence for encoding "UTF8": 0x00/);
        return true;
      });
      // Raw bytes that are not UTF-8 (0xff, an overlong NUL 0xc0 0x80) through COPY, the way a bulk load would send them.
      for (const bad of [Buffer.from([0x41, 0xff, 0x42]), Buffer.from([0x41, 0xc0, 0x80])]) {
        const line = Buffer.concat([Buffer.from('90002\tIndividual\t'), bad, Buffer.from('\t2020-01-01 00:00:00+00\t2020-01-01 00:00:00+00\n')]);
        await assert.rejects(
          pipeline(
            Readable.from([line]),
            source.query(copyFrom('COPY efz_customer (customer_code, customer_type, first_name, created_at, updated_at) FROM STDIN')),
          ),
          (err: any) => {
            assert.equal(err.code, '22021');
            assert.match(err.message, /invalid byte sequence for encoding "UTF8"/);
            return true;
          },
        );
      }
      assert.equal((await source.query('SELECT count(*)::int AS n FROM efz_customer')).rows[0].n, before, 'nothing was stored');
    } finally {
      await source.end();
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Bad configuration and arguments, through the real processes
// ------------------------------------------------------------------------------------------------

/** The one JSON line a worker that cannot start writes; fails if there is anything else on stderr. */
function workerFailure(result: { code: number | null; stderr: string; stdout: string }): { msg: string; kind: string } {
  assert.equal(result.code, 1, `exit code 1, got ${result.code}: ${result.stderr}`);
  const all = lines(result.stderr);
  assert.equal(all.length, 1, `exactly one line on stderr:\n${result.stderr}`);
  const line = JSON.parse(all[0]);
  assert.equal(line.level, 'error');
  assert.match(line.msg, /^worker cannot start: /);
  assert.equal(result.stdout, '');
  return line;
}

describe('bad configuration and arguments: one clear line, a non-zero exit, nothing written (real processes)', function () {
  this.timeout(300_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let emptyStaging: string;
  let emptyDestination: string;
  let closedPort: number;
  let tmp: string;
  let mappingDoc: any;

  /** Tables of the empty databases and rows of the real staging control tables: must not change. */
  async function footprint() {
    const [emptyTables, emptyDestTables, runs, dest] = await Promise.all([
      adminQuery(emptyStaging, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`),
      adminQuery(emptyDestination, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`),
      adminQuery(servers.urls.staging, `SELECT count(*)::int AS n FROM migration_run`),
      adminQuery(servers.urls.destination, `SELECT (SELECT count(*) FROM customer)::int AS c, (SELECT count(*) FROM customer_profile)::int AS p`),
    ]);
    return { emptyStaging: emptyTables[0].n, emptyDestination: emptyDestTables[0].n, runs: runs[0].n, dest: dest[0] };
  }

  function writeMapping(name: string, edit: (doc: any) => void): string {
    const doc = JSON.parse(JSON.stringify(mappingDoc));
    edit(doc);
    const file = path.join(tmp, name);
    fs.writeFileSync(file, JSON.stringify(doc, null, 2));
    return file;
  }

  before(async () => {
    servers = shared();
    config = testConfig(servers.urls, servers.temporal.address, { PIPELINE: 'bad_config' });
    const base = servers.postgres.adminUrl.replace(/\/postgres$/, '');
    await adminQuery(servers.postgres.adminUrl, 'DROP DATABASE IF EXISTS bad_config_staging');
    await adminQuery(servers.postgres.adminUrl, 'DROP DATABASE IF EXISTS bad_config_corebank');
    await adminQuery(servers.postgres.adminUrl, 'CREATE DATABASE bad_config_staging');
    await adminQuery(servers.postgres.adminUrl, 'CREATE DATABASE bad_config_corebank');
    emptyStaging = `${base}/bad_config_staging`;
    emptyDestination = `${base}/bad_config_corebank`;
    closedPort = await freePort();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-config-'));
    mappingDoc = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'mapping', 'customer-mapping.json'), 'utf8'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A worker started with a valid config (staging: an empty database) changed by `overrides`. */
  async function failingWorker(overrides: Record<string, string | undefined>) {
    const before = await footprint();
    const result = await runNode(WORKER_MAIN, [], serviceEnv(config, { STAGING_DATABASE_URL: emptyStaging, ...overrides }), 60_000);
    const line = workerFailure(result);
    assert.deepEqual(await footprint(), before, 'nothing written anywhere');
    return line;
  }

  const WORKER_CASES: [string, () => Record<string, string | undefined>, RegExp][] = [
    [
      'a malformed database URL',
      () => ({ SOURCE_DATABASE_URL: 'postgres://migrator:S3cret@db.example:notaport/efz' }),
      /invalid configuration: SOURCE_DATABASE_URL: must be a URL like postgres:\/\//,
    ],
    [
      'a URL of another scheme',
      () => ({ DESTINATION_DATABASE_URL: 'mysql://root@127.0.0.1:3306/corebank' }),
      /invalid configuration: DESTINATION_DATABASE_URL/,
    ],
    [
      'an unknown sslmode',
      () => ({ SOURCE_DATABASE_URL: `${config.SOURCE_DATABASE_URL}?sslmode=requir` }),
      /SOURCE_DATABASE_URL: sslmode must be one of disable, prefer, require, verify-ca, verify-full, no-verify/,
    ],
    ['a batch size that is not a number', () => ({ BATCH_SIZE: 'lots' }), /invalid configuration: BATCH_SIZE/],
    ['half an mTLS pair', () => ({ TEMPORAL_TLS_CERT_PATH: '/nonexistent/client.pem' }), /TEMPORAL_TLS_KEY_PATH: mTLS needs both/],
    [
      'an unreachable database',
      () => ({ SOURCE_DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${closedPort}/efz_source` }),
      /source database unreachable: .*ECONNREFUSED/,
    ],
    [
      'a database that does not exist',
      () => ({ DESTINATION_DATABASE_URL: config.DESTINATION_DATABASE_URL.replace(/\/corebank$/, '/no_such_db') }),
      /destination database unreachable: database "no_such_db" does not exist/,
    ],
    [
      'a destination without its tables',
      () => ({ DESTINATION_DATABASE_URL: emptyDestination }),
      /destination table public\.customer does not exist; destination table public\.customer_profile does not exist/,
    ],
    ['a missing mapping file', () => ({ MAPPING_FILE: '/nonexistent/mapping.json' }), /cannot read the file/],
    [
      'a mapping file that is not JSON',
      () => ({ MAPPING_FILE: (fs.writeFileSync(path.join(tmp, 'broken.json'), '{ "version": 1,'), path.join(tmp, 'broken.json')) }),
      /not valid JSON/,
    ],
    [
      'a mapping that reads an unknown source column',
      () => ({
        MAPPING_FILE: writeMapping('unknown-column.json', (d) => (d.source.columns.push('no_such_column'), (d.fields.city.source = 'no_such_column'))),
      }),
      /source table public\.efz_customer has no column\(s\) no_such_column named by the mapping/,
    ],
    [
      'a mapping field whose source column is not listed',
      () => ({ MAPPING_FILE: writeMapping('unlisted-column.json', (d) => (d.fields.city.source = 'town')) }),
      /fields\.city\.source.*source column "town" is not in source\.columns/,
    ],
    [
      'a mapping that writes an unknown destination column',
      () => ({
        MAPPING_FILE: writeMapping(
          'unknown-dest-column.json',
          (d) => (d.destination.customer.columns.push('shoeSize'), (d.rows.customer.shoeSize = { const: 42 })),
        ),
      }),
      /destination table public\.customer has no column\(s\) shoeSize named by the mapping/,
    ],
    ['an unreachable Temporal', () => ({ TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` }), /cannot reach Temporal at 127\.0\.0\.1:\d+: /],
    ['an unreadable TLS CA file', () => ({ TEMPORAL_TLS_CA_PATH: '/nonexistent/ca.pem' }), /TEMPORAL_TLS_CA_PATH: cannot read \/nonexistent\/ca\.pem: ENOENT/],
  ];
  for (const [what, overrides, expected] of WORKER_CASES) {
    it(`worker with ${what}: refuses to start`, async () => {
      const line = await failingWorker(overrides());
      assert.match(line.msg, expected);
    });
  }

  it('worker with a hostile mapping (table "efz_customer; DROP TABLE customer", an injected column): refused at start-up, nothing run', async () => {
    const hostile: [string, (d: any) => void, RegExp][] = [
      ['table.json', (d) => (d.source.table = 'efz_customer; DROP TABLE customer'), /source\.table.*must be an SQL identifier/],
      ['schema.json', (d) => (d.destination.schema = 'public"; DROP TABLE customer_profile; --'), /destination\.schema.*must be an SQL identifier/],
      [
        'column.json',
        (d) => (d.destination.customer.columns[1] = 'tenantId" = NULL; DROP TABLE customer; --'),
        /destination\.customer\.columns\[1\].*must be an SQL identifier/,
      ],
      ['key.json', (d) => (d.source.key = 'customer_code) OR (1=1'), /source\.key.*must be an SQL identifier/],
    ];
    for (const [name, edit, expected] of hostile) {
      const line = await failingWorker({ MAPPING_FILE: writeMapping(name, edit) });
      assert.match(line.msg, expected);
      assert.equal(line.kind, 'MappingConfigError');
    }
    const tables = await adminQuery(servers.urls.destination, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    assert.deepEqual(
      tables.map((t) => t.tablename),
      ['customer', 'customer_profile'],
    );
  });

  /** The CLI: exit code, and exactly one line on stderr that starts with `prefix`. */
  async function cli(args: string[], overrides: Record<string, string | undefined> = {}) {
    const before = await footprint();
    const result = await runCli(serviceEnv(config, overrides), args);
    const all = lines(result.stderr);
    assert.equal(all.length, 1, `exactly one line on stderr:\n${result.stderr}`);
    assert.deepEqual(await footprint(), before, 'nothing written');
    return { code: result.code, line: all[0], stdout: result.stdout };
  }

  it('CLI: an unknown command, bad options and bad run ids are usage errors (exit 2)', async () => {
    let r = await cli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.line, /^usage: unknown command 'frobnicate' \(commands: full, incremental, status/);
    r = await cli(['full', '--batch-size', 'abc']);
    assert.equal(r.code, 2);
    assert.match(r.line, /^usage: --batch-size takes a positive whole number, not 'abc'/);
    r = await cli(['full', '--no-such-option']);
    assert.equal(r.code, 2);
    assert.match(r.line, /^usage: Unknown option '--no-such-option'/);
    r = await cli(['status']);
    assert.equal(r.code, 2);
    assert.match(r.line, /^usage: status takes exactly one <runId>/);
    r = await cli(['status', 'no-such-run']);
    assert.equal(r.code, 2);
    assert.match(r.line, /^usage: .*no-such-run.*(not found|no run)/i);
    r = await cli(['status', '987654']);
    assert.equal(r.code, 2);
    assert.match(r.line, /^usage: no run 987654 in the staging database/);
    r = await cli(['retry', 'no-such-run']);
    assert.notEqual(r.code, 0);
    assert.match(r.line, /^(usage|error): .*no-such-run/);
  });

  it('CLI: bad configuration, an unreachable database or Temporal: one error line, exit 1', async () => {
    let r = await cli(['full'], { STAGING_DATABASE_URL: 'not a url' });
    assert.equal(r.code, 1);
    assert.match(r.line, /^error: invalid configuration: STAGING_DATABASE_URL: must be a URL like/);
    r = await cli(['full'], { STAGING_DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${closedPort}/migration_staging` });
    assert.equal(r.code, 1);
    assert.match(r.line, /^error: cannot connect \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    r = await cli(['status', '5'], { STAGING_DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${closedPort}/migration_staging` });
    assert.equal(r.code, 1, 'an unreachable database is not "no such run"');
    assert.match(r.line, /^error: cannot read run 5 from the staging database: connect ECONNREFUSED/);
    r = await cli(['full'], { TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` });
    assert.equal(r.code, 1);
    assert.match(r.line, new RegExp(`^error: cannot reach Temporal at 127\\.0\\.0\\.1:${closedPort}`));
  });
});
