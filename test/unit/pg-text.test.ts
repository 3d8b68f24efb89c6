import { strict as assert } from 'node:assert';
import { EncodedLines, copyEscape, copyLine } from '../../db/copy';
import { jsonbText, linePrinter } from '../../db/pg-text';

// The expected strings are PostgreSQL 17's own output (jsonb_out, COPY TO's text format); the
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

  it('escapes COPY text fields: backslash, newline, carriage return, tab; nothing else', () => {
    assert.equal(copyEscape('plain, "quoted" naïve'), 'plain, "quoted" naïve');
    assert.equal(copyEscape('a\\b\nc\rd\te'), 'a\\\\b\\nc\\rd\\te');
    assert.equal(copyLine(['x', null, true, 3, { b: 1 }]), 'x\t\\N\tt\t3\t{"b":1}\n');
  });

  it('prints a row as the COPY line PostgreSQL prints back, with the SQL that prints it from the stored row', () => {
    const printer = linePrinter(
      [
        { name: 'id', dataType: 'uuid' },
        { name: 'flag', dataType: 'boolean' },
        { name: 'data', dataType: 'jsonb' },
        { name: 'note', dataType: 'text' },
      ],
      (n: string) => `"${n}"`,
    );
    assert.equal(
      printer.line(['ABCDEF00-0000-4000-8000-000000000001', false, { b: 'x\ty', a: [1] }, null]),
      'abcdef00-0000-4000-8000-000000000001\tf\t{"a": [1], "b": "x\\\\ty"}\t\\N\n',
    );
    assert.equal(
      printer.line(['abcdef00-0000-4000-8000-000000000001', true, null, 'two\nlines']),
      'abcdef00-0000-4000-8000-000000000001\tt\t\\N\ttwo\\nlines\n',
    );
    assert.match(printer.sql, /^coalesce\("id"::text, E'\\\\N'\) \|\| E'\\t' \|\| coalesce\(CASE WHEN "flag" THEN 't' WHEN NOT "flag" THEN 'f' END/);
    assert.match(printer.sql, /coalesce\(replace\(replace\(replace\(replace\("note"::text, /);
  });

  it('prints jsonb strings that need escaping through JSON and COPY escaping, the others as they are', () => {
    const printer = linePrinter([{ name: 'data', dataType: 'jsonb' }], (n: string) => `"${n}"`);
    assert.equal(
      printer.line([{ plain: 'Ọlá naïve', quote: 'a"b', back: 'c\\d', nl: 'e\nf', emoji: '😀' }]),
      '{"nl": "e\\\\nf", "back": "c\\\\\\\\d", "emoji": "😀", "plain": "Ọlá naïve", "quote": "a\\\\"b"}\n',
    );
    assert.equal(jsonbText([{ s: 'x' }, 'y', 2]), '[{"s": "x"}, "y", 2]');
  });
});

describe('EncodedLines: COPY lines held as UTF-8 bytes', () => {
  it('keeps each line, reorders and selects them, growing past its first buffer', () => {
    const lines = new EncodedLines(8);
    const texts = ['a\tb\n', 'Ọlá\n', 'x'.repeat(50) + '\n', '😀\n'];
    for (const t of texts) lines.push(t);
    assert.equal(lines.length, 4);
    assert.equal(lines.all().toString('utf8'), texts.join(''));
    assert.deepStrictEqual(
      texts.map((_, i) => lines.line(i).toString('utf8')),
      texts,
    );
    const reordered = lines.reordered([3, 1, 0, 2]);
    assert.equal(reordered.all().toString('utf8'), texts[3] + texts[1] + texts[0] + texts[2]);
    assert.equal(reordered.line(1).toString('utf8'), texts[1]);
    assert.equal(lines.selected((i) => i % 2 === 1).toString('utf8'), texts[1] + texts[3]);
    assert.equal(lines.selected(() => false).length, 0);
  });
});
