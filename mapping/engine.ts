/**
 * Compiles a validated mapping document into closures, once, and maps rows with them.
 *
 * Compilation is per customer type: each type gets a plan with only the fields it uses, its reject
 * rules in precedence order, its warnings and its row builders. Conditions on the customer type
 * (`types`, `equals` on the type field, `byType`) are folded away at compile time, so a row costs
 * one normaliser call per used field and one closure call per output value. Two tiny generated
 * functions per plan (reading the row, building object literals) keep V8's property accesses
 * monomorphic; they fall back to plain loops where code generation is disabled.
 */
import type {
  BranchLookup,
  BranchRef,
  CompiledMapping,
  MapResult,
  MappingConstants,
  MappingIssue,
  RowContext,
  SourceRow,
} from './types';
import { LOOKUP_PROPERTIES, type Expr, type FieldDef, type MappingDocument, type Scalar } from './schema';
import { INVALID, buildNormaliser, canBeInvalid, lookupKey, rawText, type NormaliserFn } from './normalisers';
import { DocumentProblem, type JsonPath } from './errors';

type Vals = unknown[];
type Fn = (vals: Vals, ctx: RowContext) => unknown;
type Compiled = { constant: true; value: unknown } | { constant: false; fn: Fn };

interface FieldInfo {
  name: string;
  slot: number;
  def: FieldDef;
  source: string;
  norm: NormaliserFn;
  types: ReadonlySet<string>;
  canBeInvalid: boolean;
  lookup: boolean;
}

interface RejectRule {
  field: FieldInfo;
  code: string;
  rank: number;
  onMissing: boolean;
  onInvalid: boolean;
}

interface Step {
  slot: number;
  source: string;
  own: boolean;
  norm: NormaliserFn;
  dflt: unknown;
}

interface RuleStep {
  slot: number;
  source: string;
  own: boolean;
  code: string;
  onMissing: boolean;
  onInvalid: boolean;
}

interface WarnStep {
  slot: number;
  source: string;
  own: boolean;
  code: string;
}

interface Plan {
  type: string;
  /** Reads and normalises the type's fields into vals (defaults applied). */
  normalise: (row: SourceRow, ctx: RowContext, branches: BranchLookup, vals: Vals) => void;
  overrides: { slot: number; when: Fn; value: Scalar }[];
  rejects: RuleStep[];
  warns: WarnStep[];
  customer: Fn;
  profile: Fn;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const constant = (value: unknown): Compiled => ({ constant: true, value });
const dynamic = (fn: Fn): Compiled => ({ constant: false, fn });
const asFn = (c: Compiled): Fn => {
  if (!c.constant) return c.fn;
  const v = c.value;
  return () => v;
};
const problem = (path: JsonPath, detail: string): never => {
  throw new DocumentProblem(path, detail);
};
const quoteList = (xs: Iterable<string>): string => [...xs].map((x) => `"${x}"`).join(', ');

function checkUnique(list: readonly string[], path: JsonPath): void {
  const seen = new Set<string>();
  list.forEach((x, i) => {
    if (seen.has(x)) problem([...path, i], `"${x}" is listed twice`);
    seen.add(x);
  });
}

/** A column named like an Object.prototype member must not read the prototype's value. */
function readRaw(row: SourceRow, column: string, own: boolean): unknown {
  return own ? (hasOwn(row, column) ? row[column] : undefined) : row[column];
}

// -------------------------------------------------------------------------------------------------

/** Compiles expressions for one customer type. */
class TypeCompiler {
  constructor(
    private readonly type: string,
    private readonly fields: ReadonlyMap<string, FieldInfo>,
    private readonly typeField: string,
    private readonly constants: MappingConstants,
  ) {}

  private used(name: string, path: JsonPath): FieldInfo {
    const f = this.fields.get(name) as FieldInfo; // existence checked by checkReferences
    if (!f.types.has(this.type)) {
      problem(
        path,
        `field "${name}" is not used by ${this.type} rows (fields.${name}.types); restrict this part with "types" or "byType"`,
      );
    }
    return f;
  }

  /** Leaf conditions: folded when restricted to other types or about the customer type itself. */
  private leaf(
    e: { types?: string[] },
    name: string,
    path: JsonPath,
    onType: (type: string) => boolean,
    test: (v: unknown) => boolean,
  ): Compiled {
    if (e.types !== undefined && !e.types.includes(this.type)) return constant(false);
    if (name === this.typeField) return constant(onType(this.type));
    const slot = this.used(name, path).slot;
    return dynamic((vals) => test(vals[slot]));
  }

