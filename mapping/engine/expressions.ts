/**
 * Compiles the expressions of the document for one customer type into closures over a row's field
 * values. What the type decides is folded away here (`types`, `equals` on the type field, `byType`),
 * and constant parts are evaluated once, so a row pays only for what can differ between its rows.
 * Each closure captures plain locals (slots, separators, inner closures): nothing is looked up per row.
 */
import type { MappingConstants } from '../types';
import type { Expr, Scalar } from '../schema';
import { INVALID } from '../normalisers';
import type { JsonPath } from '../errors';
import { objectBuilder } from './codegen';
import { hasOwn, problem, type FieldInfo, type Fn } from './shared';

/** A compiled expression: a value known at compile time, or a closure evaluated per row. */
export type Compiled = { constant: true; value: unknown } | { constant: false; fn: Fn };

const constant = (value: unknown): Compiled => ({ constant: true, value });
const dynamic = (fn: Fn): Compiled => ({ constant: false, fn });

export const asFn = (c: Compiled): Fn => {
  if (!c.constant) return c.fn;
  const v = c.value;
  return () => v;
};

type Condition = Extract<Expr, { missing: string } | { present: string } | { equals: unknown } | { lessThan: unknown }>;
type Combination = Extract<Expr, { anyOf: Expr[] } | { allOf: Expr[] }>;
type Of<K extends string> = Extract<Expr, Record<K, unknown>>;

/** Compiles expressions for one customer type. */
export class ExpressionCompiler {
  constructor(
    private readonly type: string,
    private readonly fields: ReadonlyMap<string, FieldInfo>,
    private readonly typeField: string,
    private readonly constants: MappingConstants,
  ) {}

  compile(e: Expr, path: JsonPath): Compiled {
    if ('field' in e) return this.fieldValue(e, path);
    if ('const' in e) return constant(e.const);
    if ('config' in e) return constant(this.constants[e.config]);
    if ('context' in e) return contextValue(e.context);
    if ('join' in e) return this.join(e, path);
    if ('map' in e) return this.map(e, path);
    if ('padStart' in e) return this.padStart(e, path);
    if ('if' in e) return this.choice(e, path);
    if ('object' in e) return dynamic(this.object(e.object, [...path, 'object']));
    if ('byType' in e) {
      if (!hasOwn(e.byType, this.type)) problem([...path, 'byType'], `no entry for customer type "${this.type}"`);
      return this.compile(e.byType[this.type], [...path, 'byType', this.type]);
    }
    if ('missing' in e || 'present' in e || 'equals' in e || 'lessThan' in e) return this.condition(e, path);
    if ('anyOf' in e || 'allOf' in e) return this.combination(e, path);
    return this.negation(e, path);
  }

  /** Builds a fresh plain object per row, keys in the given order. */
  object(shape: Record<string, Expr>, path: JsonPath, keys: readonly string[] = Object.keys(shape)): Fn {
    const fns = keys.map((k) => asFn(this.compile(shape[k], [...path, k])));
    return objectBuilder(keys, fns);
  }

  /** The field, after checking this type uses it (its existence was checked by checkReferences). */
  private used(name: string, path: JsonPath): FieldInfo {
    const f = this.fields.get(name) as FieldInfo;
    if (!f.types.has(this.type)) {
      problem(path, `field "${name}" is not used by ${this.type} rows (fields.${name}.types); restrict this part with "types" or "byType"`);
    }
    return f;
  }

  private fieldValue(e: Of<'field'>, path: JsonPath): Compiled {
    if (e.field === this.typeField) return constant(this.type);
    const f = this.used(e.field, [...path, 'field']);
    const slot = f.slot;
    const prop = e.get;
    if (prop === undefined) return dynamic((vals) => vals[slot]);
    return dynamic((vals) => {
      const ref = vals[slot] as Record<string, unknown> | null;
      if (ref === null || ref === undefined) return null;
      const v = ref[prop];
      return v === undefined ? null : v;
    });
  }

  private join(e: Of<'join'>, path: JsonPath): Compiled {
    const parts = e.join.map((p, i) => asFn(this.compile(p, [...path, 'join', i])));
    const sep = e.sep;
    return dynamic((vals, ctx) => {
      let out: string | null = null;
      for (let i = 0; i < parts.length; i++) {
        const v = parts[i](vals, ctx);
        if (v === null || v === undefined || v === '') continue;
        const s = typeof v === 'string' ? v : String(v);
        out = out === null ? s : out + sep + s;
      }
      return out;
    });
  }

