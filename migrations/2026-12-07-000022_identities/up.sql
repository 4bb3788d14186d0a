-- Sign-in with an OpenID provider (Google, Microsoft), password resets, and the windows that
-- rate-limit them.

-- An account's identity at a provider: the provider's stable subject, never the email, is what
-- signs in. An account may hold several; an identity belongs to one account.
CREATE TABLE user_identities (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider        text NOT NULL,
    subject         text NOT NULL,
    -- What the provider said at the last sign-in, for the account owner to recognise it.
    email           text,
    email_verified  boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    UNIQUE (provider, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- A browser's trip to a provider and back: begun by `/api/auth/oauth/{provider}` (signing in)
-- or `beginIdentityLink` (linking), consumed once by the callback. Only hashes of the `state`
-- (which travels in URLs) and of the cookie binding the flow to its browser are kept.
CREATE TABLE oauth_flows (
    state_hash      bytea PRIMARY KEY,
    provider        text NOT NULL,
    purpose         text NOT NULL CHECK (purpose IN ('sign_in', 'link')),
    pkce_verifier   text NOT NULL,
    nonce           text NOT NULL,
    browser_hash    bytea,
    -- Linking: the signed-in account that asked (its browser must come back signed in as it).
    user_id         uuid REFERENCES users (id) ON DELETE CASCADE,
    -- Signing in: the tenant asked for, if any (checked when the browser comes back).
    tenant_id       uuid,
    -- The callback URL the provider was given: the code is traded with the same one.
    redirect_uri    text NOT NULL,
    return_to       text NOT NULL,
    expires_at      timestamptz NOT NULL
);
CREATE INDEX oauth_flows_expiry_idx ON oauth_flows (expires_at);

-- Google ID tokens already used to sign in (by a hash), until they expire: a token that leaked
-- from a page or a log cannot open a second session.
CREATE TABLE id_token_uses (
    token_hash  bytea PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX id_token_uses_expiry_idx ON id_token_uses (expires_at);

-- Password-reset links: single-use, expiring, kept as hashes.
CREATE TABLE password_resets (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
CREATE INDEX password_resets_expiry_idx ON password_resets (expires_at);

-- Fixed windows counting requests per key (`reset:address:<ip>`, `reset:account:<id>`), each
-- ending when its own length says, shared by every node on this database.
CREATE TABLE rate_windows (
    key          text PRIMARY KEY,
    window_ends  timestamptz NOT NULL,
    hits         integer NOT NULL CHECK (hits >= 0)
);
CREATE INDEX rate_windows_end_idx ON rate_windows (window_ends);
