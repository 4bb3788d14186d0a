-- Share links: read-only views of an entity, a set of entities or a whole type, opened without
-- an account by a code the server derives from the share's id (so the link can be shown again,
-- and nothing secret is stored). Found by that id alone from the public side: a routing table.
CREATE TABLE shares (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('entity', 'entities', 'type')),
    -- The type of a `type` share.
    entity_type       text,
    -- The entities of an `entity` or `entities` share (row ids: a rename keeps them shared).
    entity_row_ids    uuid[] NOT NULL DEFAULT '{}',
    title             text NOT NULL DEFAULT '',
    password_hash     text,
    -- The team it was made for, whose members may see and revoke it.
    team_id           uuid,
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz,
    revoked_at        timestamptz,
    revoked_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    last_accessed_at  timestamptz,
    access_count      bigint NOT NULL DEFAULT 0,
    CHECK (cardinality(entity_row_ids) <= 100),
    CHECK ((kind = 'type') = (entity_type IS NOT NULL))
);
CREATE INDEX shares_tenant_idx ON shares (tenant_id, created_at DESC, id DESC);
