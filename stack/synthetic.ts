/**
 * Deterministic synthetic legacy data for `efz_customer` (contract section 1) and `branch_map`.
 *
 * Produces DATA ONLY: realistic, messy Nigerian-bank customer rows, a few percent of them dirty in
 * every way the mapping document (sections 4.2 / 4.4) rejects or warns about, plus hostile values
 * (control characters, a 10,000-character field, emoji, odd unicode, COPY special characters).
 * None of the mapping rules are implemented here: each row carries tags saying what was injected,
 * so that tests can check the engine against them.
 *
 * Determinism: a row is a pure function of (seed, customer_code) — its own small PRNG (sfc32) is
 * seeded from both — so the same seed always gives the same rows whatever the batch boundaries or
 * start code, and a different seed gives different rows. Nothing here reads the clock or Math.random.
 */

// ---------------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------------

/** murmur3's 32-bit finaliser: a good avalanche for seeding. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 32-bit state words. */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed: number, stream = 0) {
    this.reseed(seed, stream);
  }

  /** Re-initialises the state from two 32-bit integers (e.g. the run seed and a customer code). */
  reseed(seed: number, stream = 0): this {
    const s = seed >>> 0;
    const t = stream >>> 0;
    this.a = fmix32(s ^ 0x9e3779b9);
    this.b = fmix32(t ^ 0x243f6a88);
    this.c = fmix32((s + Math.imul(t, 0x632be5ab)) ^ 0xb7e15162);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
    return this;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks from [value, weight] pairs. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = this.next() * total;
    for (const [v, w] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return items[items.length - 1][0];
  }

  /** `n` decimal digits (leading zeros possible). */
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(48 + Math.floor(this.next() * 10));
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Row shape
// ---------------------------------------------------------------------------------------------

/** The columns of `efz_customer`, in table order (contract section 1). */
export const EFZ_COLUMNS = [
  'customer_code',
  'customer_type',
  'title',
  'first_name',
  'middle_name',
  'last_name',
  'business_name',
  'registration_number',
  'tax_id',
  'date_of_incorporation',
  'gender',
  'date_of_birth',
  'marital_status',
  'nationality',
  'email',
  'phone',
  'alt_phone',
  'address_line1',
  'address_line2',
  'city',
  'state',
  'country',
  'postal_code',
  'bvn',
  'id_type',
  'id_number',
  'id_expiry_date',
  'occupation',
  'employer_name',
  'branch_code',
  'account_officer',
  'kyc_level',
  'risk_rating',
  'status',
  'is_deleted',
  'created_at',
  'updated_at',
] as const;

export type EfzColumn = (typeof EFZ_COLUMNS)[number];

/** Text columns (every column except customer_code, kyc_level, is_deleted, created_at, updated_at). */
export type EfzTextColumn = Exclude<EfzColumn, 'customer_code' | 'kyc_level' | 'is_deleted' | 'created_at' | 'updated_at'>;

export type EfzCustomerRow = { [K in EfzTextColumn]: string | null } & {
  customer_code: number;
  kyc_level: number | null;
  is_deleted: boolean;
  /** 'YYYY-MM-DD HH:MM:SS.ffffff+00' */
  created_at: string;
  updated_at: string;
};

export type CustomerShape = 'INDIVIDUAL' | 'CORPORATE';

/**
 * Dirty categories: one per dirty row. `expect` is what the mapping document says must happen:
 * a reject or a warning with this reason and field, or (NONE) a load with a special outcome.
 */
export const DIRTY_KINDS = {
  UNKNOWN_CUSTOMER_TYPE: { appliesTo: 'ANY', severity: 'REJECT', reason: 'UNKNOWN_CUSTOMER_TYPE', field: 'customer_type' },
  MISSING_CUSTOMER_TYPE: { appliesTo: 'ANY', severity: 'REJECT', reason: 'UNKNOWN_CUSTOMER_TYPE', field: 'customer_type' },
  MISSING_FIRST_NAME: { appliesTo: 'INDIVIDUAL', severity: 'REJECT', reason: 'MISSING_NAME', field: 'first_name' },
  MISSING_LAST_NAME: { appliesTo: 'INDIVIDUAL', severity: 'REJECT', reason: 'MISSING_NAME', field: 'last_name' },
  MISSING_BUSINESS_NAME: { appliesTo: 'CORPORATE', severity: 'REJECT', reason: 'MISSING_BUSINESS_NAME', field: 'business_name' },
  INVALID_BVN_SHORT: { appliesTo: 'ANY', severity: 'REJECT', reason: 'INVALID_BVN', field: 'bvn' },
  INVALID_BVN_LETTERS: { appliesTo: 'ANY', severity: 'REJECT', reason: 'INVALID_BVN', field: 'bvn' },
  INVALID_BVN_FORMAT: { appliesTo: 'ANY', severity: 'REJECT', reason: 'INVALID_BVN', field: 'bvn' },
  INVALID_DOB_UNPARSEABLE: { appliesTo: 'INDIVIDUAL', severity: 'REJECT', reason: 'INVALID_DATE_OF_BIRTH', field: 'date_of_birth' },
  INVALID_DOB_IMPOSSIBLE: { appliesTo: 'INDIVIDUAL', severity: 'REJECT', reason: 'INVALID_DATE_OF_BIRTH', field: 'date_of_birth' },
  INVALID_DOB_FUTURE: { appliesTo: 'INDIVIDUAL', severity: 'REJECT', reason: 'INVALID_DATE_OF_BIRTH', field: 'date_of_birth' },
  INVALID_DOB_BEFORE_1900: { appliesTo: 'INDIVIDUAL', severity: 'REJECT', reason: 'INVALID_DATE_OF_BIRTH', field: 'date_of_birth' },
  UNKNOWN_BRANCH: { appliesTo: 'ANY', severity: 'REJECT', reason: 'UNKNOWN_BRANCH', field: 'branch_code' },
  MISSING_BRANCH: { appliesTo: 'ANY', severity: 'REJECT', reason: 'UNKNOWN_BRANCH', field: 'branch_code' },
  UNKNOWN_STATUS: { appliesTo: 'ANY', severity: 'REJECT', reason: 'UNKNOWN_STATUS', field: 'status' },
  /** An unknown status on a soft-deleted row: loaded as CLOSED / terminated, no reject (4.5). */
  UNKNOWN_STATUS_DELETED: { appliesTo: 'ANY', severity: 'NONE', reason: null, field: 'status' },
  INVALID_GENDER: { appliesTo: 'INDIVIDUAL', severity: 'WARNING', reason: 'INVALID_GENDER', field: 'gender' },
  INVALID_EMAIL: { appliesTo: 'ANY', severity: 'WARNING', reason: 'INVALID_EMAIL', field: 'email' },
  INVALID_PHONE: { appliesTo: 'ANY', severity: 'WARNING', reason: 'INVALID_PHONE', field: 'phone' },
  INVALID_ALT_PHONE: { appliesTo: 'ANY', severity: 'WARNING', reason: 'INVALID_PHONE', field: 'alt_phone' },
  INVALID_ID_EXPIRY_DATE: { appliesTo: 'INDIVIDUAL', severity: 'WARNING', reason: 'INVALID_DATE', field: 'id_expiry_date' },
  INVALID_INCORPORATION_DATE: { appliesTo: 'CORPORATE', severity: 'WARNING', reason: 'INVALID_DATE', field: 'date_of_incorporation' },
} as const satisfies Record<string, { appliesTo: 'ANY' | CustomerShape; severity: 'REJECT' | 'WARNING' | 'NONE'; reason: string | null; field: EfzTextColumn }>;

export type DirtyKind = keyof typeof DIRTY_KINDS;

/** Hostile values: the row stays valid (they sit in fields the mapping keeps as given or upper-cases). */
export const HOSTILE_KINDS = [
  'HOSTILE_CONTROL_CHARS',
  'HOSTILE_LONG_FIELD',
  'HOSTILE_EMOJI',
  'HOSTILE_ODD_UNICODE',
  'HOSTILE_NUMERIC_TEXT',
  'HOSTILE_COPY_SPECIALS',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** Valid edge cases worth a test of their own (the row loads). */
export const EDGE_KINDS = [
  'DELETED', // is_deleted = true → CLOSED / terminated
  'DOB_1900_01_01', // the earliest allowed date of birth
  'DOB_LEAP_DAY', // 29 February of a leap year
  'ODD_RISK_RATING', // kept upper-cased, monitoring false
  'IGNORED_INVALID_FIELD', // an invalid value in a field the customer type does not use: no warning
  'BULK_TIMESTAMP', // updated_at shared with many rows (a legacy mass update), no fractional seconds
] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];

export type RowTag = DirtyKind | HostileKind | EdgeKind;

export interface GeneratedRow {
  row: EfzCustomerRow;
  /** The kind of customer the row describes (for UNKNOWN/MISSING_CUSTOMER_TYPE: what it looks like). */
  shape: CustomerShape;
  /** The dirty category, or null for a clean row. */
  dirty: DirtyKind | null;
  /** Every injected property: the dirty kind, hostile kinds and edge kinds. */
  tags: RowTag[];
}

// ---------------------------------------------------------------------------------------------
// Branches
// ---------------------------------------------------------------------------------------------

export interface BranchRow {
  branch_code: string;
  branch_id: string;
  branch_name: string;
}

interface Region {
  prefix: string;
  city: string;
  state: string;
  postal: string;
  areas: readonly string[];
}

const REGIONS: readonly Region[] = [
  {
    prefix: 'LAG',
    city: 'Lagos',
    state: 'Lagos',
    postal: '10',
    areas: ['Marina', 'Broad Street', 'Ikeja', 'Victoria Island', 'Lekki Phase 1', 'Surulere', 'Yaba', 'Apapa', 'Ikorodu', 'Festac', 'Ajah', 'Allen Avenue'],
  },
  {
    prefix: 'ABJ',
    city: 'Abuja',
    state: 'FCT',
    postal: '90',
    areas: ['Central Business District', 'Wuse II', 'Garki', 'Maitama', 'Gwarinpa', 'Kubwa', 'Asokoro', 'Utako'],
  },
  { prefix: 'PHC', city: 'Port Harcourt', state: 'Rivers', postal: '50', areas: ['Trans-Amadi', 'GRA', 'Aba Road', 'Rumuokoro', 'D-Line'] },
  { prefix: 'KAN', city: 'Kano', state: 'Kano', postal: '70', areas: ['Bompai', 'Sabon Gari', 'Kantin Kwari', 'Zoo Road'] },
  { prefix: 'IBD', city: 'Ibadan', state: 'Oyo', postal: '20', areas: ['Dugbe', 'Bodija', 'Ring Road', 'UI'] },
  { prefix: 'ENU', city: 'Enugu', state: 'Enugu', postal: '40', areas: ['Ogui Road', 'Independence Layout', 'Okpara Avenue'] },
  { prefix: 'KAD', city: 'Kaduna', state: 'Kaduna', postal: '80', areas: ['Ahmadu Bello Way', 'Kawo', 'Barnawa'] },
  { prefix: 'BEN', city: 'Benin City', state: 'Edo', postal: '30', areas: ['Akpakpava', 'Ring Road', 'Uselu'] },
  { prefix: 'ABA', city: 'Aba', state: 'Abia', postal: '45', areas: ['Ariaria', 'Asa Road'] },
  { prefix: 'OWR', city: 'Owerri', state: 'Imo', postal: '46', areas: ['Wetheral Road', 'Douglas Road'] },
  { prefix: 'CAL', city: 'Calabar', state: 'Cross River', postal: '54', areas: ['Marian Road', 'Calabar Road'] },
  { prefix: 'WAR', city: 'Warri', state: 'Delta', postal: '33', areas: ['Effurun', 'Airport Road'] },
  { prefix: 'JOS', city: 'Jos', state: 'Plateau', postal: '93', areas: ['Ahmadu Bello Way', 'Rayfield'] },
  { prefix: 'ILR', city: 'Ilorin', state: 'Kwara', postal: '24', areas: ['Unity Road', 'Taiwo Road'] },
  { prefix: 'UYO', city: 'Uyo', state: 'Akwa Ibom', postal: '52', areas: ['Oron Road', 'Ikot Ekpene Road'] },
  { prefix: 'ABK', city: 'Abeokuta', state: 'Ogun', postal: '11', areas: ['Kuto', 'Panseke'] },
  { prefix: 'ONT', city: 'Onitsha', state: 'Anambra', postal: '43', areas: ['Main Market', 'New Market Road'] },
];

interface BranchInfo {
  code: string;
  name: string;
  region: Region;
}

const BRANCHES: readonly BranchInfo[] = REGIONS.flatMap((region) =>
  region.areas.map((area, i) => ({
    code: `${region.prefix}${String(i + 1).padStart(3, '0')}`,
    name: `${region.city} - ${area}`,
    region,
  })),
);

/** The branch codes of branch_map (60), upper case, as the bank supplies them. */
export const BRANCH_CODES: readonly string[] = BRANCHES.map((b) => b.code);

/** Branch ids do not depend on the row seed: re-seeding with another seed keeps every branch_id. */
export const BRANCH_SEED = 0x0b4a2c11;

function uuidFrom(rng: Rng): string {
  const hex: string[] = [];
  for (let i = 0; i < 4; i++) hex.push(rng.u32().toString(16).padStart(8, '0'));
  const h = hex.join('');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The bank's branch reference data: 60 branches, ids deterministic from the PRNG. */
export function generateBranches(seed: number = BRANCH_SEED): BranchRow[] {
  const rng = new Rng(seed, 0xb4a2c4);
  return BRANCHES.map((b) => ({ branch_code: b.code, branch_id: uuidFrom(rng), branch_name: b.name }));
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

// prettier-ignore
const MALE_FIRST = ['Chinedu', 'Emeka', 'Oluwaseun', 'Babatunde', 'Ibrahim', 'Musa', 'Abubakar', 'Obinna', 'Tunde', 'Segun', 'Ifeanyi', 'Uchechukwu', 'Usman', 'Sani', 'Osagie', 'Ejiro', 'Tamunotonye', 'Peter', 'John', 'Samuel', 'David', 'Daniel', 'Godwin', 'Kelechi', 'Chukwuemeka', 'Adewale', 'Olumide', 'Yakubu', 'Aliyu', 'Nnamdi', 'Femi', 'Kayode', 'Ikechukwu', 'Bashir', 'Efosa', 'Okon', 'Etim', 'Ayodele', 'Gbenga', 'Chidi'];
// prettier-ignore
const FEMALE_FIRST = ['Adaeze', 'Ngozi', 'Funmilayo', 'Aisha', 'Fatima', 'Chiamaka', 'Yetunde', 'Bolanle', 'Nkechi', 'Amina', 'Zainab', 'Halima', 'Efe', 'Ese', 'Ebiere', 'Blessing', 'Grace', 'Mary', 'Esther', 'Joy', 'Patience', 'Folake', 'Titilayo', 'Ifeoma', 'Chioma', 'Hauwa', 'Hadiza', 'Omolara', 'Temitope', 'Abimbola', 'Uju', 'Nneka', 'Ebere', 'Precious', 'Oluwakemi', 'Salamatu', 'Idara', 'Ekaette', 'Kemi', 'Toyin'];
// prettier-ignore
const UNISEX_MIDDLE = ['Oluwaseyi', 'Chukwudi', 'Ayomide', 'Kehinde', 'Taiwo', 'Ebuka', 'Olamide', 'Somtochukwu', 'Ademola', 'Adaora', 'Nasiru', 'Opeyemi', 'Damilola', 'Tobi', 'Chisom', 'Ifunanya', 'Mohammed', 'Blessing', 'Favour', 'Godspower'];
// prettier-ignore
const LAST_NAMES = ['Okafor', 'Adeyemi', 'Balogun', 'Okonkwo', 'Eze', 'Nwosu', 'Ibrahim', 'Bello', 'Abubakar', 'Mohammed', 'Yusuf', 'Adebayo', 'Ogunleye', 'Olawale', 'Okoro', 'Chukwu', 'Obi', 'Onyeka', 'Danjuma', 'Lawal', 'Suleiman', 'Akinola', 'Ajayi', 'Oyelaran', 'Edet', 'Bassey', 'Etim', 'Ekpo', 'Okon', 'Igwe', 'Umeh', 'Agbaje', 'Ogbonna', 'Oladipo', 'Adekunle', 'Ige', 'Omoregie', 'Idris', 'Garba', 'Aliyu', 'Nwachukwu', 'Anyanwu', 'Ogundipe', 'Oyebanji', 'Afolabi', 'Uzoma', 'Ndukwe', 'Ikpeazu', 'Akpan', 'Usman'];
const MALE_TITLES = ['Mr', 'MR', 'Mr.', 'mr', 'Dr', 'Chief', 'Alhaji', 'Engr', 'Prof', 'Pastor', 'Barr'];
const FEMALE_TITLES = ['Mrs', 'MRS', 'Mrs.', 'Miss', 'Ms', 'mrs', 'Dr', 'Chief', 'Alhaja', 'Engr', 'Barr', 'Lady'];
const MARITAL = ['Single', 'SINGLE', 'single', 'Married', 'MARRIED', 'married', 'Divorced', 'Widowed', 'WIDOWED', 'Separated'];
// prettier-ignore
const STREETS = ['Marina Road', 'Awolowo Road', 'Adeola Odeku Street', 'Allen Avenue', 'Herbert Macaulay Way', 'Aminu Kano Crescent', 'Ahmadu Bello Way', 'Ikwerre Road', 'Ogui Road', 'Murtala Mohammed Way', 'Ring Road', 'Oba Akran Avenue', 'Bode Thomas Street', 'Toyin Street', 'Ikorodu Road', 'Broad Street', 'Admiralty Way', 'Ajose Adeogun Street', 'Aba Road', 'Zik Avenue', 'Independence Avenue', 'Okigwe Road', 'Wetheral Road', 'Calabar Road', 'Airport Road', 'Sapele Road', 'Lagos-Ibadan Expressway', 'Opebi Road', 'Obafemi Awolowo Way', 'Gimbiya Street'];
// prettier-ignore
const LINE2 = ['Off Bode Thomas Street', 'Flat 3B', 'Block 12, Flat 4', 'Behind First Bank', 'Opposite Shoprite', 'P.O. Box 1234', 'Close to the Mosque', 'Beside Total Filling Station', 'Suite 205', 'Second Floor', 'Estate Gate 2'];
// prettier-ignore
const OCCUPATIONS = ['Trader', 'Civil Servant', 'Teacher', 'Engineer', 'Nurse', 'Medical Doctor', 'Farmer', 'Student', 'Banker', 'Accountant', 'Lawyer', 'Artisan', 'Driver', 'Self-Employed', 'Clergy', 'Retired', 'Unemployed', 'Tailor', 'Software Developer', 'Pharmacist', 'Business Owner', 'Police Officer', 'Soldier', 'Journalist', 'Architect'];
// prettier-ignore
const EMPLOYERS = ['Federal Ministry of Health', 'Lagos State Government', 'Dangote Group', 'MTN Nigeria', 'NNPC Limited', 'Shell Petroleum Development Company', 'First Bank of Nigeria', 'Self', 'SELF EMPLOYED', 'Nigerian Army', 'University of Lagos', 'Julius Berger Nigeria', 'Chevron Nigeria', 'Nigerian Breweries', 'Nestle Nigeria', 'Federal Civil Service', 'Kano State Government', 'Andela', 'Flour Mills of Nigeria', 'Lagos University Teaching Hospital'];
// prettier-ignore
const NATURES = ['Food Processing', 'Logistics', 'Retail Trade', 'Import/Export', 'Construction', 'ICT Services', 'Agriculture', 'Fashion & Textiles', 'Pharmaceuticals', 'Real Estate', 'Hospitality', 'Transport', 'Oil & Gas Services', 'Education', 'Printing', 'Poultry Farming', 'General Merchandise', 'Consulting', 'Fish Farming', 'Cosmetics'];
// prettier-ignore
const BUSINESS_WORDS: Record<string, readonly string[]> = {
  'Food Processing': ['Foods', 'Agro-Allied', 'Flour Mills'], Logistics: ['Logistics', 'Haulage', 'Courier Services'], 'Retail Trade': ['Stores', 'Supermarket', 'Mart'],
  'Import/Export': ['Trading Company', 'Import & Export', 'Global Concepts'], Construction: ['Construction', 'Builders', 'Engineering Works'], 'ICT Services': ['Technologies', 'Digital Solutions', 'Systems'],
  Agriculture: ['Farms', 'Agro Ventures', 'Agric Produce'], 'Fashion & Textiles': ['Fabrics', 'Fashion House', 'Textiles'], Pharmaceuticals: ['Pharmacy', 'Pharmaceuticals', 'Healthcare'],
  'Real Estate': ['Properties', 'Homes', 'Realty'], Hospitality: ['Hotels', 'Suites', 'Catering Services'], Transport: ['Motors', 'Transport Services', 'Travels'],
  'Oil & Gas Services': ['Energy', 'Petroleum Services', 'Oilfield Services'], Education: ['Schools', 'Academy', 'Tutorial College'], Printing: ['Printing Press', 'Prints', 'Graphics'],
  'Poultry Farming': ['Poultry', 'Farms', 'Eggs & Birds'], 'General Merchandise': ['Enterprises', 'Ventures', 'Merchants'], Consulting: ['Consulting', 'Advisory', 'Partners'],
  'Fish Farming': ['Fisheries', 'Aquaculture', 'Fish Farms'], Cosmetics: ['Cosmetics', 'Beauty World', 'Skincare'],
};
// prettier-ignore
const BUSINESS_PREFIXES = ['Greenfield', 'Royal', 'Crystal', 'Golden Crest', 'Sunrise', 'Ever-Fresh', 'Zenith Star', 'Unity', 'Blue Ocean', 'Kings', 'Diamond', 'Heritage', 'Peak', 'New Dawn', 'Jubilee'];
// prettier-ignore
const BUSINESS_SUFFIXES = ['Ltd', 'Limited', 'Nig. Ltd', 'Nigeria Limited', 'Enterprises', 'Ventures', '& Sons Ltd', 'Global Services Ltd', 'PLC', 'Co.', "Int'l Ltd", ''];
const EMAIL_DOMAINS = ['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'yahoo.co.uk', 'ymail.com', 'icloud.com', 'mail.com', 'live.com'];
// prettier-ignore
const PHONE_PREFIXES = ['0803', '0806', '0813', '0816', '0703', '0706', '0810', '0805', '0807', '0815', '0905', '0802', '0808', '0812', '0701', '0902', '0809', '0817', '0818', '0909', '0708', '0814', '0903', '0811'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// Whitespace that JavaScript's trim removes (contract 4.5): spaces, tabs, no-break spaces, CR/LF.
const PADS = [' ', '  ', '\t', '\u00A0', ' \u00A0', '\t ', ' \t', '\u00A0\u00A0', '\r\n', '\n', '\u3000', '\u2003'];
const BLANKS = ['', ' ', '   ', '\t', '\u00A0', ' \t\u00A0 ', '\r\n'];

// Dirty values ------------------------------------------------------------------------------------
// prettier-ignore
const BAD_TYPES = ['Trust', 'NGO', 'Partnership', 'Joint', 'Staff', 'Minor', 'Cooperative', 'corporate account', 'Indvidual', 'S.M.E', 'individuals', '0', '??', 'Govt', 'I N D'];
const BAD_BVN_LETTERS = ['2221234567A', 'BVN22212345', 'ABCDEFGHIJK', '22212O45678', 'N/A', 'nil', 'pending', '2221234567l'];
// prettier-ignore
const BAD_DOB_UNPARSEABLE = ['unknown', '1987/03/05', '5/3/1987', '05-March-1987', '19870305x', 'N/A', '1987-3-5', '87-03-05', 'March 5, 1987', '05.03.1987', '0', '1987'];
// prettier-ignore
const BAD_DOB_IMPOSSIBLE = ['31/02/1990', '30-feb-1988', '2001-02-29', '31/04/1985', '19900231', '1990-13-01', '00/00/0000', '32-01-1980', '1985-06-31', '29-FEB-1999'];
const BAD_DOB_FUTURE = ['2041-07-15', '15/07/2045', '01-jan-2099', '20500101', '12-12-2060', '2077-03-01'];
const BAD_DOB_1800S = ['1899-12-31', '31/12/1899', '15-jun-1850', '18990101', '01-01-1801', '1899-01-01'];
const BAD_BRANCHES = ['LAG099', 'XYZ001', 'HQ', 'LAG 001', 'LAGOS', 'ABJ-001', '0001', 'lag0001', 'KAN999', 'Head Office'];
const BAD_STATUSES = ['PENDING', 'Suspended', 'ACT1VE', 'Closed-Pending', 'frozen', 'DECEASED', 'N/A', '?', 'A', 'Awaiting KYC'];
const BAD_GENDERS = ['X', 'U', 'Unknown', 'other', 'N/A', 'Mal', 'fem', '0', '1', 'Femal', 'M/F', 'Men'];
// prettier-ignore
const BAD_EMAILS = ['john.doe@', 'john doe@gmail.com', 'nobody', 'a@b', 'info@okafor_foods.com', 'user@@gmail.com', 'user@gmail.c', 'NIL', 'user@mail.com.', 'user@gmail,com', 'n/a', '@yahoo.com', 'chinedu.eze@gmail', 'mailto: emeka@yahoo.com'];
// prettier-ignore
const BAD_PHONES = ['N/A', '12345', '0803123456', '080312345678', '+234', '+1234567', 'none', '803 123 4567', '0', 'nil', '234803123456', '+2348031234567890123'];
const BAD_EXPIRY = ['N/A', '31/04/2030', '2030-13-01', 'soon', '00000000', '2029/05/01', '31-Sept-2028', '1/1/2030', 'LIFETIME', '2028-02-30'];
// prettier-ignore
const BAD_INCORPORATION = ['N/A', '30/02/2011', '2011-06-31', 'established 1999', '20451231', '2046-01-01', '1/6/2011', '00-00-0000', 'Jan 2010', '15-jun-2049'];
const ODD_RISK = ['Very High', 'N/A', 'unrated', 'Med', 'H', 'PEP'];

// Hostile values -------------------------------------------------------------------------------
// prettier-ignore
const CONTROL_VALUES = ['Block 5\u0007\u001b[31m red\u001b[0m', 'Flat\u00012\u0002', 'Ring\bRoad\u007f', 'Suite\u000b205\u000c', 'Bell\u0007\u0007 Lane', '\u0006Ack Street', 'Esc\u001b Close'];
const EMOJI_VALUES = ['Chinedu 🙂', '🚀 Rocket Ventures Ltd', 'Lagos 🏙️', 'Adaeze 👩🏾‍💼', '💰💰 Money Palace', 'Okafor 🇳🇬', 'Trader 🛒'];
const ODD_UNICODE_VALUES = [
  'Ade\u0301bayo', // combining acute accent
  'عائشة', // Arabic (right to left)
  'Ọlọ́run-Ṣọlá', // Yoruba diacritics
  'Chi\u200Dnedu', // zero-width joiner inside
  'ＬＡＧＯＳ', // full-width latin
  'Straße', // ß: toUpperCase() makes it longer (SS)
  'Iıİi', // Turkish dotless/dotted i
  'line\u2028separator', // U+2028 inside the value
  'bom\uFEFFinside', // U+FEFF inside
  'replacement \uFFFD char',
  '𝐁𝐨𝐥𝐝 𝐌𝐚𝐭𝐡', // astral plane
  '李小龙',
  'e\u0301\u0302\u0303\u0304', // stacked combining marks
];
const NUMERIC_VALUES = ['12345', '0', '007', '1e5', '-1', '3.14159', '100001', '0803 123 4567', '2348031234567'];
// prettier-ignore
const COPY_SPECIAL_VALUES = ['C:\\Users\\legacy\\new', 'tab\tinside', 'line1\nline2', 'carriage\rreturn', 'crlf\r\ninside', '\\N', '\\.', 'ends with backslash\\', 'O\'Brien "Quoted", Semi;colon', "Robert'); DROP TABLE customer;--", '\\t literal backslash-t', '%s %d {0} ${x}'];

/** A 10,000-character value (BMP only, so 10,000 UTF-16 units too). */
export const LONG_VALUE: string = (() => {
  const unit = 'Plot 7, Block C, Off Admiralty Way, Lekki Phase 1 — landmark: opposite the big tree; ';
  let s = '';
  while (s.length < 10_000) s += unit;
  return s.slice(0, 9_999) + 'X';
})();

// ---------------------------------------------------------------------------------------------
// Formatting helpers
// ---------------------------------------------------------------------------------------------

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysIn(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

function mixCase(rng: Rng, s: string): string {
  const r = rng.next();
  if (r < 0.55) return s;
  if (r < 0.7) return s.toLowerCase();
  if (r < 0.85) return s.toUpperCase();
  let out = '';
  for (const ch of s) out += rng.chance(0.5) ? ch.toUpperCase() : ch.toLowerCase();
  return out;
}

/** Surrounds a value with JS-trimmable whitespace some of the time. */
function pad(rng: Rng, s: string, p = 0.12): string {
  if (!rng.chance(p)) return s;
  const r = rng.next();
  if (r < 0.4) return rng.pick(PADS) + s;
  if (r < 0.7) return s + rng.pick(PADS);
  return rng.pick(PADS) + s + rng.pick(PADS);
}

/** Missing as null most of the time, as a blank string otherwise. */
function missing(rng: Rng): string | null {
  return rng.chance(0.6) ? null : rng.pick(BLANKS);
}

/** A valid legacy date in one of the five accepted formats. */
function formatDate(rng: Rng, y: number, m: number, d: number): string {
  const f = rng.weighted(DATE_FORMAT_WEIGHTS);
  const yy = String(y).padStart(4, '0');
  switch (f) {
    case 0:
      return `${yy}-${pad2(m)}-${pad2(d)}`;
    case 1:
      return `${pad2(d)}/${pad2(m)}/${yy}`;
    case 2:
      return `${pad2(d)}-${pad2(m)}-${yy}`;
    case 3: {
      const mon = MONTHS[m - 1];
      const r = rng.next();
      const cased = r < 0.5 ? mon : r < 0.75 ? mon.toLowerCase() : r < 0.9 ? mon.toUpperCase() : mixCase(rng, mon);
      return `${pad2(d)}-${cased}-${yy}`;
    }
    default:
      return `${yy}${pad2(m)}${pad2(d)}`;
  }
}

function randomDate(rng: Rng, fromYear: number, toYear: number): string {
  const y = rng.int(fromYear, toYear);
  const m = rng.int(1, 12);
  const d = rng.int(1, daysIn(y, m));
  return formatDate(rng, y, m, d);
}

function pad6(n: number): string {
  return n >= 100000 ? String(n) : String(1000000 + n).slice(1);
}

/**
 * 'YYYY-MM-DD HH:MM:SS.ffffff+00' from microseconds since the epoch (1970 onwards), with integer
 * arithmetic only (Howard Hinnant's civil-from-days): a Date would lose the microseconds and is slow.
 */
export function formatTimestamp(micros: number): string {
  const secs = Math.floor(micros / 1e6);
  const us = micros - secs * 1e6;
  const days = Math.floor(secs / 86400);
  let sod = secs - days * 86400;
  const hh = Math.floor(sod / 3600);
  sod -= hh * 3600;
  const mi = Math.floor(sod / 60);
  const ss = sod - mi * 60;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${y}-${pad2(m)}-${pad2(d)} ${pad2(hh)}:${pad2(mi)}:${pad2(ss)}.${pad6(us)}+00`;
}

const T_CREATED_FROM = Date.UTC(2012, 0, 1) * 1000;
const T_CREATED_TO = Date.UTC(2025, 5, 30) * 1000;
const T_UPDATED_MAX = Date.UTC(2025, 11, 31, 23, 59, 59) * 1000;
/** Legacy mass updates: many rows share these updated_at values (ties at the watermark). */
const BULK_STAMPS = [Date.UTC(2016, 6, 1) * 1000, Date.UTC(2021, 2, 15, 2, 0, 0) * 1000];

function nigerianPhone(rng: Rng): string {
  const local = rng.pick(PHONE_PREFIXES) + rng.digits(7); // 0 + 10 digits
  const a = local.slice(0, 4);
  const b = local.slice(4, 7);
  const c = local.slice(7);
  const rest = local.slice(1);
  const f = rng.weighted(PHONE_FORMAT_WEIGHTS);
  switch (f) {
    case 0:
      return local; // 08031234567
    case 1:
      return `${a} ${b} ${c}`; // 0803 123 4567
    case 2:
      return `+234-${rest.slice(0, 3)}-${rest.slice(3, 6)}-${rest.slice(6)}`; // +234-803-123-4567
    case 3:
      return `234${rest}`; // 2348031234567
    case 4:
      return `+234${rest}`;
    case 5:
      return `(${a}) ${b}-${c}`;
    case 6:
      return `+234 ${rest.slice(0, 3)} ${rest.slice(3)}`; // +234 803 1234567
    default:
      return rng.pick(['+44 20 7946 ', '+1 202 555 ', '+233 24 ']) + rng.digits(4); // foreign, + and 8–15 digits
  }
}

function bvn(rng: Rng): string {
  // Real BVNs start with 22; legacy test/odd ranges include leading zeros, which must survive.
  const r = rng.next();
  if (r < 0.12) return '0' + rng.digits(10);
  if (r < 0.15) return '00' + rng.digits(9);
  return '22' + rng.digits(9);
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

function personalEmail(rng: Rng, first: string, last: string): string {
  const f = slug(first) || 'user';
  const l = slug(last) || 'name';
  const k = rng.int(0, 4);
  const local = k === 0 ? `${f}.${l}` : k === 1 ? `${f}${l}` : k === 2 ? `${f}_${l}${rng.int(1, 99)}` : k === 3 ? `${f[0]}${l}` : `${l}.${f}${rng.int(60, 99)}`;
  const email = `${local}@${rng.pick(EMAIL_DOMAINS)}`;
  const r = rng.next();
  const cased =
    r < 0.6 ? email : r < 0.8 ? email.replace(/^./, (c) => c.toUpperCase()).replace(/@(.)/, (_m, c: string) => `@${c.toUpperCase()}`) : email.toUpperCase();
  return pad(rng, cased, 0.2);
}

function businessEmail(rng: Rng, businessName: string): string {
  const s = slug(businessName).slice(0, 20) || 'company';
  const email = `${rng.pick(['info', 'accounts', 'admin', 'sales', 'contact'])}@${s}.${rng.pick(['com', 'com.ng', 'ng', 'net'])}`;
  return pad(rng, rng.chance(0.3) ? email.toUpperCase() : email, 0.2);
}

function address1(rng: Rng): string {
  const n = rng.int(1, 250);
  const street = rng.pick(STREETS);
  switch (rng.int(0, 3)) {
    case 0:
      return `${n} ${street}`;
    case 1:
      return `No. ${n} ${street}`;
    case 2:
      return `${n}, ${street}`;
    default:
      return `Plot ${n} ${street}`;
  }
}

function accountOfficer(rng: Rng): string | null {
  const n = rng.int(1, 350);
  const r = rng.next();
  if (r < 0.08) return missing(rng);
  if (r < 0.8) return `AO-${String(n).padStart(4, '0')}`;
  if (r < 0.9) return `ao-${n}`;
  return `${rng.pick(rng.chance(0.5) ? MALE_FIRST : FEMALE_FIRST)} ${rng.pick(LAST_NAMES)}`;
}

const STATUS_WEIGHTS: readonly (readonly [string | null, number])[] = [
  ['ACTIVE', 70],
  ['DORMANT', 12],
  ['INACTIVE', 5],
  ['BLOCKED', 2],
  ['CLOSED', 3],
  [null, 8],
];
const RISK_WEIGHTS: readonly (readonly [string, number])[] = [
  ['LOW', 60],
  ['MEDIUM', 30],
  ['HIGH', 8],
];
const KYC_CORPORATE: readonly (readonly [number | null, number])[] = [
  [1, 5],
  [2, 40],
  [3, 50],
  [null, 5],
];
const KYC_INDIVIDUAL: readonly (readonly [number | null, number])[] = [
  [0, 2],
  [1, 20],
  [2, 40],
  [3, 33],
  [null, 5],
];
const NATIONALITY_WEIGHTS: readonly (readonly [string | null, number])[] = [
  ['NG', 60],
  ['Nigerian', 18],
  ['ng', 5],
  [' NG ', 3],
  ['GH', 1],
  ['GB', 1],
  ['US', 1],
  [null, 11],
];
const COUNTRY_WEIGHTS: readonly (readonly [string | null, number])[] = [
  ['NG', 55],
  ['Nigeria', 20],
  ['ng', 5],
  ['NGA', 5],
  [' Nigeria ', 3],
  ['NIGERIA', 5],
  [null, 7],
];
const DATE_FORMAT_WEIGHTS: readonly (readonly [number, number])[] = [
  [0, 35],
  [1, 30],
  [2, 10],
  [3, 15],
  [4, 10],
];
const PHONE_FORMAT_WEIGHTS: readonly (readonly [number, number])[] = [
  [0, 30],
  [1, 20],
  [2, 15],
  [3, 12],
  [4, 8],
  [5, 6],
  [6, 5],
  [7, 4],
];
const FEMALE_GENDERS = ['F', 'Female', 'f', 'female', 'FEMALE'];
const MALE_GENDERS = ['M', 'Male', 'm', 'male', 'MALE'];

function statusValue(rng: Rng): string | null {
  const s = rng.weighted(STATUS_WEIGHTS);
  return s === null ? missing(rng) : pad(rng, mixCase(rng, s), 0.08);
}

function riskValue(rng: Rng, tags: RowTag[]): string | null {
  const r = rng.next();
  if (r < 0.04) return missing(rng);
  if (r < 0.043) {
    tags.push('ODD_RISK_RATING');
    return rng.pick(ODD_RISK);
  }
  return pad(rng, mixCase(rng, rng.weighted(RISK_WEIGHTS)), 0.08);
}

function branchValue(rng: Rng, b: BranchInfo): string {
  const r = rng.next();
  let code = b.code;
  if (r < 0.2) code = code.toLowerCase();
  else if (r < 0.25) code = code[0] + code.slice(1, 3).toLowerCase() + code.slice(3);
  return pad(rng, code, 0.15);
}

function kycLevel(rng: Rng, corporate: boolean): number | null {
  return rng.weighted(corporate ? KYC_CORPORATE : KYC_INDIVIDUAL);
}

const INDIVIDUAL_TYPES = ['Individual', 'INDIVIDUAL', 'individual', 'IND', 'Ind', 'ind', 'retail', 'Retail', 'RETAIL'];
const CORPORATE_TYPES = [' sme ', 'SME', 'sme', 'Sme', 'Corporate', 'CORPORATE', 'corporate', 'CORP', 'Corp', 'business', 'Business', 'BUSINESS'];

// ---------------------------------------------------------------------------------------------
// Row generation
// ---------------------------------------------------------------------------------------------

export const INDIVIDUAL_SHARE = 0.75;
/** Probability that a row's customer type is unknown or missing. */
const TYPE_DIRTY_RATE = 0.008;
/** Probability that a row (with a known type) carries one other dirty category. */
const DIRTY_RATE = 0.06;
const HOSTILE_RATE = 0.015;
const DELETED_RATE = 0.02;

const INDIVIDUAL_DIRTY: readonly (readonly [DirtyKind, number])[] = [
  ['MISSING_FIRST_NAME', 4],
  ['MISSING_LAST_NAME', 4],
  ['INVALID_BVN_SHORT', 4],
  ['INVALID_BVN_LETTERS', 4],
  ['INVALID_BVN_FORMAT', 2],
  ['INVALID_DOB_UNPARSEABLE', 3],
  ['INVALID_DOB_IMPOSSIBLE', 3],
  ['INVALID_DOB_FUTURE', 3],
  ['INVALID_DOB_BEFORE_1900', 3],
  ['UNKNOWN_BRANCH', 4],
  ['MISSING_BRANCH', 3],
  ['UNKNOWN_STATUS', 4],
  ['UNKNOWN_STATUS_DELETED', 3],
  ['INVALID_GENDER', 5],
  ['INVALID_EMAIL', 6],
  ['INVALID_PHONE', 6],
  ['INVALID_ALT_PHONE', 3],
  ['INVALID_ID_EXPIRY_DATE', 4],
];

const CORPORATE_DIRTY: readonly (readonly [DirtyKind, number])[] = [
  ['MISSING_BUSINESS_NAME', 8],
  ['INVALID_BVN_SHORT', 3],
  ['INVALID_BVN_LETTERS', 3],
  ['INVALID_BVN_FORMAT', 2],
  ['UNKNOWN_BRANCH', 4],
  ['MISSING_BRANCH', 3],
  ['UNKNOWN_STATUS', 4],
  ['UNKNOWN_STATUS_DELETED', 3],
  ['INVALID_EMAIL', 6],
  ['INVALID_PHONE', 6],
  ['INVALID_ALT_PHONE', 3],
  ['INVALID_INCORPORATION_DATE', 8],
];

/** Fields where hostile values go: kept as given (or only upper-cased) by the mapping, never validated. */
// prettier-ignore
const HOSTILE_FIELDS_INDIVIDUAL: readonly EfzTextColumn[] = ['first_name', 'middle_name', 'last_name', 'address_line1', 'address_line2', 'city', 'state', 'occupation', 'employer_name', 'account_officer', 'title', 'postal_code', 'id_number'];
// prettier-ignore
const HOSTILE_FIELDS_CORPORATE: readonly EfzTextColumn[] = ['business_name', 'registration_number', 'tax_id', 'address_line1', 'address_line2', 'city', 'state', 'occupation', 'account_officer', 'postal_code', 'id_number'];

function buildIndividual(rng: Rng, row: EfzCustomerRow, tags: RowTag[]): void {
  const female = rng.chance(0.48);
  const first = rng.pick(female ? FEMALE_FIRST : MALE_FIRST);
  const last = rng.pick(LAST_NAMES);
  row.customer_type = pad(rng, mixCase(rng, rng.pick(INDIVIDUAL_TYPES)));
  row.title = rng.chance(0.1) ? missing(rng) : pad(rng, rng.pick(female ? FEMALE_TITLES : MALE_TITLES), 0.05);
  row.first_name = pad(rng, first, 0.08);
  const mr = rng.next();
  row.middle_name = mr < 0.55 ? pad(rng, rng.pick(UNISEX_MIDDLE), 0.05) : mr < 0.85 ? null : rng.pick(BLANKS);
  row.last_name = pad(rng, rng.chance(0.05) ? last.toUpperCase() : last, 0.08);
  row.business_name = null;
  row.registration_number = null;
  row.tax_id = null;
  row.date_of_incorporation = null;
  row.gender = rng.chance(0.05) ? missing(rng) : pad(rng, mixCase(rng, rng.pick(female ? FEMALE_GENDERS : MALE_GENDERS)), 0.08);

  const dr = rng.next();
  if (dr < 0.03) row.date_of_birth = missing(rng);
  else if (dr < 0.031) {
    row.date_of_birth = formatDate(rng, 1900, 1, 1);
    tags.push('DOB_1900_01_01');
  } else if (dr < 0.032) {
    row.date_of_birth = formatDate(rng, rng.pick([1972, 1976, 1980, 1984, 1988, 1992, 1996, 2000]), 2, 29);
    tags.push('DOB_LEAP_DAY');
  } else row.date_of_birth = pad(rng, randomDate(rng, 1940, 2006), 0.05);

  row.marital_status = rng.chance(0.12) ? missing(rng) : pad(rng, rng.pick(MARITAL), 0.05);
  row.nationality = rng.weighted(NATIONALITY_WEIGHTS);
  row.email = rng.chance(0.8) ? personalEmail(rng, first, last) : missing(rng);
  row.phone = rng.chance(0.95) ? pad(rng, nigerianPhone(rng), 0.1) : missing(rng);
  row.alt_phone = rng.chance(0.25) ? pad(rng, nigerianPhone(rng), 0.1) : missing(rng);

  const idr = rng.next();
  if (idr < 0.45) {
    row.id_type = pad(rng, rng.pick(['NIN', 'nin', 'Nin', 'NIN']), 0.05);
    row.id_number = rng.digits(11);
    row.id_expiry_date = rng.chance(0.9) ? null : rng.pick(BLANKS);
  } else if (idr < 0.65) {
    row.id_type = rng.pick(['PASSPORT', 'Passport', 'Intl Passport', 'INTERNATIONAL PASSPORT']);
    row.id_number = 'A' + rng.digits(8);
    row.id_expiry_date = pad(rng, randomDate(rng, 2016, 2034), 0.05);
  } else if (idr < 0.8) {
    row.id_type = rng.pick(['DRIVERS_LICENCE', "Driver's Licence", 'drivers license', 'DL']);
    row.id_number = `${rng.pick(['LAG', 'ABJ', 'KAN', 'RIV', 'OYO'])}${rng.digits(5)}AA${rng.digits(2)}`;
    row.id_expiry_date = pad(rng, randomDate(rng, 2015, 2031), 0.05);
  } else if (idr < 0.92) {
    row.id_type = rng.pick(['VOTERS_CARD', "Voter's Card", 'PVC']);
    row.id_number = `90F5${rng.digits(4)}${rng.digits(11)}`;
    row.id_expiry_date = null;
  } else {
    row.id_type = rng.chance(0.5) ? null : rng.pick(['NIN', 'PASSPORT']);
    row.id_number = missing(rng);
    row.id_expiry_date = null;
  }
  row.occupation = rng.chance(0.07) ? missing(rng) : pad(rng, mixCase(rng, rng.pick(OCCUPATIONS)), 0.05);
  row.employer_name = rng.chance(0.35) ? missing(rng) : pad(rng, rng.pick(EMPLOYERS), 0.05);

  // An INDIVIDUAL's business fields are ignored by the mapping, even when they hold junk.
  if (rng.chance(0.004)) {
    row.business_name = `${last} Ventures`;
    row.date_of_incorporation = rng.pick(BAD_INCORPORATION);
    tags.push('IGNORED_INVALID_FIELD');
  }
}

function buildCorporate(rng: Rng, row: EfzCustomerRow, tags: RowTag[]): void {
  const nature = rng.pick(NATURES);
  const prefix = rng.chance(0.5) ? rng.pick(LAST_NAMES) : rng.pick(BUSINESS_PREFIXES);
  const name = `${prefix} ${rng.pick(BUSINESS_WORDS[nature])} ${rng.pick(BUSINESS_SUFFIXES)}`.trim();
  row.customer_type = pad(rng, mixCase(rng, rng.pick(CORPORATE_TYPES)));
  row.title = rng.chance(0.95) ? null : rng.pick(BLANKS);
  if (rng.chance(0.3)) {
    // a contact person: ignored by the mapping for a CORPORATE
    row.first_name = rng.pick(rng.chance(0.5) ? MALE_FIRST : FEMALE_FIRST);
    row.middle_name = null;
    row.last_name = rng.pick(LAST_NAMES);
  } else {
    row.first_name = null;
    row.middle_name = null;
    row.last_name = null;
  }
  row.business_name = pad(rng, rng.chance(0.1) ? name.toUpperCase() : name, 0.1);
  const rc = rng.int(10000, 1999999);
  const rk = rng.int(0, 3);
  const regNo = rk === 0 ? `RC${rc}` : rk === 1 ? `RC ${rc}` : rk === 2 ? `rc${rc}` : `BN${rng.digits(7)}`;
  row.registration_number = rng.chance(0.9) ? pad(rng, regNo, 0.05) : missing(rng);
  row.tax_id = rng.chance(0.8) ? `${rng.digits(8)}-0001` : missing(rng);
  row.date_of_incorporation = rng.chance(0.9) ? pad(rng, randomDate(rng, 1965, 2024), 0.05) : missing(rng);
  row.gender = null;
  row.date_of_birth = null;
  row.marital_status = null;
  row.nationality = rng.chance(0.5) ? 'NG' : null;
  // A CORPORATE's personal fields are ignored by the mapping, even when they hold junk.
  if (rng.chance(0.01)) {
    row.gender = rng.pick(BAD_GENDERS);
    row.date_of_birth = rng.pick(BAD_DOB_IMPOSSIBLE);
    row.id_expiry_date = rng.pick(BAD_EXPIRY);
    tags.push('IGNORED_INVALID_FIELD');
  } else row.id_expiry_date = null;
  row.email = rng.chance(0.85) ? businessEmail(rng, name) : missing(rng);
  row.phone = rng.chance(0.95) ? pad(rng, nigerianPhone(rng), 0.1) : missing(rng);
  row.alt_phone = rng.chance(0.4) ? pad(rng, nigerianPhone(rng), 0.1) : missing(rng);
  if (rng.chance(0.5) && row.registration_number !== null) {
    row.id_type = rng.pick(['CAC', 'cac', 'CAC Certificate']);
    row.id_number = row.registration_number.trim() || null;
  } else {
    row.id_type = null;
    row.id_number = rng.chance(0.5) ? null : rng.pick(BLANKS);
  }
  row.occupation = rng.chance(0.05) ? missing(rng) : pad(rng, mixCase(rng, nature), 0.05);
  row.employer_name = null;
}

/** The columns that take text or null. */
type TextColumn = {
  [K in keyof EfzCustomerRow]: null extends EfzCustomerRow[K] ? (string extends EfzCustomerRow[K] ? K : never) : never;
}[keyof EfzCustomerRow];

/** Dirty kinds that empty one column (null, '' or blanks). */
const MISSING_COLUMN: Partial<Record<DirtyKind, TextColumn>> = {
  MISSING_CUSTOMER_TYPE: 'customer_type',
  MISSING_FIRST_NAME: 'first_name',
  MISSING_LAST_NAME: 'last_name',
  MISSING_BUSINESS_NAME: 'business_name',
  MISSING_BRANCH: 'branch_code',
};

/** Dirty kinds that put one of a list of bad values into one column, padded with blanks now and then. */
const BAD_VALUE: Partial<Record<DirtyKind, { column: TextColumn; values: readonly string[]; padChance: number }>> = {
  UNKNOWN_CUSTOMER_TYPE: { column: 'customer_type', values: BAD_TYPES, padChance: 0.2 },
  INVALID_BVN_LETTERS: { column: 'bvn', values: BAD_BVN_LETTERS, padChance: 0.2 },
  INVALID_DOB_UNPARSEABLE: { column: 'date_of_birth', values: BAD_DOB_UNPARSEABLE, padChance: 0.1 },
  INVALID_DOB_IMPOSSIBLE: { column: 'date_of_birth', values: BAD_DOB_IMPOSSIBLE, padChance: 0.1 },
  INVALID_DOB_FUTURE: { column: 'date_of_birth', values: BAD_DOB_FUTURE, padChance: 0.1 },
  INVALID_DOB_BEFORE_1900: { column: 'date_of_birth', values: BAD_DOB_1800S, padChance: 0.1 },
  UNKNOWN_BRANCH: { column: 'branch_code', values: BAD_BRANCHES, padChance: 0.15 },
  UNKNOWN_STATUS: { column: 'status', values: BAD_STATUSES, padChance: 0.1 },
  UNKNOWN_STATUS_DELETED: { column: 'status', values: BAD_STATUSES, padChance: 0.1 },
  INVALID_GENDER: { column: 'gender', values: BAD_GENDERS, padChance: 0.1 },
  INVALID_EMAIL: { column: 'email', values: BAD_EMAILS, padChance: 0.2 },
  INVALID_PHONE: { column: 'phone', values: BAD_PHONES, padChance: 0.2 },
  INVALID_ALT_PHONE: { column: 'alt_phone', values: BAD_PHONES, padChance: 0.2 },
  INVALID_ID_EXPIRY_DATE: { column: 'id_expiry_date', values: BAD_EXPIRY, padChance: 0.1 },
  INVALID_INCORPORATION_DATE: { column: 'date_of_incorporation', values: BAD_INCORPORATION, padChance: 0.1 },
};

function applyDirty(rng: Rng, kind: DirtyKind, row: EfzCustomerRow): void {
  // The random draws happen in the same order for every kind as they always did: the seeded data
  // (and every count a test expects of it) depends on it.
  if (kind === 'UNKNOWN_STATUS') row.is_deleted = false;
  if (kind === 'UNKNOWN_STATUS_DELETED') row.is_deleted = true;
  if (kind === 'INVALID_ID_EXPIRY_DATE' && (row.id_number === null || row.id_number.trim() === '')) {
    row.id_type = 'PASSPORT'; // an expiry date is only checked when there is an id
    row.id_number = 'A' + rng.digits(8);
  }
  const missingColumn = MISSING_COLUMN[kind];
  if (missingColumn) {
    row[missingColumn] = missing(rng);
    return;
  }
  const bad = BAD_VALUE[kind];
  if (bad) {
    row[bad.column] = pad(rng, rng.pick(bad.values), bad.padChance);
    return;
  }
  switch (kind) {
    case 'INVALID_BVN_SHORT':
      // a numeric legacy column dropped the leading zero, or a digit is simply missing
      row.bvn = pad(rng, rng.chance(0.5) ? rng.int(1, 9) + rng.digits(9) : '22' + rng.digits(8), 0.2);
      return;
    case 'INVALID_BVN_FORMAT':
      row.bvn = rng.pick([
        '22' + rng.digits(10), // 12 digits
        `222-${rng.digits(3)}-${rng.digits(5)}`,
        `222 ${rng.digits(4)} ${rng.digits(4)}`,
        `2.22${rng.digits(8)}E10`, // spreadsheet scientific notation
        `+22${rng.digits(9)}`,
        `${rng.digits(11)}.0`,
      ]);
      return;
  }
}

/** The values each hostile kind puts into a field: one of a list, or always the same one. */
const HOSTILE_VALUES: Record<HostileKind, readonly string[] | string> = {
  HOSTILE_CONTROL_CHARS: CONTROL_VALUES,
  HOSTILE_LONG_FIELD: LONG_VALUE,
  HOSTILE_EMOJI: EMOJI_VALUES,
  HOSTILE_ODD_UNICODE: ODD_UNICODE_VALUES,
  HOSTILE_NUMERIC_TEXT: NUMERIC_VALUES,
  HOSTILE_COPY_SPECIALS: COPY_SPECIAL_VALUES,
};

function applyHostile(rng: Rng, kind: HostileKind, row: EfzCustomerRow, shape: CustomerShape, dirty: DirtyKind | null): void {
  const all = shape === 'INDIVIDUAL' ? HOSTILE_FIELDS_INDIVIDUAL : HOSTILE_FIELDS_CORPORATE;
  // never overwrite the value that makes a dirty row dirty (a missing name must stay missing)
  const fields = dirty === null ? all : all.filter((f) => f !== DIRTY_KINDS[dirty].field);
  const field = rng.pick(fields);
  const values = HOSTILE_VALUES[kind];
  row[field] = typeof values === 'string' ? values : rng.pick(values);
}

function timestamps(rng: Rng, row: EfzCustomerRow, tags: RowTag[]): void {
  const created = T_CREATED_FROM + Math.floor(rng.next() * (T_CREATED_TO - T_CREATED_FROM));
  const r = rng.next();
  let updated: number;
  if (r < 0.25)
    updated = created; // never updated since creation
  else if (r < 0.255) {
    const stamp = rng.pick(BULK_STAMPS);
    updated = stamp >= created ? stamp : created;
    if (stamp >= created) tags.push('BULK_TIMESTAMP');
  } else updated = created + Math.floor(rng.next() * rng.next() * (T_UPDATED_MAX - created));
  row.created_at = formatTimestamp(created);
  row.updated_at = formatTimestamp(updated);
}

/** Every column present, in table order (one object shape for V8, whatever the customer type). */
function blankRow(customerCode: number): EfzCustomerRow {
  return {
    customer_code: customerCode,
    customer_type: null,
    title: null,
    first_name: null,
    middle_name: null,
    last_name: null,
    business_name: null,
    registration_number: null,
    tax_id: null,
    date_of_incorporation: null,
    gender: null,
    date_of_birth: null,
    marital_status: null,
    nationality: null,
    email: null,
    phone: null,
    alt_phone: null,
    address_line1: null,
    address_line2: null,
    city: null,
    state: null,
    country: null,
    postal_code: null,
    bvn: null,
    id_type: null,
    id_number: null,
    id_expiry_date: null,
    occupation: null,
    employer_name: null,
    branch_code: null,
    account_officer: null,
    kyc_level: null,
    risk_rating: null,
    status: null,
    is_deleted: false,
    created_at: '',
    updated_at: '',
  };
}

/** The row of one customer_code for one seed: a pure function of both. */
export function generateRow(seed: number, customerCode: number, rng: Rng = new Rng(0)): GeneratedRow {
  rng.reseed(seed, customerCode);
  const tags: RowTag[] = [];
  const row = blankRow(customerCode);
  const shape: CustomerShape = rng.chance(INDIVIDUAL_SHARE) ? 'INDIVIDUAL' : 'CORPORATE';
  if (shape === 'INDIVIDUAL') buildIndividual(rng, row, tags);
  else buildCorporate(rng, row, tags);

  const branch = rng.pick(BRANCHES);
  const region = rng.chance(0.9) ? branch.region : rng.pick(REGIONS);
  row.address_line1 = rng.chance(0.97) ? pad(rng, address1(rng), 0.06) : missing(rng);
  row.address_line2 = rng.chance(0.3) ? pad(rng, rng.pick(LINE2), 0.06) : rng.chance(0.8) ? null : rng.pick(BLANKS);
  row.city = rng.chance(0.96) ? pad(rng, rng.chance(0.1) ? region.city.toUpperCase() : region.city, 0.06) : missing(rng);
  row.state = rng.chance(0.95) ? pad(rng, rng.chance(0.2) ? `${region.state} State` : region.state, 0.06) : missing(rng);
  row.country = rng.weighted(COUNTRY_WEIGHTS);
  row.postal_code = rng.chance(0.6) ? `${region.postal}${rng.digits(4)}` : missing(rng);
  const bvnRoll = rng.next();
  row.bvn = shape === 'INDIVIDUAL' ? (bvnRoll < 0.92 ? pad(rng, bvn(rng), 0.06) : missing(rng)) : bvnRoll < 0.4 ? pad(rng, bvn(rng), 0.06) : missing(rng);
  row.branch_code = branchValue(rng, branch);
  row.account_officer = accountOfficer(rng);
  row.kyc_level = kycLevel(rng, shape === 'CORPORATE');
  row.risk_rating = riskValue(rng, tags);
  row.status = statusValue(rng);
  row.is_deleted = rng.chance(DELETED_RATE);
  timestamps(rng, row, tags);

  let dirty: DirtyKind | null = null;
  const d = rng.next();
  if (d < TYPE_DIRTY_RATE) dirty = rng.chance(0.6) ? 'UNKNOWN_CUSTOMER_TYPE' : 'MISSING_CUSTOMER_TYPE';
  else if (d < TYPE_DIRTY_RATE + DIRTY_RATE) dirty = rng.weighted(shape === 'INDIVIDUAL' ? INDIVIDUAL_DIRTY : CORPORATE_DIRTY);
  if (dirty !== null) {
    applyDirty(rng, dirty, row);
    tags.push(dirty);
  }
  if (rng.chance(HOSTILE_RATE)) {
    const kind = rng.pick(HOSTILE_KINDS);
    applyHostile(rng, kind, row, shape, dirty);
    tags.push(kind);
  }
  if (row.is_deleted) tags.push('DELETED');
  return { row, shape, dirty, tags };
}

/** Rows for customer codes startCode, startCode+1, … (count of them), lazily, one at a time. */
export function* generateRows(seed: number, startCode: number, count: number): Generator<GeneratedRow> {
  const rng = new Rng(0);
  for (let i = 0; i < count; i++) yield generateRow(seed, startCode + i, rng);
}

// ---------------------------------------------------------------------------------------------
// COPY text format
// ---------------------------------------------------------------------------------------------

const COPY_SPECIAL_G = /[\\\t\n\r\b\f\v]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v' };

/**
 * One text value in COPY's text format: `\N` for null; backslash, tab, newline, carriage return
 * (and backspace, form feed, vertical tab, as PostgreSQL's own COPY TO writes them) escaped.
 */
export function escapeCopyText(value: string | null): string {
  if (value === null) return '\\N';
  let special = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // backslash, or \b \t \n \v \f \r (8–13)
    if (c === 92 || (c >= 8 && c <= 13)) {
      special = true;
      break;
    }
  }
  if (!special) return value;
  return value.replace(COPY_SPECIAL_G, (ch) => COPY_ESCAPES[ch]);
}

const COPY_UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** The inverse of escapeCopyText (as PostgreSQL reads a text-format field), for tests. */
export function unescapeCopyText(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const ch = field[i];
    if (ch !== '\\' || i === field.length - 1) {
      out += ch;
      continue;
    }
    const next = field[++i];
    if (next in COPY_UNESCAPES) out += COPY_UNESCAPES[next];
    else if (next >= '0' && next <= '7') {
      let oct = next;
      while (oct.length < 3 && field[i + 1] >= '0' && field[i + 1] <= '7') oct += field[++i];
      out += String.fromCharCode(parseInt(oct, 8) & 0xff);
    } else if (next === 'x' && /[0-9a-fA-F]/.test(field[i + 1] ?? '')) {
      let hex = field[++i];
      if (/[0-9a-fA-F]/.test(field[i + 1] ?? '')) hex += field[++i];
      out += String.fromCharCode(parseInt(hex, 16));
    } else out += next;
  }
  return out;
}

/** One column's value as COPY text (the reference implementation: simple, used by tests and small writers). */
export function copyField(row: EfzCustomerRow, column: EfzColumn): string {
  const v = row[column];
  if (v === null) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return escapeCopyText(v);
}

/** The COPY text-format line (with its newline) of one row, columns in EFZ_COLUMNS order. */
export function toCopyLine(row: EfzCustomerRow): string {
  let line = copyField(row, EFZ_COLUMNS[0]);
  for (let i = 1; i < EFZ_COLUMNS.length; i++) line += '\t' + copyField(row, EFZ_COLUMNS[i]);
  return line + '\n';
}

const SEP_COUNT = EFZ_COLUMNS.length - 1;
// byte → the letter after the backslash in its COPY escape (0 = no escape needed)
const ESCAPE_LETTER = new Uint8Array(256);
ESCAPE_LETTER[8] = 0x62; // \b
ESCAPE_LETTER[9] = 0x74; // \t
ESCAPE_LETTER[10] = 0x6e; // \n
ESCAPE_LETTER[11] = 0x76; // \v
ESCAPE_LETTER[12] = 0x66; // \f
ESCAPE_LETTER[13] = 0x72; // \r
ESCAPE_LETTER[92] = 0x5c; // \\

/**
 * Copies `n` raw bytes (columns separated by NUL) into `o` at `p` with COPY's escapes, writing \N
 * for the columns flagged in `nulls`; returns the new offset, or -1 when the separators do not
 * match the column count (a value held a NUL).
 */
function escapeInto(raw: Buffer, n: number, o: Buffer, p: number, nulls: Uint8Array): number {
  let field = 0;
  for (let i = 0; i < n; i++) {
    const b = raw[i];
    if (b > 13 && b !== 92) {
      o[p++] = b;
    } else if (b === 0) {
      field++;
      o[p++] = 9;
      if (nulls[field] === 1) {
        o[p++] = 92;
        o[p++] = 78; // \N
      }
    } else {
      const letter = ESCAPE_LETTER[b];
      if (letter === 0)
        o[p++] = b; // other control characters are data in COPY's text format
      else {
        o[p++] = 92;
        o[p++] = letter;
      }
    }
  }
  return field === SEP_COUNT ? p : -1;
}

/**
 * A fast COPY text encoder for millions of rows: produces exactly the bytes of toCopyLine, in
 * Buffers of about `chunkBytes`. Each row is built raw (columns separated by NUL, which a PostgreSQL
 * text value can never hold), UTF-8 encoded once, then escaped byte by byte (UTF-8 multi-byte
 * sequences never contain bytes below 0x80, so this is safe) — scanning 37 JavaScript strings one by
 * one costs several times more.
 */
export class CopyEncoder {
  private raw = Buffer.allocUnsafe(64 * 1024);
  private out: Buffer;
  private off = 0;
  private readonly nulls = new Uint8Array(EFZ_COLUMNS.length);

  constructor(private readonly chunkBytes = 256 * 1024) {
    this.out = Buffer.allocUnsafe(chunkBytes);
  }

  private nv(value: string | null, index: number): string {
    if (value === null) {
      this.nulls[index] = 1;
      return '';
    }
    this.nulls[index] = 0;
    return value;
  }

  /** Appends one row; returns the chunk that became full (and starts a new one), else null. */
  push(r: EfzCustomerRow): Buffer | null {
    const nv = (value: string | null, index: number): string => this.nv(value, index);
    const kyc = r.kyc_level === null ? nv(null, 31) : ((this.nulls[31] = 0), String(r.kyc_level));
    const text =
      `${r.customer_code}\0${nv(r.customer_type, 1)}\0${nv(r.title, 2)}\0${nv(r.first_name, 3)}\0${nv(r.middle_name, 4)}\0` +
      `${nv(r.last_name, 5)}\0${nv(r.business_name, 6)}\0${nv(r.registration_number, 7)}\0${nv(r.tax_id, 8)}\0` +
      `${nv(r.date_of_incorporation, 9)}\0${nv(r.gender, 10)}\0${nv(r.date_of_birth, 11)}\0${nv(r.marital_status, 12)}\0` +
      `${nv(r.nationality, 13)}\0${nv(r.email, 14)}\0${nv(r.phone, 15)}\0${nv(r.alt_phone, 16)}\0${nv(r.address_line1, 17)}\0` +
      `${nv(r.address_line2, 18)}\0${nv(r.city, 19)}\0${nv(r.state, 20)}\0${nv(r.country, 21)}\0${nv(r.postal_code, 22)}\0` +
      `${nv(r.bvn, 23)}\0${nv(r.id_type, 24)}\0${nv(r.id_number, 25)}\0${nv(r.id_expiry_date, 26)}\0${nv(r.occupation, 27)}\0` +
      `${nv(r.employer_name, 28)}\0${nv(r.branch_code, 29)}\0${nv(r.account_officer, 30)}\0${kyc}\0${nv(r.risk_rating, 32)}\0` +
      `${nv(r.status, 33)}\0${r.is_deleted ? 't' : 'f'}\0${r.created_at}\0${r.updated_at}`;
    this.nulls[34] = 0;
    this.nulls[35] = 0;
    this.nulls[36] = 0;

    if (text.length * 3 > this.raw.length) this.raw = Buffer.allocUnsafe(text.length * 3 + 1024);
    const raw = this.raw;
    const n = raw.write(text, 0, 'utf8');
    const need = 2 * n + 2 * EFZ_COLUMNS.length + 1;
    let full: Buffer | null = null;
    if (this.off + need > this.out.length) {
      full = this.off > 0 ? this.out.subarray(0, this.off) : null;
      this.out = Buffer.allocUnsafe(Math.max(this.chunkBytes, need));
      this.off = 0;
    }
    const p = escapeInto(raw, n, this.out, this.off, this.nulls);
    if (p < 0) throw new Error(`customer_code ${r.customer_code}: a value holds a NUL character`);
    const o = this.out;
    o[p] = 10;
    this.off = p + 1;
    return full;
  }

  /** The last, partly filled chunk (null when empty); the encoder can go on being used. */
  flush(): Buffer | null {
    if (this.off === 0) return null;
    const chunk = this.out.subarray(0, this.off);
    this.out = Buffer.allocUnsafe(this.chunkBytes);
    this.off = 0;
    return chunk;
  }
}
