-- A tenant's form layouts, one row per version: the newest is in force; one with no layout
-- (NULL) puts the package's (or the built-in) layout back in force, keeping the history.
CREATE TABLE tenant_layouts (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_type  text NOT NULL,
    version      integer NOT NULL CHECK (version > 0),
    layout       jsonb,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, entity_type, version)
);
