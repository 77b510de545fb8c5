-- Back to one allowance per hold: plan units still counted are dropped with the columns.
DELETE FROM free_allowance_usage WHERE allowance LIKE 'plan\_%';
DROP FUNCTION ledger_hold(UUID, BIGINT, NUMERIC, TEXT, INTEGER, DATE, TIMESTAMPTZ, TEXT, INTEGER, DATE);
-- The functions of 0024, as they were.
-- Reserves p_amount (and p_free_units of an allowance, whose usage row the caller has
-- locked) for job p_job. Outcomes: 'held'; 'existing' (the job already has a hold: it is
-- returned as it stands); 'insufficient' (the user has short_balance available).
CREATE FUNCTION ledger_hold(
    p_job UUID, p_user BIGINT, p_amount NUMERIC, p_allowance TEXT, p_free_units INTEGER,
    p_free_period DATE, p_created_at TIMESTAMPTZ,
    OUT outcome TEXT, OUT job_id UUID, OUT user_id BIGINT, OUT amount NUMERIC, OUT captured NUMERIC,
    OUT allowance TEXT, OUT free_units INTEGER, OUT free_period DATE, OUT status TEXT,
    OUT short_balance NUMERIC)
LANGUAGE plpgsql AS $$
DECLARE
    v_user RECORD;
    v_post RECORD;
    v_short NUMERIC;
BEGIN
    SELECT h.job_id, h.user_id, h.amount, h.captured, h.allowance, h.free_units, h.free_period, h.status
      INTO job_id, user_id, amount, captured, allowance, free_units, free_period, status
      FROM ledger_holds h WHERE h.job_id = p_job;
    IF FOUND THEN
        outcome := 'existing';
        RETURN;
    END IF;
    -- The hold row first: it is written before the accounts are locked, so the lock
    -- on the user's accounts, which all their postings wait for, is held shorter.
    INSERT INTO ledger_holds AS h (job_id, user_id, amount, allowance, free_units, free_period, created_at)
         VALUES (p_job, p_user, p_amount, p_allowance, p_free_units, p_free_period, p_created_at)
    ON CONFLICT ON CONSTRAINT ledger_holds_pkey DO NOTHING
    RETURNING h.job_id, h.user_id, h.amount, h.captured, h.allowance, h.free_units, h.free_period, h.status
         INTO job_id, user_id, amount, captured, allowance, free_units, free_period, status;
    IF NOT FOUND THEN
        -- A concurrent hold of this job committed while we waited for it.
        SELECT h.job_id, h.user_id, h.amount, h.captured, h.allowance, h.free_units, h.free_period, h.status
          INTO STRICT job_id, user_id, amount, captured, allowance, free_units, free_period, status
          FROM ledger_holds h WHERE h.job_id = p_job;
        outcome := 'existing';
        RETURN;
    END IF;
    IF p_amount > 0 THEN
        SELECT * INTO v_user FROM ledger_user_accounts(p_user, false);
        IF v_user.available IS NULL THEN
            -- No accounts yet: nothing to reserve from.
            v_short := 0;
        ELSE
            SELECT * INTO v_post FROM ledger_post('hold', 'hold:' || p_job, p_job, NULL, 'system', 'reserved for a job',
                                                 ARRAY[v_user.available, v_user.held], ARRAY[-p_amount, p_amount]);
            IF v_post.outcome = 'insufficient' THEN
                v_short := v_post.short_balance;
            ELSIF v_post.outcome <> 'posted' THEN
                -- We hold the job's hold row, so nobody else can have posted its hold.
                RAISE EXCEPTION 'hold of job % found posted already: %', p_job, v_post.outcome;
            END IF;
        END IF;
        IF v_short IS NOT NULL THEN
            -- Never committed, so never seen: the refusal leaves nothing behind.
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
    outcome := 'held';
END
$$;

