-- A running job belongs to the worker whose lease is current; a duplicate
-- queue message cannot start a second run, and an expired lease (a dead
-- worker) lets another worker take the job over.
ALTER TABLE jobs ADD COLUMN lease_until TIMESTAMPTZ;
CREATE INDEX jobs_expired_lease_idx ON jobs (lease_until) WHERE status = 'running';
