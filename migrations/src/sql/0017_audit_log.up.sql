-- Who did what to whom, and why: every admin action and every money movement
-- outside the job and payment flows (grants, debits, refunds, reversals, bans)
-- writes one row here in the same transaction as the change itself.
CREATE TABLE audit_log (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- `admin:<telegram id>` or `system`.
    actor          TEXT        NOT NULL,
    -- A dotted name such as `credits.grant`, `user.ban`, `payment.refund`.
    action         TEXT        NOT NULL,
    target_user_id BIGINT      REFERENCES users (id),
    -- The state the action changed, before and after (no personal data: ids, flags, amounts).
    before         JSONB,
    after          JSONB,
    reason         TEXT        NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT audit_log_actor_check CHECK (actor <> ''),
    CONSTRAINT audit_log_action_check CHECK (action <> '')
);

CREATE INDEX audit_log_target_idx ON audit_log (target_user_id, id DESC) WHERE target_user_id IS NOT NULL;
CREATE INDEX audit_log_created_idx ON audit_log (created_at);

-- Append-only: a trail that can be edited proves nothing. The trigger stops every
-- role, the owner and superusers included, unless someone drops it on purpose.
CREATE FUNCTION audit_log_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_forbid_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_forbid_change();

-- And by permission: the role that runs the migrations is the application's role,
-- so it gives up changing rows it owns (superusers skip permission checks; the
-- trigger above still stops them).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
DO $$
BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM %I', current_user);
END
$$;
