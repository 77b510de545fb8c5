-- One row per job whose price was reserved: the state machine of its hold.
-- Capture and release race for the same row; the status check in their
-- UPDATE makes exactly one of them win.
CREATE TABLE ledger_holds (
    job_id       UUID PRIMARY KEY REFERENCES jobs (id),
    user_id      BIGINT        NOT NULL REFERENCES users (id),
    amount       NUMERIC(20,4) NOT NULL,
    captured     NUMERIC(20,4),
    -- Free allowance reserved with the hold, given back when it is released.
    allowance    TEXT,
    free_units   INTEGER       NOT NULL DEFAULT 0,
    free_period  DATE,
    status       TEXT          NOT NULL DEFAULT 'open',
    created_at   TIMESTAMPTZ   NOT NULL DEFAULT now(),
    settled_at   TIMESTAMPTZ,
    CONSTRAINT ledger_holds_amount_check CHECK (amount >= 0),
    CONSTRAINT ledger_holds_captured_check CHECK (captured IS NULL OR (captured >= 0 AND captured <= amount)),
    CONSTRAINT ledger_holds_status_check CHECK (status IN ('open', 'captured', 'released', 'refunded')),
    CONSTRAINT ledger_holds_allowance_check CHECK (allowance IN ('transcription_seconds', 'image_generations')),
    CONSTRAINT ledger_holds_free_check CHECK (free_units >= 0 AND (free_units = 0 OR (allowance IS NOT NULL AND free_period IS NOT NULL)))
);

CREATE INDEX ledger_holds_user_idx ON ledger_holds (user_id);
-- The stale-hold sweeper scans only open holds.
CREATE INDEX ledger_holds_open_idx ON ledger_holds (created_at) WHERE status = 'open';

-- Free allowance consumed per user and calendar period (day or month, in the
-- billing time zone).
CREATE TABLE free_allowance_usage (
    user_id      BIGINT  NOT NULL REFERENCES users (id),
    allowance    TEXT    NOT NULL,
    period_start DATE    NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, allowance, period_start),
    CONSTRAINT free_allowance_usage_allowance_check CHECK (allowance IN ('transcription_seconds', 'image_generations')),
    CONSTRAINT free_allowance_usage_used_check CHECK (used >= 0)
);
