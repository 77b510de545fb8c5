-- Groups and supergroups the bot was added to: whether it introduced itself
-- there, and automatic transcription of every voice note (`/auto on`), paid by
-- the admin who turned it on, within a daily cap of minutes per chat.
CREATE TABLE group_chats (
    chat_id        BIGINT      PRIMARY KEY,
    introduced_at  TIMESTAMPTZ,
    -- Who pays for automatic transcription; NULL: it is off.
    auto_payer_id  BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    -- The billing day `auto_seconds` counts (in BILLING_TIMEZONE).
    auto_day       DATE,
    auto_seconds   INTEGER     NOT NULL DEFAULT 0 CHECK (auto_seconds >= 0),
    -- The billing day automatic transcription stopped for (cap or credit), told once.
    auto_paused_on DATE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT group_chats_is_a_group CHECK (chat_id < 0)
);
