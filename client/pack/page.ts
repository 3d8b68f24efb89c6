import { esc } from './svg';

/** A cell: text, or a number / value with the key a test (or a reader's tool) finds it by. */
export type Cell = string | number | null | { text: string | number | null; key?: string; cls?: string };

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 980px; color: #1d232b; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h3 { font-size: 13px; margin: 14px 0 0; color: #39424d; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccd; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; } th, td { border: 1px solid #d5d9e0; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1f6b3a; font-weight: 600; } .fail { color: #a3261b; font-weight: 600; }
.signoff { font-size: 16px; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.signoff.ok { background: #e3f4e8; border: 1px solid #9fd3ae; } .signoff.fail { background: #fbe6e3; border: 1px solid #eba99f; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
.muted { color: #5a6470; font-size: 12px; } svg.chart { display: block; margin: 8px 0 16px; max-width: 100%; height: auto; }
@media print { body { margin: 0; } h2 { break-after: avoid; } svg.chart, table { break-inside: avoid; } }
`;

function cell(c: Cell, header = false): string {
  const tag = header ? 'th' : 'td';
  if (c !== null && typeof c === 'object') {
    const cls = [typeof c.text === 'number' ? 'num' : '', c.cls ?? ''].filter(Boolean).join(' ');
    return `<${tag}${cls ? ` class="${cls}"` : ''}${c.key ? ` data-key="${esc(c.key)}"` : ''}>${esc(c.text ?? '')}</${tag}>`;
  }
  return `<${tag}${typeof c === 'number' ? ' class="num"' : ''}>${esc(c ?? '')}</${tag}>`;
}

export function htmlTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return `<table><thead><tr>${header.map((h) => cell(h, true)).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => cell(c)).join('')}</tr>`).join('')}</tbody></table>`;
}

/** Two columns: a name and its value, one row each. */
export function factTable(rows: readonly [string, Cell][]): string {
  return `<table><tbody>${rows.map(([k, v]) => `<tr>${cell(k, true)}${cell(v)}</tr>`).join('')}</tbody></table>`;
}

/** One self-contained page: inline CSS, no script, nothing fetched. `data` travels in a JSON block that no browser runs. */
export function htmlPage(title: string, body: string, data?: unknown): string {
  const json = data === undefined ? '' : `<script type="application/json" id="pack-data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>\n`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}</style>
${json}</head>
<body>
<main>
${body}
</main>
</body></html>
`;
}

/** The JSON block of a page written by htmlPage, or null. */
export function pageData(html: string): unknown {
  const m = /<script type="application\/json" id="pack-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) return null;
  try {
    return JSON.parse(m[1]);
  } catch {
    return null;
  }
}

/** What a reader sees of a page's <main>: its text, a line per block, entities decoded. */
export function visibleText(html: string): string[] {
  const main = /<main>([\s\S]*)<\/main>/.exec(html)?.[1] ?? html;
  return main
    .replace(/<title>[\s\S]*?<\/title>/g, '')
    .replace(/<(?:br|\/(?:p|div|h1|h2|h3|tr|li|table|text|svg))\b[^>]*>/g, '\n')
    .replace(/<\/t[dh]>/g, '\t')
    .replace(/<[^>]+>/g, '')
    .replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!)
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}
