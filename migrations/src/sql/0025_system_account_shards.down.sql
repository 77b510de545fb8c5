-- Folds every system account's shards back into shard 0: entries move to it, its
-- balance is the sum. (balance_after of the moved entries stays as it was posted.)
INSERT INTO ledger_accounts (kind, provider, shard)
SELECT DISTINCT a.kind, a.provider, 0::SMALLINT FROM ledger_accounts a WHERE a.user_id IS NULL
ON CONFLICT DO NOTHING;

-- Entries are append-only for the application; this rewrite is the schema's own.
ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only;
UPDATE ledger_entries e SET account_id = home.id
  FROM ledger_accounts a
  JOIN ledger_accounts home ON home.kind = a.kind AND home.user_id IS NULL
   AND home.provider IS NOT DISTINCT FROM a.provider AND home.shard = 0
 WHERE e.account_id = a.id AND a.shard <> 0;
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only;

UPDATE ledger_accounts home SET balance = (
    SELECT coalesce(sum(a.balance), 0) FROM ledger_accounts a
     WHERE a.kind = home.kind AND a.user_id IS NULL AND a.provider IS NOT DISTINCT FROM home.provider)
 WHERE home.user_id IS NULL AND home.shard = 0;

DELETE FROM ledger_accounts WHERE shard <> 0;

CREATE OR REPLACE FUNCTION ledger_legs(p_accounts BIGINT[], p_amounts NUMERIC[],
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

CREATE OR REPLACE FUNCTION ledger_is_replay(p_id BIGINT, p_posted_kind TEXT, p_kind TEXT, p_accounts BIGINT[], p_amounts NUMERIC[])
RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT p_posted_kind = p_kind
       AND NOT EXISTS (
           (SELECT e.account_id, e.amount FROM ledger_entries e WHERE e.transaction_id = p_id)
           EXCEPT SELECT * FROM unnest(p_accounts, p_amounts))
       AND NOT EXISTS (
           SELECT * FROM unnest(p_accounts, p_amounts)
           EXCEPT SELECT e.account_id, e.amount FROM ledger_entries e WHERE e.transaction_id = p_id)
$$;

CREATE OR REPLACE FUNCTION ledger_system_account(p_kind TEXT, p_provider TEXT, p_create BOOLEAN) RETURNS BIGINT
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

ALTER TABLE ledger_accounts
    DROP CONSTRAINT ledger_accounts_identity_key,
    ADD CONSTRAINT ledger_accounts_identity_key UNIQUE NULLS NOT DISTINCT (kind, user_id, provider),
    DROP CONSTRAINT ledger_accounts_shard_check,
    DROP COLUMN shard;
