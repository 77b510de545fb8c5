-- Telegram updates received by webhook, by update_id: an update is answered
-- only once it is taken here (and then handled), so Telegram redelivers what
-- we could not take, and a redelivery of an update already taken is not
-- handled twice. A take that was never marked handled (the process died)
-- can be taken again after a while. Handled rows are forgotten after a day.
CREATE TABLE telegram_updates (
    update_id  BIGINT PRIMARY KEY,
    taken_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    handled_at TIMESTAMPTZ
);
CREATE INDEX telegram_updates_handled_at ON telegram_updates (handled_at) WHERE handled_at IS NOT NULL;
