/**
 * How each destination value of one row comes from the source, read off the mapping document:
 * destination column (or JSON path) ← expression ← fields ← source column → normaliser. Pure: the
 * values come from the caller (the mapped row, the source row); nothing here reads or logs them.
 */
import type { Expr, FieldDef, MappingDocument, NormaliserDef } from './schema';
import type { SourceRow } from './types';

export interface FieldOrigin {
  field: string;
  source: string;
  /** The source value as read (staged row). */
  raw: unknown;
  normaliser: string;
  /** What the field becomes when the source value is missing; an override that wins when it holds. */
  default?: unknown;
  override?: string;
  /** The customer types that use the field (all when absent). */
  types?: string[];
}

export interface ColumnOrigin {
  table: string;
  /** The destination column, or column.path.into.its.json for a JSON value. */
  column: string;
  /** The expression of the mapping document that gives the value, as text. */
  rule: string;
  fields: FieldOrigin[];
  /** The value the mapping gives for this row now (undefined when the row is rejected). */
  mapped: unknown;
}

const CONTEXT_TEXT: Record<string, string> = {
  customerId: 'customer_uuids.customerId',
  customerProfileId: 'customer_uuids.customerProfileId',
  runDate: 'the run date',
};

export function describeNormaliser(n: NormaliserDef): string {
  switch (n.kind) {
    case 'raw':
      return 'raw (as given)';
    case 'text':
      return 'text (trimmed; blank = missing)';
    case 'upper':
      return 'upper (trimmed, upper-cased)';
    case 'enum':
      return `enum (${Object.entries(n.values)
        .map(([k, v]) => `${k}→${v}`)
        .join(', ')}${n.caseInsensitive ? '; any case' : ''})`;
    case 'date':
      return `date (formats ${n.formats.join(' | ')}${n.min ? `; from ${n.min}` : ''}${n.max ? `; up to ${n.max}` : ''}; written YYYY-MM-DD)`;
    case 'email':
      return `email (trimmed, lower-cased, must match ${n.pattern})`;
    case 'phone':
      return `phone (digits; national prefix ${n.nationalPrefix} with ${n.nationalDigits} digits → +${n.countryCode}; international ${n.internationalDigits.min}-${n.internationalDigits.max} digits)`;
    case 'pattern':
      return `pattern (trimmed, must match ${n.pattern})`;
    case 'integer':
      return 'integer';
    case 'boolean':
      return `boolean (true: ${n.true.join(', ')}; false: ${n.false.join(', ')})`;
    case 'lookup':
      return `lookup in ${n.table} (key ${n.keyCase === 'upper' ? 'trimmed, upper-cased' : 'trimmed, as is'})`;
  }
}

const types = (t?: string[]) => (t ? ` for ${t.join('/')}` : '');

/** One expression as text; `type` picks the byType branch of the row's customer type. */
export function describeExpr(e: Expr, type: string | null, used: Set<string>): string {
  const d = (x: Expr) => describeExpr(x, type, used);
  if ('field' in e) {
    used.add(e.field);
    return e.get ? `${e.field}.${e.get}` : e.field;
  }
  if ('const' in e) return `constant ${JSON.stringify(e.const)}`;
  if ('config' in e) return `configuration ${e.config}`;
  if ('context' in e) return CONTEXT_TEXT[e.context] ?? e.context;
  if ('join' in e) return `join(${e.join.map(d).join(', ')}; separator ${JSON.stringify(e.sep)}; missing parts left out)`;
  if ('map' in e)
    return `${d(e.map)} mapped {${Object.entries(e.values)
      .map(([k, v]) => `${k}→${JSON.stringify(v)}`)
      .join(', ')}}${e.default !== undefined ? ` else ${JSON.stringify(e.default)}` : ''}`;
  if ('padStart' in e) return `${d(e.padStart)} padded on the left to ${e.length} with "${e.fill}"`;
  if ('if' in e) return `if ${d(e.if)} then ${d(e.then)} else ${d(e.else)}`;
  if ('object' in e) return `object {${Object.keys(e.object).join(', ')}}`;
  if ('byType' in e) return type && e.byType[type] ? `for ${type}: ${d(e.byType[type])}` : `by type (${Object.keys(e.byType).join(', ')})`;
  if ('missing' in e) return (used.add(e.missing), `${e.missing} missing${types(e.types)}`);
  if ('present' in e) return (used.add(e.present), `${e.present} present${types(e.types)}`);
  if ('equals' in e) return (used.add(e.equals[0]), `${e.equals[0]} = ${JSON.stringify(e.equals[1])}${types(e.types)}`);
  if ('lessThan' in e) return (used.add(e.lessThan[0]), `${e.lessThan[0]} < ${e.lessThan[1]}${types(e.types)}`);
  if ('anyOf' in e) return `any of (${e.anyOf.map(d).join('; ')})`;
  if ('allOf' in e) return `all of (${e.allOf.map(d).join('; ')})`;
  return `not (${d(e.not)})`;
}

function fieldOrigin(name: string, def: FieldDef | undefined, row: SourceRow | null, type: string | null, used: Set<string>): FieldOrigin {
  if (!def) return { field: name, source: '?', raw: undefined, normaliser: '(no such field)' };
  const origin: FieldOrigin = {
    field: name,
    source: def.source,
    raw: row ? (row[def.source] ?? null) : undefined,
    normaliser: describeNormaliser(def.normaliser),
  };
  if (def.default !== undefined) origin.default = def.default;
  if (def.override) origin.override = `${JSON.stringify(def.override.value)} when ${describeExpr(def.override.when, type, used)}`;
  if (def.types) origin.types = def.types;
  return origin;
}

/** The value at a JSON path inside a destination value (a jsonb column), undefined when absent. */
export function valueAt(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * Every destination value of the row, column by column (and key by key inside JSON objects), with
 * the rule that gives it and the source fields it reads. `mapped` is mapRow's result for the row.
 */
export function explainRow(
  doc: MappingDocument,
  customerType: string | null,
  row: SourceRow | null,
  mapped: { customer: Record<string, unknown>; profile: Record<string, unknown> } | null,
): ColumnOrigin[] {
  const out: ColumnOrigin[] = [];
  const tables: [string, Record<string, Expr>, Record<string, unknown> | undefined][] = [
    [doc.destination.customer.table, doc.rows.customer, mapped?.customer],
    [doc.destination.profile.table, doc.rows.profile, mapped?.profile],
  ];
  const walk = (table: string, column: string, path: string[], e: Expr, values: Record<string, unknown> | undefined) => {
    if ('byType' in e && customerType && e.byType[customerType]) return walk(table, column, path, e.byType[customerType], values);
    if ('object' in e) {
      for (const [k, x] of Object.entries(e.object)) walk(table, column, [...path, k], x, values);
      return;
    }
    const used = new Set<string>();
    const rule = describeExpr(e, customerType, used);
    const fields = [...used].map((f) => fieldOrigin(f, doc.fields[f], row, customerType, used));
    out.push({ table, column: [column, ...path].join('.'), rule, fields, mapped: values ? valueAt(values[column], path) : undefined });
  };
  for (const [table, exprs, values] of tables) {
    const order = table === doc.destination.customer.table ? doc.destination.customer.columns : doc.destination.profile.columns;
    for (const column of order) if (exprs[column]) walk(table, column, [], exprs[column], values);
  }
  return out;
}
