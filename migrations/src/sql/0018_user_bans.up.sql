-- An admin's ban, kept apart from `is_blocked` (the user blocked the bot, which
-- every profile update clears): a ban survives profile updates and restarts.
ALTER TABLE users
    ADD COLUMN banned_at        TIMESTAMPTZ,
    ADD COLUMN ban_reason       TEXT,
    -- When the banned user was told; they are told once per ban.
    ADD COLUMN ban_notified_at  TIMESTAMPTZ,
    ADD CONSTRAINT users_ban_reason_check CHECK ((banned_at IS NULL) = (ban_reason IS NULL));
