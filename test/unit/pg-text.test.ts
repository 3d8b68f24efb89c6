import { strict as assert } from 'node:assert';
import { arrayElementText, jsonbText, rowPrinter } from '../../db/pg-text';

// The expected strings are PostgreSQL 17's own output (jsonb_out, array_out, bool::text); the
// integration tests check the printed digests against a real server as well.
describe('pg-text: PostgreSQL text output reproduced', () => {
  it('prints jsonb with its key order (length, then bytes) and separators', () => {
    assert.equal(jsonbText({ zz: 1, a: 'x', bb: null, ccc: true }), '{"a": "x", "bb": null, "zz": 1, "ccc": true}');
    assert.equal(jsonbText({ address: { line1: 'a', city: 'b' }, kycLevel: 3 }), '{"address": {"city": "b", "line1": "a"}, "kycLevel": 3}');
    assert.equal(jsonbText([1, 'two', null, { b: 1, a: 2 }]), '[1, "two", null, {"a": 2, "b": 1}]');
    assert.equal(jsonbText({}), '{}');
    assert.equal(jsonbText([]), '[]');
  });

  it('escapes strings as escape_json does and drops undefined members as JSON.stringify does', () => {
    assert.equal(jsonbText({ s: 'a"b\\c\nd\te\u0001' }), '{"s": "a\\"b\\\\c\\nd\\te\\u0001"}');
    assert.equal(jsonbText({ gone: undefined, kept: 'é' }), '{"kept": "é"}');
  });

  it('orders non-ASCII keys by their UTF-8 length, as jsonb does', () => {
    // 'é' is one UTF-16 unit but two UTF-8 bytes: it sorts after the two-byte ASCII key.
    assert.equal(jsonbText({ é: 1, ab: 2, c: 3 }), '{"c": 3, "ab": 2, "é": 1}');
  });

  it('quotes array elements exactly where array_out does', () => {
    assert.equal(arrayElementText('plain'), 'plain');
    assert.equal(arrayElementText(null), 'NULL');
    assert.equal(arrayElementText('null'), '"null"');
    assert.equal(arrayElementText(''), '""');
    assert.equal(arrayElementText('a b'), '"a b"');
    assert.equal(arrayElementText('a,b'), '"a,b"');
    assert.equal(arrayElementText('{x}'), '"{x}"');
    assert.equal(arrayElementText('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
    assert.equal(arrayElementText('line\nbreak'), '"line\nbreak"');
    assert.equal(arrayElementText('naïve'), 'naïve');
  });

  it('prints a row: plain columns as a text[] literal, json columns after tabs, with the matching SQL', () => {
    const printer = rowPrinter(
      [
        { name: 'id', dataType: 'uuid' },
        { name: 'flag', dataType: 'boolean' },
        { name: 'data', dataType: 'jsonb' },
        { name: 'note', dataType: 'text' },
      ],
      (n) => `"${n}"`,
    );
    assert.equal(printer.text(['ABCDEF00-0000-4000-8000-000000000001', false, { b: 2, a: [1] }, null]),
      '{abcdef00-0000-4000-8000-000000000001,false,NULL}\t{"a": [1], "b": 2}');
    assert.equal(printer.text(['abcdef00-0000-4000-8000-000000000001', true, null, 'x y']),
      '{abcdef00-0000-4000-8000-000000000001,true,"x y"}\t\\N');
    assert.equal(printer.sql, `ARRAY["id"::text, "flag"::text, "note"::text]::text || E'\\t' || coalesce("data"::text, E'\\\\N')`);
  });
});
