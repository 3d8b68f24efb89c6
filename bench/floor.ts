import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { applyDdl } from '../db/migrate';

/**
 * The in-database floor: what PostgreSQL itself needs to write the same rows into the two indexed
 * destination tables, with `INSERT … SELECT`, jsonb built by jsonb_build_object and ids joined. No
 * validation at all: it is the bound a migration from outside the database can only approach.
 */
export async function measureFloor(sourceUrl: string, stagingUrl: string, floorUrl: string): Promise<{ seconds: number; rows: number }> {
  await applyDdl(floorUrl, 'source');
  await applyDdl(floorUrl, 'destination');
  const floor = new Client({ connectionString: floorUrl, application_name: 'customer-migration:bench-floor' });
  const source = new Client({ connectionString: sourceUrl });
  const staging = new Client({ connectionString: stagingUrl });
  await Promise.all([floor.connect(), source.connect(), staging.connect()]);
  try {
    await floor.query(`TRUNCATE customer_profile, customer, efz_customer`);
    await floor.query(`CREATE TABLE IF NOT EXISTS floor_branch (branch_code text PRIMARY KEY, branch_id uuid NOT NULL, branch_name text NOT NULL)`);
    await floor.query(`TRUNCATE floor_branch`);
    await pipeline(source.query(copyTo('COPY efz_customer TO STDOUT')), floor.query(copyFrom('COPY efz_customer FROM STDIN')));
    await pipeline(staging.query(copyTo('COPY branch_map TO STDOUT')), floor.query(copyFrom('COPY floor_branch FROM STDIN')));
    await floor.query(`DROP TABLE IF EXISTS floor_ids`);
    await floor.query(`CREATE TABLE floor_ids AS SELECT customer_code, gen_random_uuid() AS cid, gen_random_uuid() AS pid FROM efz_customer`);
    await floor.query(`ALTER TABLE floor_ids ADD PRIMARY KEY (customer_code)`);
    await floor.query(`VACUUM ANALYZE efz_customer`);
    await floor.query(`ANALYZE floor_ids`);
    await floor.query(`CHECKPOINT`);

    const started = process.hrtime.bigint();
    await floor.query('BEGIN');
    const customers = await floor.query(`
      INSERT INTO customer SELECT i.cid, '5b3f1c8e-2a4d-4e6f-9a1b-0c7d8e9f0a11', b.branch_id, b.branch_name,
        '00000000-0000-4000-8000-00000000da7a', 'DATA_MIGRATION', '00000000-0000-4000-8000-00000000da7a', 'DATA_MIGRATION',
        CASE WHEN lower(btrim(s.customer_type)) IN ('sme', 'corporate', 'corp', 'business') THEN 'CORPORATE' ELSE 'INDIVIDUAL' END,
        CASE WHEN lower(btrim(s.customer_type)) IN ('sme', 'corporate', 'corp', 'business') THEN 'SME' ELSE 'RETAIL' END,
        upper(btrim(s.occupation)), CASE WHEN s.is_deleted THEN 'CLOSED' ELSE COALESCE(upper(btrim(s.status)), 'ACTIVE') END,
        'APPROVED', s.bvn IS NULL OR s.id_number IS NULL OR COALESCE(s.kyc_level, 0) < 2, false,
        upper(btrim(s.risk_rating)) = 'HIGH' IS TRUE, s.is_deleted, s.created_at, s.updated_at
      FROM efz_customer s JOIN floor_ids i USING (customer_code) JOIN floor_branch b ON b.branch_code = upper(btrim(s.branch_code))`);
    await floor.query(`
      INSERT INTO customer_profile SELECT i.pid, i.cid, lpad(s.customer_code::text, 10, '0'), btrim(s.bvn),
        jsonb_build_object('title', upper(btrim(s.title)), 'firstName', btrim(s.first_name), 'middleName', btrim(s.middle_name),
          'lastName', btrim(s.last_name), 'fullName', concat_ws(' ', btrim(s.first_name), btrim(s.middle_name), btrim(s.last_name)),
          'gender', upper(btrim(s.gender)), 'dateOfBirth', s.date_of_birth, 'maritalStatus', upper(btrim(s.marital_status)),
          'nationality', upper(btrim(s.nationality)), 'email', lower(btrim(s.email)), 'phoneNumber', s.phone,
          'alternatePhoneNumber', s.alt_phone,
          'address', jsonb_build_object('line1', btrim(s.address_line1), 'line2', btrim(s.address_line2), 'city', btrim(s.city),
            'state', btrim(s.state), 'country', upper(btrim(s.country)), 'postalCode', btrim(s.postal_code)),
          'identification', jsonb_build_object('type', upper(btrim(s.id_type)), 'number', btrim(s.id_number), 'expiryDate', s.id_expiry_date),
          'occupation', upper(btrim(s.occupation)), 'employerName', btrim(s.employer_name), 'kycLevel', s.kyc_level,
          'riskRating', upper(btrim(s.risk_rating)), 'accountOfficer', btrim(s.account_officer)),
        s.created_at, s.updated_at
      FROM efz_customer s JOIN floor_ids i USING (customer_code) JOIN customer c ON c."customerId" = i.cid`);
    await floor.query('COMMIT');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Gone again before the migration is measured: autovacuum would otherwise spend the migration's
    // cores on the floor's freshly written million rows.
    await floor.query(`TRUNCATE customer_profile, customer, efz_customer, floor_ids`);
    return { seconds, rows: customers.rowCount ?? 0 };
  } finally {
    await Promise.allSettled([floor.end(), source.end(), staging.end()]);
  }
}
