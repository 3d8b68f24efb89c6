import type { Reconciliation } from '../contracts';
import type { Progress } from '../workflows/definitions';

function bar(fraction: number, width = 30): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A duration in ms: tenths of a second under a minute (rehearsals of small samples take seconds), else formatDuration. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '?';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms / 1000);
}

/** Share of the staged rows already loaded or rejected (0 before planning). */
export function loadFraction(p: Progress): number {
  return p.counts.staged ? (p.counts.loaded + p.counts.rejected) / p.counts.staged : 0;
}

const BAR_PHASES = new Set(['loading', 'awaiting-decision', 'reconciling', 'finished']);

/** One line that says where a run stands. */
export function progressLine(p: Progress): string {
  const fraction = loadFraction(p);
  const b = p.batches;
  const batchDetail = [b.running ? `${b.running} running` : '', b.failed ? `${b.failed} FAILED` : ''].filter(Boolean).join(', ');
  const parts = [
    `[${p.phase}]`.padEnd(20),
    BAR_PHASES.has(p.phase) && p.counts.staged ? `${bar(fraction)} ${(100 * fraction).toFixed(1).padStart(5)}%` : '',
    `extracted ${p.counts.extracted}`,
    p.counts.staged ? `staged ${p.counts.staged}` : '',
    `loaded ${p.counts.loaded}`,
    `rejected ${p.counts.rejected}`,
    `warned ${p.counts.warned}`,
    `batches ${b.done}/${b.total}${batchDetail ? ` (${batchDetail})` : ''}`,
    p.rowsPerSecond ? `${p.rowsPerSecond} rows/s` : '',
    p.etaSeconds !== null && p.phase === 'loading' ? `ETA ${formatDuration(p.etaSeconds)}` : '',
  ];
  return parts.filter(Boolean).join('  ');
}

/** The lines `status` prints under its headline (also used for the phase changes of --watch). */
export function progressDetails(p: Progress, workflowId: string): string[] {
  const c = p.counts;
  const b = p.batches;
  const lines = [
    `phase:    ${p.phase}${p.status !== 'RUNNING' ? ` (${p.status})` : ''}`,
    `rows:     extracted ${c.extracted}, staged ${c.staged}, loaded ${c.loaded}, rejected ${c.rejected}, warned ${c.warned}`,
    `batches:  ${b.done}/${b.total} done, ${b.running} running, ${b.failed} failed, ${b.pending} pending`,
  ];
  if (p.counts.staged && BAR_PHASES.has(p.phase)) lines.push(`progress: ${bar(loadFraction(p))} ${(100 * loadFraction(p)).toFixed(1)}%`);
  if (p.rowsPerSecond !== null || p.etaSeconds !== null) {
    lines.push(`rate:     ${p.rowsPerSecond ?? '?'} rows/s${p.phase === 'loading' ? `, ETA ${formatDuration(p.etaSeconds)}` : ''}`);
  }
  if (p.status === 'RUNNING') {
    if (p.watermarkBefore) lines.push(`watermark: ${p.watermarkBefore} (moves only when the run completes clean)`);
  } else if (p.watermarkBefore || p.watermarkAfter) {
    const moved = p.watermarkAfter !== p.watermarkBefore;
    lines.push(`watermark: ${p.watermarkBefore ?? '(none)'} → ${moved ? (p.watermarkAfter ?? '(none)') : '(unchanged)'}`);
  }
  if (p.note) lines.push(`note:     ${p.note}`);
  for (const f of p.failedBatches) lines.push(`FAILED batch ${f.batchNo} after ${f.attempts} attempt(s): ${f.error}`);
  lines.push(...decisionHint(p, workflowId));
  for (const d of p.decisions ?? []) {
    lines.push(
      `decision: ${d.action}${d.batches?.length ? ` of batch(es) ${d.batches.join(', ')}` : ''}${d.reason ? ` (${d.reason})` : ''} via ${d.via} at ${d.at}`,
    );
  }
  if (p.error) lines.push(`error:    ${p.error}`);
  return lines;
}

/** What the cutover lead can do about a run that waits on failed batches. */
export function decisionHint(p: Progress, workflowId: string): string[] {
  if (p.phase !== 'awaiting-decision') return [];
  return [
    `WAITING for a decision on ${p.failedBatches.length} failed batch(es)${p.decisionDeadline ? ` until ${p.decisionDeadline} (then the run fails)` : ''}:`,
    `  npm run migrate -- retry ${workflowId} [--batch N ...]   re-run them`,
    `  npm run migrate -- accept-failures ${workflowId}         finish as COMPLETED_WITH_FAILURES`,
    `  npm run migrate -- abort ${workflowId} [--reason TEXT]   end the run, watermark unchanged`,
  ];
}

