/**
 * Check: the cross-references of a schema-valid document (columns, fields, types, rules,
 * expressions), in a fixed order so a document with several problems always reports the same one
 * first. Resolves names into FieldInfo and sorts the reject rules for compile.
 */
import { LOOKUP_PROPERTIES, type Expr, type MappingDocument } from '../schema';
import { buildNormaliser, canBeInvalid, type NormaliserFn } from '../normalisers';
import type { JsonPath } from '../errors';
import { hasOwn, problem, quoteList, type CheckedDocument, type FieldInfo, type RejectRule, type WarningRule } from './shared';

type Doc = MappingDocument;

/** Throws DocumentProblem for the first reference or rule that does not fit the rest of the document. */
export function checkDocument(doc: Doc): CheckedDocument {
  const sourceColumns = checkSource(doc.source);
  checkDestination(doc);
  const customerTypes = doc.customerType.values;
  checkUnique(customerTypes, ['customerType', 'values']);
  const typeSet = new Set(customerTypes);
  const fields = resolveFields(doc.fields, sourceColumns, customerTypes);
  const typeField = checkTypeField(doc, fields, typeSet);
  const rules = resolveRejectRules(doc.rejects, fields);
  const warnings = resolveWarnings(doc.warnings, fields, typeField, rules);
  checkNothingDroppedSilently(fields, rules, warnings);
  const typeRules = checkTypeRules(doc.rejects.order, rules, typeField);
  checkExpressions(doc, fields, typeSet, typeField.name);
  return { fields, typeField, customerTypes, rules, warnings, typeRules };
}

function checkUnique(list: readonly string[], path: JsonPath): void {
  const seen = new Set<string>();
  list.forEach((x, i) => {
    if (seen.has(x)) problem([...path, i], `"${x}" is listed twice`);
    seen.add(x);
  });
}

const unknownType = (t: string, typeSet: ReadonlySet<string>): string => `unknown customer type "${t}" (customerType.values: ${quoteList(typeSet)})`;

function checkSource(src: Doc['source']): ReadonlySet<string> {
  checkUnique(src.columns, ['source', 'columns']);
  const sourceColumns = new Set(src.columns);
  if (!sourceColumns.has(src.key)) problem(['source', 'key'], `"${src.key}" is not in source.columns`);
  if (!sourceColumns.has(src.watermark)) problem(['source', 'watermark'], `"${src.watermark}" is not in source.columns`);
  return sourceColumns;
}

/** Both tables distinct, keys among the columns, exactly one row expression per column. */
function checkDestination(doc: Doc): void {
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
}

/** One FieldInfo per declared field, its normaliser built (bad parameters are reported here). */
function resolveFields(defs: Doc['fields'], sourceColumns: ReadonlySet<string>, customerTypes: readonly string[]): Map<string, FieldInfo> {
  const typeSet = new Set(customerTypes);
  const fields = new Map<string, FieldInfo>();
  for (const [name, def] of Object.entries(defs)) {
    const p = ['fields', name];
    if (!sourceColumns.has(def.source)) problem([...p, 'source'], `source column "${def.source}" is not in source.columns`);
    def.types?.forEach((t, i) => {
      if (!typeSet.has(t)) problem([...p, 'types', i], unknownType(t, typeSet));
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
      types: new Set(def.types ?? customerTypes),
      canBeInvalid: canBeInvalid(def.normaliser),
      lookup,
    });
  }
  return fields;
}

/** The customer type field: an enum onto the declared types, used by every type, never overridden. */
function checkTypeField(doc: Doc, fields: ReadonlyMap<string, FieldInfo>, typeSet: ReadonlySet<string>): FieldInfo {
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
  return tf;
}

