-- The beta program: invite codes (a tenant that redeems one is in the beta, with a tier's
-- features, until its period ends), feedback from members, and a waitlist of people without an
-- account. Server-wide: the studio's operators (SUPERUSER) run it.

CREATE TABLE beta_codes (
    id          uuid PRIMARY KEY,
    -- SHA-256 of the code as normalised (upper case, no dashes or spaces); shown once.
    code_hash   bytea NOT NULL UNIQUE,
    code_hint   text NOT NULL,
    label       text NOT NULL DEFAULT '',
    tier        text NOT NULL CHECK (tier IN ('free', 'pro', 'studio')),
    beta_days   integer NOT NULL CHECK (beta_days BETWEEN 1 AND 365),
    max_uses    integer NOT NULL CHECK (max_uses BETWEEN 1 AND 10000),
    uses        integer NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A tenant in the beta: one enrollment each, extended by the operators.
CREATE TABLE beta_enrollments (
    tenant_id    uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    code_id      uuid REFERENCES beta_codes (id) ON DELETE SET NULL,
    redeemed_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    tier         text NOT NULL CHECK (tier IN ('free', 'pro', 'studio')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    ends_at      timestamptz NOT NULL
);

CREATE TABLE beta_feedback (
    id          uuid PRIMARY KEY,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    tenant_id   uuid REFERENCES tenants (id) ON DELETE SET NULL,
    kind        text NOT NULL CHECK (kind IN ('bug', 'idea', 'praise', 'other')),
    message     text NOT NULL,
    page        text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'triaged', 'planned', 'done', 'wont_fix')),
    admin_note  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX beta_feedback_status_idx ON beta_feedback (status, created_at DESC);
CREATE INDEX beta_feedback_user_idx ON beta_feedback (user_id, created_at DESC);

CREATE TABLE beta_waitlist (
    id           uuid PRIMARY KEY,
    email        text NOT NULL,
    name         text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    promoted_at  timestamptz,
    code_id      uuid REFERENCES beta_codes (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX beta_waitlist_email_idx ON beta_waitlist (lower(email));
CREATE INDEX beta_waitlist_created_idx ON beta_waitlist (created_at, id);
