import { strict as assert } from 'node:assert';
import {
  INVALID,
  booleanNormaliser,
  cleanText,
  compileDateFormat,
  dateNormaliser,
  emailNormaliser,
  enumNormaliser,
  integerNormaliser,
  lookupNormaliser,
  patternNormaliser,
  phoneNormaliser,
  rawNormaliser,
  rawText,
  upperNormaliser,
  type NormaliserFn,
} from '../../mapping/normalisers';
import type { BranchLookup, RowContext } from '../../mapping/types';
import { BRANCHES, CTX, mappingDocument } from './mapping-fixtures';

const NO_BRANCHES: BranchLookup = new Map();
const run = (fn: NormaliserFn, raw: unknown, ctx: RowContext = CTX, branches: BranchLookup = NO_BRANCHES): unknown => fn(raw, ctx, branches);

// The parameters used by the mapping file, so these tests exercise the shipped rules.
const doc = mappingDocument();
const DOB = doc.fields.dateOfBirth.normaliser;
const EMAIL_PATTERN: string = doc.fields.email.normaliser.pattern;
const PHONE = doc.fields.phone.normaliser;
const BVN_PATTERN: string = doc.fields.bvn.normaliser.pattern;

describe('normalisers', () => {
  describe('text (trim, blank is missing)', () => {
    it('trims Unicode white space as String.prototype.trim does: space, tab, newline, no-break space, ideographic space, BOM', () => {
      assert.equal(cleanText(' \t\n\u00a0Adaeze\u00a0\r\n\t'), 'Adaeze');
      assert.equal(cleanText('\u3000Okafor\ufeff'), 'Okafor');
      assert.equal(cleanText('\u2003x\u2029'), 'x');
    });
    it('keeps inner whitespace exactly as given', () => {
      assert.equal(cleanText('  12  Marina\tRoad '), '12  Marina\tRoad');
      assert.equal(cleanText('Mary\u00a0Jane'), 'Mary\u00a0Jane');
    });
    it('treats empty and all-blank strings as missing', () => {
      for (const blank of ['', ' ', '\t\t', '\u00a0', '\n \r\n', '\u3000']) assert.equal(cleanText(blank), null, JSON.stringify(blank));
      assert.equal(cleanText(null), null);
      assert.equal(cleanText(undefined), null);
    });
    it('turns numbers and booleans into their text', () => {
      assert.equal(cleanText(12345), '12345');
      assert.equal(cleanText(0), '0');
      assert.equal(cleanText(true), 'true');
    });
    it('keeps control characters and emoji (they are not white space)', () => {
      assert.equal(cleanText(' a\u0001b😀 '), 'a\u0001b😀');
    });
    it('never throws on objects that cannot be turned into text', () => {
      const hostile = {
        toString(): string {
          throw new Error('boom');
        },
      };
      assert.equal(cleanText(hostile), null);
      assert.equal(cleanText(Object.create(null)), null);
      assert.equal(
        cleanText(() => 1),
        null,
      );
    });
  });

  describe('rawText (issue values)', () => {
    it('is String(v) untrimmed, or null when missing', () => {
      assert.equal(rawText('  x '), '  x ');
      assert.equal(rawText(42), '42');
      assert.equal(rawText(false), 'false');
      assert.equal(rawText(null), null);
      assert.equal(rawText(undefined), null);
    });
  });

  describe('raw (timestamps)', () => {
    it('passes the value through unchanged, microseconds included', () => {
      const ts = '2024-01-02 03:04:05.123456+00';
      assert.equal(run(rawNormaliser(), ts), ts);
      assert.equal(run(rawNormaliser(), ' odd '), ' odd ');
      assert.equal(run(rawNormaliser(), undefined), null);
    });
  });

  describe('upper', () => {
    const upper = upperNormaliser();
    it('trims and upper-cases with toUpperCase (no locale)', () => {
      assert.equal(run(upper, ' ng '), 'NG');
      assert.equal(run(upper, 'Food Processing'), 'FOOD PROCESSING');
      assert.equal(run(upper, 'straße'), 'STRASSE');
      assert.equal(run(upper, 'istanbul'), 'ISTANBUL'); // not the Turkish dotted İ
      assert.equal(run(upper, 'ALREADY UPPER 42'), 'ALREADY UPPER 42');
    });
    it('treats blank as missing', () => {
      assert.equal(run(upper, ' \t '), null);
    });
  });

  describe('enum', () => {
    const gender = enumNormaliser(doc.fields.gender.normaliser.values, true);
    it('maps any case after trimming', () => {
      for (const v of ['m', 'M', ' male ', 'MALE', 'Male']) assert.equal(run(gender, v), 'MALE', v);
      for (const v of ['f', 'F', 'female', '\tFEMALE\u00a0', 'Female']) assert.equal(run(gender, v), 'FEMALE', v);
    });
    it('is INVALID for an unknown present value and null for a missing one', () => {
      assert.equal(run(gender, 'x'), INVALID);
      assert.equal(run(gender, 'ma le'), INVALID);
      assert.equal(run(gender, 'fem'), INVALID);
      assert.equal(run(gender, ''), null);
      assert.equal(run(gender, null), null);
    });
    it('is case-sensitive when asked', () => {
      const strict = enumNormaliser({ A: 'ALPHA' }, false);
      assert.equal(run(strict, 'A'), 'ALPHA');
      assert.equal(run(strict, 'a'), INVALID);
    });
    it('refuses keys that collide ignoring case with different values', () => {
      assert.throws(() => enumNormaliser({ a: 'X', A: 'Y' }, true), /"a" and "A"/);
    });
  });

  describe('date', () => {
    const dob = dateNormaliser(DOB.formats, DOB.min, DOB.max);
    const any = dateNormaliser(DOB.formats);

    it('accepts exactly the five formats and writes YYYY-MM-DD', () => {
      assert.equal(run(any, '1987-03-05'), '1987-03-05');
      assert.equal(run(any, '05/03/1987'), '1987-03-05');
      assert.equal(run(any, '05-03-1987'), '1987-03-05');
      assert.equal(run(any, '05-Mar-1987'), '1987-03-05');
      assert.equal(run(any, '19870305'), '1987-03-05');
    });
    it('reads month abbreviations in any case, English only', () => {
      for (const v of ['05-mar-1987', '05-MAR-1987', '05-mAr-1987']) assert.equal(run(any, v), '1987-03-05', v);
      const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
      months.forEach((m, i) => assert.equal(run(any, `01-${m}-2000`), `2000-${String(i + 1).padStart(2, '0')}-01`));
      for (const v of ['05-Mrz-1987', '05-Sept-1987', '05-March-1987', '05-M4r-1987']) assert.equal(run(any, v), INVALID, v);
    });
    it('trims around the date', () => {
      assert.equal(run(any, ' \t1987-03-05\u00a0'), '1987-03-05');
    });
    it('validates the calendar, leap years included', () => {
      assert.equal(run(any, '31/02/1990'), INVALID);
      assert.equal(run(any, '29/02/2000'), '2000-02-29'); // divisible by 400
      assert.equal(run(any, '29/02/1900'), INVALID); // divisible by 100, not 400
      assert.equal(run(any, '29-Feb-2024'), '2024-02-29');
      assert.equal(run(any, '2023-02-29'), INVALID);
      assert.equal(run(any, '31-04-2020'), INVALID);
      assert.equal(run(any, '20201231'), '2020-12-31');
      assert.equal(run(any, '2020-13-01'), INVALID);
      assert.equal(run(any, '00/01/2020'), INVALID);
      assert.equal(run(any, '01/00/2020'), INVALID);
      assert.equal(run(any, '0000-01-01'), INVALID);
    });
    it('refuses one-digit days and months, two-digit years and every other form', () => {
      for (const v of [
        '5/3/1987',
        '05/3/1987',
        '5-Mar-1987',
        '05/03/87',
        '1987-3-5',
        '87-03-05',
        '1987/03/05',
        '05.03.1987',
        '05 Mar 1987',
        '1987-03-05T00:00:00',
        '1987-03-05 00:00',
        '198703051',
        '1987030',
        'March 5, 1987',
        '05/03/1987x',
        '０５/03/1987',
        '05\u00a0/03/1987',
        '1987-03-05\u0000',
        'N/A',
        '-',
      ]) {
        assert.equal(run(any, v), INVALID, JSON.stringify(v));
      }
    });
    it('treats a blank date as missing', () => {
      assert.equal(run(any, '  '), null);
      assert.equal(run(any, null), null);
    });
    it('applies min and max = runDate inclusively', () => {
      assert.equal(run(dob, '1900-01-01'), '1900-01-01');
      assert.equal(run(dob, '31/12/1899'), INVALID);
      assert.equal(run(dob, CTX.runDate), CTX.runDate);
      assert.equal(run(dob, '02/06/2024'), INVALID); // the day after runDate
      assert.equal(run(dob, '2024-06-02', { ...CTX, runDate: '2024-06-02' }), '2024-06-02');
    });
    it('has no bounds where none are configured (an old expiry date is valid)', () => {
      assert.equal(run(any, '01-Jan-1800'), '1800-01-01');
      assert.equal(run(any, '9999-12-31'), '9999-12-31');
    });
    it('refuses malformed formats and bounds when built', () => {
      assert.throws(() => compileDateFormat('DD/MM/YY'), /unknown token at "YY"/);
      assert.throws(() => compileDateFormat('YYYY-MM'), /needs/);
      assert.throws(() => compileDateFormat('YYYY-MM-DD-DD'), /a day twice/);
      assert.throws(() => dateNormaliser(['YYYY-MM-DD'], '1900-02-30'), /not a real/);
    });
    it('accepts other configured formats', () => {
      const dotted = dateNormaliser(['DD.MM.YYYY', 'Mon DD YYYY']);
      assert.equal(run(dotted, '05.03.1987'), '1987-03-05');
      assert.equal(run(dotted, 'mar 05 1987'), '1987-03-05');
      assert.equal(run(dotted, '1987-03-05'), INVALID);
    });
  });

  describe('email', () => {
    const email = emailNormaliser(EMAIL_PATTERN);
    it('trims and lower-cases a valid address', () => {
      assert.equal(run(email, ' Adaeze.Okafor@Example.COM '), 'adaeze.okafor@example.com');
      assert.equal(run(email, 'x.y+tag@mail.sub.example.co.uk'), 'x.y+tag@mail.sub.example.co.uk');
      assert.equal(run(email, 'a@b-c.io'), 'a@b-c.io');
    });
    it('is INVALID when not local@domain.tld', () => {
      for (const v of [
        'adaeze',
        'a@b',
        'a@b.c',
        '@example.com',
        'a@@example.com',
        'a b@example.com',
        'a@exa mple.com',
        'a@example_x.com',
        'a@example.c0m',
        'a@.com',
        'a@example.com.',
        'N/A',
      ]) {
        assert.equal(run(email, v), INVALID, v);
      }
    });
    it('treats blank as missing', () => {
      assert.equal(run(email, ' '), null);
    });
  });

  describe('phone', () => {
    const phone = phoneNormaliser(PHONE);
    it('turns 0 + 10 digits into +234 + the 10 digits', () => {
      assert.equal(run(phone, '08031234567'), '+2348031234567');
      assert.equal(run(phone, ' 0803 123 4567 '), '+2348031234567');
      assert.equal(run(phone, '(0803) 123-4567'), '+2348031234567');
      assert.equal(run(phone, '0803.123.4567'), '+2348031234567');
    });
    it('turns 234 + 10 digits into +234 + the 10 digits', () => {
      assert.equal(run(phone, '2348031234567'), '+2348031234567');
      assert.equal(run(phone, '234-803-123-4567'), '+2348031234567');
    });
    it('keeps + followed by 8 to 15 digits, separators removed', () => {
      assert.equal(run(phone, '+234 803 123 4567'), '+2348031234567');
      assert.equal(run(phone, '+44 20 7946 0958'), '+442079460958');
      assert.equal(run(phone, '+12345678'), '+12345678');
      assert.equal(run(phone, '+123456789012345'), '+123456789012345');
      assert.equal(run(phone, '\t+1 (202) 555-0143'), '+12025550143');
    });
    it('is INVALID otherwise', () => {
      for (const v of [
        'N/A',
        '-',
        '+',
        '+1234567',
        '+1234567890123456',
        '8031234567',
        '080312345678',
        '0803123456',
        '23480312345678',
        '002348031234567',
        '1234',
        '08031234567 ext 12',
      ]) {
        assert.equal(run(phone, v), INVALID, v);
      }
    });
    it('keeps a + only in first position after trimming', () => {
      assert.equal(run(phone, '234+8031234567'), '+2348031234567'); // the + is removed, 234 + 10 digits remain
      assert.equal(run(phone, ' +2348031234567'), '+2348031234567');
    });
    it('keeps only ASCII digits', () => {
      assert.equal(run(phone, '０８０３１２３４５６７'), INVALID);
    });
    it('treats blank as missing', () => {
      assert.equal(run(phone, '   '), null);
      assert.equal(run(phone, null), null);
    });
  });

  describe('pattern (bvn)', () => {
    const bvn = patternNormaliser(BVN_PATTERN);
    it('keeps exactly 11 digits as text, leading zeros included', () => {
      assert.equal(run(bvn, '01234567890'), '01234567890');
      assert.equal(run(bvn, ' 22123456789\t'), '22123456789');
    });
    it('is INVALID for anything else', () => {
      for (const v of ['1234567890', '123456789012', '1234567890a', '123 456 789 01', '１２３４５６７８９０１', 'N/A']) {
        assert.equal(run(bvn, v), INVALID, v);
      }
    });
    it('treats blank as missing', () => {
      assert.equal(run(bvn, ''), null);
    });
    it('refuses a broken regular expression when built', () => {
      assert.throws(() => patternNormaliser('^[0-9'), /invalid regular expression/);
    });
  });

  describe('integer (kyc_level)', () => {
    const int = integerNormaliser();
    it('keeps numbers as they are', () => {
      assert.equal(run(int, 2), 2);
      assert.equal(run(int, 0), 0);
      assert.equal(run(int, -1), -1);
    });
    it('turns integer text into a number', () => {
      assert.equal(run(int, '3'), 3);
      assert.equal(run(int, ' 3 '), 3);
    });
    it('treats anything else as missing', () => {
      for (const v of ['2.5', 'two', '', '1e3', NaN, Infinity, true, null, undefined, {}]) assert.equal(run(int, v), null, String(v));
    });
  });

  describe('boolean (is_deleted)', () => {
    const bool = booleanNormaliser(doc.fields.isDeleted.normaliser.true, doc.fields.isDeleted.normaliser.false);
    it('reads booleans, 1/0 and the configured words in any case', () => {
      assert.equal(run(bool, true), true);
      assert.equal(run(bool, false), false);
      assert.equal(run(bool, 1), true);
      assert.equal(run(bool, 0), false);
      assert.equal(run(bool, ' TRUE '), true);
      assert.equal(run(bool, 't'), true);
      assert.equal(run(bool, 'No'), false);
    });
    it('treats anything else as missing', () => {
      assert.equal(run(bool, 'maybe'), null);
      assert.equal(run(bool, 2), null);
      assert.equal(run(bool, null), null);
    });
  });

  describe('lookup (branch_map)', () => {
    const lookup = lookupNormaliser('upper');
    it('looks the trimmed, upper-cased code up', () => {
      assert.deepEqual(run(lookup, ' lag001\t', CTX, BRANCHES), BRANCHES.get('LAG001'));
    });
    it('is INVALID when the code is unknown and null when missing', () => {
      assert.equal(run(lookup, 'LAG999', CTX, BRANCHES), INVALID);
      assert.equal(run(lookup, 'LAG 001', CTX, BRANCHES), INVALID);
      assert.equal(run(lookup, ' ', CTX, BRANCHES), null);
    });
  });
});
