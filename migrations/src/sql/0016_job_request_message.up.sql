-- The user's message that asked for a job: its result replies to it, so two
-- results that arrive together can be told apart.
ALTER TABLE jobs ADD COLUMN request_message_id INTEGER;
