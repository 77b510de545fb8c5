-- Subscription plans: a plan's payment buys a period of the plan, not credits,
-- and the plan's monthly allowances are used before the free ones.

-- A payment for a plan period carries no credits.
ALTER TABLE payments DROP CONSTRAINT payments_credits_check;
ALTER TABLE payments ADD CONSTRAINT payments_credits_check CHECK (credits >= 0);

CREATE TABLE subscriptions (
    id                 UUID PRIMARY KEY,
    user_id            BIGINT      NOT NULL REFERENCES users (id),
    -- The plan's code in SUBSCRIPTION_PLANS.
    plan               TEXT        NOT NULL,
    -- What it was sold with, kept for its life: a change of SUBSCRIPTION_PLANS applies
    -- to new subscriptions, never to one already paid for. The name is as shown; the price is per period, in
    -- the provider's currency (roubles or Stars).
    name               TEXT        NOT NULL,
    price              NUMERIC(20,4) NOT NULL,
    minutes            INTEGER     NOT NULL,
    images             INTEGER     NOT NULL,
    discount_percent   INTEGER     NOT NULL,
    provider           TEXT        NOT NULL,
    -- pending: nothing paid yet; active: renews; canceled: does not renew, runs to
    -- paid_until; ended: over (expired, refunded, renewal failed).
    status             TEXT        NOT NULL DEFAULT 'pending',
    paid_until         TIMESTAMPTZ,
    -- Stars: the first charge, by which editUserStarSubscription names the subscription.
    telegram_charge_id TEXT,
    -- YooKassa: the payment method saved with the first payment, charged for renewals.
    payment_method_id  TEXT,
    renewal_failures   INTEGER     NOT NULL DEFAULT 0,
    next_renewal_at    TIMESTAMPTZ,
    ended_reason       TEXT,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_provider_check CHECK (provider IN ('stars', 'yookassa')),
    CONSTRAINT subscriptions_status_check CHECK (status IN ('pending', 'active', 'canceled', 'ended')),
    CONSTRAINT subscriptions_failures_check CHECK (renewal_failures >= 0),
    CONSTRAINT subscriptions_terms_check
        CHECK (price > 0 AND minutes >= 0 AND images >= 0 AND discount_percent BETWEEN 0 AND 99)
);
-- One live plan per user.
CREATE UNIQUE INDEX subscriptions_live_user_idx ON subscriptions (user_id) WHERE status IN ('active', 'canceled');
-- Maintenance looks for plans to renew or end.
CREATE INDEX subscriptions_due_idx ON subscriptions (paid_until) WHERE status IN ('active', 'canceled');

-- The plan a payment pays for (NULL for credit packages).
ALTER TABLE payments ADD COLUMN subscription_id UUID REFERENCES subscriptions (id);

-- One row per paid period: each charge (its payment row) extends the plan once.
CREATE TABLE subscription_periods (
    payment_id      UUID        PRIMARY KEY REFERENCES payments (id),
    subscription_id UUID        NOT NULL REFERENCES subscriptions (id),
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ NOT NULL,
    refunded        BOOLEAN     NOT NULL DEFAULT false,
    -- Paid while another of the user's plans ran: grants nothing, and maintenance gives it back.
    duplicate       BOOLEAN     NOT NULL DEFAULT false,
    CONSTRAINT subscription_periods_span_check CHECK (ends_at > starts_at)
);
CREATE INDEX subscription_periods_subscription_idx ON subscription_periods (subscription_id, ends_at DESC);

-- Plan allowances are counted like free ones, per plan period.
ALTER TABLE free_allowance_usage DROP CONSTRAINT free_allowance_usage_allowance_check;
ALTER TABLE free_allowance_usage ADD CONSTRAINT free_allowance_usage_allowance_check CHECK (allowance IN
    ('transcription_seconds', 'image_generations', 'plan_transcription_seconds', 'plan_image_generations'));

-- A hold may use a plan's allowance first, then the free one.
ALTER TABLE ledger_holds
    ADD COLUMN plan_allowance TEXT,
    ADD COLUMN plan_units INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN plan_period DATE,
    ADD CONSTRAINT ledger_holds_plan_check CHECK (plan_units >= 0 AND (plan_units = 0 OR
        (plan_allowance IN ('plan_transcription_seconds', 'plan_image_generations') AND plan_period IS NOT NULL)));

