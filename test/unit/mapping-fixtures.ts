/** Shared fixtures of the mapping engine's unit tests (not a test file itself). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileMapping, loadMappingFile } from '../../mapping';
import type { BranchRef, CompiledMapping, MapResult, MappingConstants, RowContext, SourceRow } from '../../mapping/types';

/** The repository's mapping file (tests run from dist/test/unit). */
export const MAPPING_FILE = path.resolve(__dirname, '..', '..', '..', 'mapping', 'customer-mapping.json');

export const CONSTANTS: MappingConstants = {
  tenantId: '5b3f1c8e-2a4d-4e6f-9a1b-0c7d8e9f0a11',
  migrationUserId: '00000000-0000-4000-8000-00000000da7a',
  migrationUserName: 'DATA_MIGRATION',
};

export const CTX: RowContext = {
  runDate: '2024-06-01',
  customerId: '11111111-1111-4111-8111-111111111111',
  customerProfileId: '22222222-2222-4222-8222-222222222222',
};

export const BRANCHES: ReadonlyMap<string, BranchRef> = new Map([
  ['LAG001', { branchId: 'aaaaaaaa-0000-4000-8000-000000000001', branchName: 'Lagos Marina' }],
  ['ABJ002', { branchId: 'aaaaaaaa-0000-4000-8000-000000000002', branchName: 'Abuja Central' }],
]);

const EMPTY_COLUMNS: SourceRow = {
  business_name: null,
  registration_number: null,
  tax_id: null,
  date_of_incorporation: null,
  title: null,
  first_name: null,
  middle_name: null,
  last_name: null,
  gender: null,
  date_of_birth: null,
  marital_status: null,
  nationality: null,
  id_type: null,
  id_number: null,
  id_expiry_date: null,
  employer_name: null,
};

/** Dirty source values that map to the contract's INDIVIDUAL example (4.4). */
export const INDIVIDUAL_ROW: SourceRow = {
  ...EMPTY_COLUMNS,
  customer_code: 12345,
  customer_type: ' Individual ',
  title: 'Mr',
  first_name: '  Adaeze\t',
  middle_name: '   ',
  last_name: 'Okafor',
  gender: 'f',
  date_of_birth: '05-mar-1987',
  marital_status: 'single',
  nationality: 'ng',
  email: ' Adaeze.Okafor@Example.COM ',
  phone: '0803 123 4567',
  alt_phone: '',
  address_line1: '12 Marina Road',
  address_line2: null,
  city: 'Lagos',
  state: 'Lagos',
  country: 'ng',
  postal_code: '101001',
  bvn: '22123456789',
  id_type: 'nin',
  id_number: '12345678901',
  id_expiry_date: null,
  occupation: 'Engineer',
  employer_name: 'Acme Ltd',
  branch_code: ' lag001 ',
  account_officer: 'AO-0042',
  kyc_level: 2,
  risk_rating: 'low',
  status: 'Active',
  is_deleted: false,
  created_at: '2024-01-02 03:04:05.123456+00',
  updated_at: '2024-03-04 05:06:07.654321+00',
};

/** The contract's INDIVIDUAL customerProfileData example, verbatim. */
export const INDIVIDUAL_PROFILE_DATA = {
  title: 'MR',
  firstName: 'Adaeze',
  middleName: null,
  lastName: 'Okafor',
  fullName: 'Adaeze Okafor',
  gender: 'FEMALE',
  dateOfBirth: '1987-03-05',
  maritalStatus: 'SINGLE',
  nationality: 'NG',
  email: 'adaeze.okafor@example.com',
  phoneNumber: '+2348031234567',
  alternatePhoneNumber: null,
  address: { line1: '12 Marina Road', line2: null, city: 'Lagos', state: 'Lagos', country: 'NG', postalCode: '101001' },
  identification: { type: 'NIN', number: '12345678901', expiryDate: null },
  occupation: 'ENGINEER',
  employerName: 'Acme Ltd',
  kycLevel: 2,
  riskRating: 'LOW',
  accountOfficer: 'AO-0042',
};

/** Dirty source values that map to the contract's CORPORATE example (4.4). */
export const CORPORATE_ROW: SourceRow = {
  ...EMPTY_COLUMNS,
  customer_code: 7,
  customer_type: 'SME',
  business_name: 'Okafor Foods Ltd',
  registration_number: 'RC123456',
  tax_id: '12345678-0001',
  date_of_incorporation: '30/06/2011',
  email: 'INFO@OkaforFoods.example',
  phone: '234-803-123-4567',
  alt_phone: null,
  address_line1: '3 Wharf Road',
  address_line2: null,
  city: 'Apapa',
  state: 'Lagos',
  country: 'NG',
  postal_code: ' ',
  bvn: null,
  id_number: 'RC123456',
  occupation: 'Food Processing',
  branch_code: 'ABJ002',
  account_officer: 'AO-0007',
  kyc_level: 3,
  risk_rating: 'Medium',
  status: null,
  is_deleted: false,
  created_at: '2023-12-31 23:59:59.999999+00',
  updated_at: '2024-01-01 00:00:00.000001+00',
};

export const CORPORATE_PROFILE_DATA = {
  businessName: 'Okafor Foods Ltd',
  registrationNumber: 'RC123456',
  taxId: '12345678-0001',
  dateOfIncorporation: '2011-06-30',
  natureOfBusiness: 'FOOD PROCESSING',
  email: 'info@okaforfoods.example',
  phoneNumber: '+2348031234567',
  alternatePhoneNumber: null,
  address: { line1: '3 Wharf Road', line2: null, city: 'Apapa', state: 'Lagos', country: 'NG', postalCode: null },
  kycLevel: 3,
  riskRating: 'MEDIUM',
  accountOfficer: 'AO-0007',
};

let cached: CompiledMapping | undefined;
export function defaultMapping(): CompiledMapping {
  cached ??= loadMappingFile(MAPPING_FILE, CONSTANTS);
  return cached;
}

/** A fresh, mutable copy of the mapping document. */
export function mappingDocument(): any {
  return JSON.parse(fs.readFileSync(MAPPING_FILE, 'utf8'));
}

export function compile(doc: unknown): CompiledMapping {
  return compileMapping(doc, CONSTANTS);
}

export type Ok = Extract<MapResult, { ok: true }>;
export type Rejected = Extract<MapResult, { ok: false }>;

export function mapOk(row: SourceRow, mapping: CompiledMapping = defaultMapping(), ctx: RowContext = CTX): Ok {
  const r = mapping.mapRow(row, ctx, BRANCHES);
  if (!r.ok) throw new Error(`expected the row to load, got ${JSON.stringify(r.reject)}`);
  return r;
}

export function mapRejected(row: SourceRow, mapping: CompiledMapping = defaultMapping()): Rejected {
  const r = mapping.mapRow(row, CTX, BRANCHES);
  if (r.ok) throw new Error(`expected a reject, the row loaded with warnings ${JSON.stringify(r.warnings)}`);
  return r;
}

export function individual(changes: SourceRow = {}): SourceRow {
  return { ...INDIVIDUAL_ROW, ...changes };
}

export function corporate(changes: SourceRow = {}): SourceRow {
  return { ...CORPORATE_ROW, ...changes };
}

export function profileData(r: Ok): Record<string, any> {
  return r.profile.customerProfileData as Record<string, any>;
}
