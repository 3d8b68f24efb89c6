import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MappingConfigError, compileMapping, loadMappingFile } from '../../mapping';
import {
  CONSTANTS,
  CORPORATE_ROW,
  INDIVIDUAL_PROFILE_DATA,
  INDIVIDUAL_ROW,
  MAPPING_FILE,
  compile,
  defaultMapping,
  individual,
  mapOk,
  mapRejected,
  mappingDocument,
  profileData,
} from './mapping-fixtures';

/** Asserts that compiling `doc` fails with a MappingConfigError naming `jsonPath`, and the detail matching `detail`. */
function assertBroken(doc: unknown, jsonPath: string, detail: RegExp): MappingConfigError {
  let caught: unknown;
  try {
    compile(doc);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof MappingConfigError, `expected a MappingConfigError, got ${String(caught)}`);
  assert.equal(caught.name, 'MappingConfigError');
  assert.equal(caught.jsonPath, jsonPath, caught.message);
  assert.match(caught.detail, detail);
  assert.ok(caught.message.includes(jsonPath), caught.message);
  assert.ok(!caught.message.includes('\n'), 'the message is one line');
  return caught;
}

describe('mapping document', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mapping-test-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const writeFile = (name: string, text: string): string => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    return file;
  };

  describe('the shipped mapping file', () => {
    it('describes the source extract', () => {
      const { source } = defaultMapping();
      assert.equal(source.schema, 'public');
      assert.equal(source.table, 'efz_customer');
      assert.equal(source.key, 'customer_code');
      assert.equal(source.watermark, 'updated_at');
      assert.equal(source.columns.length, 37);
      assert.deepStrictEqual(source.columns.slice(0, 3), ['customer_code', 'customer_type', 'title']);
      assert.ok(source.columns.includes('is_deleted'));
    });
    it('describes the destination tables and upsert keys', () => {
      const { destination } = defaultMapping();
      assert.equal(destination.schema, 'public');
      assert.equal(destination.customerTable, 'customer');
      assert.equal(destination.profileTable, 'customer_profile');
      assert.equal(destination.customerKey, 'customerId');
      assert.equal(destination.profileKey, 'customerProfileId');
    });
    it('takes tenant and migration user from the constants, not from the file', () => {
      const other = loadMappingFile(MAPPING_FILE, { tenantId: 'T', migrationUserId: 'U', migrationUserName: 'CUTOVER_BOT' });
      const r = mapOk(INDIVIDUAL_ROW, other);
      assert.equal(r.customer.tenantId, 'T');
      assert.equal(r.customer.approverId, 'U');
      assert.equal(r.customer.initiatorId, 'U');
      assert.equal(r.customer.approver, 'CUTOVER_BOT');
      assert.equal(r.customer.initiator, 'CUTOVER_BOT');
    });
    it('accepts "$comment" annotations anywhere', () => {
      const doc = mappingDocument();
      doc.$comment = 'top';
      doc.rows.customer.status.$comment = 'inside an expression';
      assert.equal(mapOk(INDIVIDUAL_ROW, compile(doc)).customer.status, 'ACTIVE');
    });
    it('does not change the document it compiles', () => {
      const doc = mappingDocument();
      const before = JSON.stringify(doc);
      compile(doc);
      assert.equal(JSON.stringify(doc), before);
    });
  });

  describe('changing the mapping changes the output, without code', () => {
    it('renames a jsonb key', () => {
      const doc = mappingDocument();
      const layout = doc.rows.profile.customerProfileData.byType.INDIVIDUAL.object;
      doc.rows.profile.customerProfileData.byType.INDIVIDUAL.object = Object.fromEntries(
        Object.entries(layout).map(([k, v]) => [k === 'phoneNumber' ? 'mobileNumber' : k, v]),
      );
      const data = profileData(mapOk(INDIVIDUAL_ROW, compile(doc)));
      assert.equal(data.mobileNumber, '+2348031234567');
      assert.ok(!('phoneNumber' in data));
    });
    it('adds a customer type spelling', () => {
      const doc = mappingDocument();
      assert.equal(mapRejected(individual({ customer_type: 'personal' })).reject.reason, 'UNKNOWN_CUSTOMER_TYPE');
      doc.fields.customerType.normaliser.values.personal = 'INDIVIDUAL';
      assert.equal(mapOk(individual({ customer_type: 'Personal' }), compile(doc)).customerType, 'INDIVIDUAL');
    });
    it('adds a status entry and changes the default status', () => {
      const doc = mappingDocument();
      doc.fields.status.normaliser.values.FROZEN = 'SUSPENDED';
      doc.fields.status.default = 'DORMANT';
      const m = compile(doc);
      assert.equal(mapOk(individual({ status: 'frozen' }), m).customer.status, 'SUSPENDED');
      assert.equal(mapOk(individual({ status: null }), m).customer.status, 'DORMANT');
    });
    it('changes a lookup table of values and a constant', () => {
      const doc = mappingDocument();
      doc.rows.customer.CategoryOfCustomer.values.INDIVIDUAL = 'PERSONAL';
      doc.rows.customer.approvalStatus.const = 'PENDING';
      const r = mapOk(INDIVIDUAL_ROW, compile(doc));
      assert.equal(r.customer.CategoryOfCustomer, 'PERSONAL');
      assert.equal(r.customer.approvalStatus, 'PENDING');
    });
    it('changes the customer number width', () => {
      const doc = mappingDocument();
      doc.rows.profile.customerNumber.length = 12;
      assert.equal(mapOk(INDIVIDUAL_ROW, compile(doc)).profile.customerNumber, '000000012345');
    });
    it('turns a warning into a reject', () => {
      const doc = mappingDocument();
      doc.warnings = doc.warnings.filter((w: { field: string }) => w.field !== 'email');
      doc.rejects.order.push('INVALID_EMAIL');
      doc.rejects.rules.push({ code: 'INVALID_EMAIL', field: 'email', when: 'invalid' });
      const r = mapRejected(individual({ email: 'nope' }), compile(doc));
      assert.deepStrictEqual(r.reject, { severity: 'REJECT', reason: 'INVALID_EMAIL', field: 'email', value: 'nope' });
    });
    it('reorders reject precedence', () => {
      const doc = mappingDocument();
      const order: string[] = doc.rejects.order;
      doc.rejects.order = [order[0], 'UNKNOWN_STATUS', ...order.slice(1).filter((c) => c !== 'UNKNOWN_STATUS')];
      const row = individual({ bvn: '1', status: 'pending' });
      assert.equal(mapRejected(row).reject.reason, 'INVALID_BVN');
      assert.equal(mapRejected(row, compile(doc)).reject.reason, 'UNKNOWN_STATUS');
    });
    it('changes the date of birth window', () => {
      const doc = mappingDocument();
      doc.fields.dateOfBirth.normaliser.min = '1920-01-01';
      assert.equal(mapRejected(individual({ date_of_birth: '1919-12-31' }), compile(doc)).reject.reason, 'INVALID_DATE_OF_BIRTH');
      assert.equal(profileData(mapOk(individual({ date_of_birth: '1919-12-31' }))).dateOfBirth, '1919-12-31');
    });
    it('changes the phone country code', () => {
      const doc = mappingDocument();
      Object.assign(doc.fields.phone.normaliser, { countryCode: '44', nationalPrefix: '0', nationalDigits: 10 });
      assert.equal(profileData(mapOk(individual({ phone: '07911 123456' }), compile(doc))).phoneNumber, '+447911123456');
    });
    it('adds a key to a layout, and a condition on the type', () => {
      const doc = mappingDocument();
      doc.rows.profile.customerProfileData.byType.INDIVIDUAL.object.isCorporate = { equals: ['customerType', 'CORPORATE'] };
      doc.rows.profile.customerProfileData.byType.INDIVIDUAL.object.source = { const: 'EFZ' };
      const data = profileData(mapOk(INDIVIDUAL_ROW, compile(doc)));
      assert.deepStrictEqual(data, { ...INDIVIDUAL_PROFILE_DATA, isCorporate: false, source: 'EFZ' });
    });
    it('makes a field count for a type by changing its types', () => {
      const doc = mappingDocument();
      doc.rows.customer.requiresRegularization.anyOf[0] = { missing: 'bvn' }; // every type now
      assert.equal(mapOk({ ...CORPORATE_ROW, bvn: null }, compile(doc)).customer.requiresRegularization, true);
    });
  });

  describe('broken mapping files are refused with a MappingConfigError', () => {
    it('names the file and the position of bad JSON', () => {
      const file = writeFile('bad.json', '{\n  "version": 1,\n  "source": {,\n}');
      assert.throws(
        () => loadMappingFile(file, CONSTANTS),
        (e: unknown) => {
          assert.ok(e instanceof MappingConfigError);
          assert.ok(e.message.includes(file), e.message);
          assert.match(e.message, /not valid JSON.*line 3/);
          return true;
        },
      );
    });
    it('names a file that cannot be read', () => {
      const file = path.join(tmp, 'missing.json');
      assert.throws(
        () => loadMappingFile(file, CONSTANTS),
        (e: unknown) => e instanceof MappingConfigError && e.message.includes(file) && /cannot read/.test(e.message),
      );
    });
    it('refuses an SQL identifier that is not one, naming the file and the JSON path', () => {
      const doc = mappingDocument();
      doc.source.table = 'efz_customer; DROP TABLE customer';
      const file = writeFile('inject.json', JSON.stringify(doc, null, 2));
      assert.throws(
        () => loadMappingFile(file, CONSTANTS),
        (e: unknown) => {
          assert.ok(e instanceof MappingConfigError);
          assert.equal(
            e.message,
            `invalid mapping file ${file}: $.source.table: must be an SQL identifier matching ^[A-Za-z_][A-Za-z0-9_]*$ (got "efz_customer; DROP TABLE customer")`,
          );
          return true;
        },
      );
    });
    it('refuses bad identifiers in every SQL position', () => {
      const cases: Array<[(d: any) => void, string]> = [
        [
          (d) => {
            d.source.schema = 'public"';
          },
          '$.source.schema',
        ],
        [
          (d) => {
            d.source.columns[3] = 'first name';
          },
          '$.source.columns[3]',
        ],
        [
          (d) => {
            d.destination.customer.table = 'customer--';
          },
          '$.destination.customer.table',
        ],
        [
          (d) => {
            d.destination.profile.columns[0] = '1col';
          },
          '$.destination.profile.columns[0]',
        ],
        [
          (d) => {
            d.destination.customer.key = '';
          },
          '$.destination.customer.key',
        ],
        [
          (d) => {
            d.fields.title.source = 'title)';
          },
          '$.fields.title.source',
        ],
      ];
      for (const [mutate, jsonPath] of cases) {
        const doc = mappingDocument();
        mutate(doc);
        assertBroken(doc, jsonPath, /SQL identifier/);
      }
    });
    it('refuses schema violations', () => {
      const doc = mappingDocument();
      doc.version = 2;
      assertBroken(doc, '$.version', /Invalid literal value, expected 1/);
      const extra = mappingDocument();
      extra.fields.title.normalizer = { kind: 'upper' };
      assertBroken(extra, '$.fields.title', /Unrecognized key.*normalizer/);
      assertBroken('not an object', '$', /Expected object/);
    });
    it('refuses an unknown normaliser', () => {
      const doc = mappingDocument();
      doc.fields.gender.normaliser.kind = 'soundex';
      assertBroken(doc, '$.fields.gender.normaliser.kind', /Invalid discriminator value/);
    });
    it('refuses a field reading a source column that is not extracted', () => {
      const doc = mappingDocument();
      doc.fields.title.source = 'salutation';
      assertBroken(doc, '$.fields.title.source', /source column "salutation" is not in source.columns/);
    });
    it('refuses a jsonb layout key referring to no field', () => {
      const doc = mappingDocument();
      doc.rows.profile.customerProfileData.byType.CORPORATE.object.taxId = { field: 'taxNumber' };
      assertBroken(doc, '$.rows.profile.customerProfileData.byType.CORPORATE.object.taxId.field', /unknown field "taxNumber"/);
    });
    it('refuses an expression that is not one', () => {
      const doc = mappingDocument();
      doc.rows.customer.approvalStatus = { const: 'APPROVED', field: 'status' };
      assertBroken(doc, '$.rows.customer.approvalStatus', /exactly one operator key/);
      const nested = mappingDocument();
      nested.rows.customer.requiresRegularization.anyOf[1] = { missingg: 'idNumber' };
      assertBroken(nested, '$.rows.customer.requiresRegularization.anyOf[1]', /operator key.*missingg/);
      const wrongArg = mappingDocument();
      wrongArg.rows.customer.monitoring = { equals: ['riskRating'] };
      assertBroken(wrongArg, '$.rows.customer.monitoring.equals', /at least 2/);
    });
    it('refuses a layout that uses a field its type ignores', () => {
      const doc = mappingDocument();
      doc.rows.profile.customerProfileData.byType.CORPORATE.object.gender = { field: 'gender' };
      assertBroken(doc, '$.rows.profile.customerProfileData.byType.CORPORATE.object.gender.field', /not used by CORPORATE rows/);
      const cond = mappingDocument();
      cond.rows.customer.requiresRegularization.anyOf[2] = { missing: 'dateOfBirth' }; // no "types"
      assertBroken(cond, '$.rows.customer.requiresRegularization.anyOf[2].missing', /not used by CORPORATE rows/);
    });
    it('refuses a layout missing for a customer type, or for an unknown type', () => {
      const doc = mappingDocument();
      delete doc.rows.profile.customerProfileData.byType.CORPORATE;
      assertBroken(doc, '$.rows.profile.customerProfileData.byType', /no entry for customer type "CORPORATE"/);
      const unknown = mappingDocument();
      unknown.rows.profile.customerProfileData.byType.GOVERNMENT = { const: null };
      assertBroken(unknown, '$.rows.profile.customerProfileData.byType.GOVERNMENT', /unknown customer type "GOVERNMENT"/);
    });
    it('refuses destination columns without an expression, and expressions without a column', () => {
      const doc = mappingDocument();
      delete doc.rows.customer.monitoring;
      assertBroken(doc, '$.rows.customer', /no expression for column "monitoring"/);
      const extra = mappingDocument();
      extra.rows.profile.notes = { const: null };
      assertBroken(extra, '$.rows.profile.notes', /not a column of customer_profile/);
      const key = mappingDocument();
      key.destination.customer.key = 'id';
      assertBroken(key, '$.destination.customer.key', /not in destination.customer.columns/);
    });
    it('refuses bad normaliser parameters', () => {
      const regex = mappingDocument();
      regex.fields.bvn.normaliser.pattern = '^[0-9{11}$';
      assertBroken(regex, '$.fields.bvn.normaliser', /invalid regular expression/);
      const date = mappingDocument();
      date.fields.dateOfBirth.normaliser.formats.push('DD/MM/YY');
      assertBroken(date, '$.fields.dateOfBirth.normaliser', /unknown token/);
      const bound = mappingDocument();
      bound.fields.dateOfBirth.normaliser.max = 'today';
      assertBroken(bound, '$.fields.dateOfBirth.normaliser.max', /YYYY-MM-DD or "runDate"/);
    });
    it('refuses reject and warning rules that do not fit', () => {
      const code = mappingDocument();
      code.rejects.rules[4].code = 'BAD_BVN';
      assertBroken(code, '$.rejects.rules[4].code', /not listed in rejects.order/);
      const unused = mappingDocument();
      unused.rejects.order.push('NEVER_USED');
      assertBroken(unused, '$.rejects.order[7]', /no rule .* has code "NEVER_USED"/);
      const field = mappingDocument();
      field.warnings[0].field = 'dateOfIncorp';
      assertBroken(field, '$.warnings[0].field', /unknown field "dateOfIncorp"/);
      const never = mappingDocument();
      never.warnings.push({ code: 'INVALID_TITLE', field: 'title' });
      assertBroken(never, '$.warnings[6].field', /never invalid/);
      const typeFirst = mappingDocument();
      typeFirst.rejects.order.reverse();
      assertBroken(typeFirst, '$.rejects.order[0]', /must come first/);
    });
    it('refuses a field that could be invalid without a rule (nothing is dropped silently)', () => {
      const doc = mappingDocument();
      doc.warnings = doc.warnings.filter((w: { field: string }) => w.field !== 'gender');
      assertBroken(doc, '$.fields.gender.normaliser', /can be invalid but has no reject rule/);
    });
    it('refuses a customer type mapping to an undeclared type', () => {
      const doc = mappingDocument();
      doc.fields.customerType.normaliser.values.gov = 'GOVERNMENT';
      assertBroken(doc, '$.fields.customerType.normaliser.values.gov', /not one of customerType.values/);
    });
    it('refuses a lookup used without "get", or with an unknown property', () => {
      const doc = mappingDocument();
      doc.rows.customer.branchId = { field: 'branch' };
      assertBroken(doc, '$.rows.customer.branchId', /lookup: add "get"/);
      const prop = mappingDocument();
      prop.rows.customer.branchId.get = 'branchCode';
      assertBroken(prop, '$.rows.customer.branchId.get', /unknown lookup property "branchCode"/);
    });
    it('refuses "__proto__" as a name', () => {
      const doc = mappingDocument();
      doc.rows.profile.customerProfileData.byType.INDIVIDUAL.object = JSON.parse('{"__proto__": {"const": 1}}');
      assertBroken(doc, '$.rows.profile.customerProfileData.byType.INDIVIDUAL.object.__proto__', /__proto__/);
    });
    it('refuses missing constants', () => {
      assert.throws(
        () => compileMapping(mappingDocument(), { ...CONSTANTS, tenantId: '' }),
        (e: unknown) => e instanceof MappingConfigError && e.jsonPath === 'constants.tenantId',
      );
    });
  });
});
