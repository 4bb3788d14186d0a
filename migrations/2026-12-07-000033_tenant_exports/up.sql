-- Whole-tenant exports: built in the background by one node (its progress kept here so every
-- node can report it), the archive kept in the asset store until it expires.
CREATE TABLE tenant_exports (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    requested_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    state         text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'complete', 'failed')),
    done          integer NOT NULL DEFAULT 0,
    total         integer NOT NULL DEFAULT 0,
    error         text,
    bytes         bigint,
    sha256        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Moved on with the progress: a running export not heard of for minutes was interrupted.
    updated_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX tenant_exports_by_tenant ON tenant_exports (tenant_id, created_at DESC);
CREATE INDEX tenant_exports_expiry ON tenant_exports (expires_at);
