/**
 * Normalisers turn one raw source value into a field value. Each returns null (missing), INVALID
 * (present but not acceptable) or the normalised value. They never throw, whatever the input;
 * everything that can be prepared (regexes, maps) is prepared when the normaliser is built.
 */
import type { BranchLookup, RowContext } from './types';
import type { NormaliserDef } from './schema';

/** The value was present but could not be normalised. */
export const INVALID: unique symbol = Symbol('INVALID');
export type Invalid = typeof INVALID;

export type NormaliserFn = (raw: unknown, ctx: RowContext, branches: BranchLookup) => unknown;

/** The raw value as text (String(v)), or null when missing. Never throws. */
export function rawText(v: unknown): string | null {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
      return String(v);
    case 'object':
      if (v === null) return null;
      try {
        return String(v);
      } catch {
        return null; // e.g. an object without a usable toString
      }
    default:
      return null; // undefined, functions
  }
}

/** Trimmed text (String.prototype.trim: Unicode white space); blank or missing → null. */
export function cleanText(v: unknown): string | null {
  const s = typeof v === 'string' ? v : rawText(v);
  if (s === null) return null;
  const t = s.trim();
  return t.length === 0 ? null : t;
}

export function textNormaliser(): NormaliserFn {
  return cleanText;
}

/** toUpperCase() without a locale; skipped when nothing could change (only a-z and non-ASCII can). */
export function toUpper(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 97) return s.toUpperCase();
  return s;
}

/** Memoised toUpper for short values: legacy codes ('ng', 'single', 'mr') repeat on every row. */
function memoUpper(): (s: string) => string {
  const memo = new Map<string, string>();
  return (s) => {
    if (s.length > 24) return toUpper(s);
    let u = memo.get(s);
    if (u === undefined) {
      u = toUpper(s);
      if (memo.size >= 4096) memo.clear(); // bounded: a column of unique values gains nothing
      memo.set(s, u);
    }
    return u;
  };
}

export function upperNormaliser(): NormaliserFn {
  const upper = memoUpper();
  return (raw) => {
    const s = cleanText(raw);
    return s === null ? null : upper(s);
  };
}

export function rawNormaliser(): NormaliserFn {
  return (raw) => (raw === undefined ? null : raw);
}

/** Keys are compared after toUpperCase() when caseInsensitive (the contract's "any case"). */
export function enumNormaliser(values: Record<string, string>, caseInsensitive: boolean): NormaliserFn {
  const map = new Map<string, string>();
  const keyOf = new Map<string, string>();
  for (const [key, value] of Object.entries(values)) {
    const k = caseInsensitive ? key.toUpperCase() : key;
    const previous = map.get(k);
    if (previous !== undefined && previous !== value) {
      throw new Error(`keys "${keyOf.get(k)}" and "${key}" are the same ignoring case but map to different values`);
    }
    map.set(k, value);
    keyOf.set(k, key);
  }
  const upper = memoUpper();
  return (raw) => {
    const s = cleanText(raw);
    if (s === null) return null;
    // A value already in upper case skips toUpperCase (idempotent, so the result is the same).
    let hit = map.get(s);
    if (hit === undefined && caseInsensitive) hit = map.get(upper(s));
    return hit === undefined ? INVALID : hit;
  };
}

// ---------------------------------------------------------------------------------------------
// Dates

/** A compiled date format: every token has a fixed width, so parsing is a few charCodeAt checks. */
export interface DateFormat {
  readonly format: string;
  readonly length: number;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly monthName: boolean;
  /** Positions and char codes of the separators. */
  readonly literals: ReadonlyArray<readonly [number, number]>;
  /** The format is YYYY-MM-DD itself: a valid input is its own output. */
  readonly iso: boolean;
}

const MONTH_ABBREVIATIONS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const TWO_DIGITS = Array.from({ length: 32 }, (_, i) => String(i).padStart(2, '0'));
/** Month abbreviations keyed by their three lower-cased char codes packed into one number. */
const MONTH_KEYS = new Map<number, number>(MONTH_ABBREVIATIONS.map((m, i) => [(m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2), i + 1]));
const SEPARATORS = '-/. ';

/** The tokens of a date format, tried in this order: the part of the date each gives, and its width. */
const DATE_TOKENS = [
  { text: 'YYYY', part: 'year', name: 'a year' },
  { text: 'MM', part: 'month', name: 'a month' },
  { text: 'Mon', part: 'month', name: 'a month' },
  { text: 'DD', part: 'day', name: 'a day' },
] as const;

