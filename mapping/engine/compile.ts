/**
 * Compile: one plan per customer type, holding only the fields that type uses, its reject rules in
 * precedence order, its warnings and its row builders. Throws DocumentProblem where a part of the
 * document does not fit a type (a field the type does not use, a `byType` without the type).
 */
import type { MappingConstants } from '../types';
import type { MappingDocument } from '../schema';
import { normalisePhase } from './codegen';
import { ExpressionCompiler, asFn } from './expressions';
import { shadowsPrototype, type CheckedDocument, type FieldInfo, type NormaliseStep, type Plan } from './shared';

/** The plans in customerType.values order (the order their problems are reported in). */
export function compilePlans(doc: MappingDocument, checked: CheckedDocument, constants: MappingConstants): Map<string, Plan> {
  const plans = new Map<string, Plan>();
  for (const type of checked.customerTypes) plans.set(type, compilePlan(type, doc, checked, constants));
  return plans;
}

function compilePlan(type: string, doc: MappingDocument, checked: CheckedDocument, constants: MappingConstants): Plan {
  const { fields, typeField, rules, warnings } = checked;
  const expressions = new ExpressionCompiler(type, fields, typeField.name, constants);
  const used = [...fields.values()].filter((f) => f !== typeField && f.types.has(type));
  const overrides = compileOverrides(used, expressions);
  const dst = doc.destination;
  return {
    type,
    normalise: normalisePhase(used.map(normaliseStepOf)),
    overrides,
    rejects: rules
      .filter((r) => r.field !== typeField && r.field.types.has(type))
      .map((r) => ({
        slot: r.field.slot,
        source: r.field.source,
        own: shadowsPrototype(r.field.source),
        code: r.code,
        onMissing: r.onMissing,
        onInvalid: r.onInvalid,
      })),
    warns: warnings
      .filter((w) => w.field.types.has(type))
      .map((w) => ({ slot: w.field.slot, source: w.field.source, own: shadowsPrototype(w.field.source), code: w.code })),
    customer: expressions.object(doc.rows.customer, ['rows', 'customer'], dst.customer.columns),
    profile: expressions.object(doc.rows.profile, ['rows', 'profile'], dst.profile.columns),
  };
}

/** The overrides that can hold for this type, in field order; those that never hold are dropped. */
function compileOverrides(used: readonly FieldInfo[], expressions: ExpressionCompiler): Plan['overrides'] {
  const overrides: Plan['overrides'] = [];
  for (const f of used) {
    if (!f.def.override) continue;
    const when = expressions.compile(f.def.override.when, ['fields', f.name, 'override', 'when']);
    if (when.constant && when.value !== true) continue;
    overrides.push({ slot: f.slot, when: asFn(when), value: f.def.override.value });
  }
  return overrides;
}

function normaliseStepOf(f: FieldInfo): NormaliseStep {
  return {
    slot: f.slot,
    source: f.source,
    own: shadowsPrototype(f.source),
    norm: f.norm,
    dflt: f.def.default === undefined ? null : f.def.default,
  };
}