  compile(e: Expr, path: JsonPath): Compiled {
    if ('field' in e) {
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
    if ('const' in e) return constant(e.const);
    if ('config' in e) return constant(this.constants[e.config]);
    if ('context' in e) {
      const name = e.context;
      return dynamic((_vals, ctx) => {
        const v = ctx[name];
        return v === undefined ? null : v;
      });
    }
    if ('join' in e) {
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
    if ('map' in e) {
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
    if ('padStart' in e) {
      const inner = asFn(this.compile(e.padStart, [...path, 'padStart']));
      const { length, fill } = e;
      return dynamic((vals, ctx) => {
        const v = inner(vals, ctx);
        return v === null || v === undefined ? null : String(v).padStart(length, fill);
      });
    }
    if ('if' in e) {
      const cond = this.compile(e.if, [...path, 'if']);
      if (cond.constant) {
        return cond.value === true ? this.compile(e.then, [...path, 'then']) : this.compile(e.else, [...path, 'else']);
      }
      const c = cond.fn;
      const t = asFn(this.compile(e.then, [...path, 'then']));
      const f = asFn(this.compile(e.else, [...path, 'else']));
      return dynamic((vals, ctx) => (c(vals, ctx) === true ? t(vals, ctx) : f(vals, ctx)));
    }
    if ('object' in e) return dynamic(this.object(e.object, [...path, 'object']));
    if ('byType' in e) {
      if (!hasOwn(e.byType, this.type)) problem([...path, 'byType'], `no entry for customer type "${this.type}"`);
      return this.compile(e.byType[this.type], [...path, 'byType', this.type]);
    }
    if ('missing' in e) {
      return this.leaf(e, e.missing, [...path, 'missing'], () => false, (v) => v === null);
    }
    if ('present' in e) {
      return this.leaf(e, e.present, [...path, 'present'], () => true, (v) => v !== null && v !== INVALID);
    }
    if ('equals' in e) {
      const expected = e.equals[1];
      return this.leaf(e, e.equals[0], [...path, 'equals', 0], (t) => t === expected, (v) => v === expected);
    }
    if ('lessThan' in e) {
      const bound = e.lessThan[1];
      return this.leaf(e, e.lessThan[0], [...path, 'lessThan', 0], () => false, (v) => typeof v === 'number' && v < bound);
    }
    if ('anyOf' in e || 'allOf' in e) {
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
    // 'not'
    const inner = this.compile(e.not, [...path, 'not']);
    if (inner.constant) return constant(inner.value !== true);
    const fn = inner.fn;
    return dynamic((vals, ctx) => fn(vals, ctx) !== true);
  }

  /** Builds a fresh plain object per row, keys in the given order. */
  object(shape: Record<string, Expr>, path: JsonPath, keys: readonly string[] = Object.keys(shape)): Fn {
    const fns = keys.map((k) => asFn(this.compile(shape[k], [...path, k])));
    const literal = objectLiteralBuilder(keys, fns);
    if (literal !== null) return literal;
    const n = keys.length;
    return (vals, ctx) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[keys[i]] = fns[i](vals, ctx);
      return o;
    };
  }
}

/**
 * An object literal with fixed keys lets V8 build every row's object with one shape and no keyed
 * stores: about twice as fast as the loop. Keys go in as JSON string literals (the schema already
 * refuses "__proto__"), the values' closures as an array argument: no document text becomes code.
 * Returns null where code generation is disabled (--disallow-code-generation-from-strings).
 */
function objectLiteralBuilder(keys: readonly string[], fns: readonly Fn[]): Fn | null {
  const props = keys.map((k, i) => `${JSON.stringify(k)}: f[${i}](vals, ctx)`).join(', ');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('f', `"use strict"; return (vals, ctx) => ({ ${props} });`)(fns) as Fn;
  } catch {
    return null;
  }
}

/** Builds a SourceRow from the source columns' values in column order (a query's array row). */
function sourceRowBuilder(columns: readonly string[]): (values: readonly unknown[]) => SourceRow {
  const literal = objectLiteralBuilder(columns, columns.map((_, i): Fn => (vals) => vals[i]));
  if (literal !== null) return (values) => literal(values as Vals, undefined as unknown as RowContext) as SourceRow;
  return (values) => {
    const row: SourceRow = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]] = values[i] as SourceRow[string];
    return row;
  };
}

/**
 * The read-and-normalise phase of one plan. Generated code reads each column by name, so the loads
 * stay monomorphic over rows of one shape (pg builds them all alike) and each normaliser call site
 * has one target; a loop over `row[name]` is about twice as slow. Column names go in as JSON string
 * literals and slots as integers; the functions come in as arguments.
 */
function normaliseStep(steps: readonly Step[]): Plan['normalise'] {
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
    ) as Plan['normalise'];
  } catch {
    return (row, ctx, branches, vals) => {
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i];
        const v = s.norm(readRaw(row, s.source, s.own), ctx, branches);
        vals[s.slot] = v === null ? s.dflt : v;
      }
    };
  }
}