/** Compiles a format made of YYYY, MM, DD, Mon (English month abbreviation, any case) and - / . space. */
export function compileDateFormat(format: string): DateFormat {
  // Every token is as wide as the text it matches, so a part's offset in the format is its offset in the date.
  const at = { year: -1, month: -1, day: -1 };
  let monthName = false;
  const literals: Array<readonly [number, number]> = [];
  for (let i = 0; i < format.length;) {
    const token = DATE_TOKENS.find((t) => format.startsWith(t.text, i));
    if (token !== undefined) {
      if (at[token.part] !== -1) throw new Error(`date format "${format}" has ${token.name} twice`);
      at[token.part] = i;
      if (token.text === 'Mon') monthName = true;
      i += token.text.length;
    } else if (SEPARATORS.includes(format[i])) {
      literals.push([i, format.charCodeAt(i)]);
      i += 1;
    } else {
      throw new Error(`date format "${format}" has an unknown token at "${format.slice(i)}" (tokens: YYYY, MM, DD, Mon; separators: - / . space)`);
    }
  }
  const { year, month, day } = at;
  if (year < 0 || month < 0 || day < 0) throw new Error(`date format "${format}" needs YYYY, MM or Mon, and DD`);
  return { format, length: format.length, year, month, day, monthName, literals, iso: format === 'YYYY-MM-DD' };
}

