ALTER TABLE users DROP COLUMN erased_at;
DROP INDEX transcripts_retention_idx;
ALTER TABLE transcripts DROP CONSTRAINT transcripts_deletion_check;
ALTER TABLE transcripts DROP COLUMN deletion_reason;
ALTER TABLE transcripts DROP COLUMN deleted_at;
ALTER TABLE media_objects DROP CONSTRAINT media_objects_deletion_reason_check;
ALTER TABLE media_objects DROP COLUMN deletion_reason;
