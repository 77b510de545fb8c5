DROP INDEX jobs_expired_lease_idx;
ALTER TABLE jobs DROP COLUMN lease_until;
