DROP TABLE ledger_entries;
DROP TABLE ledger_transactions;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_forbid_change();
DROP FUNCTION ledger_assert_balanced();
