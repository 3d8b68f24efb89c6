-- Staging: the extracted rows, the stable ids and the bank's branch reference data.

-- One row per customer_code, same columns as the source (contract section 2), plus the run that
-- last extracted it: a run's rows are exactly those with its extracted_run_id.
CREATE TABLE stg_customer (
  customer_code          integer PRIMARY KEY,
  customer_type          text,
  title                  text,
  first_name             text,
  middle_name            text,
  last_name              text,
  business_name          text,
  registration_number    text,
  tax_id                 text,
  date_of_incorporation  text,
  gender                 text,
  date_of_birth          text,
  marital_status         text,
  nationality            text,
  email                  text,
  phone                  text,
  alt_phone              text,
  address_line1          text,
  address_line2          text,
  city                   text,
  state                  text,
  country                text,
  postal_code            text,
  bvn                    text,
  id_type                text,
  id_number              text,
  id_expiry_date         text,
  occupation             text,
  employer_name          text,
  branch_code            text,
  account_officer        text,
  kyc_level              smallint,
  risk_rating            text,
  status                 text,
  is_deleted             boolean NOT NULL DEFAULT false,
  created_at             timestamptz NOT NULL,
  updated_at             timestamptz NOT NULL,
  extracted_run_id       bigint NOT NULL
);
CREATE INDEX stg_customer_run_code ON stg_customer (extracted_run_id, customer_code);

-- Given once, the first time a code is staged, never changed (the only source of destination ids).
CREATE TABLE customer_uuids (
  customer_code       integer PRIMARY KEY,
  "customerId"        uuid NOT NULL UNIQUE,
  "customerProfileId" uuid NOT NULL UNIQUE
);

-- Reference data supplied by the bank.
CREATE TABLE branch_map (
  branch_code text PRIMARY KEY,
  branch_id   uuid NOT NULL,
  branch_name text NOT NULL
);
