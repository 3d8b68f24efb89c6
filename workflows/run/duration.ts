/** '30s', '15m', '24h', '2d', '500ms' → milliseconds (null for anything else). */
export function durationMs(value: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) return null;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}