-- As in 0024, with the plan's units: p_plan_units of allowance p_plan_allowance
-- (period p_plan_period, its usage row locked by the caller) are reserved before the
-- free ones. The free_units returned count both, the units the job does not pay for.
DROP FUNCTION ledger_hold(UUID, BIGINT, NUMERIC, TEXT, INTEGER, DATE, TIMESTAMPTZ);
CREATE FUNCTION ledger_hold(
    p_job UUID, p_user BIGINT, p_amount NUMERIC, p_allowance TEXT, p_free_units INTEGER,
    p_free_period DATE, p_created_at TIMESTAMPTZ,
    p_plan_allowance TEXT, p_plan_units INTEGER, p_plan_period DATE,
    OUT outcome TEXT, OUT job_id UUID, OUT user_id BIGINT, OUT amount NUMERIC, OUT captured NUMERIC,
    OUT allowance TEXT, OUT free_units INTEGER, OUT free_period DATE, OUT status TEXT,
    OUT short_balance NUMERIC)
LANGUAGE plpgsql AS $$
DECLARE
    v_user RECORD;
    v_post RECORD;
    v_short NUMERIC;
BEGIN
    SELECT h.job_id, h.user_id, h.amount, h.captured, h.allowance, h.free_units + h.plan_units, h.free_period, h.status
      INTO job_id, user_id, amount, captured, allowance, free_units, free_period, status
      FROM ledger_holds h WHERE h.job_id = p_job;
    IF FOUND THEN
        outcome := 'existing';
        RETURN;
    END IF;
    INSERT INTO ledger_holds AS h (job_id, user_id, amount, allowance, free_units, free_period, created_at,
                                   plan_allowance, plan_units, plan_period)
         VALUES (p_job, p_user, p_amount, p_allowance, p_free_units, p_free_period, p_created_at,
                 p_plan_allowance, p_plan_units, p_plan_period)
    ON CONFLICT ON CONSTRAINT ledger_holds_pkey DO NOTHING
    RETURNING h.job_id, h.user_id, h.amount, h.captured, h.allowance, h.free_units + h.plan_units, h.free_period, h.status
         INTO job_id, user_id, amount, captured, allowance, free_units, free_period, status;
    IF NOT FOUND THEN
        SELECT h.job_id, h.user_id, h.amount, h.captured, h.allowance, h.free_units + h.plan_units, h.free_period, h.status
          INTO STRICT job_id, user_id, amount, captured, allowance, free_units, free_period, status
          FROM ledger_holds h WHERE h.job_id = p_job;
        outcome := 'existing';
        RETURN;
    END IF;
    IF p_amount > 0 THEN
        SELECT * INTO v_user FROM ledger_user_accounts(p_user, false);
        IF v_user.available IS NULL THEN
            v_short := 0;
        ELSE
            SELECT * INTO v_post FROM ledger_post('hold', 'hold:' || p_job, p_job, NULL, 'system', 'reserved for a job',
                                                 ARRAY[v_user.available, v_user.held], ARRAY[-p_amount, p_amount]);
            IF v_post.outcome = 'insufficient' THEN
                v_short := v_post.short_balance;
            ELSIF v_post.outcome <> 'posted' THEN
                RAISE EXCEPTION 'hold of job % found posted already: %', p_job, v_post.outcome;
            END IF;
        END IF;
        IF v_short IS NOT NULL THEN
            DELETE FROM ledger_holds h WHERE h.job_id = p_job;
            job_id := NULL; user_id := NULL; amount := NULL; captured := NULL;
            allowance := NULL; free_units := NULL; free_period := NULL; status := NULL;
            outcome := 'insufficient';
            short_balance := v_short;
            RETURN;
        END IF;
    END IF;
    IF p_free_units > 0 THEN
        UPDATE free_allowance_usage u SET used = u.used + p_free_units
         WHERE u.user_id = p_user AND u.allowance = p_allowance AND u.period_start = p_free_period;
    END IF;
    IF p_plan_units > 0 THEN
        UPDATE free_allowance_usage u SET used = u.used + p_plan_units
         WHERE u.user_id = p_user AND u.allowance = p_plan_allowance AND u.period_start = p_plan_period;
    END IF;
    outcome := 'held';
END
$$;

-- Gives p_units of a usage row (free or plan allowance) back; nothing without an allowance.
CREATE FUNCTION ledger_give_back(p_user BIGINT, p_allowance TEXT, p_period DATE, p_units INTEGER) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    IF p_allowance IS NOT NULL AND p_units > 0 THEN
        UPDATE free_allowance_usage u SET used = u.used - p_units
         WHERE u.user_id = p_user AND u.allowance = p_allowance AND u.period_start = p_period;
    END IF;
END
$$;

