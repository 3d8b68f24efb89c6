/**
 * Codegen: the tiny generated functions that keep V8's property accesses on the hot path
 * monomorphic (reading a row's columns, building the destination objects), each with a plain-loop
 * twin used where code generation is disabled (--disallow-code-generation-from-strings).
 * No document text becomes code: names go in as JSON string literals, slots as integers, and the
 * functions as arguments.
 */
import type { SourceRow, RowContext } from '../types';
import { readRaw, type Fn, type NormalisePhase, type NormaliseStep, type Vals } from './shared';

/**
 * An object literal with fixed keys lets V8 build every row's object with one shape and no keyed
 * stores: about twice as fast as the loop. Keys go in as JSON string literals (the schema already
 * refuses "__proto__"), the values' closures as an array argument.
 * Returns null where code generation is disabled.
 */
export function objectLiteralBuilder(keys: readonly string[], fns: readonly Fn[]): Fn | null {
  const props = keys.map((k, i) => `${JSON.stringify(k)}: f[${i}](vals, ctx)`).join(', ');
  try {
    return new Function('f', `"use strict"; return (vals, ctx) => ({ ${props} });`)(fns) as Fn;
  } catch {
    return null;
  }
}

/** A fresh plain object per row, `keys[i]` set to `fns[i]`'s value, keys in order. */
export function objectBuilder(keys: readonly string[], fns: readonly Fn[]): Fn {
  return objectLiteralBuilder(keys, fns) ?? objectLoop(keys, fns);
}

/** objectBuilder without generated code. */
export function objectLoop(keys: readonly string[], fns: readonly Fn[]): Fn {
  const n = keys.length;
  return (vals, ctx) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) o[keys[i]] = fns[i](vals, ctx);
    return o;
  };
}

/** Builds a SourceRow from the source columns' values in column order (a query's array row). */
export function sourceRowBuilder(columns: readonly string[]): (values: readonly unknown[]) => SourceRow {
  const literal = objectLiteralBuilder(
    columns,
    columns.map(
      (_, i): Fn =>
        (vals) =>
          vals[i],
    ),
  );
  if (literal !== null) return (values) => literal(values as Vals, undefined as unknown as RowContext) as SourceRow;
  return sourceRowLoop(columns);
}

/** sourceRowBuilder without generated code. */
export function sourceRowLoop(columns: readonly string[]): (values: readonly unknown[]) => SourceRow {
  return (values) => {
    const row: SourceRow = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]] = values[i] as SourceRow[string];
    return row;
  };
}

/**
 * The read-and-normalise phase of one plan. Generated code reads each column by name, so the loads
 * stay monomorphic over rows of one shape (pg builds them all alike) and each normaliser call site
 * has one target; a loop over `row[name]` is about twice as slow.
 */
export function normalisePhase(steps: readonly NormaliseStep[]): NormalisePhase {
  const lines = steps.map((s, i) => {
    const col = JSON.stringify(s.source);
    const read = s.own ? `(H.call(row, ${col}) ? row[${col}] : undefined)` : `row[${col}]`;
    return `v = N[${i}](${read}, ctx, branches); vals[${s.slot}] = v === null ? D[${i}] : v;`;
  });
  try {
    return new Function('N', 'D', 'H', `"use strict"; return (row, ctx, branches, vals) => { let v;\n${lines.join('\n')}\n};`)(
      steps.map((s) => s.norm),
      steps.map((s) => s.dflt),
      Object.prototype.hasOwnProperty,
    ) as NormalisePhase;
  } catch {
    return normaliseLoop(steps);
  }
}

/** normalisePhase without generated code. */
export function normaliseLoop(steps: readonly NormaliseStep[]): NormalisePhase {
  return (row, ctx, branches, vals) => {
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      const v = s.norm(readRaw(row, s.source, s.own), ctx, branches);
      vals[s.slot] = v === null ? s.dflt : v;
    }
  };
}