/** Type-independent checks of every expression: names exist, `get` fits the field, types are declared. */
function checkReferences(
  e: Expr,
  path: JsonPath,
  fields: ReadonlyMap<string, FieldInfo>,
  typeSet: ReadonlySet<string>,
  typeField: string,
): void {
  const check = (x: Expr, p: JsonPath): void => checkReferences(x, p, fields, typeSet, typeField);
  const field = (name: string, p: JsonPath): FieldInfo =>
    fields.get(name) ?? problem(p, `unknown field "${name}" (declared fields: ${quoteList(fields.keys())})`);
  const types = (list: string[] | undefined, p: JsonPath): void =>
    list?.forEach((t, i) => {
      if (!typeSet.has(t)) problem([...p, i], `unknown customer type "${t}" (customerType.values: ${quoteList(typeSet)})`);
    });

  if ('field' in e) {
    const f = field(e.field, [...path, 'field']);
    if (f.lookup && e.get === undefined) {
      problem(path, `field "${e.field}" is a lookup: add "get": one of ${quoteList(LOOKUP_PROPERTIES)}`);
    }
    if (e.get !== undefined) {
      if (!f.lookup) problem([...path, 'get'], `"get" applies only to lookup fields; "${e.field}" is ${f.def.normaliser.kind}`);
      if (!(LOOKUP_PROPERTIES as readonly string[]).includes(e.get)) {
        problem([...path, 'get'], `unknown lookup property "${e.get}" (one of ${quoteList(LOOKUP_PROPERTIES)})`);
      }
    }
  } else if ('join' in e) e.join.forEach((x, i) => check(x, [...path, 'join', i]));
  else if ('map' in e) check(e.map, [...path, 'map']);
  else if ('padStart' in e) check(e.padStart, [...path, 'padStart']);
  else if ('if' in e) {
    check(e.if, [...path, 'if']);
    check(e.then, [...path, 'then']);
    check(e.else, [...path, 'else']);
  } else if ('object' in e) {
    for (const [k, x] of Object.entries(e.object)) check(x, [...path, 'object', k]);
  } else if ('byType' in e) {
    for (const [t, x] of Object.entries(e.byType)) {
      if (!typeSet.has(t)) problem([...path, 'byType', t], `unknown customer type "${t}" (customerType.values: ${quoteList(typeSet)})`);
      check(x, [...path, 'byType', t]);
    }
  } else if ('missing' in e) {
    field(e.missing, [...path, 'missing']);
    types(e.types, [...path, 'types']);
  } else if ('present' in e) {
    field(e.present, [...path, 'present']);
    types(e.types, [...path, 'types']);
  } else if ('equals' in e) {
    const f = field(e.equals[0], [...path, 'equals', 0]);
    types(e.types, [...path, 'types']);
    if (f.name === typeField && !typeSet.has(e.equals[1] as string)) {
      problem([...path, 'equals', 1], `${JSON.stringify(e.equals[1])} is not a customer type (${quoteList(typeSet)})`);
    }
    if (f.lookup) problem([...path, 'equals', 0], `"equals" cannot compare the lookup field "${f.name}"`);
  } else if ('lessThan' in e) {
    field(e.lessThan[0], [...path, 'lessThan', 0]);
    types(e.types, [...path, 'types']);
  } else if ('anyOf' in e) e.anyOf.forEach((x, i) => check(x, [...path, 'anyOf', i]));
  else if ('allOf' in e) e.allOf.forEach((x, i) => check(x, [...path, 'allOf', i]));
  else if ('not' in e) check(e.not, [...path, 'not']);
}

// -------------------------------------------------------------------------------------------------

