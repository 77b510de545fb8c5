DROP TABLE free_allowance_usage;
DROP TABLE ledger_holds;
