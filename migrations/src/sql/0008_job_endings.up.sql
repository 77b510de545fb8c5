-- A job charged for work whose result cannot be delivered (the user blocked
-- the bot, or Telegram kept failing) ends as `undeliverable`: the charge
-- stands, the result stays stored for /history and the Mini App, and no
-- provider call is repeated. Before this state such a job could never end.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'undeliverable'));

-- When the job's id was last put on the queue: the sweeper pushes a job
-- again once its lease has expired (a dead worker, a retry's backoff over)
-- and it has not been pushed since, or when a push is presumed lost.
ALTER TABLE jobs ADD COLUMN pushed_at TIMESTAMPTZ;

-- Calls made to the speech, image or chat provider for the job, failed ones
-- included: bounded by the attempt policy, and shown in /metrics.
ALTER TABLE jobs ADD COLUMN provider_calls INTEGER NOT NULL DEFAULT 0;
