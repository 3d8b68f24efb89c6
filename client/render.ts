import type { Reconciliation } from '../activities/types';
import type { Progress } from '../workflows/definitions';

const isTty = () => Boolean(process.stderr.isTTY);

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

/** One line that says where a run stands. */
export function progressLine(p: Progress): string {
  const processed = p.counts.loaded + p.counts.rejected;
  const fraction = p.counts.staged ? processed / p.counts.staged : 0;
  const b = p.batches;
  const parts = [
    `[${p.phase}]`.padEnd(20),
    p.phase === 'loading' || p.phase === 'awaiting-decision' ? `${bar(fraction)} ${(100 * fraction).toFixed(1).padStart(5)}%` : '',
    `extracted ${p.counts.extracted}`,
    `loaded ${p.counts.loaded}`,
    `rejected ${p.counts.rejected}`,
    `warned ${p.counts.warned}`,
    `batches ${b.done}/${b.total}${b.failed ? ` (${b.failed} FAILED)` : ''}`,
    p.rowsPerSecond ? `${p.rowsPerSecond} rows/s` : '',
    p.etaSeconds !== null && p.phase === 'loading' ? `ETA ${formatDuration(p.etaSeconds)}` : '',
  ];
  return parts.filter(Boolean).join('  ');
}

/** Redraws a single status line on a terminal; prints a new line per change elsewhere (logs, CI). */
export class ProgressPrinter {
  private last = '';
  update(p: Progress): void {
    const line = progressLine(p);
    if (line === this.last) return;
    if (isTty()) process.stderr.write(`\r\x1b[2K${line}`);
    else if (line.split('  ')[0] !== this.last.split('  ')[0] || !this.last) process.stderr.write(`${line}\n`);
    this.last = line;
  }
  done(): void {
    if (isTty() && this.last) process.stderr.write('\n');
  }
}

export function reconciliationLines(r: Reconciliation): string[] {
  const lines = [`Reconciliation: ${r.ok ? 'PASSED' : 'FAILED'}`];
  for (const [type, c] of Object.entries(r.byType)) lines.push(`  ${type.padEnd(11)} staged ${c.staged} = loaded ${c.loaded} + rejected ${c.rejected}`);
  for (const check of r.checks) {
    lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}${check.examples?.length ? ` (e.g. codes ${check.examples.slice(0, 5).join(', ')})` : ''}`);
  }
  lines.push(`  stale customers (newer source row rejected, last loaded version kept): ${r.stale.count}${r.stale.examples.length ? ` e.g. ${r.stale.examples.slice(0, 5).join(', ')}` : ''}`);
  lines.push(`  deleted in source, kept in destination: ${r.deletedInSource.count}${r.deletedInSource.examples.length ? ` e.g. ${r.deletedInSource.examples.slice(0, 5).join(', ')}` : ''}`);
  return lines;
}

export function table(rows: (string | number | null)[][], header: string[]): string {
  const all = [header, ...rows.map((r) => r.map((v) => (v === null ? '' : String(v))))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  return all.map((r) => r.map((v, i) => String(v ?? '').padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
