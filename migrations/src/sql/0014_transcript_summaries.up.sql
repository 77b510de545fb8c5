-- Summaries on request: a job of its own kind (held, charged once, retried),
-- and the summary kept beside its transcript, one per transcript. The row is
-- written once per job before the charge, so a retried job never asks the
-- model twice, and a second tap finds it and shows it again for free.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('transcribe', 'image', 'idea', 'summary'));

CREATE TABLE transcript_summaries (
    transcript_job_id UUID        PRIMARY KEY REFERENCES transcripts (job_id) ON DELETE CASCADE,
    job_id            UUID        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    user_id           BIGINT      NOT NULL REFERENCES users (id),
    content           TEXT        NOT NULL,
    model             TEXT        NOT NULL,
    -- Characters of the transcript the model was given, and whether that was
    -- only its beginning (a transcript longer than the bot sends).
    input_chars       INTEGER     NOT NULL,
    partial           BOOLEAN     NOT NULL DEFAULT false,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT transcript_summaries_job_key UNIQUE (job_id),
    CONSTRAINT transcript_summaries_input_chars_check CHECK (input_chars >= 0)
);
