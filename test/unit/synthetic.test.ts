import { strict as assert } from 'node:assert';
import { parseSeedArgs, UsageError } from '../../stack/seed-cli';
import {
  BRANCH_CODES,
  CopyEncoder,
  DIRTY_KINDS,
  EFZ_COLUMNS,
  HOSTILE_KINDS,
  LONG_VALUE,
  Rng,
  escapeCopyText,
  formatTimestamp,
  generateBranches,
  generateRow,
  generateRows,
  toCopyLine,
  unescapeCopyText,
  type DirtyKind,
  type EfzCustomerRow,
  type GeneratedRow,
} from '../../stack/synthetic';

// ---------------------------------------------------------------------------------------------
// A small, independent reading of the contract's validity rules (section 4), used only as an oracle
// for the generator: clean rows must pass every rule, each dirty row must break exactly its own.
// ---------------------------------------------------------------------------------------------

const blank = (v: string | null): boolean => v === null || v.trim() === '';
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** 'YYYY-MM-DD' for a value in one of the five accepted formats that is a real calendar date, else null. */
function parseDate(raw: string): string | null {
  const v = raw.trim();
  let y: number;
  let m: number;
  let d: number;
  let r: RegExpExecArray | null;
  if ((r = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v))) [y, m, d] = [+r[1], +r[2], +r[3]];
  else if ((r = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(v))) [d, m, y] = [+r[1], +r[2], +r[3]];
  else if ((r = /^(\d{2})-(\d{2})-(\d{4})$/.exec(v))) [d, m, y] = [+r[1], +r[2], +r[3]];
  else if ((r = /^(\d{2})-([A-Za-z]{3})-(\d{4})$/.exec(v))) {
    const mi = MONTHS.indexOf(r[2].toLowerCase());
    if (mi < 0) return null;
    [d, m, y] = [+r[1], mi + 1, +r[3]];
  } else if ((r = /^(\d{4})(\d{2})(\d{2})$/.exec(v))) [y, m, d] = [+r[1], +r[2], +r[3]];
  else return null;
  if (m < 1 || m > 12 || d < 1) return null;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  if (d > dim) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

const TODAY = new Date().toISOString().slice(0, 10);
const validDob = (v: string): boolean => {
  const d = parseDate(v);
  return d !== null && d >= '1900-01-01' && d <= TODAY;
};
const EMAIL = /^[^\s@]+@([a-z0-9-]+\.)+[a-z]{2,}$/;
const validEmail = (v: string): boolean => EMAIL.test(v.trim().toLowerCase());
function validPhone(v: string): boolean {
  const t = v.trim();
  const kept = (t.startsWith('+') ? '+' : '') + t.replace(/\D/g, '');
  return /^0\d{10}$/.test(kept) || /^234\d{10}$/.test(kept) || /^\+\d{8,15}$/.test(kept);
}
const INDIVIDUAL = new Set(['individual', 'ind', 'retail']);
const CORPORATE = new Set(['sme', 'corporate', 'corp', 'business']);
const STATUSES = new Set(['ACTIVE', 'DORMANT', 'INACTIVE', 'BLOCKED', 'CLOSED']);
const BRANCHES = new Set(BRANCH_CODES);