-- As in 0024; p_free_used and p_seen_free_units count plan and free units together. The
-- units used are taken from the plan's first, and the rest of each goes back.
CREATE OR REPLACE FUNCTION ledger_capture(
    p_job UUID, p_charge NUMERIC, p_free_used INTEGER, p_seen_amount NUMERIC, p_seen_free_units INTEGER,
    OUT outcome TEXT, OUT job_id UUID, OUT user_id BIGINT, OUT amount NUMERIC, OUT captured NUMERIC,
    OUT allowance TEXT, OUT free_units INTEGER, OUT free_period DATE, OUT status TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_hold RECORD;
    v_used INTEGER;
    v_plan_used INTEGER;
    v_free_used INTEGER;
    v_user RECORD;
    v_post RECORD;
BEGIN
    SELECT h.* INTO v_hold FROM ledger_holds h WHERE h.job_id = p_job FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    job_id := v_hold.job_id; user_id := v_hold.user_id; amount := v_hold.amount; captured := v_hold.captured;
    allowance := v_hold.allowance; free_units := v_hold.free_units + v_hold.plan_units;
    free_period := v_hold.free_period; status := v_hold.status;
    IF p_seen_amount IS NOT NULL AND (amount <> p_seen_amount OR free_units <> p_seen_free_units) THEN
        outcome := 'stale';
        RETURN;
    END IF;
    IF status = 'captured' THEN
        outcome := CASE WHEN captured = p_charge THEN 'replayed' ELSE 'conflict' END;
        RETURN;
    ELSIF status <> 'open' THEN
        outcome := 'settled';
        RETURN;
    ELSIF p_charge > amount THEN
        outcome := 'exceeds';
        RETURN;
    END IF;
    v_used := least(coalesce(p_free_used, free_units), free_units);
    v_plan_used := least(v_used, v_hold.plan_units);
    v_free_used := least(v_used - v_plan_used, v_hold.free_units);
    UPDATE ledger_holds h SET status = 'captured', captured = p_charge, free_units = v_free_used,
                              plan_units = v_plan_used, settled_at = now()
     WHERE h.job_id = p_job;
    PERFORM ledger_give_back(v_hold.user_id, v_hold.allowance, v_hold.free_period, v_hold.free_units - v_free_used);
    PERFORM ledger_give_back(v_hold.user_id, v_hold.plan_allowance, v_hold.plan_period, v_hold.plan_units - v_plan_used);
    IF amount > 0 THEN
        SELECT * INTO v_user FROM ledger_user_accounts(user_id, false);
        SELECT * INTO v_post FROM ledger_post('capture', 'capture:' || p_job, p_job, NULL, 'system', 'charged for a job',
            ARRAY[v_user.held, v_user.available, ledger_system_account('revenue', NULL, true)],
            ARRAY[-amount, amount - p_charge, p_charge]);
        IF v_post.outcome <> 'posted' THEN
            RAISE EXCEPTION 'capture of open hold % was refused: %', p_job, v_post.outcome;
        END IF;
    END IF;
    captured := p_charge;
    free_units := v_used;
    status := 'captured';
    outcome := 'captured';
END
$$;

-- As in 0024, giving the plan's units back too.
CREATE OR REPLACE FUNCTION ledger_release(
    p_job UUID,
    OUT outcome TEXT, OUT job_id UUID, OUT user_id BIGINT, OUT amount NUMERIC, OUT captured NUMERIC,
    OUT allowance TEXT, OUT free_units INTEGER, OUT free_period DATE, OUT status TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_hold RECORD;
    v_user RECORD;
    v_post RECORD;
BEGIN
    SELECT h.* INTO v_hold FROM ledger_holds h WHERE h.job_id = p_job FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    job_id := v_hold.job_id; user_id := v_hold.user_id; amount := v_hold.amount; captured := v_hold.captured;
    allowance := v_hold.allowance; free_units := v_hold.free_units + v_hold.plan_units;
    free_period := v_hold.free_period; status := v_hold.status;
    IF status = 'released' THEN
        outcome := 'replayed';
        RETURN;
    ELSIF status <> 'open' THEN
        outcome := 'settled';
        RETURN;
    END IF;
    UPDATE ledger_holds h SET status = 'released', settled_at = now() WHERE h.job_id = p_job;
    PERFORM ledger_give_back(v_hold.user_id, v_hold.allowance, v_hold.free_period, v_hold.free_units);
    PERFORM ledger_give_back(v_hold.user_id, v_hold.plan_allowance, v_hold.plan_period, v_hold.plan_units);
    IF amount > 0 THEN
        SELECT * INTO v_user FROM ledger_user_accounts(user_id, false);
        SELECT * INTO v_post FROM ledger_post('release', 'release:' || p_job, p_job, NULL, 'system', 'reservation returned',
            ARRAY[v_user.held, v_user.available], ARRAY[-amount, amount]);
        IF v_post.outcome <> 'posted' THEN
            RAISE EXCEPTION 'release of open hold % was refused: %', p_job, v_post.outcome;
        END IF;
    END IF;
    status := 'released';
    outcome := 'released';
END
$$;
