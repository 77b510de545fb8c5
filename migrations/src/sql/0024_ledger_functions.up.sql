-- Ledger postings as server-side functions: a hold, a capture, a release, a
-- refund or a transfer is one call, one round trip, instead of a dozen
-- statements, so an account row stays locked only for the time the server
-- needs. The rules are the ones the ledger kept before in Rust: idempotency
-- keys, accounts locked in one global order (the user's accounts first, then
-- system accounts, each by id), user balances never negative.
--
-- A function that refuses (insufficient funds, a key used for another
-- posting, a hold already settled) has written nothing when it returns, and
-- says why in its `outcome` instead of raising, so a caller's transaction
-- stays usable. Exceptions are kept for broken invariants.

-- The two accounts of a user (NULLs when they do not exist and p_create is false).
CREATE FUNCTION ledger_user_accounts(p_user BIGINT, p_create BOOLEAN, OUT available BIGINT, OUT held BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT max(a.id) FILTER (WHERE a.kind = 'user_available'), max(a.id) FILTER (WHERE a.kind = 'user_held')
      INTO available, held
      FROM ledger_accounts a WHERE a.user_id = p_user;
    IF (available IS NULL OR held IS NULL) AND p_create THEN
        INSERT INTO ledger_accounts (kind, user_id) VALUES ('user_available', p_user), ('user_held', p_user)
            ON CONFLICT DO NOTHING;
        -- A new statement: it sees the rows a concurrent insert committed while we waited.
        SELECT max(a.id) FILTER (WHERE a.kind = 'user_available'), max(a.id) FILTER (WHERE a.kind = 'user_held')
          INTO available, held
          FROM ledger_accounts a WHERE a.user_id = p_user;
    END IF;
END
$$;

-- A system account (revenue, bonus, refunds, payments_clearing per provider); NULL when
-- it does not exist and p_create is false.
CREATE FUNCTION ledger_system_account(p_kind TEXT, p_provider TEXT, p_create BOOLEAN) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_id BIGINT;
BEGIN
    SELECT a.id INTO v_id FROM ledger_accounts a
     WHERE a.kind = p_kind AND a.user_id IS NULL AND a.provider IS NOT DISTINCT FROM p_provider;
    IF v_id IS NULL AND p_create THEN
        INSERT INTO ledger_accounts (kind, provider) VALUES (p_kind, p_provider) ON CONFLICT DO NOTHING;
        SELECT a.id INTO v_id FROM ledger_accounts a
         WHERE a.kind = p_kind AND a.user_id IS NULL AND a.provider IS NOT DISTINCT FROM p_provider;
    END IF;
    RETURN v_id;
END
$$;

-- Legs as posted: amounts on the same account added up, zero legs dropped, in lock order;
-- system_legs counts the legs on system accounts (or on accounts that do not exist).
CREATE FUNCTION ledger_legs(p_accounts BIGINT[], p_amounts NUMERIC[],
    OUT accounts BIGINT[], OUT amounts NUMERIC[], OUT system_legs INTEGER)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(l.account ORDER BY a.user_id IS NULL, l.account), '{}'),
           coalesce(array_agg(l.amount ORDER BY a.user_id IS NULL, l.account), '{}'),
           count(*) FILTER (WHERE a.user_id IS NULL)::INTEGER
      FROM (SELECT u.account, sum(u.amount) AS amount
              FROM unnest(p_accounts, p_amounts) AS u (account, amount)
             GROUP BY u.account) l
      LEFT JOIN ledger_accounts a ON a.id = l.account
     WHERE l.amount <> 0
$$;

-- Whether transaction p_id (of kind p_posted_kind) is the posting asked for again.
CREATE FUNCTION ledger_is_replay(p_id BIGINT, p_posted_kind TEXT, p_kind TEXT, p_accounts BIGINT[], p_amounts NUMERIC[])
RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT p_posted_kind = p_kind
       AND NOT EXISTS (
           (SELECT e.account_id, e.amount FROM ledger_entries e WHERE e.transaction_id = p_id)
           EXCEPT SELECT * FROM unnest(p_accounts, p_amounts))
       AND NOT EXISTS (
           SELECT * FROM unnest(p_accounts, p_amounts)
           EXCEPT SELECT e.account_id, e.amount FROM ledger_entries e WHERE e.transaction_id = p_id)
$$;