-- Charges p_charge for job p_job and gives the rest of its hold back; p_free_used free units
-- stay used (NULL: all the hold reserved), the others go back to the allowance. When
-- p_seen_amount is given, the hold must still hold that amount and p_seen_free_units (the
-- caller priced the work from them), else the outcome is 'stale'. Other outcomes:
-- 'captured'; 'replayed' (captured before with the same charge); 'conflict' (captured with
-- another charge); 'settled' (released or refunded); 'exceeds' (more than held);
-- 'not_found'. The hold is returned as it stands after the call.
CREATE OR REPLACE FUNCTION ledger_capture(
    p_job UUID, p_charge NUMERIC, p_free_used INTEGER, p_seen_amount NUMERIC, p_seen_free_units INTEGER,
    OUT outcome TEXT, OUT job_id UUID, OUT user_id BIGINT, OUT amount NUMERIC, OUT captured NUMERIC,
    OUT allowance TEXT, OUT free_units INTEGER, OUT free_period DATE, OUT status TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_free_used INTEGER;
    v_user RECORD;
    v_post RECORD;
BEGIN
    SELECT h.job_id, h.user_id, h.amount, h.captured, h.allowance, h.free_units, h.free_period, h.status
      INTO job_id, user_id, amount, captured, allowance, free_units, free_period, status
      FROM ledger_holds h WHERE h.job_id = p_job FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
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
    v_free_used := coalesce(p_free_used, free_units);
    UPDATE ledger_holds h SET status = 'captured', captured = p_charge, free_units = v_free_used, settled_at = now()
     WHERE h.job_id = p_job;
    IF allowance IS NOT NULL AND free_units > v_free_used THEN
        UPDATE free_allowance_usage u SET used = u.used - (free_units - v_free_used)
         WHERE u.user_id = ledger_capture.user_id AND u.allowance = ledger_capture.allowance
           AND u.period_start = free_period;
    END IF;
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
    free_units := v_free_used;
    status := 'captured';
    outcome := 'captured';
END
$$;

-- Gives job p_job's whole hold back, free units included. Outcomes: 'released';
-- 'replayed' (released before); 'settled' (captured or refunded); 'not_found'.
CREATE OR REPLACE FUNCTION ledger_release(
    p_job UUID,
    OUT outcome TEXT, OUT job_id UUID, OUT user_id BIGINT, OUT amount NUMERIC, OUT captured NUMERIC,
    OUT allowance TEXT, OUT free_units INTEGER, OUT free_period DATE, OUT status TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_user RECORD;
    v_post RECORD;
BEGIN
    SELECT h.job_id, h.user_id, h.amount, h.captured, h.allowance, h.free_units, h.free_period, h.status
      INTO job_id, user_id, amount, captured, allowance, free_units, free_period, status
      FROM ledger_holds h WHERE h.job_id = p_job FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF status = 'released' THEN
        outcome := 'replayed';
        RETURN;
    ELSIF status <> 'open' THEN
        outcome := 'settled';
        RETURN;
    END IF;
    UPDATE ledger_holds h SET status = 'released', settled_at = now() WHERE h.job_id = p_job;
    IF allowance IS NOT NULL AND free_units > 0 THEN
        UPDATE free_allowance_usage u SET used = u.used - free_units
         WHERE u.user_id = ledger_release.user_id AND u.allowance = ledger_release.allowance
           AND u.period_start = free_period;
    END IF;
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

DROP FUNCTION ledger_give_back(BIGINT, TEXT, DATE, INTEGER);
ALTER TABLE ledger_holds DROP CONSTRAINT ledger_holds_plan_check,
    DROP COLUMN plan_allowance, DROP COLUMN plan_units, DROP COLUMN plan_period;
ALTER TABLE free_allowance_usage DROP CONSTRAINT free_allowance_usage_allowance_check;
ALTER TABLE free_allowance_usage ADD CONSTRAINT free_allowance_usage_allowance_check
    CHECK (allowance IN ('transcription_seconds', 'image_generations'));
DROP TABLE subscription_periods;
ALTER TABLE payments DROP COLUMN subscription_id;
DROP TABLE subscriptions;
-- Plan payments carry no credits and cannot stay under the old check.
DELETE FROM payments p WHERE p.credits = 0 AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.payment_id = p.id)
    AND NOT EXISTS (SELECT 1 FROM payment_refunds r WHERE r.payment_id = p.id);
ALTER TABLE payments DROP CONSTRAINT payments_credits_check;
ALTER TABLE payments ADD CONSTRAINT payments_credits_check CHECK (credits > 0);
