ALTER TABLE users
    DROP CONSTRAINT users_ban_reason_check,
    DROP COLUMN ban_notified_at,
    DROP COLUMN ban_reason,
    DROP COLUMN banned_at;