-- Posts a balanced transaction once per key. Outcomes: 'posted'; 'replayed' (this very
-- posting was made before: its id is returned); 'conflict' (the key was used for another
-- posting); 'insufficient' (user account short_account holds short_balance, the posting
-- needed short_needed from it).
CREATE FUNCTION ledger_post(
    p_kind TEXT, p_key TEXT, p_job UUID, p_payment UUID, p_actor TEXT, p_memo TEXT,
    p_accounts BIGINT[], p_amounts NUMERIC[],
    OUT transaction_id BIGINT, OUT outcome TEXT,
    OUT short_account BIGINT, OUT short_needed NUMERIC, OUT short_balance NUMERIC)
LANGUAGE plpgsql AS $$
DECLARE
    v_accounts BIGINT[];
    v_amounts NUMERIC[];
    v_system_legs INTEGER;
    v_id BIGINT;
    v_kind TEXT;
    v_balance NUMERIC;
    v_user_owned BOOLEAN;
    v_moved INTEGER;
BEGIN
    SELECT l.accounts, l.amounts, l.system_legs INTO v_accounts, v_amounts, v_system_legs
      FROM ledger_legs(p_accounts, p_amounts) l;
    -- A replay changes nothing and needs no lock.
    SELECT t.id, t.kind INTO v_id, v_kind FROM ledger_transactions t WHERE t.idempotency_key = p_key;
    IF v_id IS NOT NULL THEN
        transaction_id := v_id;
        outcome := CASE WHEN ledger_is_replay(v_id, v_kind, p_kind, v_accounts, v_amounts)
                        THEN 'replayed' ELSE 'conflict' END;
        RETURN;
    END IF;
    -- Lock the user accounts in order and check their debits before writing anything.
    -- System accounts may go negative, so a single one (every posting we make has at
    -- most one) is left to the UPDATE below to lock: the last lock taken, held for the
    -- shortest time, which matters for the revenue account every capture moves.
    FOR i IN 1 .. coalesce(array_length(v_accounts, 1), 0) - CASE WHEN v_system_legs = 1 THEN 1 ELSE 0 END LOOP
        SELECT a.balance, a.user_id IS NOT NULL INTO v_balance, v_user_owned
          FROM ledger_accounts a WHERE a.id = v_accounts[i] FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'ledger account % does not exist', v_accounts[i]
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF v_user_owned AND v_balance + v_amounts[i] < 0 THEN
            outcome := 'insufficient';
            short_account := v_accounts[i];
            short_needed := -v_amounts[i];
            short_balance := v_balance;
            RETURN;
        END IF;
    END LOOP;
    INSERT INTO ledger_transactions (kind, idempotency_key, job_id, payment_id, actor, memo)
         VALUES (p_kind, p_key, p_job, p_payment, p_actor, p_memo)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        -- The same key was posted concurrently and committed while we waited for it.
        SELECT t.id, t.kind INTO v_id, v_kind FROM ledger_transactions t WHERE t.idempotency_key = p_key;
        transaction_id := v_id;
        outcome := CASE WHEN ledger_is_replay(v_id, v_kind, p_kind, v_accounts, v_amounts)
                        THEN 'replayed' ELSE 'conflict' END;
        RETURN;
    END IF;
    -- A missing system account shows here as a missing entry; the FK of ledger_entries
    -- cannot catch it, so count.
    WITH moved AS (
        UPDATE ledger_accounts a SET balance = a.balance + l.amount, updated_at = now()
          FROM unnest(v_accounts, v_amounts) AS l (account, amount)
         WHERE a.id = l.account
        RETURNING a.id, l.amount, a.balance)
    INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after)
    SELECT v_id, moved.id, moved.amount, moved.balance FROM moved;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    IF v_moved <> coalesce(array_length(v_accounts, 1), 0) THEN
        RAISE EXCEPTION 'a ledger account of posting % does not exist', p_key USING ERRCODE = 'foreign_key_violation';
    END IF;
    transaction_id := v_id;
    outcome := 'posted';
END
$$;

-- Moves p_to_user (negative: from the user) between a user's available credits and a
-- system account. Same outcomes as ledger_post. Accounts are created only for a posting
-- that can happen, so a refusal leaves no trace.
CREATE FUNCTION ledger_transfer(
    p_user BIGINT, p_system TEXT, p_provider TEXT, p_to_user NUMERIC,
    p_kind TEXT, p_key TEXT, p_payment UUID, p_actor TEXT, p_memo TEXT,
    OUT transaction_id BIGINT, OUT outcome TEXT,
    OUT short_account BIGINT, OUT short_needed NUMERIC, OUT short_balance NUMERIC)
