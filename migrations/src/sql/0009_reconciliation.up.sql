-- How far a provider's history has been read by reconciliation (for Stars:
-- the number of getStarTransactions lines already seen), so each pass reads
-- only what is new and a payment whose update was lost is still credited.
CREATE TABLE reconciliation_cursors (
    name     TEXT PRIMARY KEY,
    position BIGINT NOT NULL CHECK (position >= 0)
);
