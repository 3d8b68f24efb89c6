-- customer_uuids exactly as the contract (section 2) defines it: the code is the key. The extra
-- UNIQUE indexes on the two random UUID columns tripled the cost of assigning ids to millions of
-- codes (two random-order B-trees) and guarded only against a v4 UUID collision, which the
-- destination's own primary keys would refuse anyway.
ALTER TABLE customer_uuids DROP CONSTRAINT IF EXISTS "customer_uuids_customerId_key";
ALTER TABLE customer_uuids DROP CONSTRAINT IF EXISTS "customer_uuids_customerProfileId_key";
