ALTER TABLE jobs DROP COLUMN provider_calls;
ALTER TABLE jobs DROP COLUMN pushed_at;
UPDATE jobs SET status = 'succeeded' WHERE status = 'undeliverable';
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