const EMPTY_ROW: SourceRow = Object.freeze({}) as SourceRow;
const EMPTY_CTX: RowContext = Object.freeze({ runDate: '', customerId: '', customerProfileId: '' });
const EMPTY_BRANCHES: BranchLookup = new Map<string, BranchRef>();

/** Compiles a schema-valid document. Throws DocumentProblem for references and rules that do not fit together. */
export function compileDocument(doc: MappingDocument, constants: MappingConstants): Omit<CompiledMapping, 'identity'> {
  // --- source and destination
  const src = doc.source;
  checkUnique(src.columns, ['source', 'columns']);
  const sourceColumns = new Set(src.columns);
  if (!sourceColumns.has(src.key)) problem(['source', 'key'], `"${src.key}" is not in source.columns`);
  if (!sourceColumns.has(src.watermark)) problem(['source', 'watermark'], `"${src.watermark}" is not in source.columns`);

  const dst = doc.destination;
  if (dst.customer.table === dst.profile.table) problem(['destination', 'profile', 'table'], 'must differ from the customer table');
  for (const role of ['customer', 'profile'] as const) {
    const t = dst[role];
    checkUnique(t.columns, ['destination', role, 'columns']);
    if (!t.columns.includes(t.key)) problem(['destination', role, 'key'], `"${t.key}" is not in destination.${role}.columns`);
    const rules = doc.rows[role];
    for (const c of t.columns) if (!hasOwn(rules, c)) problem(['rows', role], `no expression for column "${c}" of ${t.table}`);
    for (const c of Object.keys(rules)) {
      if (!t.columns.includes(c)) problem(['rows', role, c], `"${c}" is not a column of ${t.table} (destination.${role}.columns)`);
    }
  }

  // --- customer types
  const typeList = doc.customerType.values;
  checkUnique(typeList, ['customerType', 'values']);
  const typeSet = new Set(typeList);

  // --- fields
  const fields = new Map<string, FieldInfo>();
  for (const [name, def] of Object.entries(doc.fields)) {
    const p = ['fields', name];
    if (!sourceColumns.has(def.source)) problem([...p, 'source'], `source column "${def.source}" is not in source.columns`);
    def.types?.forEach((t, i) => {
      if (!typeSet.has(t)) problem([...p, 'types', i], `unknown customer type "${t}" (customerType.values: ${quoteList(typeSet)})`);
    });
    let norm: NormaliserFn;
    try {
      norm = buildNormaliser(def.normaliser);
    } catch (e) {
      return problem([...p, 'normaliser'], (e as Error).message);
    }
    const lookup = def.normaliser.kind === 'lookup';
    if (lookup && def.default !== undefined) problem([...p, 'default'], 'a lookup field cannot have a default');
    fields.set(name, {
      name,
      slot: fields.size,
      def,
      source: def.source,
      norm,
      types: new Set(def.types ?? typeList),
      canBeInvalid: canBeInvalid(def.normaliser),
      lookup,
    });
  }

  const typeFieldName = doc.customerType.field;
  const tf = fields.get(typeFieldName) ?? problem(['customerType', 'field'], `unknown field "${typeFieldName}"`);
  const tfPath = ['fields', tf.name];
  const tfNorm = tf.def.normaliser;
  if (tfNorm.kind !== 'enum') return problem([...tfPath, 'normaliser', 'kind'], 'the customer type field must use the enum normaliser');
  if (tf.def.types !== undefined) problem([...tfPath, 'types'], 'the customer type field is used by every type');
  if (tf.def.override !== undefined) problem([...tfPath, 'override'], 'the customer type field cannot have an override');
  for (const [k, v] of Object.entries(tfNorm.values)) {
    if (!typeSet.has(v)) problem([...tfPath, 'normaliser', 'values', k], `"${v}" is not one of customerType.values (${quoteList(typeSet)})`);
  }
  if (tf.def.default !== undefined && !typeSet.has(tf.def.default as string)) {
    problem([...tfPath, 'default'], `${JSON.stringify(tf.def.default)} is not one of customerType.values`);
  }

  // --- rejects, in precedence order
  const order = doc.rejects.order;
  checkUnique(order, ['rejects', 'order']);
  const rank = new Map(order.map((c, i) => [c, i] as const));
  const rules: RejectRule[] = doc.rejects.rules.map((r, i) => {
    const p = ['rejects', 'rules', i];
    const field = fields.get(r.field) ?? problem([...p, 'field'], `unknown field "${r.field}"`);
    const codeRank = rank.get(r.code) ?? problem([...p, 'code'], `code "${r.code}" is not listed in rejects.order`);
    if (r.when !== 'missing' && !field.canBeInvalid) {
      problem([...p, 'when'], `field "${r.field}" (${field.def.normaliser.kind}) is never invalid; use "missing"`);
    }
    if (r.when !== 'invalid' && field.def.default !== undefined) {
      problem([...p, 'when'], `field "${r.field}" has a default, so it is never missing`);
    }
    return { field, code: r.code, rank: codeRank, onMissing: r.when !== 'invalid', onInvalid: r.when !== 'missing' };
  });
  order.forEach((c, i) => {
    if (!rules.some((r) => r.code === c)) problem(['rejects', 'order', i], `no rule in rejects.rules has code "${c}"`);
  });
  rules.sort((a, b) => a.rank - b.rank); // stable: declaration order within a code

  // --- warnings
  const warnings = doc.warnings.map((w, i) => {
    const p = ['warnings', i, 'field'];
    const field = fields.get(w.field) ?? problem(p, `unknown field "${w.field}"`);
    if (!field.canBeInvalid) problem(p, `field "${w.field}" (${field.def.normaliser.kind}) is never invalid, so the warning could never be raised`);
    if (field === tf) problem(p, 'the customer type field cannot be nulled with a warning');
    if (rules.some((r) => r.field === field && r.onInvalid)) problem(p, `field "${w.field}" is already rejected when invalid`);
    if (doc.warnings.findIndex((x) => x.field === w.field) !== i) problem(p, `field "${w.field}" has two warnings`);
    return { field, code: w.code };
  });
  // Nothing is dropped silently: every value that can be invalid is either rejected or warned about.
  for (const f of fields.values()) {
    if (f.canBeInvalid && !rules.some((r) => r.field === f && r.onInvalid) && !warnings.some((w) => w.field === f)) {
      problem(['fields', f.name, 'normaliser'], `field "${f.name}" can be invalid but has no reject rule for "invalid" and no warning`);
    }
  }

  const typeRules = rules.filter((r) => r.field === tf);
  if (!typeRules.some((r) => r.onMissing) && tf.def.default === undefined) {
    problem(['rejects', 'rules'], `the customer type field "${tf.name}" needs a reject rule for "missing" (or a default)`);
  }
  const typeCodes = new Set(typeRules.map((r) => r.code));
  order.slice(0, typeCodes.size).forEach((c, i) => {
    if (!typeCodes.has(c)) {
      problem(['rejects', 'order', i], `the customer type's reject codes (${quoteList(typeCodes)}) must come first: the rules of a row of unknown type cannot be checked`);
    }
  });

  // --- expressions
  for (const role of ['customer', 'profile'] as const) {
    for (const [c, e] of Object.entries(doc.rows[role])) checkReferences(e, ['rows', role, c], fields, typeSet, tf.name);
  }
  for (const f of fields.values()) {
    if (f.def.override) checkReferences(f.def.override.when, ['fields', f.name, 'override', 'when'], fields, typeSet, tf.name);
  }

  // --- one plan per customer type
  const plans = new Map<string, Plan>();
  for (const type of typeList) {
    const tc = new TypeCompiler(type, fields, tf.name, constants);
    const used = [...fields.values()].filter((f) => f !== tf && f.types.has(type));
    const own = (column: string): boolean => column in Object.prototype;
    const overrides: Plan['overrides'] = [];
    for (const f of used) {
      if (!f.def.override) continue;
      const when = tc.compile(f.def.override.when, ['fields', f.name, 'override', 'when']);
      if (when.constant && when.value !== true) continue;
      overrides.push({ slot: f.slot, when: asFn(when), value: f.def.override.value });
    }
    plans.set(type, {
      type,
      normalise: normaliseStep(
        used.map((f) => ({
          slot: f.slot,
          source: f.source,
          own: own(f.source),
          norm: f.norm,
          dflt: f.def.default === undefined ? null : f.def.default,
        })),
      ),
      overrides,
      rejects: rules
        .filter((r) => r.field !== tf && r.field.types.has(type))
        .map((r) => ({
          slot: r.field.slot,
          source: r.field.source,
          own: own(r.field.source),
          code: r.code,
          onMissing: r.onMissing,
          onInvalid: r.onInvalid,
        })),
      warns: warnings
        .filter((w) => w.field.types.has(type))
        .map((w) => ({ slot: w.field.slot, source: w.field.source, own: own(w.field.source), code: w.code })),
      customer: tc.object(doc.rows.customer, ['rows', 'customer'], dst.customer.columns),
      profile: tc.object(doc.rows.profile, ['rows', 'profile'], dst.profile.columns),
    });
  }

  // --- the row function
  const nSlots = fields.size;
  const typeSlot = tf.slot;
  const typeSource = tf.source;
  const typeOwn = typeSource in Object.prototype;
  const typeNorm = tf.norm;
  const typeDefault = tf.def.default === undefined ? null : tf.def.default;
  const typeRuleSteps = typeRules.map((r) => ({ code: r.code, onMissing: r.onMissing, onInvalid: r.onInvalid }));

  const rejected = (customerType: string | null, reason: string, field: string, raw: unknown): MapResult => ({
    ok: false,
    customerType,
    reject: { severity: 'REJECT', reason, field, value: rawText(raw) },
    warnings: [],
  });

  function mapRow(row: SourceRow, ctx: RowContext, branches: BranchLookup): MapResult {
    // Defensive defaults: mapRow never throws, whatever it is given.
    if (row === null || typeof row !== 'object') row = EMPTY_ROW;
    if (ctx === null || typeof ctx !== 'object') ctx = EMPTY_CTX;
    if (branches === null || typeof branches !== 'object' || typeof branches.get !== 'function') branches = EMPTY_BRANCHES;

    const rawType = readRaw(row, typeSource, typeOwn);
    let type = typeNorm(rawType, ctx, branches);
    if (type === null) type = typeDefault;
    const plan = typeof type === 'string' ? plans.get(type) : undefined;
    if (plan === undefined) {
      const missing = type === null;
      for (const r of typeRuleSteps) if (missing ? r.onMissing : r.onInvalid) return rejected(null, r.code, typeSource, rawType);
      return rejected(null, typeRuleSteps[0].code, typeSource, rawType); // unreachable: compile checks coverage
    }

    const vals: Vals = new Array(nSlots);
    vals[typeSlot] = plan.type;
    plan.normalise(row, ctx, branches, vals);
    const overrides = plan.overrides;
    for (let i = 0; i < overrides.length; i++) {
      const o = overrides[i];
      if (o.when(vals, ctx) === true) vals[o.slot] = o.value;
    }
    const rejects = plan.rejects;
    for (let i = 0; i < rejects.length; i++) {
      const r = rejects[i];
      const v = vals[r.slot];
      if (v === null ? r.onMissing : v === INVALID && r.onInvalid) {
        return rejected(plan.type, r.code, r.source, readRaw(row, r.source, r.own));
      }
    }
    const found: MappingIssue[] = [];
    const warns = plan.warns;
    for (let i = 0; i < warns.length; i++) {
      const w = warns[i];
      if (vals[w.slot] !== INVALID) continue;
      found.push({ severity: 'WARNING', reason: w.code, field: w.source, value: rawText(readRaw(row, w.source, w.own)) });
      vals[w.slot] = null;
    }
    return {
      ok: true,
      customerType: plan.type,
      customer: plan.customer(vals, ctx) as Record<string, unknown>,
      profile: plan.profile(vals, ctx) as Record<string, unknown>,
      warnings: found,
    };
  }

  return {
    source: Object.freeze({
      schema: src.schema,
      table: src.table,
      key: src.key,
      watermark: src.watermark,
      columns: Object.freeze([...src.columns]),
    }),
    destination: Object.freeze({
      schema: dst.schema,
      customerTable: dst.customer.table,
      profileTable: dst.profile.table,
      customerColumns: Object.freeze([...dst.customer.columns]),
      profileColumns: Object.freeze([...dst.profile.columns]),
      customerKey: dst.customer.key,
      profileKey: dst.profile.key,
    }),
    customerTypes: Object.freeze([...typeList]),
    lookups: Object.freeze(
      [...fields.values()].flatMap((f) => {
        const n = f.def.normaliser;
        if (n.kind !== 'lookup') return [];
        const rule = rules.find((r) => r.field === f);
        return [Object.freeze({ field: f.name, source: f.source, table: n.table, key: lookupKey(n.keyCase), rejectReason: rule?.code ?? null })];
      }),
    ),
    sourceRow: sourceRowBuilder(src.columns),
    mapRow,
  };
}

