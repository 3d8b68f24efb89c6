/**
 * The duration format of the settings and the CLI: a whole number and a unit, '500ms', '30s', '15m',
 * '24h', '2d' (Temporal's own timers and schedules take the same text). One parser for all of them;
 * pure, so the workflow code can import it.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

/** Matches a duration exactly (no spaces): FAILED_BATCH_DECISION_TIMEOUT is checked against it. */
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

export interface Duration {
  amount: number;
  unit: DurationUnit;
  ms: number;
}

/** '15m' → { amount: 15, unit: 'm', ms: 900000 }; null for anything else. */
export function parseDuration(text: string): Duration | null {
  const m = DURATION_PATTERN.exec(text);
  if (!m) return null;
  const amount = Number(m[1]);
  const unit = m[2] as DurationUnit;
  return { amount, unit, ms: amount * UNIT_MS[unit] };
}

/** '30s', '15m', '24h', '2d', '500ms' (spaces around allowed) → milliseconds; null for anything else. */
export function durationMs(value: string): number | null {
  return parseDuration(value.trim())?.ms ?? null;
}

/**
 * A schedule's interval or catch-up window: a positive whole number (no leading zero) of seconds,
 * minutes, hours or days.
 */
export function isScheduleDuration(text: string): boolean {
  const d = parseDuration(text);
  return d !== null && d.unit !== 'ms' && !text.startsWith('0');
}

/** 900000 → '15m', in the largest unit that divides it (Temporal gives intervals back in milliseconds). */
export function formatDurationMs(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit];
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
