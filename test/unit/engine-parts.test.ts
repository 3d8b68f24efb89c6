import { strict as assert } from 'node:assert';
import { readMappingDocument } from '../../mapping';
import type { MappingDocument } from '../../mapping/schema';
import { DocumentProblem } from '../../mapping/errors';
import { INVALID, textNormaliser } from '../../mapping/normalisers';
import { checkDocument } from '../../mapping/engine/check';
import { compilePlans } from '../../mapping/engine/compile';
import { normaliseLoop, normalisePhase, objectBuilder, objectLoop, sourceRowBuilder, sourceRowLoop } from '../../mapping/engine/codegen';
import type { Fn, NormaliseStep, Vals } from '../../mapping/engine/shared';
import type { RowContext, SourceRow } from '../../mapping/types';
import { BRANCHES, CONSTANTS, CTX, INDIVIDUAL_ROW, MAPPING_FILE } from './mapping-fixtures';

const shippedDocument = (): MappingDocument => structuredClone(readMappingDocument(MAPPING_FILE));

function documentProblem(doc: MappingDocument): DocumentProblem {
  try {
    checkDocument(doc);
  } catch (e) {
    assert.ok(e instanceof DocumentProblem, String(e));
    return e;
  }
  return assert.fail('checkDocument accepted the document');
}

