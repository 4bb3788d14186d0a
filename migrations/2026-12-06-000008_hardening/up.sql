-- Sign-in attempts per account, per unknown sign-in name and per client address, in fixed
-- windows. Kept in the database so every node serving it counts the same attempts.
CREATE TABLE login_throttle (
    -- `account:<user id>`, `name:<sha-256 of the lower-cased name>` (no such account) or
    -- `address:<ip>`.
    key            text PRIMARY KEY,
    window_started timestamptz NOT NULL,
    -- Failed attempts in the window, and attempts still checking their password.
    attempts       integer NOT NULL CHECK (attempts >= 0)
);
CREATE INDEX login_throttle_window ON login_throttle (window_started);

-- A key created with another key dies with it.
ALTER TABLE api_keys ADD COLUMN parent_key_id uuid REFERENCES api_keys (id) ON DELETE CASCADE;
CREATE INDEX api_keys_parent_idx ON api_keys (parent_key_id) WHERE parent_key_id IS NOT NULL;

-- Why a signed event was acknowledged without being applied (an amount out of range, ...).
ALTER TABLE stripe_events ADD COLUMN rejection text;
