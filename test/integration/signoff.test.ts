/**
 * The cutover board's artifacts on real servers: the sign-off pack (report --html) rendered in
 * headless Chromium, verify-report against staging and the destination, compare of two rehearsals,
 * explain of one customer, and the rejects CSV as a spreadsheet would open it.
 */
import { strict as assert } from 'node:assert';
import { parseCsv } from '../support/csv';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { TestServers, useTestServers } from '../support/servers';
import { pool, RunningWorker, runMigration, startWorker, testConfig } from '../support/harness';
import { runCli } from '../support/cli';
import { dumpDom, screenshot } from '../support/chromium';
import { seedSource } from '../../stack/seed';
import type { AppConfig } from '../../config/env';
import type { MigrationResult } from '../../workflows/definitions';

const ROWS = 2000;
/** Source values a spreadsheet would run as formulas; each makes its row a reject with that value. */
const FORMULAS = { 10: '=HYPERLINK("x","click")', 11: '+2*3', 12: '-1+1', 13: '@SUM(A1)' } as const;

describe('sign-off pack, verify-report, compare, explain, rejects CSV (Temporal dev server + PostgreSQL + Chromium)', function () {
  this.timeout(600_000);
  const shared = useTestServers();
  let servers: TestServers;
  let config: AppConfig;
  let worker: RunningWorker;
  let source: Pool;
  let staging: Pool;
  let destination: Pool;
  let first: MigrationResult;
  let firstId: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signoff-'));
  const page = path.join(dir, 'pack.html');
  /** SIGNOFF_ARTIFACTS_DIR=folder keeps the pages, the screenshot and the CLI's text output (for a look, and docs/signoff-pack.png). */
  const keep = (name: string, content?: string) => {
    const to = process.env.SIGNOFF_ARTIFACTS_DIR;
    if (!to) return;
    fs.mkdirSync(to, { recursive: true });
    if (content === undefined) fs.copyFileSync(path.join(dir, name), path.join(to, name));
    else fs.writeFileSync(path.join(to, name), content);
  };

  before(async () => {
    servers = shared();
    await seedSource({ sourceUrl: servers.urls.source, stagingUrl: servers.urls.staging, rows: ROWS, seed: 5 });
    [source, staging, destination] = [pool(servers.urls.source), pool(servers.urls.staging), pool(servers.urls.destination)];
    for (const [code, value] of Object.entries(FORMULAS)) {
      // An individual with a name and a valid birth date: the formula value is what rejects the row.
      const branchReject = code === '13';
      await source.query(
        `UPDATE efz_customer SET customer_type = 'individual', first_name = 'Ada', last_name = 'Lovelace', date_of_birth = '1990-01-01',
           bvn = $2, branch_code = CASE WHEN $3 THEN $4 ELSE branch_code END WHERE customer_code = $1`,
        [Number(code), branchReject ? null : value, branchReject, value],
      );
    }
    config = testConfig(servers.urls, servers.temporal.address, { BATCH_SIZE: '200' });
    worker = await startWorker(config, servers.temporal.nativeConnection, servers.temporal.client);
    firstId = `signoff-full-${process.pid}-1`;
    first = await runMigration(servers.temporal.client, config, { mode: 'full' }, firstId);
    assert.equal(first.status, 'COMPLETED', JSON.stringify(first.reconciliation?.checks.filter((c) => !c.ok)));
  });
  after(async () => {
    await Promise.allSettled([source?.end(), staging?.end(), destination?.end()]);
    await worker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('report --html writes one self-contained page whose charts Chromium draws and whose numbers are those of report --json', async () => {
    const r = await runCli(config, ['report', firstId, '--html', page, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = r.json;
    assert.match(json.manifest.sha256, /^[0-9a-f]{64}$/);
    assert.equal(json.manifest.hmac, null);
    assert.equal(json.manifest.batches, json.batches.total);
    assert.equal(fs.statSync(page).mode & 0o777, 0o600, 'the page is private to its owner');
    const html = fs.readFileSync(page, 'utf8');

    // Offline: the one address in the page is the Temporal UI link, a plain anchor; nothing is loaded.
    const addresses = html.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
    assert.deepEqual([...new Set(addresses)], [json.ui]);
    assert.ok(html.includes(`<a href="${json.ui}">`));
    assert.doesNotMatch(html, /<(?:img|link|iframe|object|embed)\b|\bsrc=|@import|url\(/i);
    assert.doesNotMatch(html, /<script(?![^>]*type="application\/json")/, 'no script runs');

    const dom = dumpDom(page);
    const charts = [...dom.matchAll(/<svg class="chart" data-chart="([^"]+)"[\s\S]*?<\/svg>/g)].map((m) => ({ name: m[1], svg: m[0] }));
    assert.deepEqual(
      charts.map((c) => c.name),
      ['loaded-over-time', 'throughput', 'batch-durations', 'rejects', 'warnings', 'future-stale'],
    );
    const chart = (name: string) => charts.find((c) => c.name === name)!.svg;
    const done = json.batches.done;
    assert.equal((chart('loaded-over-time').match(/<circle /g) ?? []).length, done, 'one point per loaded batch');
    assert.match(chart('loaded-over-time'), /<path class="line" d="M[\d.]+,[\d.]+ L/);
    const lastPoint = [...chart('loaded-over-time').matchAll(/data-value="(\d+)"/g)].map((m) => Number(m[1])).pop();
    assert.equal(lastPoint, json.counts.loaded, 'the line ends at the rows loaded');
    for (const name of ['throughput', 'batch-durations']) {
      const bars = [...chart(name).matchAll(/<rect class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
      assert.equal(bars.length, done, `${name}: one bar per loaded batch`);
      assert.ok(
        bars.every((h) => h > 0),
        `${name}: every bar drawn`,
      );
    }
    const rejectBars = [...chart('rejects').matchAll(/<rect class="bar"[^>]*data-value="(\d+)"/g)].map((m) => Number(m[1]));
    assert.equal(
      rejectBars.reduce((a, b) => a + b, 0),
      json.rejects,
    );
    assert.match(chart('rejects'), /INVALID_BVN \(bvn\)[\s\S]*e\.g\. \d+/);
    assert.ok(json.warnings > 0 && (chart('warnings').match(/<rect class="bar"/g) ?? []).length > 0);

    // The numbers on the page, as Chromium shows them, are those of report --json.
    const shown = (key: string) => new RegExp(`data-key="${key.replace(/\./g, '\\.')}"[^>]*>([^<]*)<`).exec(dom)?.[1];
    for (const k of ['extracted', 'staged', 'loaded', 'rejected', 'warned']) assert.equal(shown(`counts.${k}`), String(json.counts[k]), k);
    assert.equal(shown('manifest.sha256'), json.manifest.sha256);
    assert.equal(shown('fingerprint.mappingSha256'), json.fingerprint.mappingSha256);
    assert.equal(shown('fingerprint.branchMapSha256'), json.fingerprint.branchMapSha256);
    assert.equal(shown('snapshotAt'), json.watermark.snapshotAt);
    assert.equal(shown('watermark.after'), json.watermark.after);
    assert.equal(shown('reconciliation.ok')?.startsWith('PASSED'), true);
    for (const c of json.reconciliation.checks) assert.equal(shown(`check.${c.name}`), c.ok ? 'PASS' : 'FAIL', c.name);
    for (const c of json.reconciliation.checks)
      assert.ok(dom.includes(c.detail.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')), `detail of ${c.name} on the page`);
    assert.match(dom, /Sign-off: READY/);

    const png = path.join(dir, 'pack.png');
    screenshot(page, png);
    assert.ok(fs.statSync(png).size > 20_000, 'the screenshot has content');
    keep('pack.html');
    keep('pack.png');
    keep('report.txt', (await runCli(config, ['report', firstId])).stdout);
  });

  it('verify-report: the page matches; a changed number on the page, or a changed destination row, does not (exit 1)', async () => {
    const ok = await runCli(config, ['verify-report', page, '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.json.matches, true);
    assert.equal(ok.json.destination.batchesChecked, first.batches.total);

    const html = fs.readFileSync(page, 'utf8');
    const loaded = first.counts.loaded;
    const edited = path.join(dir, 'edited.html');
    fs.writeFileSync(edited, html.replace(`data-key="counts.loaded">${loaded}<`, `data-key="counts.loaded">${loaded + 1}<`));
    assert.notEqual(fs.readFileSync(edited, 'utf8'), html);
    const bad = await runCli(config, ['verify-report', edited, '--json']);
    assert.equal(bad.code, 1);
    assert.equal(bad.json.matches, false);
    assert.ok(
      bad.json.page.differences.page.some((l: string) => l.includes(String(loaded + 1))),
      JSON.stringify(bad.json.page),
    );
    assert.deepEqual(bad.json.destination.changed, []);
    const text = await runCli(config, ['verify-report', edited]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /DOES NOT MATCH/);
    assert.match(text.stdout, new RegExp(`page says: +loaded\\s+${loaded + 1}`));

    // A destination row changed behind the migration's back: found by the batch digests, named by range.
    const victim = (
      await destination.query(
        `SELECT "customerId"::text AS id, "customerNumber"::int AS code, "customerProfileData"->>'email' AS email FROM customer_profile ORDER BY "customerNumber" LIMIT 1 OFFSET 700`,
      )
    ).rows[0];
    await destination.query(
      `UPDATE customer_profile SET "customerProfileData" = jsonb_set("customerProfileData", '{email}', '"tampered@example.com"') WHERE "customerId" = $1`,
      [victim.id],
    );
    try {
      const changed = await runCli(config, ['verify-report', page, '--json']);
      assert.equal(changed.code, 1);
      assert.equal(changed.json.page.matches, true, 'the page itself is as staging draws it');
      assert.equal(changed.json.destination.changed.length, 1);
      const c = changed.json.destination.changed[0];
      assert.ok(c.lo <= victim.code && victim.code <= c.hi, JSON.stringify(c));
      assert.match(c.problem, /customer_profile values differ/);
    } finally {
      await destination.query(
        `UPDATE customer_profile SET "customerProfileData" = jsonb_set("customerProfileData", '{email}', to_jsonb($2::text)) WHERE "customerId" = $1`,
        [victim.id, victim.email],
      );
    }
    assert.equal((await runCli(config, ['verify-report', page])).code, 0, 'restored: matches again');
  });

  it('with SIGNOFF_HMAC_KEY the manifest is also an HMAC, which verify-report checks with the key', async () => {
    const key = 'board-signing-key-0123456789';
    const signed = path.join(dir, 'signed.html');
    const r = await runCli(config, ['report', firstId, '--html', signed, '--json'], 120_000, { SIGNOFF_HMAC_KEY: key });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.json.manifest.hmac, /^[0-9a-f]{64}$/);
    assert.equal((await runCli(config, ['verify-report', signed], 120_000, { SIGNOFF_HMAC_KEY: key })).code, 0);
    const wrong = await runCli(config, ['verify-report', signed, '--json'], 120_000, { SIGNOFF_HMAC_KEY: 'another-key-0123456789abc' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.json.manifest.problems.join(' '), /HMAC/);
    const noKey = await runCli(config, ['verify-report', signed, '--json']);
    assert.equal(noKey.code, 1);
    assert.match(noKey.json.manifest.problems.join(' '), /SIGNOFF_HMAC_KEY is not set/);
    assert.ok(!r.stdout.includes(key) && !r.stderr.includes(key), 'the key is never printed');
  });

  it('rejects --csv neutralises formula values (OWASP) and creates the file with mode 0600', async () => {
    const csv = path.join(dir, 'rejects.csv');
    fs.writeFileSync(csv, 'old', { mode: 0o644 });
    const r = await runCli(config, ['rejects', firstId, '--csv', csv]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.statSync(csv).mode & 0o777, 0o600);
    const rows = parseCsv(fs.readFileSync(csv, 'utf8'));
    const header = rows[0];
    const valueAt = header.indexOf('value');
    for (const row of rows.slice(1)) for (const f of row) assert.doesNotMatch(f, /^[=+\-@\t\r]/, `a field a spreadsheet would run: ${f}`);
    for (const [code, value] of Object.entries(FORMULAS)) {
      const row = rows.find((x) => x[0] === code);
      assert.ok(row, `code ${code} is a reject`);
      assert.equal(row[valueAt], `'${value}`, `code ${code}: the value kept, prefixed with a single quote`);
    }
  });

  it('explain <code>: source, staged row, ids, every run with its reasons, the destination rows and each value field by field', async () => {
    const rejected = await runCli(config, ['explain', '10', '--json']);
    assert.equal(rejected.code, 0, rejected.stderr);
    const e = rejected.json;
    assert.equal(e.source.bvn, FORMULAS[10]);
    assert.equal(e.staged.bvn, FORMULAS[10]);
    assert.match(e.ids.customerId, /^[0-9a-f-]{36}$/);
    assert.equal(e.ids.firstStagedBy.runNumber, first.runId);
    assert.equal(e.runs.length, 1);
    assert.equal(e.runs[0].outcome, 'rejected: INVALID_BVN');
    assert.deepEqual(
      e.runs[0].issues.filter((i: { severity: string }) => i.severity === 'REJECT').map((i: { field: string; value: string }) => [i.field, i.value]),
      [['bvn', FORMULAS[10]]],
    );
    assert.equal(e.destination.customer, null);

    const code = (
      await destination.query(
        `SELECT "customerNumber"::int AS c FROM customer_profile c JOIN customer k USING ("customerId") WHERE k."customerType" = 'INDIVIDUAL' ORDER BY 1 LIMIT 1 OFFSET 20`,
      )
    ).rows[0].c;
    const loaded = await runCli(config, ['explain', String(code), '--json']);
    assert.equal(loaded.code, 0, loaded.stderr);
    const x = loaded.json;
    assert.equal(x.mapping.outcome, 'LOAD');
    assert.ok(x.destination.customer && x.destination.profile);
    const col = (name: string) => x.mapping.columns.find((c: { column: string }) => c.column === name);
    assert.equal(col('branchId').rule, 'branch.branchId');
    assert.equal(col('branchId').fields[0].source, 'branch_code');
    assert.match(col('branchId').fields[0].normaliser, /lookup in branch_map/);
    assert.equal(col('approvalStatus').rule, 'constant "APPROVED"');
    assert.equal(col('customerProfileData.email').fields[0].source, 'email');
    assert.equal(col('customerProfileData.email').held, x.destination.profile.customerProfileData.email);
    assert.equal(col('customerNumber').mapped, String(code).padStart(10, '0'));
    assert.ok(x.mapping.columns.length > 30);
    assert.ok(
      x.mapping.columns.every((c: { matches: boolean | null }) => c.matches === true),
      JSON.stringify(x.mapping.columns.filter((c: { matches: boolean }) => !c.matches)),
    );

    const text = await runCli(config, ['explain', String(code)]);
    assert.equal(text.code, 0);
    keep('explain.txt', text.stdout);
    const rejectedText = (await runCli(config, ['explain', '10'])).stdout;
    keep('explain-rejected.txt', rejectedText);
    assert.match(rejectedText, /REJECT INVALID_BVN bvn="=HYPERLINK/);
    assert.match(rejectedText, /The destination holds no row of this customer: its staged row is rejected/);
    assert.match(text.stdout, /Field by field/);
    assert.match(text.stdout, /customer\.branchId = "[0-9a-f-]{36}"\n +← branch\.branchId\n +branch ← branch_code "[^"]+" → lookup in branch_map/);
    assert.match(text.stdout, /Every destination value held is what the mapping gives/);
    assert.ok(!text.stderr.includes(x.destination.profile.customerProfileData.email ?? '\u0000'), 'values are printed, never logged');
  });

  it('compare <A> <B>: phases, deltas, fingerprints, which key ranges changed between the loads, and the projected cutover', async () => {
    // Between the rehearsals: 40 customers' emails change in the source, and the bank adds a branch.
    await source.query(
      `UPDATE efz_customer SET email = 'new' || customer_code || '@example.com', updated_at = clock_timestamp() WHERE customer_code BETWEEN 1210 AND 1249`,
    );
    await staging.query(`INSERT INTO branch_map (branch_code, branch_id, branch_name) VALUES ('ZZ999', gen_random_uuid(), 'New branch')`);
    const secondId = `signoff-full-${process.pid}-2`;
    const second = await runMigration(servers.temporal.client, config, { mode: 'full' }, secondId);
    assert.equal(second.status, 'COMPLETED');

    const r = await runCli(config, ['compare', firstId, secondId, '--json', '--html', path.join(dir, 'compare.html')]);
    assert.equal(r.code, 0, r.stderr);
    const c = r.json;
    assert.deepEqual(c.fingerprints.changed, ['branchMapSha256']);
    assert.equal(c.ranges.compared, first.batches.total);
    assert.equal(c.ranges.differ.length, 1, JSON.stringify(c.ranges.differ));
    assert.ok(c.ranges.differ[0].lo <= 1210 && 1249 <= c.ranges.differ[0].hi);
    assert.ok(c.ranges.customersInChangedRanges >= 40);
    assert.equal(c.ranges.same, first.batches.total - 1);
    for (const p of c.phases.filter((x: { phase: string }) => x.phase !== 'finish')) assert.ok(p.a.ms > 0 && p.b.ms > 0, p.phase);
    assert.equal(c.phases.find((p: { phase: string }) => p.phase === 'load').a.rows, ROWS);
    assert.deepEqual(
      c.counts.find((d: { name: string }) => d.name === 'loaded'),
      { name: 'loaded', a: first.counts.loaded, b: second.counts.loaded, delta: second.counts.loaded - first.counts.loaded },
    );
    assert.ok(c.issues.some((i: { reason: string; a: number; b: number; delta: number }) => i.reason === 'INVALID_BVN' && i.a > 0 && i.delta === i.b - i.a));
    assert.equal(c.projection.sourceRows, ROWS);
    assert.ok([firstId, secondId].includes(c.projection.basedOn));
    assert.ok(c.projection.totalMs > 0);
    assert.ok(c.checks.every((k: { a: boolean; b: boolean }) => k.a === true && k.b === true));

    const text = await runCli(config, ['compare', firstId, secondId]);
    assert.equal(text.code, 0);
    keep('compare.txt', text.stdout);
    keep('compare.html');
    keep('verify-edited.txt', (await runCli(config, ['verify-report', path.join(dir, 'edited.html')])).stdout);
    assert.match(text.stdout, /Fingerprints: CHANGED branchMapSha256/);
    assert.match(text.stdout, /1 differ \(at most \d+ customer\(s\) changed\)/);
    assert.match(text.stdout, /Projected cutover: 2000 source row\(s\) now/);
    const dom = dumpDom(path.join(dir, 'compare.html'));
    assert.match(dom, /<svg class="chart" data-chart="phase-durations"[\s\S]*<rect class="bar"/);
    assert.match(dom, /CHANGED/);
  });
});
