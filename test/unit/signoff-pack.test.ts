import { strict as assert } from 'node:assert';
import { canonicalJson, computeManifest, manifestDifferences, manifestInput, type ManifestInput } from '../../client/pack/manifest';
import { barChart, esc, horizontalBars, niceMax, timeLine } from '../../client/pack/svg';
import { pageData, visibleText } from '../../client/pack/page';
import { batchRates, loadedOverTime, renderReportPage } from '../../client/pack/report-page';
import { compareRanges, phasesOf, projectCutover } from '../../client/pack/compare';
import { csvField, neutraliseFormula } from '../../client/commands/rejects';
import { explainRow } from '../../mapping/explain';
import { readMappingDocument } from '../../mapping';
import type { BatchRecord } from '../../db/staging/batches';
import type { Report } from '../../client/commands/report';
import { BRANCHES, CTX, INDIVIDUAL_ROW, MAPPING_FILE, mapOk } from './mapping-fixtures';

const digest = (n: number, tag = 'a') => ({ customers: n, profiles: n, customerDigest: tag.repeat(64).slice(0, 64), profileDigest: 'b'.repeat(64) });
const batch = (batchNo: number, lo: number, hi: number, startedMs: number, finishedMs: number, loaded: number, tag = 'a'): BatchRecord => ({
  batchNo,
  lo,
  hi,
  status: 'DONE',
  attempts: 1,
  staged: loaded + 1,
  loaded,
  rejected: 1,
  warned: 0,
  startedMs,
  finishedMs,
  expected: digest(loaded, tag),
});
const BATCHES = [batch(1, 1, 500, 1000, 1500, 499), batch(2, 501, 1000, 1100, 1300, 400), batch(3, 1001, 1500, 1600, 2600, 300)];

function report(overrides: Partial<Report> = {}): Report {
  return {
    runId: 'wf-1',
    runNumber: 1,
    pipeline: 'efz_customer',
    mode: 'full',
    status: 'COMPLETED',
    phase: 'finished',
    note: null,
    error: null,
    startedAt: '2025-01-01 00:00:00+00',
    finishedAt: '2025-01-01 00:00:05+00',
    runDate: '2025-01-01',
    watermark: { before: null, after: '2025-01-01 00:00:01+00', extractSince: null, snapshotAt: '2025-01-01 00:00:01+00' },
    counts: { extracted: 1202, staged: 1202, loaded: 1199, rejected: 3, warned: 2 },
    countsAddUp: { ok: true, lines: ['extracted 1202 = staged 1202', 'staged 1202 = loaded 1199 + rejected 3'] },
    extraction: null,
    fingerprint: { mappingSha256: 'm'.repeat(64), tenantId: 't', migrationUserId: 'u', migrationUserName: 'DATA_MIGRATION', branchMapSha256: 'c'.repeat(64) },
    futureDated: { count: 1, examples: [7] },
    byType: { INDIVIDUAL: { staged: 1202, loaded: 1199, rejected: 3 } },
    reconciliation: {
      ok: true,
      checkedAt: '2025-01-01T00:00:04.000Z',
      byType: { INDIVIDUAL: { staged: 1202, loaded: 1199, rejected: 3 } },
      checks: [{ name: 'values_match_mapping', ok: true, detail: 'every loaded row matches <the mapping> & more' }],
      stale: { count: 2, examples: [3, 4] },
      deletedInSource: { count: 0, examples: [] },
      futureDated: { count: 1, examples: [7] },
    },
    loadPath: { path: 'bulk', reason: 'a full run into empty tables' },
    bulkLoad: { state: 'RESTORED', dropped_at: null, restored_at: '2025-01-01 00:00:03+00', error: null },
    signOff: { ready: true, reasons: [] },
    rejects: 3,
    warnings: 2,
    issues: [
      { severity: 'REJECT', reason: 'INVALID_BVN', field: 'bvn', count: 3, examples: [10, 11, 12] },
      { severity: 'WARNING', reason: 'INVALID_EMAIL', field: 'email', count: 2, examples: [5, 6] },
    ],
    batches: { total: 3, done: 3, failed: 0, pending: 0, attempts: 3, avgMs: 566, p95Ms: 950, failedBatches: [] },
    ...overrides,
  } as Report;
}