  private map(e: Of<'map'>, path: JsonPath): Compiled {
    const table = new Map<string, Scalar>(Object.entries(e.values));
    const dflt = e.default === undefined ? null : e.default;
    const lookup = (v: unknown): unknown => {
      if (v === null || v === undefined) return dflt;
      const hit = table.get(typeof v === 'string' ? v : String(v));
      return hit === undefined ? dflt : hit;
    };
    const inner = this.compile(e.map, [...path, 'map']);
    if (inner.constant) return constant(lookup(inner.value));
    const fn = inner.fn;
    return dynamic((vals, ctx) => lookup(fn(vals, ctx)));
  }

  private padStart(e: Of<'padStart'>, path: JsonPath): Compiled {
    const inner = asFn(this.compile(e.padStart, [...path, 'padStart']));
    const { length, fill } = e;
    return dynamic((vals, ctx) => {
      const v = inner(vals, ctx);
      return v === null || v === undefined ? null : String(v).padStart(length, fill);
    });
  }

  /** `if`: a condition known at compile time keeps only the branch it picks. */
  private choice(e: Of<'if'>, path: JsonPath): Compiled {
    const cond = this.compile(e.if, [...path, 'if']);
    if (cond.constant) {
      return cond.value === true ? this.compile(e.then, [...path, 'then']) : this.compile(e.else, [...path, 'else']);
    }
    const c = cond.fn;
    const t = asFn(this.compile(e.then, [...path, 'then']));
    const f = asFn(this.compile(e.else, [...path, 'else']));
    return dynamic((vals, ctx) => (c(vals, ctx) === true ? t(vals, ctx) : f(vals, ctx)));
  }

  private condition(e: Condition, path: JsonPath): Compiled {
    if ('missing' in e) {
      return this.leaf(
        e,
        e.missing,
        [...path, 'missing'],
        () => false,
        (v) => v === null,
      );
    }
    if ('present' in e) {
      return this.leaf(
        e,
        e.present,
        [...path, 'present'],
        () => true,
        (v) => v !== null && v !== INVALID,
      );
    }
    if ('equals' in e) {
      const expected = e.equals[1];
      return this.leaf(
        e,
        e.equals[0],
        [...path, 'equals', 0],
        (t) => t === expected,
        (v) => v === expected,
      );
    }
    const bound = e.lessThan[1];
    return this.leaf(
      e,
      e.lessThan[0],
      [...path, 'lessThan', 0],
      () => false,
      (v) => typeof v === 'number' && v < bound,
    );
  }

  /** Leaf conditions: folded when restricted to other types or about the customer type itself. */
  private leaf(e: { types?: string[] }, name: string, path: JsonPath, onType: (type: string) => boolean, test: (v: unknown) => boolean): Compiled {
    if (e.types !== undefined && !e.types.includes(this.type)) return constant(false);
    if (name === this.typeField) return constant(onType(this.type));
    const slot = this.used(name, path).slot;
    return dynamic((vals) => test(vals[slot]));
  }

  /** anyOf / allOf: constant members are dropped, or decide the whole. */
  private combination(e: Combination, path: JsonPath): Compiled {
    const any = 'anyOf' in e;
    const list = 'anyOf' in e ? e.anyOf : e.allOf;
    const fns: Fn[] = [];
    for (let i = 0; i < list.length; i++) {
      const c = this.compile(list[i], [...path, any ? 'anyOf' : 'allOf', i]);
      if (!c.constant) fns.push(c.fn);
      else if ((c.value === true) === any) return constant(any); // decided regardless of the rest
    }
    if (fns.length === 0) return constant(!any);
    if (fns.length === 1) {
      const only = fns[0];
      return dynamic((vals, ctx) => only(vals, ctx) === true);
    }
    return any
      ? dynamic((vals, ctx) => {
          for (let i = 0; i < fns.length; i++) if (fns[i](vals, ctx) === true) return true;
          return false;
        })
      : dynamic((vals, ctx) => {
          for (let i = 0; i < fns.length; i++) if (fns[i](vals, ctx) !== true) return false;
          return true;
        });
  }

  private negation(e: Of<'not'>, path: JsonPath): Compiled {
    const inner = this.compile(e.not, [...path, 'not']);
    if (inner.constant) return constant(inner.value !== true);
    const fn = inner.fn;
    return dynamic((vals, ctx) => fn(vals, ctx) !== true);
  }
}

function contextValue(name: Of<'context'>['context']): Compiled {
  return dynamic((_vals, ctx) => {
    const v = ctx[name];
    return v === undefined ? null : v;
  });
}
