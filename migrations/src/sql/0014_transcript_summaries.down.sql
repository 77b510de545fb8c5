DROP TABLE transcript_summaries;
DELETE FROM jobs WHERE kind = 'summary';
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('transcribe', 'image', 'idea'));
