DROP TABLE reconciliation_cursors;
