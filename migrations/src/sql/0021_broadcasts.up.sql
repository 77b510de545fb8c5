-- Broadcasts: an admin's message copied to every user of a segment.
--
-- A broadcast is proposed ('pending') with a preview, then confirmed: its
-- recipients are fixed then, one row each, and a sender in the bot process
-- works through them ('sending') until none is left ('done'). A recipient row
-- goes 'queued' -> 'sending' BEFORE the message goes to Telegram, and to its
-- outcome after: a row found 'sending' after a restart may or may not have
-- arrived, so it is never sent again (at most once per user) and ends 'failed'.
CREATE TABLE broadcasts (
    id                UUID        PRIMARY KEY,
    admin_telegram_id BIGINT      NOT NULL,
    -- The message copied: the admin's chat and the message's id there.
    from_chat_id      BIGINT      NOT NULL,
    message_id        INTEGER     NOT NULL,
    -- Who gets it, as the admin typed it in canonical form: `lang=ru active=7 paid`, '' for everyone.
    segment           TEXT        NOT NULL DEFAULT '',
    status            TEXT        NOT NULL DEFAULT 'pending',
    -- Recipients fixed at confirmation.
    recipients        INTEGER     NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    confirmed_at      TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    CONSTRAINT broadcasts_status_check CHECK (status IN ('pending', 'sending', 'done', 'cancelled')),
    CONSTRAINT broadcasts_confirmed_check CHECK ((status IN ('sending', 'done')) = (confirmed_at IS NOT NULL)),
    CONSTRAINT broadcasts_recipients_check CHECK (recipients >= 0)
);

CREATE INDEX broadcasts_sending_idx ON broadcasts (created_at) WHERE status = 'sending';

CREATE TABLE broadcast_recipients (
    broadcast_id UUID        NOT NULL REFERENCES broadcasts (id),
    user_id      BIGINT      NOT NULL REFERENCES users (id),
    status       TEXT        NOT NULL DEFAULT 'queued',
    -- Telegram's answer for a 'failed' or 'blocked' one, or 'interrupted'.
    error        TEXT,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (broadcast_id, user_id),
    CONSTRAINT broadcast_recipients_status_check
        CHECK (status IN ('queued', 'sending', 'sent', 'blocked', 'failed', 'skipped'))
);

-- The sender takes queued rows in order; a restart looks for rows left 'sending'.
CREATE INDEX broadcast_recipients_open_idx ON broadcast_recipients (broadcast_id, user_id)
    WHERE status IN ('queued', 'sending');
