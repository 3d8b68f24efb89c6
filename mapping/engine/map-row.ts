/**
 * The row function, the hot path of a load (about a million calls a run): read and normalise the
 * customer type, pick its plan, then normalise, override, reject, warn and build, in that order.
 * Everything it needs is resolved into locals once here; a row costs one normaliser call per used
 * field and one closure call per output value.
 */
import type { BranchLookup, BranchRef, CompiledMapping, MapResult, MappingIssue, RowContext, SourceRow } from '../types';
import { INVALID, rawText } from '../normalisers';
import { readRaw, shadowsPrototype, type CheckedDocument, type Plan, type Vals } from './shared';

const EMPTY_ROW: SourceRow = Object.freeze({}) as SourceRow;
const EMPTY_CTX: RowContext = Object.freeze({ runDate: '', customerId: '', customerProfileId: '' });
const EMPTY_BRANCHES: BranchLookup = new Map<string, BranchRef>();

const rejected = (customerType: string | null, reason: string, field: string, raw: unknown): MapResult => ({
  ok: false,
  customerType,
  reject: { severity: 'REJECT', reason, field, value: rawText(raw) },
  warnings: [],
});

export function rowMapper(checked: CheckedDocument, plans: ReadonlyMap<string, Plan>): CompiledMapping['mapRow'] {
  const tf = checked.typeField;
  const nSlots = checked.fields.size;
  const typeSlot = tf.slot;
  const typeSource = tf.source;
  const typeOwn = shadowsPrototype(typeSource);
  const typeNorm = tf.norm;
  const typeDefault = tf.def.default === undefined ? null : tf.def.default;
  const typeRuleSteps = checked.typeRules.map((r) => ({ code: r.code, onMissing: r.onMissing, onInvalid: r.onInvalid }));

  return function mapRow(row: SourceRow, ctx: RowContext, branches: BranchLookup): MapResult {
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
      return rejected(null, typeRuleSteps[0].code, typeSource, rawType); // unreachable: check ensures coverage
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
  };
}
