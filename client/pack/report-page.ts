import type { Report } from '../commands/report';
import type { BatchRecord } from '../../db/staging/batches';
import { reconciliationLines } from '../render';
import type { Manifest } from './manifest';
import { factTable, htmlPage, htmlTable, type Cell } from './page';
import { barChart, esc, horizontalBars, timeLine, type Bar } from './svg';

/** What the sign-off page is drawn from; the same inputs give the same bytes (verify-report relies on it). */
export interface ReportPageInput {
  report: Report;
  batches: readonly BatchRecord[];
  manifest: Manifest;
  /** When the page was made (ISO): printed, and kept in the page so that verify-report can draw it again. */
  generatedAt: string;
  /** The run in the Temporal UI: a plain link, the one address the page names. */
  uiLink: string;
}

/** What a page carries for verify-report: which run, when it was drawn, and the manifest it claims. */
export interface ReportPageData {
  kind: 'signoff-pack';
  runId: string;
  generatedAt: string;
  uiLink: string;
  manifest: Manifest;
}

const PIPELINE_ORDER = ['extracted', 'staged', 'loaded', 'rejected', 'warned', 'batches', 'failedBatches'];
const okCell = (ok: boolean, key?: string): Cell => ({ text: ok ? 'PASS' : 'FAIL', cls: ok ? 'ok' : 'fail', key });

/** Loaded batches in the order they finished: the cumulative rows loaded at each finish. */
export function loadedOverTime(batches: readonly BatchRecord[]): { x: number; y: number }[] {
  let total = 0;
  return batches
    .filter((b) => b.status === 'DONE' && b.finishedMs !== null)
    .sort((a, b) => a.finishedMs! - b.finishedMs! || a.batchNo - b.batchNo)
    .map((b) => ({ x: b.finishedMs!, y: (total += b.loaded ?? 0) }));
}

/** Each loaded batch's duration (ms) and rows per second, in the order they started. */
export function batchRates(batches: readonly BatchRecord[]): { batchNo: number; ms: number; rowsPerSecond: number; loaded: number }[] {
  return batches
    .filter((b) => b.status === 'DONE' && b.startedMs !== null && b.finishedMs !== null)
    .sort((a, b) => a.startedMs! - b.startedMs! || a.batchNo - b.batchNo)
    .map((b) => {
      const ms = Math.max(1, b.finishedMs! - b.startedMs!);
      return { batchNo: b.batchNo, ms, loaded: b.loaded ?? 0, rowsPerSecond: Math.round(((b.loaded ?? 0) * 1000) / ms) };
    });
}

function issueBars(report: Report, severity: 'REJECT' | 'WARNING'): Bar[] {
  return report.issues
    .filter((i) => i.severity === severity)
    .map((i) => ({
      label: `${i.reason}${i.field ? ` (${i.field})` : ''}`,
      value: i.count,
      note: i.examples?.length ? `e.g. ${i.examples.slice(0, 3).join(', ')}` : undefined,
      color: severity === 'REJECT' ? '#b5523b' : '#c99a2e',
    }));
}

/** The page's title lines: which run, when it was drawn, and whether it may be signed off. */
function headerSection(report: Report, generatedAt: string, uiLink: string): string[] {
  return [
    `<h1>Sign-off pack: run ${esc(report.runId)}</h1>`,
    `<p class="muted">run #${esc(report.runNumber)}, ${esc(report.mode)}, pipeline ${esc(report.pipeline)}; generated ${esc(generatedAt)}; <a href="${esc(uiLink)}">the run in the Temporal UI</a></p>`,
    `<div class="signoff ${report.signOff.ready ? 'ok' : 'fail'}" data-key="signOff">Sign-off: ${report.signOff.ready ? 'READY (completed, reconciliation passed, no failed batch)' : `NOT READY: ${esc(report.signOff.reasons.join('; '))}`}</div>`,
  ];
}

/** The pipeline's counts in pipeline order (extracted, staged, loaded, ...), others after them. */
function countsInPipelineOrder(report: Report): [string, number][] {
  return Object.entries(report.counts ?? {}).sort(([a], [b]) => (PIPELINE_ORDER.indexOf(a) + 1 || 99) - (PIPELINE_ORDER.indexOf(b) + 1 || 99));
}

/** The load path line: bulk or upsert, why, and where the bulk load's keys stand. */
function loadPathText(report: Report, loadPath: NonNullable<Report['loadPath']>): string {
  const keys = report.bulkLoad
    ? `; keys ${report.bulkLoad.state === 'RESTORED' ? `rebuilt and verified at ${report.bulkLoad.restored_at}` : report.bulkLoad.state}`
    : '';
  return `${loadPath.path} (${loadPath.reason})${keys}`;
}

