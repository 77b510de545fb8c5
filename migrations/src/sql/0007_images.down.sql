DROP TABLE idea_messages;
DELETE FROM jobs WHERE kind = 'idea';
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('transcribe', 'image'));
