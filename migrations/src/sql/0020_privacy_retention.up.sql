-- Privacy requests and retention of everything stored.
--
-- A deletion is recorded on the row it removed: `deleted_at` says when, and
-- `deletion_reason` why: 'retention' (the age limit of its kind) or
-- 'user_request' (/deletemydata). The rows stay, so what was removed and
-- when can be shown; the bytes in object storage and the personal text are gone.
ALTER TABLE media_objects ADD COLUMN deletion_reason TEXT;
UPDATE media_objects SET deletion_reason = 'retention' WHERE deleted_at IS NOT NULL;
ALTER TABLE media_objects ADD CONSTRAINT media_objects_deletion_reason_check
    CHECK (deletion_reason IS NULL OR (deleted_at IS NOT NULL AND deletion_reason IN ('retention', 'user_request')));

-- A deleted transcript keeps its job, owner, duration and creation time (the
-- ledger's statement shows the recording's length); its text, language,
-- details and file id are cleared, so a re-sent file is transcribed (and paid)
-- again instead of being answered from the deleted transcript.
ALTER TABLE transcripts ADD COLUMN deleted_at TIMESTAMPTZ;
ALTER TABLE transcripts ADD COLUMN deletion_reason TEXT;
ALTER TABLE transcripts ADD CONSTRAINT transcripts_deletion_check
    CHECK ((deleted_at IS NULL) = (deletion_reason IS NULL)
           AND (deletion_reason IS NULL OR deletion_reason IN ('retention', 'user_request')));
-- Retention finds live transcripts older than a cutoff.
CREATE INDEX transcripts_retention_idx ON transcripts (created_at) WHERE deleted_at IS NULL;

-- When the user's personal data was deleted at their request. The row stays
-- as an anonymous tombstone: the ledger's accounts and postings refer to it.
ALTER TABLE users ADD COLUMN erased_at TIMESTAMPTZ;