export interface PrinterOptions {
  /** Where to draw; stderr by default (stdout stays for results and --json). */
  stream?: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  /** Extra lines printed once when the run enters a phase (e.g. the decision hint). */
  onPhase?: (p: Progress) => string[];
  /** Off a terminal, a changed line is printed at most this often (phase changes always are). */
  intervalMs?: number;
  now?: () => number;
}

/**
 * Redraws a single status line on a terminal (a live bar; every phase keeps its last line); prints
 * a new line per phase change, and at most every `intervalMs` otherwise, elsewhere (logs, CI).
 */
export class ProgressPrinter {
  private last = '';
  private lastPhase = '';
  private lastPrinted = 0;
  private readonly stream: NonNullable<PrinterOptions['stream']>;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PrinterOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Without an onPhase of its own, a printer still says what a waiting run needs. */
  private phaseLines(p: Progress): string[] {
    if (this.options.onPhase) return this.options.onPhase(p);
    return decisionHint(p, '<runId>');
  }

  update(p: Progress): void {
    const full = progressLine(p);
    // A redrawn line must not wrap: \r only returns to the start of the last screen line.
    const width = this.tty ? this.stream.columns : undefined;
    const line = width && full.length >= width ? `${full.slice(0, Math.max(10, width - 2))}…` : full;
    const phaseChanged = p.phase !== this.lastPhase;
    if (line === this.last && !phaseChanged) return;
    const extra = phaseChanged ? this.phaseLines(p) : [];
    if (this.tty) {
      if (phaseChanged && this.last) this.stream.write('\n');
      for (const l of extra) this.stream.write(`\r\x1b[2K${l}\n`);
      this.stream.write(`\r\x1b[2K${line}`);
    } else if (phaseChanged || this.now() - this.lastPrinted >= this.intervalMs) {
      for (const l of extra) this.stream.write(`${l}\n`);
      this.stream.write(`${line}\n`);
      this.lastPrinted = this.now();
    }
    this.last = line;
    this.lastPhase = p.phase;
  }

  done(): void {
    if (this.tty && this.last) this.stream.write('\n');
  }
}

export function reconciliationLines(r: Reconciliation): string[] {
  const lines = [`Reconciliation: ${r.ok ? 'PASSED' : 'FAILED'} (checked ${r.checkedAt})`];
  lines.push('  by customer type:');
  const types = Object.entries(r.byType);
  const width = Math.max(11, ...types.map(([t]) => t.length));
  for (const [type, c] of types) lines.push(`    ${type.padEnd(width)} staged ${c.staged} = loaded ${c.loaded} + rejected ${c.rejected}`);
  lines.push('  checks:');
  for (const check of r.checks) {
    // A failing check names every code it has (up to 20): the keys to look at.
    const codes = check.examples?.length ? (check.ok ? ` (e.g. codes ${check.examples.slice(0, 5).join(', ')})` : ` (codes ${check.examples.join(', ')})`) : '';
    lines.push(`    ${check.ok ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail}${codes}`);
  }
  lines.push(
    `  stale customers (newer source row rejected, last loaded version kept): ${r.stale.count}${r.stale.examples.length ? `, e.g. ${r.stale.examples.slice(0, 5).join(', ')}` : ''}`,
  );
  lines.push(
    `  deleted in source, kept in destination: ${r.deletedInSource.count}${r.deletedInSource.examples.length ? `, e.g. ${r.deletedInSource.examples.slice(0, 5).join(', ')}` : ''}`,
  );
  if (r.futureDated) {
    lines.push(
      `  future-dated (updated_at after the snapshot${r.snapshotAt ? ` at ${r.snapshotAt}` : ''}; loaded, never moves the watermark): ${r.futureDated.count}` +
        (r.futureDated.examples.length ? `, codes ${r.futureDated.examples.join(', ')}` : ''),
    );
  }
  return lines;
}

export function table(rows: (string | number | null)[][], header: string[]): string {
  const all = [header, ...rows.map((r) => r.map((v) => (v === null ? '' : String(v))))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((v, i) => String(v ?? '').padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One value on one line, at most `max` characters: for showing source values in a terminal. */
export function shortValue(value: unknown, max = 60): string {
  if (value === null || value === undefined) return '(null)';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