/** The dirty categories a row actually exhibits, read from its values alone (tags not consulted). */
function observedProblems(g: GeneratedRow): Set<DirtyKind> {
  const r = g.row;
  const found = new Set<DirtyKind>();
  const type = blank(r.customer_type) ? null : r.customer_type!.trim().toLowerCase();
  if (type === null) found.add('MISSING_CUSTOMER_TYPE');
  else if (!INDIVIDUAL.has(type) && !CORPORATE.has(type)) found.add('UNKNOWN_CUSTOMER_TYPE');
  const shape = type !== null && INDIVIDUAL.has(type) ? 'INDIVIDUAL' : type !== null && CORPORATE.has(type) ? 'CORPORATE' : g.shape;
  if (shape === 'INDIVIDUAL') {
    if (blank(r.first_name)) found.add('MISSING_FIRST_NAME');
    if (blank(r.last_name)) found.add('MISSING_LAST_NAME');
    if (!blank(r.date_of_birth) && !validDob(r.date_of_birth!)) {
      const d = parseDate(r.date_of_birth!);
      if (d === null) {
        // unparseable or impossible: the generator's two categories, told apart by their shape
        found.add(
          /^\s*(\d{4}-\d{2}-\d{2}|\d{2}\/\d{2}\/\d{4}|\d{2}-\d{2}-\d{4}|\d{2}-[A-Za-z]{3}-\d{4}|\d{8})\s*$/.test(r.date_of_birth!)
            ? 'INVALID_DOB_IMPOSSIBLE'
            : 'INVALID_DOB_UNPARSEABLE',
        );
      } else found.add(d < '1900-01-01' ? 'INVALID_DOB_BEFORE_1900' : 'INVALID_DOB_FUTURE');
    }
    if (!blank(r.gender) && !['m', 'male', 'f', 'female'].includes(r.gender!.trim().toLowerCase())) found.add('INVALID_GENDER');
    if (!blank(r.id_expiry_date) && parseDate(r.id_expiry_date!) === null) found.add('INVALID_ID_EXPIRY_DATE');
  } else {
    if (blank(r.business_name)) found.add('MISSING_BUSINESS_NAME');
    if (!blank(r.date_of_incorporation)) {
      const d = parseDate(r.date_of_incorporation!);
      if (d === null || d > TODAY) found.add('INVALID_INCORPORATION_DATE');
    }
  }
  if (!blank(r.bvn) && !/^\d{11}$/.test(r.bvn!.trim())) {
    const b = r.bvn!.trim();
    found.add(/^\d{1,10}$/.test(b) ? 'INVALID_BVN_SHORT' : /[A-Za-z]/.test(b) && !/^\d+(\.\d+)?E\d+$/.test(b) ? 'INVALID_BVN_LETTERS' : 'INVALID_BVN_FORMAT');
  }
  if (blank(r.branch_code)) found.add('MISSING_BRANCH');
  else if (!BRANCHES.has(r.branch_code!.trim().toUpperCase())) found.add('UNKNOWN_BRANCH');
  if (!blank(r.status) && !STATUSES.has(r.status!.trim().toUpperCase())) found.add(r.is_deleted ? 'UNKNOWN_STATUS_DELETED' : 'UNKNOWN_STATUS');
  if (!blank(r.email) && !validEmail(r.email!)) found.add('INVALID_EMAIL');
  if (!blank(r.phone) && !validPhone(r.phone!)) found.add('INVALID_PHONE');
  if (!blank(r.alt_phone) && !validPhone(r.alt_phone!)) found.add('INVALID_ALT_PHONE');
  return found;
}

// A bigger or other sample for a deeper check: SYNTHETIC_SAMPLE_ROWS=200000 SYNTHETIC_SAMPLE_SEED=7 npm run test:unit
const SAMPLE_SIZE = Number(process.env.SYNTHETIC_SAMPLE_ROWS ?? 10_000);
const SAMPLE_SEED = Number(process.env.SYNTHETIC_SAMPLE_SEED ?? 1);
const SAMPLE: GeneratedRow[] = [...generateRows(SAMPLE_SEED, 1, SAMPLE_SIZE)];
const count = (pred: (g: GeneratedRow) => boolean): number => SAMPLE.filter(pred).length;
const pct = (n: number): number => (100 * n) / SAMPLE_SIZE;
const textValues = (r: EfzCustomerRow): string[] => EFZ_COLUMNS.map((c) => r[c]).filter((v): v is string => typeof v === 'string');

