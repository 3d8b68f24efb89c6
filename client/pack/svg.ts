/**
 * Charts as inline SVG, drawn here (no library, no script, no fetch): a page that carries them
 * renders the same offline, in any browser, printed or archived.
 */

/** Text for HTML and SVG content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface Bar {
  label: string;
  value: number;
  /** Shown on hover (an SVG <title>) and, in horizontal charts, after the bar. */
  note?: string;
  /** A CSS colour; the chart's default otherwise. */
  color?: string;
}

const W = 720;
const FONT = 'font-family="system-ui, sans-serif" font-size="11"';
const fmt = (n: number): string =>
  Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : String(Math.abs(n) >= 10 ? Math.round(n * 10) / 10 : Math.round(n * 100) / 100);

/** A round upper bound of the axis: 1, 2 or 5 times a power of ten at or above max. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max) ?? 10 * p;
}

function frame(name: string, title: string, height: number, body: string): string {
  return `<svg class="chart" data-chart="${esc(name)}" role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}"><title>${esc(title)}</title>${body}</svg>`;
}

function empty(name: string, title: string, text: string): string {
  return frame(name, title, 60, `<text x="${W / 2}" y="34" text-anchor="middle" ${FONT} fill="#666">${esc(text)}</text>`);
}

/** Horizontal axis lines with their values, for a chart area from top to bottom. */
function yAxis(left: number, right: number, top: number, bottom: number, max: number, unit: string): string {
  let out = '';
  for (let i = 0; i <= 4; i++) {
    const y = bottom - ((bottom - top) * i) / 4;
    out += `<line x1="${left}" x2="${right}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${left - 4}" y="${y + 4}" text-anchor="end" ${FONT} fill="#555">${esc(fmt((max * i) / 4))}</text>`;
  }
  return out + `<text x="${left}" y="${top - 8}" ${FONT} fill="#333">${esc(unit)}</text>`;
}

/** Vertical bars, one per item (labels thinned out where they would overlap). */
export function barChart(name: string, title: string, bars: readonly Bar[], unit: string, emptyText = 'no data'): string {
  if (!bars.length) return empty(name, title, emptyText);
  const height = 240;
  const [left, right, top, bottom] = [56, W - 10, 24, height - 36];
  const max = niceMax(Math.max(...bars.map((b) => b.value)));
  const step = (right - left) / bars.length;
  const labelEvery = Math.max(1, Math.ceil(bars.length / Math.floor((right - left) / 40)));
  let body = yAxis(left, right, top, bottom, max, unit);
  bars.forEach((b, i) => {
    const h = Math.max(b.value > 0 ? 1 : 0, ((bottom - top) * b.value) / max);
    const x = left + i * step + step * 0.1;
    body += `<rect class="bar" x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${Math.max(1, step * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${esc(b.color ?? '#3b6ea8')}" data-value="${b.value}"><title>${esc(`${b.label}: ${fmt(b.value)} ${unit}${b.note ? ` (${b.note})` : ''}`)}</title></rect>`;
    if (i % labelEvery === 0)
      body += `<text x="${(left + i * step + step / 2).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" ${FONT} fill="#333">${esc(b.label)}</text>`;
  });
  return frame(name, title, height, body + `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
}

/** Horizontal bars with their label on the left and value (and note) on the right: for reasons. */
export function horizontalBars(name: string, title: string, bars: readonly Bar[], emptyText = 'none'): string {
  if (!bars.length) return empty(name, title, emptyText);
  const row = 22;
  const height = bars.length * row + 12;
  const labelWidth = 330;
  const barWidth = 200;
  const max = Math.max(1, ...bars.map((b) => b.value));
  let body = '';
  bars.forEach((b, i) => {
    const y = 6 + i * row;
    const w = Math.max(b.value > 0 ? 2 : 0, (barWidth * b.value) / max);
    body += `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end" ${FONT} fill="#333">${esc(b.label)}</text>`;
    body += `<rect class="bar" x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 8}" fill="${esc(b.color ?? '#b5523b')}" data-value="${b.value}"><title>${esc(`${b.label}: ${b.value}`)}</title></rect>`;
    body += `<text x="${labelWidth + w + 6}" y="${y + 14}" ${FONT} fill="#333">${esc(`${b.value}${b.note ? `  ${b.note}` : ''}`)}</text>`;
  });
  return frame(name, title, height, body);
}

export interface Point {
  x: number;
  y: number;
}

/** A line over time from (startX, 0) through the points: x in epoch ms, shown as seconds since startX (the first point's x by default). */
export function timeLine(name: string, title: string, points: readonly Point[], unit: string, emptyText = 'no data', startX?: number): string {
  if (!points.length) return empty(name, title, emptyText);
  const height = 240;
  const [left, right, top, bottom] = [64, W - 16, 24, height - 36];
  const x0 = Math.min(startX ?? Infinity, ...points.map((p) => p.x));
  const span = Math.max(1, Math.max(...points.map((p) => p.x)) - x0);
  const max = niceMax(Math.max(...points.map((p) => p.y)));
  const px = (x: number) => left + ((right - left) * (x - x0)) / span;
  const py = (y: number) => bottom - ((bottom - top) * y) / max;
  let body = yAxis(left, right, top, bottom, max, unit);
  for (let i = 0; i <= 4; i++) {
    const x = left + ((right - left) * i) / 4;
    body += `<text x="${x}" y="${bottom + 14}" text-anchor="middle" ${FONT} fill="#333">${esc(`${fmt((span * i) / 4 / 1000)} s`)}</text>`;
  }
  const path = [`M${px(x0).toFixed(1)},${py(0).toFixed(1)}`, ...points.map((p) => `L${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)].join(' ');
  body += `<path class="line" d="${path}" fill="none" stroke="#2f7d4a" stroke-width="2"/>`;
  for (const p of points)
    body += `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.5" fill="#2f7d4a" data-value="${p.y}"><title>${esc(`${fmt((p.x - x0) / 1000)} s: ${fmt(p.y)} ${unit}`)}</title></circle>`;
  return frame(name, title, height, body + `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
}
