-- What a user chose in the Mini App's settings beyond the interface language
-- (kept on `users`): the language their recordings are transcribed in. No row,
-- or NULL, means "detect it" (the provider's automatic detection).
CREATE TABLE user_settings (
    user_id                BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    transcription_language TEXT,
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- ISO 639-1, as the speech provider takes it.
    CONSTRAINT user_settings_transcription_language_check
        CHECK (transcription_language IS NULL OR transcription_language ~ '^[a-z]{2}$')
);
