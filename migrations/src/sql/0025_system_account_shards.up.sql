-- System accounts in shards. Every capture credits the revenue account and every
-- payment debits its provider's clearing account: with one row each, all postings
-- of the whole service queue on that row's lock (the bound of the ledger bench at 32
-- concurrent users, and of the YooKassa notification endpoint). A system account is
-- now one of up to 32 rows of the same kind (and provider), and a posting uses the
-- shard of its database session: concurrent postings run on different sessions, so
-- they lock different rows. Reports already add up entries and balances by kind.
--
-- The shard is the session's, not the user's, so a posting replayed on another
-- session may name another shard: a replay is recognised by the accounts' identity
-- (kind, owner, provider), not by their ids.
--
-- Also: the two helpers that were LANGUAGE sql are PL/pgSQL, whose plans a session keeps.

ALTER TABLE ledger_accounts
    ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0,
    ADD CONSTRAINT ledger_accounts_shard_check CHECK (shard BETWEEN 0 AND 31 AND (user_id IS NULL OR shard = 0)),
    DROP CONSTRAINT ledger_accounts_identity_key,
    ADD CONSTRAINT ledger_accounts_identity_key UNIQUE NULLS NOT DISTINCT (kind, user_id, provider, shard);

-- The system account of this session's shard (created when p_create). Without p_create,
-- a replay's check, any shard of the account names it.
CREATE OR REPLACE FUNCTION ledger_system_account(p_kind TEXT, p_provider TEXT, p_create BOOLEAN) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_shard SMALLINT := pg_backend_pid() % 32;
    v_id BIGINT;
BEGIN
    SELECT a.id INTO v_id FROM ledger_accounts a
     WHERE a.kind = p_kind AND a.user_id IS NULL AND a.provider IS NOT DISTINCT FROM p_provider
       AND a.shard = v_shard;
    IF v_id IS NULL AND p_create THEN
        INSERT INTO ledger_accounts (kind, provider, shard) VALUES (p_kind, p_provider, v_shard)
            ON CONFLICT DO NOTHING;
        SELECT a.id INTO v_id FROM ledger_accounts a
         WHERE a.kind = p_kind AND a.user_id IS NULL AND a.provider IS NOT DISTINCT FROM p_provider
           AND a.shard = v_shard;
    ELSIF v_id IS NULL THEN
        SELECT min(a.id) INTO v_id FROM ledger_accounts a
         WHERE a.kind = p_kind AND a.user_id IS NULL AND a.provider IS NOT DISTINCT FROM p_provider;
    END IF;
    RETURN v_id;
END
$$;

-- Whether transaction p_id (of kind p_posted_kind) is the posting asked for again: the
-- same amounts on the same accounts, a system account's shards counting as one.
CREATE OR REPLACE FUNCTION ledger_is_replay(p_id BIGINT, p_posted_kind TEXT, p_kind TEXT, p_accounts BIGINT[], p_amounts NUMERIC[])
RETURNS BOOLEAN LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN p_posted_kind = p_kind
       AND NOT EXISTS (
           SELECT a.kind, a.user_id, a.provider, e.amount
             FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
            WHERE e.transaction_id = p_id
           EXCEPT
           SELECT a.kind, a.user_id, a.provider, u.amount
             FROM unnest(p_accounts, p_amounts) AS u (account, amount)
             LEFT JOIN ledger_accounts a ON a.id = u.account)
       AND NOT EXISTS (
           SELECT a.kind, a.user_id, a.provider, u.amount
             FROM unnest(p_accounts, p_amounts) AS u (account, amount)
             LEFT JOIN ledger_accounts a ON a.id = u.account
           EXCEPT
           SELECT a.kind, a.user_id, a.provider, e.amount
             FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
            WHERE e.transaction_id = p_id);
END
$$;

-- ledger_legs as PL/pgSQL: a LANGUAGE sql function called from PL/pgSQL is parsed and planned
-- again on every call (a sixth of the server's time in the intake bench's profile); PL/pgSQL
-- keeps its plan for the session.
CREATE OR REPLACE FUNCTION ledger_legs(p_accounts BIGINT[], p_amounts NUMERIC[],
    OUT accounts BIGINT[], OUT amounts NUMERIC[], OUT system_legs INTEGER)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT coalesce(array_agg(l.account ORDER BY a.user_id IS NULL, l.account), '{}'),
           coalesce(array_agg(l.amount ORDER BY a.user_id IS NULL, l.account), '{}'),
           count(*) FILTER (WHERE a.user_id IS NULL)::INTEGER
      INTO accounts, amounts, system_legs
      FROM (SELECT u.account, sum(u.amount) AS amount
              FROM unnest(p_accounts, p_amounts) AS u (account, amount)
             GROUP BY u.account) l
      LEFT JOIN ledger_accounts a ON a.id = l.account
     WHERE l.amount <> 0;
END
$$;