describe('mapping engine parts', () => {
  describe('check (engine/check.ts)', () => {
    it('resolves every declared field into a slot, in declaration order', () => {
      const doc = shippedDocument();
      const { fields } = checkDocument(doc);
      assert.deepEqual([...fields.keys()], Object.keys(doc.fields));
      assert.deepEqual(
        [...fields.values()].map((f) => f.slot),
        Object.keys(doc.fields).map((_, i) => i),
      );
      assert.deepEqual([...fields.get('title')!.types], ['INDIVIDUAL']);
      assert.deepEqual([...fields.get('email')!.types], ['INDIVIDUAL', 'CORPORATE']); // no "types": every type
    });

    it('sorts the reject rules into rejects.order, the customer type rules first', () => {
      const doc = shippedDocument();
      const { rules, typeRules, typeField } = checkDocument(doc);
      const ranks = rules.map((r) => doc.rejects.order.indexOf(r.code));
      assert.deepEqual(
        ranks,
        [...ranks].sort((a, b) => a - b),
      );
      assert.equal(typeField.name, doc.customerType.field);
      assert.ok(typeRules.length > 0);
      assert.deepEqual(rules.slice(0, typeRules.length), typeRules);
      assert.ok(typeRules.every((r) => r.field === typeField));
    });

    it('reports a problem as a JSON path into the document and a detail', () => {
      const doc = shippedDocument();
      doc.warnings.push({ code: 'INVALID_EMAIL', field: 'nope' });
      const p = documentProblem(doc);
      assert.deepEqual(p.path, ['warnings', doc.warnings.length - 1, 'field']);
      assert.equal(p.detail, 'unknown field "nope"');
    });

    it('leaves type-specific problems to compile: a byType without an entry passes check', () => {
      const doc = shippedDocument();
      doc.rows.profile.customerNumber = { byType: { INDIVIDUAL: { const: 'x' } } };
      assert.doesNotThrow(() => checkDocument(doc));
      assert.throws(
        () => compilePlans(doc, checkDocument(doc), CONSTANTS),
        (e: unknown) => e instanceof DocumentProblem && e.detail === 'no entry for customer type "CORPORATE"',
      );
    });
  });

  describe('compile (engine/compile.ts)', () => {
    const doc = shippedDocument();
    const checked = checkDocument(doc);
    const plans = compilePlans(doc, checked, CONSTANTS);

    it('makes one plan per customer type, in customerType.values order', () => {
      assert.deepEqual([...plans.keys()], doc.customerType.values);
    });

    it('normalises only the fields a type uses', () => {
      const plan = plans.get('CORPORATE')!;
      const vals: Vals = new Array(checked.fields.size);
      plan.normalise({ ...INDIVIDUAL_ROW, business_name: ' Okafor Foods ' }, CTX, BRANCHES, vals);
      assert.equal(vals[checked.fields.get('businessName')!.slot], 'Okafor Foods');
      assert.equal(vals[checked.fields.get('firstName')!.slot], undefined); // INDIVIDUAL only: never read
      assert.equal(vals[checked.typeField.slot], undefined); // the row function sets the type itself
    });

    it('keeps the rules and warnings of the fields a type uses, in precedence order, without the type rules', () => {
      for (const [type, plan] of plans) {
        const expected = checked.rules.filter((r) => r.field !== checked.typeField && r.field.types.has(type));
        assert.deepEqual(
          plan.rejects.map((r) => r.code),
          expected.map((r) => r.code),
          type,
        );
        const warned = checked.warnings.filter((w) => w.field.types.has(type)).map((w) => w.field.source);
        assert.deepEqual(
          plan.warns.map((w) => w.source),
          warned,
          type,
        );
      }
      assert.ok(!plans.get('CORPORATE')!.rejects.some((r) => r.code === 'MISSING_NAME'));
      assert.ok(!plans.get('INDIVIDUAL')!.warns.some((w) => w.source === 'date_of_incorporation'));
    });

    it('drops an override whose condition never holds for the type', () => {
      const d = shippedDocument();
      d.fields.status.override = { when: { equals: ['isDeleted', true], types: ['INDIVIDUAL'] }, value: 'CLOSED' };
      const p = compilePlans(d, checkDocument(d), CONSTANTS);
      assert.equal(p.get('INDIVIDUAL')!.overrides.length, 1);
      assert.equal(p.get('CORPORATE')!.overrides.length, 0);
    });
  });

  describe('codegen (engine/codegen.ts): generated code and its loop twin agree', () => {
    const ctx: RowContext = CTX;

    it('objects: same keys in the same order, same values', () => {
      const keys = ['b', 'a', 'constructor', 'with space', '0'];
      const fns: Fn[] = keys.map((k, i) => (vals) => `${k}:${String(vals[i])}`);
      const vals: Vals = [1, 2, 3, 4, 5];
      const generated = objectBuilder(keys, fns)(vals, ctx) as object;
      const looped = objectLoop(keys, fns)(vals, ctx) as object;
      assert.deepEqual(generated, looped);
      assert.deepEqual(Object.keys(generated), Object.keys(looped));
      assert.equal(Object.getPrototypeOf(generated), Object.prototype);
    });

    it('source rows: one own property per column, prototype-named columns included', () => {
      const columns = ['customer_code', 'constructor', 'toString', 'status'];
      const values = [7, null, 'x', 'Active'];
      const generated = sourceRowBuilder(columns)(values);
      assert.deepEqual(generated, sourceRowLoop(columns)(values));
      assert.deepEqual(Object.keys(generated), columns);
      assert.equal(generated.constructor, null);
    });

    it('the normalise phase: slots, defaults for missing values, own reads of prototype-named columns', () => {
      const norm = textNormaliser();
      const steps: NormaliseStep[] = [
        { slot: 2, source: 'name', own: false, norm, dflt: null },
        { slot: 0, source: 'note', own: false, norm, dflt: 'NONE' },
        { slot: 1, source: 'constructor', own: true, norm, dflt: 'NO-CONSTRUCTOR' },
        { slot: 3, source: 'code', own: false, norm: () => INVALID, dflt: null },
      ];
      const run = (phase: ReturnType<typeof normalisePhase>, row: SourceRow): Vals => {
        const vals: Vals = new Array(4);
        phase(row, ctx, BRANCHES, vals);
        return vals;
      };
      for (const row of [
        { name: ' Ada ', note: '  ', code: 'x' },
        { name: null, note: 'n', constructor: ' c ', code: null },
      ] as SourceRow[]) {
        const generated = run(normalisePhase(steps), row);
        assert.deepEqual(generated, run(normaliseLoop(steps), row));
        assert.equal(generated[3], INVALID);
      }
      assert.deepEqual(run(normalisePhase(steps), { name: ' Ada ', note: '  ', code: 'x' }), ['NONE', 'NO-CONSTRUCTOR', 'Ada', INVALID]);
    });
  });
});