function runSummaryFacts(report: Report): [string, Cell][] {
  const b = report.batches;
  return [
    ['status', { text: report.status, key: 'status' }],
    ['phase', report.phase],
    ['started', report.startedAt],
    ['finished', report.finishedAt ?? '(running)'],
    ['run date', report.runDate],
    ...(report.loadPath ? ([['load path', loadPathText(report, report.loadPath)]] as [string, Cell][]) : []),
    ...(report.note ? ([['note', report.note]] as [string, Cell][]) : []),
    ...(report.error ? ([['error', report.error]] as [string, Cell][]) : []),
    ...countsInPipelineOrder(report).map(([k, v]): [string, Cell] => [k, { text: v, key: `counts.${k}` }]),
    ['rejects / warnings', { text: `${report.rejects} / ${report.warnings}`, key: 'rejectsWarnings' }],
    ['counts add up', { text: `${report.countsAddUp.ok ? 'yes' : 'NO'}: ${report.countsAddUp.lines.join('; ')}`, cls: report.countsAddUp.ok ? 'ok' : 'fail' }],
    [
      'batches',
      {
        text: `${b.done}/${b.total} done, ${b.failed} failed, ${b.pending} pending; ${b.attempts} attempts; ${b.avgMs ?? '?'} ms average, ${b.p95Ms ?? '?'} ms p95`,
        key: 'batches',
      },
    ],
  ];
}

function runSummarySection(report: Report): string[] {
  return ['<h2>Run summary</h2>', factTable(runSummaryFacts(report))];
}

type Reconciliation = NonNullable<Report['reconciliation']>;

function reconciliationSection(r: Report['reconciliation']): string[] {
  if (!r) return ['<h2>Reconciliation</h2>', '<p class="fail">none: the run did not reach it</p>'];
  // The informational lines exactly as `report` prints them.
  const informational = reconciliationLines(r)
    .filter((l) => /^ {2}(stale|deleted|future)/.test(l))
    .map((l) => l.trim());
  return [
    '<h2>Reconciliation</h2>',
    `<p data-key="reconciliation.ok" class="${r.ok ? 'ok' : 'fail'}">${r.ok ? 'PASSED' : 'FAILED'} (checked ${esc(r.checkedAt)})</p>`,
    htmlTable(
      ['customer type', 'staged', 'loaded', 'rejected'],
      Object.entries(r.byType).map(([t, c]) => [
        t,
        { text: c.staged, key: `byType.${t}.staged` },
        { text: c.loaded, key: `byType.${t}.loaded` },
        { text: c.rejected, key: `byType.${t}.rejected` },
      ]),
    ),
    htmlTable(
      ['result', 'check', 'detail', 'codes'],
      r.checks.map((c) => [okCell(c.ok, `check.${c.name}`), c.name, c.detail, (c.examples ?? []).join(', ')]),
    ),
    `<ul>${informational.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`,
  ];
}

type BatchRate = ReturnType<typeof batchRates>[number];

/** Rows loaded over time, throughput per batch and batch durations: the load's three charts. */
function loadChartsSection(batches: readonly BatchRecord[], rates: readonly BatchRate[]): string[] {
  const firstStart = Math.min(...batches.filter((b) => b.startedMs !== null).map((b) => b.startedMs!));
  return [
    '<h2>Rows loaded over time</h2>',
    '<h3>Cumulative rows loaded, at each batch finish (seconds since the first batch started)</h3>',
    timeLine(
      'loaded-over-time',
      'rows loaded over time (cumulative, at each batch finish)',
      loadedOverTime(batches),
      'rows loaded',
      'no batch loaded',
      Number.isFinite(firstStart) ? firstStart : undefined,
    ),
    '<h3>Throughput per batch, in the order batches started</h3>',
    barChart(
      'throughput',
      'throughput per batch, in the order batches started (rows/s)',
      rates.map((b) => ({ label: `#${b.batchNo}`, value: b.rowsPerSecond, note: `${b.loaded} rows in ${b.ms} ms` })),
      'rows/s',
      'no batch loaded',
    ),
    '<h2>Batch durations</h2>',
    barChart(
      'batch-durations',
      'batch durations (ms), in the order batches started',
      rates.map((b) => ({ label: `#${b.batchNo}`, value: b.ms, color: '#6a5aa8' })),
      'ms',
      'no batch loaded',
    ),
  ];
}

function issuesSection(report: Report): string[] {
  return [
    `<h2>Rejects (${report.rejects}) and warnings (${report.warnings}) by reason</h2>`,
    '<h3>Rejects</h3>',
    horizontalBars('rejects', 'rejects by reason (count, example codes)', issueBars(report, 'REJECT'), 'no reject'),
    '<h3>Warnings</h3>',
    horizontalBars('warnings', 'warnings by reason (count, example codes)', issueBars(report, 'WARNING'), 'no warning'),
    htmlTable(
      ['severity', 'reason', 'field', 'count', 'example codes'],
      report.issues.map((i) => [
        i.severity,
        i.reason,
        i.field,
        { text: i.count, key: `issue.${i.severity}.${i.reason}.${i.field ?? ''}` },
        (i.examples ?? []).join(', '),
      ]),
    ),
  ];
}