describe('synthetic efz_customer data', () => {
  describe('determinism', () => {
    it('gives the same rows for the same seed, whatever the start code or batch', () => {
      const a = [...generateRows(123, 1, 300)];
      const b = [...generateRows(123, 1, 300)];
      assert.deepEqual(a, b);
      const shifted = [...generateRows(123, 101, 50)];
      assert.deepEqual(shifted, a.slice(100, 150));
      assert.deepEqual(generateRow(123, 42), a[41]);
    });

    it('gives different rows for a different seed', () => {
      const a = [...generateRows(1, 1, 200)];
      const b = [...generateRows(2, 1, 200)];
      const same = a.filter((g, i) => JSON.stringify(g.row) === JSON.stringify(b[i].row)).length;
      assert.equal(same, 0);
    });

    it('has a PRNG with a sane spread', () => {
      const rng = new Rng(99, 7);
      const buckets = new Array<number>(10).fill(0);
      for (let i = 0; i < 100_000; i++) buckets[Math.floor(rng.next() * 10)]++;
      for (const b of buckets) assert.ok(b > 9_500 && b < 10_500, `bucket ${b}`);
      assert.notEqual(new Rng(1, 1).u32(), new Rng(1, 2).u32());
    });

    it('generates 60 branches with deterministic, unique v4 uuids', () => {
      const a = generateBranches();
      assert.deepEqual(a, generateBranches());
      assert.equal(a.length, 60);
      assert.equal(new Set(a.map((b) => b.branch_code)).size, 60);
      assert.equal(new Set(a.map((b) => b.branch_id)).size, 60);
      for (const b of a) {
        assert.match(b.branch_code, /^[A-Z]{3}\d{3}$/);
        assert.match(b.branch_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.ok(b.branch_name.length > 0);
      }
      assert.notDeepEqual(generateBranches(5), a);
    });
  });

  describe(`a ${SAMPLE_SIZE}-row sample (seed ${SAMPLE_SEED})`, () => {
    it('is about 75% individual, 25% SME', () => {
      const p = pct(count((g) => g.shape === 'INDIVIDUAL'));
      assert.ok(p > 72 && p < 78, `${p}% individual`);
    });

    it('holds every dirty category, each at a fraction of a percent, a few percent in all', () => {
      const kinds = Object.keys(DIRTY_KINDS) as DirtyKind[];
      for (const kind of kinds) {
        const n = count((g) => g.dirty === kind);
        assert.ok(n >= 10 && pct(n) < 1.5, `${kind}: ${n} rows`);
      }
      const dirty = pct(count((g) => g.dirty !== null));
      assert.ok(dirty > 3 && dirty < 12, `${dirty}% dirty`);
    });

    it('keeps clean rows clean and makes each dirty row break exactly its own rule', () => {
      for (const g of SAMPLE) {
        const problems = observedProblems(g);
        if (g.dirty === null) assert.deepEqual([...problems], [], `clean row ${g.row.customer_code}: ${[...problems]}`);
        else assert.deepEqual([...problems], [g.dirty], `row ${g.row.customer_code} tagged ${g.dirty}: ${[...problems]}`);
        assert.equal(g.tags.includes('DELETED'), g.row.is_deleted);
      }
    });

    it('holds every hostile kind, in fields left as given', () => {
      for (const kind of HOSTILE_KINDS) assert.ok(count((g) => g.tags.includes(kind)) >= 5, kind);
      for (const g of SAMPLE.filter((x) => x.tags.includes('HOSTILE_LONG_FIELD'))) {
        assert.ok(textValues(g.row).some((v) => v.length === 10_000));
      }
      for (const g of SAMPLE.filter((x) => x.tags.includes('HOSTILE_EMOJI'))) {
        assert.ok(textValues(g.row).some((v) => /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(v)));
      }
      for (const g of SAMPLE.filter((x) => x.tags.includes('HOSTILE_CONTROL_CHARS'))) {
        assert.ok(textValues(g.row).some((v) => /[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v)));
      }
      assert.equal(LONG_VALUE.length, 10_000);
      assert.ok(
        SAMPLE.every((g) => textValues(g.row).every((v) => !v.includes('\0'))),
        'no NUL anywhere',
      );
    });

    it('holds the valid edge cases', () => {
      for (const tag of ['DELETED', 'DOB_1900_01_01', 'DOB_LEAP_DAY', 'ODD_RISK_RATING', 'IGNORED_INVALID_FIELD', 'BULK_TIMESTAMP'] as const) {
        assert.ok(count((g) => g.tags.includes(tag)) >= 2, tag);
      }
      const deleted = pct(count((g) => g.row.is_deleted));
      assert.ok(deleted > 1 && deleted < 5, `${deleted}% deleted`);
    });

    it('uses the legacy spellings, formats and padding of valid values', () => {
      const types = new Set(SAMPLE.map((g) => g.row.customer_type?.trim().toLowerCase()));
      for (const t of ['individual', 'ind', 'retail', 'sme', 'corporate', 'corp', 'business']) assert.ok(types.has(t), t);
      assert.ok(SAMPLE.some((g) => g.row.customer_type === ' sme '));
      assert.ok(
        SAMPLE.some((g) => /[a-z]/.test(g.row.customer_type ?? '') && /[A-Z]/.test(g.row.customer_type?.slice(1) ?? '')),
        'mixed case',
      );

      const dobs = SAMPLE.filter((g) => g.dirty === null && g.shape === 'INDIVIDUAL' && !blank(g.row.date_of_birth)).map((g) => g.row.date_of_birth!.trim());
      for (const re of [
        /^\d{4}-\d{2}-\d{2}$/,
        /^\d{2}\/\d{2}\/\d{4}$/,
        /^\d{2}-\d{2}-\d{4}$/,
        /^\d{2}-[a-z]{3}-\d{4}$/,
        /^\d{2}-[A-Z][a-z]{2}-\d{4}$/,
        /^\d{8}$/,
      ]) {
        assert.ok(
          dobs.some((d) => re.test(d)),
          String(re),
        );
      }
      const phones = SAMPLE.map((g) => g.row.phone?.trim() ?? '');
      for (const re of [/^0\d{3} \d{3} \d{4}$/, /^\+234-\d{3}-\d{3}-\d{4}$/, /^234\d{10}$/])
        assert.ok(
          phones.some((p) => re.test(p)),
          String(re),
        );
      assert.ok(
        SAMPLE.some((g) => g.row.email !== null && g.row.email !== g.row.email.trim() && validEmail(g.row.email)),
        'padded email',
      );
      assert.ok(
        SAMPLE.some((g) => g.row.email !== null && /[A-Z]/.test(g.row.email) && validEmail(g.row.email)),
        'upper-case email',
      );
      assert.ok(
        SAMPLE.some((g) => /^[a-z]{3}\d{3}$/.test(g.row.branch_code ?? '')),
        'lower-case branch',
      );
      assert.ok(
        SAMPLE.some((g) => g.row.branch_code !== null && g.row.branch_code !== g.row.branch_code.trim() && g.dirty === null),
        'padded branch',
      );
      assert.ok(
        SAMPLE.some((g) => textValues(g.row).some((v) => v.startsWith('\t') || v.endsWith('\t'))),
        'tabs around values',
      );
      assert.ok(
        SAMPLE.some((g) => textValues(g.row).some((v) => v.startsWith('\u00A0') || v.endsWith('\u00A0'))),
        'no-break spaces',
      );
      assert.ok(SAMPLE.some((g) => g.row.middle_name === null) && SAMPLE.some((g) => g.row.middle_name !== null && blank(g.row.middle_name)));
      const statuses = new Set(SAMPLE.map((g) => g.row.status?.trim()));
      assert.ok(statuses.has('active') || statuses.has('Active'), 'lower/mixed-case status');
      const risks = new Set(SAMPLE.map((g) => g.row.risk_rating?.trim()));
      assert.ok([...risks].some((r) => r !== undefined && /[a-z]/.test(r) && ['LOW', 'MEDIUM', 'HIGH'].includes(r.toUpperCase())));
    });

    it('has 11-digit BVNs, some with leading zeros', () => {
      const bvns = SAMPLE.filter((g) => g.dirty === null && !blank(g.row.bvn)).map((g) => g.row.bvn!.trim());
      assert.ok(bvns.every((b) => /^\d{11}$/.test(b)));
      assert.ok(bvns.filter((b) => b.startsWith('0')).length > 100);
      assert.ok(bvns.some((b) => b.startsWith('00')));
    });

    it('has microsecond timestamps spread over years, updated_at >= created_at', () => {
      const ts = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}\+00$/;
      const years = new Set<string>();
      for (const { row } of SAMPLE) {
        assert.match(row.created_at, ts);
        assert.match(row.updated_at, ts);
        assert.ok(row.updated_at >= row.created_at, `${row.customer_code}`);
        years.add(row.created_at.slice(0, 4));
      }
      assert.ok(years.size >= 10, `${years.size} years`);
      assert.ok(SAMPLE.some((g) => !g.row.created_at.endsWith('000+00')));
    });

    it('formats timestamps exactly (no Date rounding)', () => {
      assert.equal(formatTimestamp(Date.UTC(2019, 3, 1, 10, 22, 33) * 1000 + 123456), '2019-04-01 10:22:33.123456+00');
      assert.equal(formatTimestamp(Date.UTC(2024, 1, 29, 23, 59, 59) * 1000 + 999999), '2024-02-29 23:59:59.999999+00');
      assert.equal(formatTimestamp(Date.UTC(2000, 0, 1) * 1000 + 7), '2000-01-01 00:00:00.000007+00');
      const rng = new Rng(5);
      for (let i = 0; i < 2000; i++) {
        const ms = Math.floor(rng.next() * Date.UTC(2100, 0, 1));
        assert.equal(formatTimestamp(ms * 1000 + 42), new Date(ms).toISOString().replace('T', ' ').replace('Z', '042+00'));
      }
    });
  });

  describe('COPY text format', () => {
    const specials = [
      '',
      'plain',
      '\\',
      '\\N',
      '\\.',
      'a\tb',
      'line1\nline2',
      'cr\rlf\r\n',
      'C:\\Users\\x\\new',
      'ends\\',
      '\b\f\v\u0001\u0007\u001b\u007f',
      'emoji 🙂👩🏾‍💼 and 李小龙 and \u2028 and \uFEFF',
      '\t\u00A0 padded \u00A0\t',
      LONG_VALUE,
    ];

    it('escapes backslash, tab, newline and carriage return, and writes null as \\N', () => {
      assert.equal(escapeCopyText(null), '\\N');
      assert.equal(escapeCopyText('\\N'), '\\\\N');
      assert.equal(escapeCopyText('a\tb\nc\rd\\e'), 'a\\tb\\nc\\rd\\\\e');
      assert.equal(escapeCopyText('plain text'), 'plain text');
      for (const s of specials) assert.ok(!/[\t\n\r]/.test(escapeCopyText(s)), JSON.stringify(s));
    });

    it('round-trips every special value', () => {
      assert.equal(unescapeCopyText('\\N'), null);
      for (const s of specials) assert.equal(unescapeCopyText(escapeCopyText(s)), s, JSON.stringify(s));
    });

    it('writes lines that split back into the original row', () => {
      for (const g of SAMPLE) {
        const line = toCopyLine(g.row);
        assert.ok(line.endsWith('\n'));
        const fields = line.slice(0, -1).split('\t');
        assert.equal(fields.length, EFZ_COLUMNS.length);
        EFZ_COLUMNS.forEach((column, i) => {
          const value = g.row[column];
          const expected = value === null ? null : typeof value === 'boolean' ? (value ? 't' : 'f') : String(value);
          assert.equal(unescapeCopyText(fields[i]), expected, `${g.row.customer_code}.${column}`);
        });
      }
    });

    it('has a fast encoder that writes exactly the bytes of toCopyLine, in bounded chunks', () => {
      const encoder = new CopyEncoder(64 * 1024);
      const chunks: Buffer[] = [];
      let expected = '';
      for (const g of SAMPLE) {
        expected += toCopyLine(g.row);
        const full = encoder.push(g.row);
        if (full) chunks.push(full);
      }
      const last = encoder.flush();
      if (last) chunks.push(last);
      assert.ok(Buffer.concat(chunks).equals(Buffer.from(expected, 'utf8')));
      assert.ok(chunks.length > 10);
      assert.ok(chunks.every((c) => c.length <= 64 * 1024));
      assert.equal(encoder.flush(), null);
    });

    it('refuses a NUL character, which PostgreSQL text cannot hold', () => {
      const row = { ...generateRow(1, 1).row, city: 'a\0b' };
      assert.throws(() => new CopyEncoder().push(row), /NUL/);
    });
  });
});

