-- The new core's tables, exactly as the data contract (section 3) describes them.
-- Created only by the local stack and the tests: a real bank's destination already has them.
CREATE TABLE IF NOT EXISTS customer (
  "customerId"             uuid PRIMARY KEY,
  "tenantId"               uuid NOT NULL,
  "branchId"               uuid NOT NULL,
  "branch"                 text NOT NULL,
  "approverId"             uuid NOT NULL,
  "approver"               text NOT NULL,
  "initiatorId"            uuid NOT NULL,
  "initiator"              text NOT NULL,
  "customerType"           text NOT NULL CHECK ("customerType" IN ('INDIVIDUAL','CORPORATE')),
  "CategoryOfCustomer"     text NOT NULL,
  "CategoryOfBusiness"     text,
  "status"                 text NOT NULL,
  "approvalStatus"         text NOT NULL,
  "requiresRegularization" boolean NOT NULL,
  "isAutoReactivityOnly"   boolean NOT NULL,
  "monitoring"             boolean NOT NULL,
  "isTerminated"           boolean NOT NULL,
  "createdAt"              timestamptz NOT NULL,
  "updatedAt"              timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS customer_profile (
  "customerProfileId"      uuid PRIMARY KEY,
  "customerId"             uuid NOT NULL UNIQUE REFERENCES customer ("customerId"),
  "customerNumber"         text NOT NULL UNIQUE,
  "bvn"                    text,
  "customerProfileData"    jsonb NOT NULL,
  "createdAt"              timestamptz NOT NULL,
  "updatedAt"              timestamptz NOT NULL
);