const firstExamples = (examples: readonly number[] | undefined): string | undefined =>
  examples?.length ? `e.g. ${examples.slice(0, 3).join(', ')}` : undefined;

/** Future-dated rows, stale customers and rows deleted in the source, as the reconciliation counted them. */
function futureStaleBars(r: Reconciliation): Bar[] {
  return [
    { label: 'future-dated (after the snapshot)', value: r.futureDated?.count ?? 0, note: firstExamples(r.futureDated?.examples), color: '#3b6ea8' },
    { label: 'stale (newer row rejected)', value: r.stale.count, note: firstExamples(r.stale.examples), color: '#c99a2e' },
    { label: 'deleted in source, kept', value: r.deletedInSource.count, note: firstExamples(r.deletedInSource.examples), color: '#777' },
  ];
}

function futureStaleSection(r: Report['reconciliation']): string[] {
  return [
    '<h2>Future-dated rows and stale customers</h2>',
    horizontalBars('future-stale', 'future-dated rows, stale customers, deleted in source', r ? futureStaleBars(r) : [], 'no reconciliation'),
  ];
}

function fingerprintSection(report: Report): string[] {
  const f = report.fingerprint;
  return [
    '<h2>Fingerprint</h2>',
    factTable([
      ['mapping SHA-256', { text: f?.mappingSha256 ?? '(none recorded)', cls: 'mono', key: 'fingerprint.mappingSha256' }],
      ['branch_map SHA-256', { text: f?.branchMapSha256 ?? '(none recorded)', cls: 'mono', key: 'fingerprint.branchMapSha256' }],
      ['tenant', { text: f?.tenantId ?? '', cls: 'mono' }],
      ['migration user', f ? `${f.migrationUserName} (${f.migrationUserId})` : ''],
      ['source snapshot at', { text: report.watermark.snapshotAt ?? '(none)', key: 'snapshotAt' }],
      ['watermark before', { text: report.watermark.before ?? '(none)', key: 'watermark.before' }],
      ['watermark after', { text: report.watermark.after ?? '(none)', key: 'watermark.after' }],
      ...(report.watermark.extractSince ? ([['extracted rows updated since', report.watermark.extractSince]] as [string, Cell][]) : []),
    ]),
  ];
}

function batchesSection(batches: readonly BatchRecord[], rates: readonly BatchRate[]): string[] {
  return [
    '<h2>Batches</h2>',
    htmlTable(
      ['batch', 'codes', 'status', 'attempts', 'loaded', 'rejected', 'ms', 'rows/s'],
      batches.map((b) => {
        const rate = rates.find((x) => x.batchNo === b.batchNo);
        return [b.batchNo, `${b.lo}..${b.hi}`, b.status, b.attempts, b.loaded, b.rejected, rate?.ms ?? null, rate?.rowsPerSecond ?? null];
      }),
    ),
  ];
}

function manifestSection(manifest: Manifest): string[] {
  return [
    '<h2>Manifest</h2>',
    factTable([
      ['SHA-256', { text: manifest.sha256, cls: 'mono', key: 'manifest.sha256' }],
      ['HMAC-SHA256', { text: manifest.hmac ?? '(not signed: SIGNOFF_HMAC_KEY unset)', cls: 'mono', key: 'manifest.hmac' }],
      ['covers', `${manifest.batches} batch digest(s), the counts, the fingerprint and the reconciliation result`],
      ['check it', `npm run migrate -- verify-report <this file>`],
    ]),
  ];
}

/** The sign-off pack: one self-contained page, its sections in a fixed order (the bytes are hashed by verify-report). */
export function renderReportPage({ report, batches, manifest, generatedAt, uiLink }: ReportPageInput): string {
  const rates = batchRates(batches);
  const parts = [
    ...headerSection(report, generatedAt, uiLink),
    ...runSummarySection(report),
    ...reconciliationSection(report.reconciliation),
    ...loadChartsSection(batches, rates),
    ...issuesSection(report),
    ...futureStaleSection(report.reconciliation),
    ...fingerprintSection(report),
    ...batchesSection(batches, rates),
    ...manifestSection(manifest),
  ];
  const data: ReportPageData = { kind: 'signoff-pack', runId: report.runId, generatedAt, uiLink, manifest };
  return htmlPage(`Sign-off pack: ${report.runId}`, parts.join('\n'), data);
}
