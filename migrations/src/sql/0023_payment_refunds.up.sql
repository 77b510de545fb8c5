-- Refunds of settled purchases, one row per provider refund, applied once:
-- YooKassa refunds (made through the bot or in the dashboard, reported by
-- `refund.succeeded`) and Stars refunds. A refund takes back the purchase's
-- credits in proportion to the refunded part, and the same share of a
-- referral bonus the purchase earned; each only down to zero: what could not
-- be taken back (already spent) is the shortfall, kept here.
CREATE TABLE payment_refunds (
    provider_refund_id TEXT          PRIMARY KEY,
    payment_id         UUID          NOT NULL REFERENCES payments (id),
    -- In the payment's currency.
    amount             NUMERIC(20,4) NOT NULL,
    credits_due        NUMERIC(20,4) NOT NULL,
    credits_taken      NUMERIC(20,4) NOT NULL,
    referrer_id        BIGINT        REFERENCES users (id),
    bonus_due          NUMERIC(20,4) NOT NULL DEFAULT 0,
    bonus_taken        NUMERIC(20,4) NOT NULL DEFAULT 0,
    actor              TEXT          NOT NULL,
    created_at         TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CONSTRAINT payment_refunds_amount_check CHECK (amount > 0),
    CONSTRAINT payment_refunds_credits_check CHECK (credits_taken >= 0 AND credits_taken <= credits_due),
    CONSTRAINT payment_refunds_bonus_check CHECK (bonus_taken >= 0 AND bonus_taken <= bonus_due)
);

CREATE INDEX payment_refunds_payment_idx ON payment_refunds (payment_id);