/** The value of n ASCII digits at pos, or -1. */
function digits(s: string, pos: number, n: number): number {
  let v = 0;
  for (let i = pos; i < pos + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** The month (1-12) of an English abbreviation in any case at pos, or -1. */
function monthAbbreviation(s: string, pos: number): number {
  let key = 0;
  for (let i = pos; i < pos + 3; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return -1; // ASCII letters only
    key = (key << 8) | (c | 32);
  }
  return MONTH_KEYS.get(key) ?? -1;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Parses trimmed text against the formats; returns YYYY-MM-DD or null when no format gives a real date. */
export function parseDate(text: string, formats: readonly DateFormat[]): string | null {
  next: for (let k = 0; k < formats.length; k++) {
    const f = formats[k];
    if (text.length !== f.length) continue;
    for (const [pos, code] of f.literals) if (text.charCodeAt(pos) !== code) continue next;
    const y = digits(text, f.year, 4);
    const m = f.monthName ? monthAbbreviation(text, f.month) : digits(text, f.month, 2);
    const d = digits(text, f.day, 2);
    // Year 0000 does not exist in the calendar the bank uses.
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) continue;
    if (f.iso) return text;
    return text.slice(f.year, f.year + 4) + '-' + TWO_DIGITS[m] + '-' + TWO_DIGITS[d];
  }
  return null;
}

/** `min` / `max`: 'YYYY-MM-DD', 'runDate' (the row context's run date) or undefined; both inclusive. */
export function dateNormaliser(formats: readonly string[], min?: string, max?: string): NormaliserFn {
  const compiled = formats.map(compileDateFormat);
  for (const bound of [min, max]) {
    if (bound !== undefined && bound !== 'runDate' && parseDate(bound, [compileDateFormat('YYYY-MM-DD')]) === null) {
      throw new Error(`date bound "${bound}" is not a real YYYY-MM-DD date`);
    }
  }
  const minRun = min === 'runDate';
  const maxRun = max === 'runDate';
  return (raw, ctx) => {
    const s = cleanText(raw);
    if (s === null) return null;
    const iso = parseDate(s, compiled);
    if (iso === null) return INVALID;
    // ISO dates compare correctly as strings.
    const lo = minRun ? ctx.runDate : min;
    const hi = maxRun ? ctx.runDate : max;
    if (typeof lo === 'string' && iso < lo) return INVALID;
    if (typeof hi === 'string' && iso > hi) return INVALID;
    return iso;
  };
}

// ---------------------------------------------------------------------------------------------

function compileRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (e) {
    throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

export function emailNormaliser(pattern: string): NormaliserFn {
  const re = compileRegex(pattern);
  return (raw) => {
    const s = cleanText(raw);
    if (s === null) return null;
    const lower = s.toLowerCase();
    return re.test(lower) ? lower : INVALID;
  };
}

export function patternNormaliser(pattern: string): NormaliserFn {
  const re = compileRegex(pattern);
  return (raw) => {
    const s = cleanText(raw);
    if (s === null) return null;
    return re.test(s) ? s : INVALID;
  };
}

export interface PhoneRules {
  countryCode: string;
  nationalPrefix: string;
  nationalDigits: number;
  internationalDigits: { min: number; max: number };
}

const NON_DIGITS = /[^0-9]/g;

function onlyDigits(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Keeps ASCII digits and a leading '+', then: prefix+N digits or countryCode+N digits → +countryCode+N; '+' and min–max digits kept. */
export function phoneNormaliser(rules: PhoneRules): NormaliserFn {
  const { countryCode, nationalPrefix, nationalDigits } = rules;
  const { min, max } = rules.internationalDigits;
  const nationalLength = nationalPrefix.length + nationalDigits;
  const withCodeLength = countryCode.length + nationalDigits;
  const plusCode = '+' + countryCode;
  return (raw) => {
    const s = cleanText(raw);
    if (s === null) return null;
    const plus = s.charCodeAt(0) === 43;
    const digits = onlyDigits(s, plus ? 1 : 0) ? (plus ? s.slice(1) : s) : s.replace(NON_DIGITS, '');
    if (plus) return digits.length >= min && digits.length <= max ? '+' + digits : INVALID;
    if (digits.length === nationalLength && digits.startsWith(nationalPrefix)) {
      return plusCode + digits.slice(nationalPrefix.length);
    }
    if (digits.length === withCodeLength && digits.startsWith(countryCode)) {
      return plusCode + digits.slice(countryCode.length);
    }
    return INVALID;
  };
}

const INTEGER_TEXT = /^[+-]?\d+$/;

/** Numbers are kept as they are (kyc_level is a smallint); integer text becomes a number; else missing. */
export function integerNormaliser(): NormaliserFn {
  return (raw) => {
    if (typeof raw === 'number') return Number.isFinite(raw) ? raw : null;
    if (typeof raw === 'bigint') {
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : null;
    }
    if (typeof raw !== 'string') return null;
    const s = raw.trim();
    if (!INTEGER_TEXT.test(s)) return null;
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : null;
  };
}

/** Booleans as they are; 1 / 0; text in the given lists (any case); anything else is missing. */
export function booleanNormaliser(trueWords: readonly string[], falseWords: readonly string[]): NormaliserFn {
  const words = new Map<string, boolean>();
  for (const w of trueWords) words.set(w.toLowerCase(), true);
  for (const w of falseWords) {
    if (words.get(w.toLowerCase()) === true) throw new Error(`"${w}" is listed as both true and false`);
    words.set(w.toLowerCase(), false);
  }
  return (raw) => {
    if (typeof raw === 'boolean') return raw;
    if (raw === 1 || raw === 0) return raw === 1;
    const s = cleanText(raw);
    if (s === null) return null;
    const b = words.get(s.toLowerCase());
    return b === undefined ? null : b;
  };
}

/** Looks the trimmed (upper-cased) value up in branch_map; missing → null, not found → INVALID. */
/** The key a lookup field looks up for a raw source value (null: no value, the field is missing). */
export function lookupKey(keyCase: 'upper' | 'asIs'): (raw: unknown) => string | null {
  const upper = keyCase === 'upper';
  return (raw) => {
    const s = cleanText(raw);
    return s === null ? null : upper ? toUpper(s) : s;
  };
}

export function lookupNormaliser(keyCase: 'upper' | 'asIs'): NormaliserFn {
  const keyOf = lookupKey(keyCase);
  return (raw, _ctx, branches) => {
    const key = keyOf(raw);
    if (key === null) return null;
    const ref = branches.get(key);
    return ref === undefined || ref === null || typeof ref !== 'object' ? INVALID : ref;
  };
}

/** Builds the normaliser of a field definition. Throws a plain Error for bad parameters. */
export function buildNormaliser(def: NormaliserDef): NormaliserFn {
  switch (def.kind) {
    case 'raw':
      return rawNormaliser();
    case 'text':
      return textNormaliser();
    case 'upper':
      return upperNormaliser();
    case 'enum':
      return enumNormaliser(def.values, def.caseInsensitive);
    case 'date':
      return dateNormaliser(def.formats, def.min, def.max);
    case 'email':
      return emailNormaliser(def.pattern);
    case 'phone':
      return phoneNormaliser(def);
    case 'pattern':
      return patternNormaliser(def.pattern);
    case 'integer':
      return integerNormaliser();
    case 'boolean':
      return booleanNormaliser(def.true, def.false);
    case 'lookup':
      return lookupNormaliser(def.keyCase);
  }
}

/** Kinds whose result can be INVALID: such a field needs a reject or warning rule. */
export function canBeInvalid(def: NormaliserDef): boolean {
  return def.kind === 'enum' || def.kind === 'date' || def.kind === 'email' || def.kind === 'phone' || def.kind === 'pattern' || def.kind === 'lookup';
}
