-- Admin actions waiting for a confirmation tap (/grant, /debit). The row's id is
-- in the Confirm button and is the ledger posting's idempotency key, so a second
-- tap (or a tap on a stale button) posts nothing more.
CREATE TABLE admin_actions (
    id                UUID PRIMARY KEY,
    admin_telegram_id BIGINT        NOT NULL,
    kind              TEXT          NOT NULL,
    target_user_id    BIGINT        NOT NULL REFERENCES users (id),
    amount            NUMERIC(20,4) NOT NULL,
    reason            TEXT          NOT NULL,
    status            TEXT          NOT NULL DEFAULT 'pending',
    created_at        TIMESTAMPTZ   NOT NULL DEFAULT now(),
    settled_at        TIMESTAMPTZ,
    CONSTRAINT admin_actions_kind_check CHECK (kind IN ('grant', 'debit')),
    CONSTRAINT admin_actions_status_check CHECK (status IN ('pending', 'done', 'cancelled', 'failed')),
    CONSTRAINT admin_actions_amount_check CHECK (amount > 0)
);
