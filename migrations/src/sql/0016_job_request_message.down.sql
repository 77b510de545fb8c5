ALTER TABLE jobs DROP COLUMN request_message_id;
