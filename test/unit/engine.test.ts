import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { SourceRow } from '../../mapping/types';
import {
  BRANCHES,
  CONSTANTS,
  MAPPING_FILE,
  compile,
  mappingDocument,
  CORPORATE_PROFILE_DATA,
  CORPORATE_ROW,
  CTX,
  INDIVIDUAL_PROFILE_DATA,
  INDIVIDUAL_ROW,
  corporate,
  defaultMapping,
  individual,
  mapOk,
  mapRejected,
  profileData,
} from './mapping-fixtures';

const CUSTOMER_COLUMNS = [
  'customerId',
  'tenantId',
  'branchId',
  'branch',
  'approverId',
  'approver',
  'initiatorId',
  'initiator',
  'customerType',
  'CategoryOfCustomer',
  'CategoryOfBusiness',
  'status',
  'approvalStatus',
  'requiresRegularization',
  'isAutoReactivityOnly',
  'monitoring',
  'isTerminated',
  'createdAt',
  'updatedAt',
];
const PROFILE_COLUMNS = ['customerProfileId', 'customerId', 'customerNumber', 'bvn', 'customerProfileData', 'createdAt', 'updatedAt'];

describe('mapping engine', () => {
  describe('full example rows (contract 4.3 / 4.4)', () => {
    it('maps the INDIVIDUAL example exactly, every column and every jsonb key', () => {
      const r = mapOk(INDIVIDUAL_ROW);
      assert.equal(r.customerType, 'INDIVIDUAL');
      assert.deepStrictEqual(r.warnings, []);
      assert.deepStrictEqual(r.customer, {
        customerId: CTX.customerId,
        tenantId: CONSTANTS.tenantId,
        branchId: 'aaaaaaaa-0000-4000-8000-000000000001',
        branch: 'Lagos Marina',
        approverId: CONSTANTS.migrationUserId,
        approver: 'DATA_MIGRATION',
        initiatorId: CONSTANTS.migrationUserId,
        initiator: 'DATA_MIGRATION',
        customerType: 'INDIVIDUAL',
        CategoryOfCustomer: 'RETAIL',
        CategoryOfBusiness: null,
        status: 'ACTIVE',
        approvalStatus: 'APPROVED',
        requiresRegularization: false,
        isAutoReactivityOnly: false,
        monitoring: false,
        isTerminated: false,
        createdAt: '2024-01-02 03:04:05.123456+00',
        updatedAt: '2024-03-04 05:06:07.654321+00',
      });
      assert.deepStrictEqual(r.profile, {
        customerProfileId: CTX.customerProfileId,
        customerId: CTX.customerId,
        customerNumber: '0000012345',
        bvn: '22123456789',
        customerProfileData: INDIVIDUAL_PROFILE_DATA,
        createdAt: '2024-01-02 03:04:05.123456+00',
        updatedAt: '2024-03-04 05:06:07.654321+00',
      });
    });

    it('maps the CORPORATE example exactly, every column and every jsonb key', () => {
      const r = mapOk(CORPORATE_ROW);
      assert.equal(r.customerType, 'CORPORATE');
      assert.deepStrictEqual(r.warnings, []);
      assert.deepStrictEqual(r.customer, {
        customerId: CTX.customerId,
        tenantId: CONSTANTS.tenantId,
        branchId: 'aaaaaaaa-0000-4000-8000-000000000002',
        branch: 'Abuja Central',
        approverId: CONSTANTS.migrationUserId,
        approver: 'DATA_MIGRATION',
        initiatorId: CONSTANTS.migrationUserId,
        initiator: 'DATA_MIGRATION',
        customerType: 'CORPORATE',
        CategoryOfCustomer: 'SME',
        CategoryOfBusiness: 'FOOD PROCESSING',
        status: 'ACTIVE',
        approvalStatus: 'APPROVED',
        requiresRegularization: false,
        isAutoReactivityOnly: false,
        monitoring: false,
        isTerminated: false,
        createdAt: '2023-12-31 23:59:59.999999+00',
        updatedAt: '2024-01-01 00:00:00.000001+00',
      });
      assert.deepStrictEqual(r.profile, {
        customerProfileId: CTX.customerProfileId,
        customerId: CTX.customerId,
        customerNumber: '0000000007',
        bvn: null,
        customerProfileData: CORPORATE_PROFILE_DATA,
        createdAt: '2023-12-31 23:59:59.999999+00',
        updatedAt: '2024-01-01 00:00:00.000001+00',
      });
    });

    it('writes destination keys in DDL order, and jsonb keys in the contract order', () => {
      for (const row of [INDIVIDUAL_ROW, CORPORATE_ROW]) {
        const r = mapOk(row);
        assert.deepStrictEqual(Object.keys(r.customer), CUSTOMER_COLUMNS);
        assert.deepStrictEqual(Object.keys(r.profile), PROFILE_COLUMNS);
      }
      assert.deepStrictEqual(Object.keys(profileData(mapOk(INDIVIDUAL_ROW))), Object.keys(INDIVIDUAL_PROFILE_DATA));
      assert.deepStrictEqual(Object.keys(profileData(mapOk(CORPORATE_ROW))), Object.keys(CORPORATE_PROFILE_DATA));
      assert.deepStrictEqual(defaultMapping().destination.customerColumns, CUSTOMER_COLUMNS);
      assert.deepStrictEqual(defaultMapping().destination.profileColumns, PROFILE_COLUMNS);
    });

    it('keeps address and identification as objects with every key when every part is missing', () => {
      const blank = { address_line1: null, address_line2: ' ', city: null, state: '', country: null, postal_code: null };
      const ind = profileData(mapOk(individual({ ...blank, id_type: null, id_number: null, id_expiry_date: '  ' })));
      assert.deepStrictEqual(ind.address, { line1: null, line2: null, city: null, state: null, country: null, postalCode: null });
      assert.deepStrictEqual(ind.identification, { type: null, number: null, expiryDate: null });
      const corp = profileData(mapOk(corporate(blank)));
      assert.deepStrictEqual(corp.address, { line1: null, line2: null, city: null, state: null, country: null, postalCode: null });
    });

    it('writes every INDIVIDUAL key as null when only the required values are present', () => {
      const minimal: SourceRow = { customer_code: 1, customer_type: 'ind', first_name: 'A', last_name: 'B', branch_code: 'LAG001' };
      const data = profileData(mapOk(minimal));
      assert.deepStrictEqual(Object.keys(data), Object.keys(INDIVIDUAL_PROFILE_DATA));
      assert.equal(data.fullName, 'A B');
      assert.equal(data.kycLevel, null);
      assert.equal(data.email, null);
    });

    it('returns a plain object that JSON serialises to the same structure', () => {
      const data = profileData(mapOk(INDIVIDUAL_ROW));
      assert.equal(Object.getPrototypeOf(data), Object.prototype);
      assert.deepStrictEqual(JSON.parse(JSON.stringify(data)), INDIVIDUAL_PROFILE_DATA);
    });

    it('builds fresh objects for every row', () => {
      const a = mapOk(INDIVIDUAL_ROW);
      const b = mapOk(INDIVIDUAL_ROW);
      assert.notEqual(a.customer, b.customer);
      assert.notEqual(profileData(a).address, profileData(b).address);
    });
  });

  describe('customer type', () => {
    it('maps every legacy spelling in any case', () => {
      for (const t of ['individual', 'IND', ' Retail ', 'INDIVIDUAL', '\tind\u00a0'])
        assert.equal(mapOk(individual({ customer_type: t })).customerType, 'INDIVIDUAL', t);
      for (const t of ['sme', 'SME', 'Corporate', 'CORP', ' business ']) assert.equal(mapOk(corporate({ customer_type: t })).customerType, 'CORPORATE', t);
    });
    it('rejects an unknown, missing or blank type with UNKNOWN_CUSTOMER_TYPE and a null customerType', () => {
      for (const [t, value] of [
        ['Person', 'Person'],
        [' indiv ', ' indiv '],
        ['individual corp', 'individual corp'],
        [null, null],
        ['   ', '   '],
        [undefined, null],
      ] as const) {
        const r = mapRejected(individual({ customer_type: t as string | null }));
        assert.equal(r.customerType, null);
        assert.deepStrictEqual(r.reject, { severity: 'REJECT', reason: 'UNKNOWN_CUSTOMER_TYPE', field: 'customer_type', value });
      }
    });
    it('exposes the types the mapping can produce', () => {
      assert.deepStrictEqual(defaultMapping().customerTypes, ['INDIVIDUAL', 'CORPORATE']);
    });
  });

  describe('names', () => {
    it('joins present trimmed first, middle and last names with one space', () => {
      assert.equal(profileData(mapOk(individual({ middle_name: ' Ngozi ' }))).fullName, 'Adaeze Ngozi Okafor');
      assert.equal(profileData(mapOk(individual({ middle_name: null }))).fullName, 'Adaeze Okafor');
      assert.equal(profileData(mapOk(individual({ first_name: '\u00a0Mary  Jane\t', middle_name: '\t' }))).fullName, 'Mary  Jane Okafor');
    });
    it('keeps the names in their given case, trimmed', () => {
      const data = profileData(mapOk(individual({ first_name: ' aDAEZE ', last_name: "O'KAFOR " })));
      assert.equal(data.firstName, 'aDAEZE');
      assert.equal(data.lastName, "O'KAFOR");
    });
    it('rejects an INDIVIDUAL without a first name or a last name (MISSING_NAME)', () => {
      assert.deepStrictEqual(mapRejected(individual({ first_name: null })).reject, {
        severity: 'REJECT',
        reason: 'MISSING_NAME',
        field: 'first_name',
        value: null,
      });
      assert.deepStrictEqual(mapRejected(individual({ last_name: ' \t ' })).reject, {
        severity: 'REJECT',
        reason: 'MISSING_NAME',
        field: 'last_name',
        value: ' \t ',
      });
      assert.equal(mapRejected(individual({ first_name: '', last_name: '' })).reject.reason, 'MISSING_NAME');
      assert.equal(mapRejected(individual({ first_name: null })).customerType, 'INDIVIDUAL');
    });
    it('rejects a CORPORATE without a business name (MISSING_BUSINESS_NAME)', () => {
      const r = mapRejected(corporate({ business_name: '  ' }));
      assert.equal(r.customerType, 'CORPORATE');
      assert.deepStrictEqual(r.reject, { severity: 'REJECT', reason: 'MISSING_BUSINESS_NAME', field: 'business_name', value: '  ' });
    });
    it('does not ask a CORPORATE for personal names nor an INDIVIDUAL for a business name', () => {
      assert.equal(mapOk(corporate({ first_name: null, last_name: null })).customerType, 'CORPORATE');
      assert.equal(mapOk(individual({ business_name: null })).customerType, 'INDIVIDUAL');
    });
  });

  describe('bvn', () => {
    it('keeps a valid bvn as text with its leading zeros', () => {
      assert.equal(mapOk(individual({ bvn: ' 01234567890 ' })).profile.bvn, '01234567890');
    });
    it('rejects a present bvn that is not 11 digits, for both types (INVALID_BVN)', () => {
      assert.deepStrictEqual(mapRejected(individual({ bvn: '1234567890' })).reject, {
        severity: 'REJECT',
        reason: 'INVALID_BVN',
        field: 'bvn',
        value: '1234567890',
      });
      assert.equal(mapRejected(corporate({ bvn: '2212345678X' })).reject.reason, 'INVALID_BVN');
      assert.equal(mapRejected(individual({ bvn: 'N/A' })).reject.reason, 'INVALID_BVN');
    });
    it('allows a missing bvn (null)', () => {
      assert.equal(mapOk(individual({ bvn: '   ' })).profile.bvn, null);
    });
  });

  describe('date of birth', () => {
    it('writes every accepted format as YYYY-MM-DD', () => {
      for (const v of ['1987-03-05', '05/03/1987', '05-03-1987', '05-MAR-1987', '19870305']) {
        assert.equal(profileData(mapOk(individual({ date_of_birth: v }))).dateOfBirth, '1987-03-05', v);
      }
    });
    it('rejects an unparseable, future or pre-1900 date of birth (INVALID_DATE_OF_BIRTH)', () => {
      for (const v of ['31/02/1990', '1987-3-5', 'unknown', '2024-06-02', '31-Dec-1899', '29/02/1900']) {
        assert.deepStrictEqual(mapRejected(individual({ date_of_birth: v })).reject, {
          severity: 'REJECT',
          reason: 'INVALID_DATE_OF_BIRTH',
          field: 'date_of_birth',
          value: v,
        });
      }
    });
    it('allows 1900-01-01 and the run date itself', () => {
      assert.equal(profileData(mapOk(individual({ date_of_birth: '01/01/1900' }))).dateOfBirth, '1900-01-01');
      assert.equal(profileData(mapOk(individual({ date_of_birth: CTX.runDate }))).dateOfBirth, CTX.runDate);
      assert.equal(profileData(mapOk(individual({ date_of_birth: '29/02/2000' }))).dateOfBirth, '2000-02-29');
    });
    it('measures "the future" against ctx.runDate', () => {
      const row = individual({ date_of_birth: '2024-06-02' });
      assert.equal(profileData(mapOk(row, defaultMapping(), { ...CTX, runDate: '2024-06-02' })).dateOfBirth, '2024-06-02');
    });
    it('ignores a CORPORATE date of birth entirely', () => {
      const r = mapOk(corporate({ date_of_birth: 'garbage' }));
      assert.deepStrictEqual(r.warnings, []);
      assert.ok(!('dateOfBirth' in profileData(r)));
    });
  });

  describe('branch', () => {
    it('looks the trimmed, upper-cased branch_code up in branch_map', () => {
      const r = mapOk(individual({ branch_code: '\tlAg001 ' }));
      assert.equal(r.customer.branchId, 'aaaaaaaa-0000-4000-8000-000000000001');
      assert.equal(r.customer.branch, 'Lagos Marina');
    });
    it('rejects a missing or unknown branch code (UNKNOWN_BRANCH)', () => {
      for (const v of [null, ' ', 'LAG999', 'LAG 001']) {
        assert.deepStrictEqual(mapRejected(individual({ branch_code: v })).reject, {
          severity: 'REJECT',
          reason: 'UNKNOWN_BRANCH',
          field: 'branch_code',
          value: v,
        });
      }
      assert.equal(mapRejected(corporate({ branch_code: 'nowhere' })).reject.reason, 'UNKNOWN_BRANCH');
    });
    it('rejects every row when branch_map is empty', () => {
      const r = defaultMapping().mapRow(INDIVIDUAL_ROW, CTX, new Map());
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reject.reason, 'UNKNOWN_BRANCH');
    });
  });

  describe('status', () => {
    const status = (row: SourceRow): unknown => mapOk(row).customer.status;
    it('maps ACTIVE, DORMANT/INACTIVE, BLOCKED and CLOSED in any case', () => {
      assert.equal(status(individual({ status: 'active' })), 'ACTIVE');
      assert.equal(status(individual({ status: ' Dormant ' })), 'DORMANT');
      assert.equal(status(individual({ status: 'INACTIVE' })), 'DORMANT');
      assert.equal(status(individual({ status: 'blocked' })), 'SUSPENDED');
      assert.equal(status(individual({ status: 'Closed' })), 'CLOSED');
    });
    it('defaults a missing status to ACTIVE', () => {
      assert.equal(status(individual({ status: null })), 'ACTIVE');
      assert.equal(status(individual({ status: '\t' })), 'ACTIVE');
    });
    it('rejects any other status (UNKNOWN_STATUS)', () => {
      for (const v of ['SUSPENDED', 'pending', 'ACTIVE1', 'activ']) {
        assert.deepStrictEqual(mapRejected(individual({ status: v })).reject, {
          severity: 'REJECT',
          reason: 'UNKNOWN_STATUS',
          field: 'status',
          value: v,
        });
      }
    });
    it('is CLOSED when is_deleted is true, whatever status says, unknown values included', () => {
      for (const v of ['ACTIVE', 'blocked', null, 'pending', '???']) {
        const r = mapOk(individual({ status: v, is_deleted: true }));
        assert.equal(r.customer.status, 'CLOSED', String(v));
        assert.equal(r.customer.isTerminated, true);
      }
    });
    it('sets isTerminated only when the mapped status is CLOSED', () => {
      assert.equal(mapOk(individual({ status: 'closed' })).customer.isTerminated, true);
      for (const v of ['active', 'dormant', 'blocked', null]) assert.equal(mapOk(individual({ status: v })).customer.isTerminated, false);
    });
  });

  describe('customer columns', () => {
    it('derives CategoryOfCustomer from the type and CategoryOfBusiness from a CORPORATE occupation', () => {
      assert.equal(mapOk(individual()).customer.CategoryOfCustomer, 'RETAIL');
      assert.equal(mapOk(corporate()).customer.CategoryOfCustomer, 'SME');
      assert.equal(mapOk(individual({ occupation: 'banker' })).customer.CategoryOfBusiness, null);
      assert.equal(mapOk(corporate({ occupation: ' oil and gas ' })).customer.CategoryOfBusiness, 'OIL AND GAS');
      assert.equal(mapOk(corporate({ occupation: null })).customer.CategoryOfBusiness, null);
    });
    it('upper-cases occupation wherever it is written', () => {
      assert.equal(profileData(mapOk(individual({ occupation: 'civil engineer' }))).occupation, 'CIVIL ENGINEER');
      assert.equal(profileData(mapOk(corporate({ occupation: 'retail' }))).natureOfBusiness, 'RETAIL');
    });
    it('sets monitoring only for risk rating HIGH and keeps other ratings upper-cased', () => {
      assert.equal(mapOk(individual({ risk_rating: ' high ' })).customer.monitoring, true);
      assert.equal(mapOk(corporate({ risk_rating: 'HIGH' })).customer.monitoring, true);
      for (const v of ['low', 'Medium', null, 'very high', 'HIGHEST']) assert.equal(mapOk(individual({ risk_rating: v })).customer.monitoring, false);
      assert.equal(profileData(mapOk(individual({ risk_rating: 'very high' }))).riskRating, 'VERY HIGH');
      assert.equal(profileData(mapOk(individual({ risk_rating: '' }))).riskRating, null);
    });
    it('passes timestamps through unchanged, microseconds and offsets included', () => {
      const created = '2019-07-01 00:00:00.000001+01:30';
      const updated = '2024-12-31 23:59:59.999999+00';
      const r = mapOk(individual({ created_at: created, updated_at: updated }));
      assert.equal(r.customer.createdAt, created);
      assert.equal(r.customer.updatedAt, updated);
      assert.equal(r.profile.createdAt, created);
      assert.equal(r.profile.updatedAt, updated);
    });
    it('pads customerNumber to 10 digits with zeros', () => {
      assert.equal(mapOk(individual({ customer_code: 12345 })).profile.customerNumber, '0000012345');
      assert.equal(mapOk(individual({ customer_code: 1 })).profile.customerNumber, '0000000001');
      assert.equal(mapOk(individual({ customer_code: 2147483647 })).profile.customerNumber, '2147483647');
      assert.equal(mapOk(individual({ customer_code: '42' })).profile.customerNumber, '0000000042');
    });
    it('keeps kycLevel a JSON number', () => {
      assert.equal(profileData(mapOk(individual({ kyc_level: 3 }))).kycLevel, 3);
      assert.equal(profileData(mapOk(individual({ kyc_level: ' 1 ' }))).kycLevel, 1);
      assert.equal(profileData(mapOk(individual({ kyc_level: 'two' }))).kycLevel, null);
    });
  });

  describe('requiresRegularization', () => {
    const rr = (row: SourceRow): unknown => mapOk(row).customer.requiresRegularization;
    it('is false when KYC is complete', () => {
      assert.equal(rr(individual()), false);
      assert.equal(rr(corporate()), false);
      assert.equal(rr(individual({ kyc_level: 5 })), false);
    });
    it('is true for an INDIVIDUAL without bvn, but not for a CORPORATE', () => {
      assert.equal(rr(individual({ bvn: null })), true);
      assert.equal(rr(corporate({ bvn: null })), false);
    });
    it('is true without id_number, for both types', () => {
      assert.equal(rr(individual({ id_number: ' ' })), true);
      assert.equal(rr(corporate({ id_number: null })), true);
    });
    it('is true for an INDIVIDUAL without date of birth, but not for a CORPORATE', () => {
      assert.equal(rr(individual({ date_of_birth: null })), true);
      assert.equal(rr(corporate({ date_of_birth: null })), false);
    });
    it('is true when kyc_level is missing or below 2', () => {
      assert.equal(rr(individual({ kyc_level: null })), true);
      assert.equal(rr(individual({ kyc_level: 1 })), true);
      assert.equal(rr(individual({ kyc_level: 0 })), true);
      assert.equal(rr(corporate({ kyc_level: 1 })), true);
      assert.equal(rr(individual({ kyc_level: 'abc' })), true);
      assert.equal(rr(individual({ kyc_level: 2 })), false);
      assert.equal(rr(individual({ kyc_level: '2' })), false);
    });
  });

  describe('warnings', () => {
    it('nulls an invalid gender with INVALID_GENDER', () => {
      const r = mapOk(individual({ gender: ' X ' }));
      assert.deepStrictEqual(r.warnings, [{ severity: 'WARNING', reason: 'INVALID_GENDER', field: 'gender', value: ' X ' }]);
      assert.equal(profileData(r).gender, null);
      assert.equal(profileData(mapOk(individual({ gender: 'MALE' }))).gender, 'MALE');
    });
    it('nulls an invalid email with INVALID_EMAIL', () => {
      const r = mapOk(corporate({ email: 'info@okaforfoods' }));
      assert.deepStrictEqual(r.warnings, [{ severity: 'WARNING', reason: 'INVALID_EMAIL', field: 'email', value: 'info@okaforfoods' }]);
      assert.equal(profileData(r).email, null);
    });
    it('nulls invalid phone numbers with INVALID_PHONE naming phone or alt_phone', () => {
      const r = mapOk(individual({ phone: 'N/A', alt_phone: '12345' }));
      assert.deepStrictEqual(r.warnings, [
        { severity: 'WARNING', reason: 'INVALID_PHONE', field: 'phone', value: 'N/A' },
        { severity: 'WARNING', reason: 'INVALID_PHONE', field: 'alt_phone', value: '12345' },
      ]);
      assert.equal(profileData(r).phoneNumber, null);
      assert.equal(profileData(r).alternatePhoneNumber, null);
      const alt = mapOk(corporate({ alt_phone: '+44 20 7946 0958' }));
      assert.equal(profileData(alt).alternatePhoneNumber, '+442079460958');
    });
    it('nulls an unparseable or future date_of_incorporation with INVALID_DATE', () => {
      for (const v of ['31/02/2011', 'last year', '2024-06-02']) {
        const r = mapOk(corporate({ date_of_incorporation: v }));
        assert.deepStrictEqual(r.warnings, [{ severity: 'WARNING', reason: 'INVALID_DATE', field: 'date_of_incorporation', value: v }]);
        assert.equal(profileData(r).dateOfIncorporation, null);
      }
      assert.equal(profileData(mapOk(corporate({ date_of_incorporation: CTX.runDate }))).dateOfIncorporation, CTX.runDate);
    });
    it('nulls an unparseable id_expiry_date with INVALID_DATE, and keeps a past one', () => {
      const r = mapOk(individual({ id_expiry_date: '31-Jun-2030' }));
      assert.deepStrictEqual(r.warnings, [{ severity: 'WARNING', reason: 'INVALID_DATE', field: 'id_expiry_date', value: '31-Jun-2030' }]);
      assert.equal(profileData(r).identification.expiryDate, null);
      assert.equal(profileData(mapOk(individual({ id_expiry_date: '01/01/2001' }))).identification.expiryDate, '2001-01-01');
      assert.equal(profileData(mapOk(individual({ id_expiry_date: '20350101' }))).identification.expiryDate, '2035-01-01');
    });
    it('raises no warning for missing or blank values', () => {
      const r = mapOk(individual({ gender: ' ', email: null, phone: '', alt_phone: '\t', id_expiry_date: null }));
      assert.deepStrictEqual(r.warnings, []);
      const c = mapOk(corporate({ date_of_incorporation: '  ', email: '' }));
      assert.deepStrictEqual(c.warnings, []);
    });
    it('reports the raw value as text when a non-string arrives', () => {
      const r = mapOk(individual({ phone: 12345 }));
      assert.deepStrictEqual(r.warnings, [{ severity: 'WARNING', reason: 'INVALID_PHONE', field: 'phone', value: '12345' }]);
    });
    it('collects several warnings on one row, which still loads', () => {
      const r = mapOk(individual({ gender: 'unknown', email: 'bad', phone: 'bad', id_expiry_date: 'bad' }));
      assert.deepStrictEqual(r.warnings.map((w) => w.field).sort(), ['email', 'gender', 'id_expiry_date', 'phone']);
      assert.ok(r.warnings.every((w) => w.severity === 'WARNING'));
    });
  });

  describe('fields a type does not use', () => {
    it("ignores an INDIVIDUAL's business fields and incorporation date: no output, no warning", () => {
      const r = mapOk(individual({ business_name: 'X Ltd', registration_number: 'RC1', tax_id: 'T1', date_of_incorporation: 'garbage' }));
      assert.deepStrictEqual(r.warnings, []);
      const data = profileData(r);
      for (const key of ['businessName', 'registrationNumber', 'taxId', 'dateOfIncorporation', 'natureOfBusiness']) assert.ok(!(key in data), key);
    });
    it("ignores a CORPORATE's personal fields and identification: no output, no warning", () => {
      const r = mapOk(
        corporate({
          title: 'Mr',
          first_name: 'A',
          middle_name: 'B',
          last_name: 'C',
          gender: 'robot',
          date_of_birth: 'never',
          marital_status: 'single',
          nationality: 'ng',
          id_type: 'nin',
          id_expiry_date: 'someday',
          employer_name: 'Acme',
        }),
      );
      assert.deepStrictEqual(r.warnings, []);
      assert.deepStrictEqual(profileData(r), CORPORATE_PROFILE_DATA);
    });
    it("still validates a CORPORATE's bvn and counts its id_number", () => {
      assert.equal(mapRejected(corporate({ bvn: '123' })).reject.reason, 'INVALID_BVN');
      assert.equal(mapOk(corporate({ id_number: null })).customer.requiresRegularization, true);
    });
  });

  describe('reject precedence', () => {
    // Every reason applies at once; fixing them one by one reveals the next in contract order.
    const allWrong: SourceRow = individual({
      customer_type: 'alien',
      first_name: null,
      bvn: '12',
      date_of_birth: '2999-01-01',
      branch_code: 'NOWHERE',
      status: 'pending',
      gender: 'x',
      email: 'bad',
    });
    const steps: Array<[string, SourceRow]> = [
      ['UNKNOWN_CUSTOMER_TYPE', {}],
      ['MISSING_NAME', { customer_type: 'individual' }],
      ['INVALID_BVN', { first_name: 'Ada' }],
      ['INVALID_DATE_OF_BIRTH', { bvn: '12345678901' }],
      ['UNKNOWN_BRANCH', { date_of_birth: '1990-01-01' }],
      ['UNKNOWN_STATUS', { branch_code: 'LAG001' }],
    ];
    it('rejects with the first applicable reason in the contract order, exactly one reject', () => {
      let row = allWrong;
      for (const [reason, fix] of steps) {
        row = { ...row, ...fix };
        const r = mapRejected(row);
        assert.equal(r.reject.reason, reason);
        assert.equal(r.reject.severity, 'REJECT');
        assert.equal(r.customerType, reason === 'UNKNOWN_CUSTOMER_TYPE' ? null : 'INDIVIDUAL');
      }
      const loaded = mapOk({ ...row, status: 'active' });
      assert.equal(loaded.warnings.length, 2); // gender and email: warnings survive only on loaded rows
    });
    it('puts MISSING_BUSINESS_NAME before INVALID_BVN, UNKNOWN_BRANCH and UNKNOWN_STATUS for a CORPORATE', () => {
      const r = mapRejected(corporate({ business_name: null, bvn: '1', branch_code: null, status: 'x' }));
      assert.equal(r.reject.reason, 'MISSING_BUSINESS_NAME');
      assert.equal(mapRejected(corporate({ bvn: '1', branch_code: null, status: 'x' })).reject.reason, 'INVALID_BVN');
      assert.equal(mapRejected(corporate({ branch_code: null, status: 'x' })).reject.reason, 'UNKNOWN_BRANCH');
    });
    it('records no warnings on a rejected row', () => {
      const r = mapRejected(individual({ status: 'pending', gender: 'x', email: 'bad' }));
      assert.deepStrictEqual(r.warnings, []);
    });
  });

  describe('robustness: never throws', () => {
    const mapping = defaultMapping();
    const long = 'x'.repeat(10_000);
    const nasty: unknown[] = [
      null,
      undefined,
      '',
      ' ',
      long,
      ` ${long} `,
      '😀',
      '👩‍👩‍👧‍👦 Family',
      '\u0000',
      '\u0001\u0002\u001f',
      '\ud800',
      'ǅ',
      'İ',
      '\u202e',
      0,
      -1,
      1.5,
      NaN,
      Infinity,
      -0,
      2 ** 53,
      true,
      false,
      {},
      [],
      [1, 2],
      new Date(0),
      Symbol('s'),
      10n,
      () => 1,
      {
        toString(): string {
          throw new Error('boom');
        },
      },
      Object.create(null),
      '05-mar-1987',
      '+2348031234567',
    ];
    const columns = mapping.source.columns;

    it('survives every odd value in every column', () => {
      for (const column of columns) {
        nasty.forEach((v, i) => {
          for (const base of [INDIVIDUAL_ROW, CORPORATE_ROW]) {
            const row = { ...base, [column]: v } as SourceRow;
            let r: unknown;
            assert.doesNotThrow(() => {
              r = mapping.mapRow(row, CTX, BRANCHES);
            }, `${column} = nasty[${i}]`);
            assert.equal(typeof (r as { ok: unknown }).ok, 'boolean');
          }
        });
      }
    });

    it('maps random dirty rows to either destination rows or exactly one known reject', () => {
      const reasons = new Set([
        'UNKNOWN_CUSTOMER_TYPE',
        'MISSING_NAME',
        'MISSING_BUSINESS_NAME',
        'INVALID_BVN',
        'INVALID_DATE_OF_BIRTH',
        'UNKNOWN_BRANCH',
        'UNKNOWN_STATUS',
      ]);
      let seed = 42;
      const rand = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      let loaded = 0;
      for (let i = 0; i < 3000; i++) {
        const base = i % 2 ? INDIVIDUAL_ROW : CORPORATE_ROW;
        const row: SourceRow = { ...base };
        for (const column of columns) if (rand(6) === 0) row[column] = nasty[rand(nasty.length)] as string;
        const r = mapping.mapRow(row, CTX, BRANCHES);
        if (r.ok) {
          loaded++;
          assert.deepStrictEqual(Object.keys(r.customer), CUSTOMER_COLUMNS);
          assert.deepStrictEqual(Object.keys(r.profile), PROFILE_COLUMNS);
          assert.ok(['INDIVIDUAL', 'CORPORATE'].includes(r.customerType));
          assert.doesNotThrow(() => JSON.stringify(r.profile.customerProfileData));
        } else {
          assert.ok(reasons.has(r.reject.reason), r.reject.reason);
          assert.equal(r.reject.severity, 'REJECT');
        }
      }
      assert.ok(loaded > 100, `only ${loaded} rows loaded`);
    });

    it('copes with numbers where text is expected', () => {
      const r = mapOk(individual({ first_name: 123, last_name: 456, city: 7, bvn: 12345678901 }));
      assert.equal(profileData(r).fullName, '123 456');
      assert.equal(profileData(r).address.city, '7');
      assert.equal(r.profile.bvn, '12345678901');
    });

    it('keeps emoji, control characters and 10,000-character values as given (trimmed)', () => {
      const r = mapOk(individual({ first_name: ' 😀\u0001 ', address_line1: ` ${long} ` }));
      assert.equal(profileData(r).firstName, '😀\u0001');
      assert.equal(profileData(r).address.line1, long);
    });

    it('reads a column named like an Object.prototype member only from the row itself', () => {
      const doc = mappingDocument();
      doc.source.columns.push('valueOf');
      doc.fields.accountOfficer.source = 'valueOf';
      const m = compile(doc);
      assert.equal(profileData(mapOk(INDIVIDUAL_ROW, m)).accountOfficer, null);
      assert.equal(profileData(mapOk({ ...INDIVIDUAL_ROW, valueOf: ' AO-9 ' }, m)).accountOfficer, 'AO-9');
    });

    it('builds source rows from query values in source column order, ignoring values after them', () => {
      const m = defaultMapping();
      const values = m.source.columns.map((c) => INDIVIDUAL_ROW[c] ?? null);
      const row = m.sourceRow([...values, 'extra-id', 'extra-profile-id']);
      assert.deepStrictEqual(Object.keys(row), [...m.source.columns]);
      assert.deepStrictEqual(row, Object.fromEntries(m.source.columns.map((c, i) => [c, values[i]])));
      assert.deepStrictEqual(m.mapRow(row, CTX, BRANCHES), m.mapRow(INDIVIDUAL_ROW, CTX, BRANCHES));
    });

    it('maps the same way where code generation from strings is disabled', function () {
      this.timeout(30_000);
      const script = `
        const { loadMappingFile } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'mapping', 'index.js'))});
        const input = JSON.parse(process.env.MAPPING_TEST_INPUT);
        const m = loadMappingFile(input.file, input.constants);
        const branches = new Map(input.branches);
        const viaValues = input.rows.map((r) => m.sourceRow(m.source.columns.map((c) => r[c] ?? null)));
        process.stdout.write(JSON.stringify([input.rows.map((r) => m.mapRow(r, input.ctx, branches)), viaValues]));`;
      const rows = [INDIVIDUAL_ROW, CORPORATE_ROW, individual({ gender: 'x', status: 'gone', is_deleted: true }), individual({ bvn: '1' })];
      const input = { file: MAPPING_FILE, constants: CONSTANTS, branches: [...BRANCHES], ctx: CTX, rows };
      const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', script], {
        env: { ...process.env, MAPPING_TEST_INPUT: JSON.stringify(input) },
        encoding: 'utf8',
      });
      const m = defaultMapping();
      const expected = rows.map((r) => m.mapRow(r, CTX, BRANCHES));
      const viaValues = rows.map((r) => m.sourceRow(m.source.columns.map((c) => r[c] ?? null)));
      assert.deepStrictEqual(JSON.parse(out), JSON.parse(JSON.stringify([expected, viaValues])));
      assert.throws(() => execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', 'new Function("")'], { stdio: 'ignore' }));
    });

    it('rejects an empty or absent row as UNKNOWN_CUSTOMER_TYPE', () => {
      for (const row of [{}, null, undefined, 'row', 42]) {
        const r = mapping.mapRow(row as unknown as SourceRow, CTX, BRANCHES);
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.reject.reason, 'UNKNOWN_CUSTOMER_TYPE');
      }
    });
  });
});