/** The reject rules, each applicable and each code ranked; sorted in precedence order. */
function resolveRejectRules(rejects: Doc['rejects'], fields: ReadonlyMap<string, FieldInfo>): RejectRule[] {
  const order = rejects.order;
  checkUnique(order, ['rejects', 'order']);
  const rank = new Map(order.map((c, i) => [c, i] as const));
  const rules: RejectRule[] = rejects.rules.map((r, i) => {
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
  return rules;
}

function resolveWarnings(warnings: Doc['warnings'], fields: ReadonlyMap<string, FieldInfo>, typeField: FieldInfo, rules: readonly RejectRule[]): WarningRule[] {
  return warnings.map((w, i) => {
    const p = ['warnings', i, 'field'];
    const field = fields.get(w.field) ?? problem(p, `unknown field "${w.field}"`);
    if (!field.canBeInvalid) problem(p, `field "${w.field}" (${field.def.normaliser.kind}) is never invalid, so the warning could never be raised`);
    if (field === typeField) problem(p, 'the customer type field cannot be nulled with a warning');
    if (rules.some((r) => r.field === field && r.onInvalid)) problem(p, `field "${w.field}" is already rejected when invalid`);
    if (warnings.findIndex((x) => x.field === w.field) !== i) problem(p, `field "${w.field}" has two warnings`);
    return { field, code: w.code };
  });
}

/** Every value that can be invalid is either rejected or warned about. */
function checkNothingDroppedSilently(fields: ReadonlyMap<string, FieldInfo>, rules: readonly RejectRule[], warnings: readonly WarningRule[]): void {
  for (const f of fields.values()) {
    if (f.canBeInvalid && !rules.some((r) => r.field === f && r.onInvalid) && !warnings.some((w) => w.field === f)) {
      problem(['fields', f.name, 'normaliser'], `field "${f.name}" can be invalid but has no reject rule for "invalid" and no warning`);
    }
  }
}

/** A row of unknown type has no plan: its rules must cover a missing type and come first in precedence. */
function checkTypeRules(order: readonly string[], rules: readonly RejectRule[], typeField: FieldInfo): RejectRule[] {
  const typeRules = rules.filter((r) => r.field === typeField);
  if (!typeRules.some((r) => r.onMissing) && typeField.def.default === undefined) {
    problem(['rejects', 'rules'], `the customer type field "${typeField.name}" needs a reject rule for "missing" (or a default)`);
  }
  const typeCodes = new Set(typeRules.map((r) => r.code));
  order.slice(0, typeCodes.size).forEach((c, i) => {
    if (!typeCodes.has(c)) {
      problem(
        ['rejects', 'order', i],
        `the customer type's reject codes (${quoteList(typeCodes)}) must come first: the rules of a row of unknown type cannot be checked`,
      );
    }
  });
  return typeRules;
}

/** The row expressions, then the overrides' conditions. */
function checkExpressions(doc: Doc, fields: ReadonlyMap<string, FieldInfo>, typeSet: ReadonlySet<string>, typeField: string): void {
  for (const role of ['customer', 'profile'] as const) {
    for (const [c, e] of Object.entries(doc.rows[role])) checkReferences(e, ['rows', role, c], fields, typeSet, typeField);
  }
  for (const f of fields.values()) {
    if (f.def.override) checkReferences(f.def.override.when, ['fields', f.name, 'override', 'when'], fields, typeSet, typeField);
  }
}

/** Type-independent checks of every expression: names exist, `get` fits the field, types are declared. */
export function checkReferences(e: Expr, path: JsonPath, fields: ReadonlyMap<string, FieldInfo>, typeSet: ReadonlySet<string>, typeField: string): void {
  const check = (x: Expr, p: JsonPath): void => checkReferences(x, p, fields, typeSet, typeField);
  const knownField = (name: string, p: JsonPath): FieldInfo =>
    fields.get(name) ?? problem(p, `unknown field "${name}" (declared fields: ${quoteList(fields.keys())})`);
  const knownTypes = (list: string[] | undefined, p: JsonPath): void =>
    list?.forEach((t, i) => {
      if (!typeSet.has(t)) problem([...p, i], unknownType(t, typeSet));
    });

  if ('field' in e) checkFieldRead(e, path, knownField(e.field, [...path, 'field']));
  else if ('join' in e) e.join.forEach((x, i) => check(x, [...path, 'join', i]));
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
      if (!typeSet.has(t)) problem([...path, 'byType', t], unknownType(t, typeSet));
      check(x, [...path, 'byType', t]);
    }
  } else if ('missing' in e) {
    knownField(e.missing, [...path, 'missing']);
    knownTypes(e.types, [...path, 'types']);
  } else if ('present' in e) {
    knownField(e.present, [...path, 'present']);
    knownTypes(e.types, [...path, 'types']);
  } else if ('equals' in e) {
    const f = knownField(e.equals[0], [...path, 'equals', 0]);
    knownTypes(e.types, [...path, 'types']);
    if (f.name === typeField && !typeSet.has(e.equals[1] as string)) {
      problem([...path, 'equals', 1], `${JSON.stringify(e.equals[1])} is not a customer type (${quoteList(typeSet)})`);
    }
    if (f.lookup) problem([...path, 'equals', 0], `"equals" cannot compare the lookup field "${f.name}"`);
  } else if ('lessThan' in e) {
    knownField(e.lessThan[0], [...path, 'lessThan', 0]);
    knownTypes(e.types, [...path, 'types']);
  } else if ('anyOf' in e) e.anyOf.forEach((x, i) => check(x, [...path, 'anyOf', i]));
  else if ('allOf' in e) e.allOf.forEach((x, i) => check(x, [...path, 'allOf', i]));
  else if ('not' in e) check(e.not, [...path, 'not']);
}

/** A lookup field is read through `get`, and only a lookup field has one. */
function checkFieldRead(e: { field: string; get?: string }, path: JsonPath, f: FieldInfo): void {
  if (f.lookup && e.get === undefined) {
    problem(path, `field "${e.field}" is a lookup: add "get": one of ${quoteList(LOOKUP_PROPERTIES)}`);
  }
  if (e.get !== undefined) {
    if (!f.lookup) problem([...path, 'get'], `"get" applies only to lookup fields; "${e.field}" is ${f.def.normaliser.kind}`);
    if (!(LOOKUP_PROPERTIES as readonly string[]).includes(e.get)) {
      problem([...path, 'get'], `unknown lookup property "${e.get}" (one of ${quoteList(LOOKUP_PROPERTIES)})`);
    }
  }
}
