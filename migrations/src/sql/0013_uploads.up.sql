-- Recordings a user uploads from the Mini App straight to object storage
-- (multipart, through presigned part URLs), past Telegram's 20 MB limit for
-- bots. The upload's id becomes the id of the job that transcribes it, so the
-- object already sits where the worker looks for the job's original.
CREATE TABLE uploads (
    id             UUID        PRIMARY KEY,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    object_key     TEXT        NOT NULL,
    -- The object store's id of the multipart upload.
    s3_upload_id   TEXT        NOT NULL,
    file_name      TEXT,
    content_type   TEXT        NOT NULL,
    -- What the page said it would send; the size that counts is measured on completion.
    declared_bytes BIGINT      NOT NULL CHECK (declared_bytes > 0),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set once: completed into a job, or abandoned and aborted by maintenance.
    completed_at   TIMESTAMPTZ,
    aborted_at     TIMESTAMPTZ,
    CONSTRAINT uploads_one_ending CHECK (completed_at IS NULL OR aborted_at IS NULL)
);
CREATE INDEX uploads_user_created ON uploads (user_id, created_at);
CREATE INDEX uploads_open ON uploads (created_at) WHERE completed_at IS NULL AND aborted_at IS NULL;
