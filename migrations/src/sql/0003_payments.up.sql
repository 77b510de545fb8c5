CREATE TABLE payments (
    id                  UUID PRIMARY KEY,
    user_id             BIGINT        NOT NULL REFERENCES users (id),
    provider            TEXT          NOT NULL,
    -- Set once the provider has assigned it (YooKassa payment id, Telegram charge id).
    provider_payment_id TEXT,
    package_id          TEXT,
    amount              NUMERIC(20,4) NOT NULL,
    currency            TEXT          NOT NULL,
    credits             NUMERIC(20,4) NOT NULL,
    status              TEXT          NOT NULL DEFAULT 'pending',
    idempotency_key     TEXT          NOT NULL,
    raw_payload         JSONB,
    created_at          TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT payments_provider_check CHECK (provider IN ('yookassa', 'telegram', 'stars')),
    CONSTRAINT payments_status_check CHECK (status IN ('pending', 'succeeded', 'canceled', 'refunded')),
    CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT payments_amount_check CHECK (amount > 0),
    CONSTRAINT payments_credits_check CHECK (credits > 0),
    CONSTRAINT payments_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT payments_provider_payment_key UNIQUE (provider, provider_payment_id)
);

CREATE INDEX payments_user_created_idx ON payments (user_id, created_at DESC);
-- Reconciliation re-checks old pending payments.
CREATE INDEX payments_pending_idx ON payments (created_at) WHERE status = 'pending';
