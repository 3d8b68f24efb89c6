/**
 * Compiles a validated mapping document, once, into the functions that map rows:
 * check (cross-references, engine/check) → compile (one plan per customer type, engine/compile and
 * engine/expressions) → the row function (engine/map-row), with the generated helpers of engine/codegen.
 */
import type { CompiledMapping, MappingConstants } from './types';
import type { MappingDocument } from './schema';
import { lookupKey } from './normalisers';
import { checkDocument } from './engine/check';
import { compilePlans } from './engine/compile';
import { sourceRowBuilder } from './engine/codegen';
import { rowMapper } from './engine/map-row';
import type { CheckedDocument } from './engine/shared';

/** Compiles a schema-valid document. Throws DocumentProblem for references and rules that do not fit together. */
export function compileDocument(doc: MappingDocument, constants: MappingConstants): Omit<CompiledMapping, 'identity'> {
  const checked = checkDocument(doc);
  const plans = compilePlans(doc, checked, constants);
  return {
    ...describeTables(doc, checked),
    sourceRow: sourceRowBuilder(doc.source.columns),
    mapRow: rowMapper(checked, plans),
  };
}

/** What the rest of the service reads off the mapping: tables, columns, types, lookups (frozen). */
function describeTables(doc: MappingDocument, checked: CheckedDocument): Pick<CompiledMapping, 'source' | 'destination' | 'customerTypes' | 'lookups'> {
  const src = doc.source;
  const dst = doc.destination;
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
    customerTypes: Object.freeze([...checked.customerTypes]),
    lookups: Object.freeze(
      [...checked.fields.values()].flatMap((f) => {
        const n = f.def.normaliser;
        if (n.kind !== 'lookup') return [];
        const rule = checked.rules.find((r) => r.field === f);
        return [Object.freeze({ field: f.name, source: f.source, table: n.table, key: lookupKey(n.keyCase), rejectReason: rule?.code ?? null })];
      }),
    ),
  };
}