describe('sign-off pack (pure parts)', () => {
  describe('manifest', () => {
    const input = (): ManifestInput => manifestInput(report(), BATCHES);

    it('canonical JSON does not depend on key order', () => {
      assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
      assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
    });

    it('changes with any count, batch digest, fingerprint field or check result; stays with the same input', () => {
      const base = computeManifest(input());
      assert.equal(computeManifest(input()).sha256, base.sha256);
      assert.equal(base.batches, 3);
      const variants: ((i: ManifestInput) => void)[] = [
        (i) => (i.counts.loaded += 1),
        (i) => (i.batches[1].expected!.customerDigest = 'f'.repeat(64)),
        (i) => (i.fingerprint!.branchMapSha256 = 'd'.repeat(64)),
        (i) => (i.reconciliation!.checks[0].ok = false),
        (i) => (i.watermarkAfter = '2025-01-01 00:00:02+00'),
      ];
      for (const change of variants) {
        const i = input();
        change(i);
        assert.notEqual(computeManifest(i).sha256, base.sha256, change.toString());
      }
    });

    it('is an HMAC only with a key, a different one per key; differences are named', () => {
      assert.equal(computeManifest(input()).hmac, null);
      const a = computeManifest(input(), 'key-one-0123456789');
      const b = computeManifest(input(), 'key-two-0123456789');
      assert.match(a.hmac!, /^[0-9a-f]{64}$/);
      assert.notEqual(a.hmac, b.hmac);
      assert.equal(a.sha256, b.sha256);
      assert.deepEqual(manifestDifferences(a, a, true), []);
      assert.match(manifestDifferences(a, b, true).join(), /HMAC/);
      assert.match(manifestDifferences(a, computeManifest(input()), false).join(), /SIGNOFF_HMAC_KEY is not set/);
      assert.match(manifestDifferences({ sha256: 'x', hmac: null }, a, false).join(), /SHA-256/);
    });
  });

  describe('SVG charts', () => {
    it('bars are drawn to scale, labels escaped, nothing fetched', () => {
      const svg = barChart(
        't',
        'a <title>',
        [
          { label: '#1', value: 50 },
          { label: '#2', value: 100 },
        ],
        'rows/s',
      );
      const heights = [...svg.matchAll(/<rect class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
      assert.equal(heights.length, 2);
      assert.ok(Math.abs(heights[1] - 2 * heights[0]) < 0.2, `${heights}`);
      assert.ok(svg.includes('a &lt;title&gt;'));
      assert.doesNotMatch(svg, /https?:/);
      assert.match(barChart('t', 'x', [], 'ms'), /no data/);
      assert.equal(esc(`<a href="x">'&`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
      assert.deepEqual([0, 1, 3, 7, 12, 4000].map(niceMax), [1, 1, 5, 10, 20, 5000]);
    });

    it('horizontal bars carry their count and note; the time line has one point per batch', () => {
      const h = horizontalBars('r', 'rejects', [{ label: 'INVALID_BVN', value: 3, note: 'e.g. 10, 11' }]);
      assert.match(h, /INVALID_BVN<\/text><rect class="bar"[^>]*data-value="3"[\s\S]*3  e\.g\. 10, 11/);
      const points = loadedOverTime(BATCHES);
      assert.deepEqual(points, [
        { x: 1300, y: 400 },
        { x: 1500, y: 899 },
        { x: 2600, y: 1199 },
      ]);
      const line = timeLine('l', 'loaded', points, 'rows', 'none', 1000);
      assert.equal((line.match(/<circle /g) ?? []).length, 3);
      assert.match(line, /<path class="line" d="M64\.0,/);
    });

    it('batch rates: duration and rows per second of each loaded batch, in start order', () => {
      assert.deepEqual(
        batchRates(BATCHES).map((b) => [b.batchNo, b.ms, b.rowsPerSecond]),
        [
          [1, 500, 998],
          [2, 200, 2000],
          [3, 1000, 300],
        ],
      );
    });
  });

  describe('the report page', () => {
    const input = {
      report: report(),
      batches: BATCHES,
      manifest: computeManifest(manifestInput(report(), BATCHES)),
      generatedAt: '2025-01-02T00:00:00.000Z',
      uiLink: 'http://127.0.0.1:8233/namespaces/default/workflows/wf-1',
    };

    it('is the same bytes for the same input, and carries its run, time and manifest', () => {
      const html = renderReportPage(input);
      assert.equal(renderReportPage(input), html);
      assert.deepEqual(pageData(html), { kind: 'signoff-pack', runId: 'wf-1', generatedAt: input.generatedAt, uiLink: input.uiLink, manifest: input.manifest });
      assert.equal((html.match(/<svg class="chart"/g) ?? []).length, 6);
      assert.deepEqual([...new Set(html.match(/https?:\/\/[^\s"'<>]+/g))], [input.uiLink]);
    });

    it('shows every number, check and detail as text a changed digit would alter', () => {
      const text = visibleText(renderReportPage(input));
      assert.ok(text.includes('loaded 1199'), text.join('\n'));
      assert.ok(text.some((l) => l.includes('every loaded row matches <the mapping> & more')));
      assert.ok(text.some((l) => l.startsWith('Sign-off: READY')));
      assert.ok(text.includes('load path bulk (a full run into empty tables); keys rebuilt and verified at 2025-01-01 00:00:03+00'), text.join('\n'));
      assert.ok(text.some((l) => l.includes(input.manifest.sha256)));
      const changed = visibleText(renderReportPage({ ...input, report: report({ counts: { ...report().counts, loaded: 1198 } }) }));
      assert.ok(changed.includes('loaded 1198') && !changed.includes('loaded 1199'));
    });

    it('says NOT READY with the reasons', () => {
      const html = renderReportPage({ ...input, report: report({ signOff: { ready: false, reasons: ['reconciliation failed: values_match_mapping'] } }) });
      assert.match(html, /class="signoff fail"[^>]*>Sign-off: NOT READY: reconciliation failed: values_match_mapping/);
    });
  });

  describe('compare', () => {
    it('names the key ranges whose digests differ, and those only one run loaded', () => {
      const other = [batch(1, 1, 500, 0, 1, 499), batch(2, 501, 1000, 0, 1, 400, 'e'), batch(3, 1001, 1400, 0, 1, 300)];
      assert.deepEqual(compareRanges(BATCHES, other), {
        compared: 2,
        same: 1,
        differ: [{ lo: 501, hi: 1000, customersA: 400, customersB: 400 }],
        customersInChangedRanges: 400,
        onlyA: 1,
        onlyB: 1,
      });
    });

    it('phases from the recorded times, and the cutover projected at the faster rehearsal', () => {
      const times = (k: number) => ({
        startedMs: 0,
        firstBatchStartedMs: 1000 * k,
        lastBatchFinishedMs: 3000 * k,
        reconciledMs: 4000 * k,
        finishedMs: 4000 * k + 100,
      });
      const slow = phasesOf({ report: report(), times: times(2) });
      const fast = phasesOf({ report: report(), times: times(1) });
      assert.deepEqual(
        fast.map((p) => [p.phase, p.ms, p.rowsPerSecond]),
        [
          ['extract', 1000, 1202],
          ['load', 2000, 601],
          ['reconcile', 1000, 1202],
          ['finish', 100, null],
          ['total', 4100, 293],
        ],
      );
      const p = projectCutover(12_020, [
        { runId: 'slow', phases: slow },
        { runId: 'fast', phases: fast },
      ])!;
      assert.equal(p.basedOn, 'fast');
      assert.deepEqual(
        p.phases.map((x) => x.ms),
        [10_000, 20_000, 10_000, 100],
      );
      assert.equal(p.totalMs, 40_100);
    });
  });

  describe('rejects CSV', () => {
    it('neutralises what a spreadsheet would run as a formula (OWASP: a leading single quote)', () => {
      for (const v of ['=1+1', '+1', '-2', '@SUM(A1)', '\tx', '\rx']) assert.equal(neutraliseFormula(v), `'${v}`);
      for (const v of ['plain', '1-2', 'a=b', '']) assert.equal(neutraliseFormula(v), v);
      assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
      assert.equal(csvField(12), '12');
      assert.equal(csvField(null), '');
    });
  });

  describe('explain', () => {
    it('traces each destination value to its rule, source column, raw value and normaliser', () => {
      const mapped = mapOk(INDIVIDUAL_ROW);
      const origins = explainRow(readMappingDocument(MAPPING_FILE), mapped.customerType, INDIVIDUAL_ROW, mapped);
      const at = (c: string) => origins.find((o) => o.column === c)!;
      assert.equal(at('branchId').rule, 'branch.branchId');
      assert.deepEqual([at('branchId').fields[0].source, at('branchId').fields[0].raw], ['branch_code', INDIVIDUAL_ROW.branch_code]);
      assert.equal(at('branchId').mapped, BRANCHES.get('LAG001')!.branchId);
      assert.equal(at('customerId').rule, 'customer_uuids.customerId');
      assert.equal(at('customerId').mapped, CTX.customerId);
      assert.equal(at('tenantId').rule, 'configuration tenantId');
      assert.match(at('customerProfileData.fullName').rule, /^join\(firstName, middleName, lastName/);
      assert.equal(at('customerProfileData.address.city').fields[0].source, 'city');
      assert.equal(at('customerProfileData.address.city').mapped, (mapped.profile.customerProfileData as any).address.city);
      const status = at('status').fields[0];
      assert.equal(status.default, 'ACTIVE');
      assert.match(status.override!, /"CLOSED" when isDeleted = true/);
      assert.ok(!origins.some((o) => o.column.startsWith('customerProfileData.businessName')), "the corporate branch is not an individual's");
    });
  });
});