describe('seed CLI arguments', () => {
  it('parses the documented flags', () => {
    assert.deepEqual(parseSeedArgs(['--rows', '1000']), { kind: 'seed', rows: 1000, seed: 1, startCode: 1, truncate: true });
    assert.deepEqual(parseSeedArgs(['--rows=1_000_000', '--seed', '7', '--start-code', '5000001', '--no-truncate']), {
      kind: 'seed',
      rows: 1_000_000,
      seed: 7,
      startCode: 5_000_001,
      truncate: false,
    });
    assert.deepEqual(parseSeedArgs(['--mutate', '0.1', '--seed', '3']), { kind: 'mutate', fraction: 0.1, seed: 3 });
    assert.deepEqual(parseSeedArgs(['--help']), { kind: 'help' });
  });

  it('rejects bad arguments with a usage error', () => {
    for (const argv of [
      [],
      ['--rows'],
      ['--rows', 'abc'],
      ['--rows', '1.5'],
      ['--rows', '-3'],
      ['--rows', '10', '--bogus'],
      ['--rows', '10', 'extra'],
      ['--rows', '10', '--rows', '20'],
      ['--rows', '10', '--start-code', '0'],
      ['--rows', '10', '--seed', '4294967296'],
      ['--mutate', '0'],
      ['--mutate', '1.5'],
      ['--mutate', '0.1', '--rows', '5'],
    ]) {
      assert.throws(() => parseSeedArgs(argv), UsageError, JSON.stringify(argv));
    }
  });
});