LANGUAGE plpgsql AS $$
DECLARE
    v_user RECORD;
    v_system BIGINT;
    v_id BIGINT;
    v_kind TEXT;
    v_balance NUMERIC;
    v_legs RECORD;
    v_post RECORD;
BEGIN
    SELECT t.id, t.kind INTO v_id, v_kind FROM ledger_transactions t WHERE t.idempotency_key = p_key;
    IF v_id IS NOT NULL THEN
        SELECT * INTO v_user FROM ledger_user_accounts(p_user, false);
        v_system := ledger_system_account(p_system, p_provider, false);
        SELECT * INTO v_legs FROM ledger_legs(ARRAY[v_user.available, v_system], ARRAY[p_to_user, -p_to_user]);
        transaction_id := v_id;
        outcome := CASE WHEN v_user.available IS NOT NULL AND v_system IS NOT NULL
                          AND ledger_is_replay(v_id, v_kind, p_kind, v_legs.accounts, v_legs.amounts)
                        THEN 'replayed' ELSE 'conflict' END;
        RETURN;
    END IF;
    SELECT * INTO v_user FROM ledger_user_accounts(p_user, p_to_user >= 0);
    IF v_user.available IS NULL THEN
        -- No accounts yet: nothing to take.
        outcome := 'insufficient';
        short_needed := -p_to_user;
        short_balance := 0;
        RETURN;
    END IF;
    IF p_to_user < 0 THEN
        -- Checked before the system account may be created; ledger_post checks it again.
        SELECT a.balance INTO v_balance FROM ledger_accounts a WHERE a.id = v_user.available FOR UPDATE;
        IF v_balance + p_to_user < 0 THEN
            outcome := 'insufficient';
            short_account := v_user.available;
            short_needed := -p_to_user;
            short_balance := v_balance;
            RETURN;
        END IF;
    END IF;
    v_system := ledger_system_account(p_system, p_provider, true);
    SELECT * INTO v_post FROM ledger_post(p_kind, p_key, NULL, p_payment, p_actor, p_memo,
                                         ARRAY[v_user.available, v_system], ARRAY[p_to_user, -p_to_user]);
    transaction_id := v_post.transaction_id;
    outcome := v_post.outcome;
    short_account := v_post.short_account;
    short_needed := v_post.short_needed;
    short_balance := v_post.short_balance;
END
$$;

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
CREATE FUNCTION ledger_capture(
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
CREATE FUNCTION ledger_release(
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

-- Gives a captured job's charge back to the user, once. Outcomes: 'posted', 'replayed'
-- (refunded before; its transaction is returned), 'not_captured', 'free' (nothing was
-- charged), 'not_found'.
CREATE FUNCTION ledger_refund(p_job UUID, p_actor TEXT, p_memo TEXT, OUT transaction_id BIGINT, OUT outcome TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_hold RECORD;
    v_user RECORD;
    v_post RECORD;
BEGIN
    SELECT h.user_id, h.captured, h.status INTO v_hold FROM ledger_holds h WHERE h.job_id = p_job FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF v_hold.status = 'refunded' THEN
        SELECT t.id INTO transaction_id FROM ledger_transactions t WHERE t.idempotency_key = 'refund:' || p_job;
        outcome := 'replayed';
        RETURN;
    ELSIF v_hold.status <> 'captured' THEN
        outcome := 'not_captured';
        RETURN;
    ELSIF coalesce(v_hold.captured, 0) = 0 THEN
        outcome := 'free';
        RETURN;
    END IF;
    UPDATE ledger_holds h SET status = 'refunded' WHERE h.job_id = p_job;
    SELECT * INTO v_user FROM ledger_user_accounts(v_hold.user_id, false);
    SELECT * INTO v_post FROM ledger_post('refund', 'refund:' || p_job, p_job, NULL, p_actor, p_memo,
        ARRAY[v_user.available, ledger_system_account('refunds', NULL, true)],
        ARRAY[v_hold.captured, -v_hold.captured]);
    IF v_post.outcome NOT IN ('posted', 'replayed') THEN
        RAISE EXCEPTION 'refund of job % was refused: %', p_job, v_post.outcome;
    END IF;
    transaction_id := v_post.transaction_id;
    outcome := v_post.outcome;
END
$$;
