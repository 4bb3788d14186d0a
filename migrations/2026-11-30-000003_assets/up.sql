-- Assets: uploaded images, the bytes they share, the entities they illustrate, and the
-- processing queue that reads and thumbnails them.

-- The stored bytes, content-addressed within a tenant: two uploads of the same image share one
-- row and one object. The row is locked while bytes are written or removed, so an upload and a
-- purge of the same content never cross.
CREATE TABLE asset_blobs (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sha256)
);

-- array_to_string is only STABLE in general (element types may print differently under other
-- settings); for text it cannot, so this wrapper may be declared IMMUTABLE and feed the
-- generated search column.
CREATE FUNCTION asset_tags_text(tags text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN array_to_string(tags, ' ');

CREATE TABLE assets (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sha256 text NOT NULL,
    file_type text NOT NULL DEFAULT 'image',
    mime_type text NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
    width integer,
    height integer,
    original_filename text NOT NULL,
    -- The secret part of the asset's public URL.
    access_key text NOT NULL UNIQUE,
    tags text[] NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('draft', 'active', 'approved', 'archived')),
    processing text NOT NULL DEFAULT 'pending' CHECK (processing IN ('pending', 'done', 'failed')),
    processing_error text,
    has_thumbnail boolean NOT NULL DEFAULT false,
    uploaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    deleted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    search tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', original_filename || ' ' || asset_tags_text(tags))
    ) STORED,
    FOREIGN KEY (tenant_id, sha256) REFERENCES asset_blobs (tenant_id, sha256)
);

CREATE INDEX assets_live ON assets (tenant_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX assets_recycled ON assets (tenant_id, deleted_at DESC) WHERE deleted_at IS NOT NULL;
CREATE INDEX assets_by_sha ON assets (tenant_id, sha256);
CREATE INDEX assets_by_uploader ON assets (uploaded_by) WHERE uploaded_by IS NOT NULL;
CREATE INDEX assets_deleted_by ON assets (deleted_by) WHERE deleted_by IS NOT NULL;
CREATE INDEX assets_tags ON assets USING gin (tags);
CREATE INDEX assets_search ON assets USING gin (search);

-- Which entities an asset illustrates; at most one primary asset per entity.
CREATE TABLE asset_links (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    asset_id uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    entity_row_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    is_primary boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, asset_id, entity_row_id)
);
CREATE INDEX asset_links_by_entity ON asset_links (tenant_id, entity_row_id, created_at);
CREATE UNIQUE INDEX asset_links_one_primary ON asset_links (tenant_id, entity_row_id) WHERE is_primary;
CREATE INDEX asset_links_by_asset ON asset_links (asset_id);

-- Processing jobs. A worker takes a due job with FOR UPDATE SKIP LOCKED and holds a lease;
-- a job whose worker died is taken again once its lease runs out, so jobs survive restarts.
CREATE TABLE asset_jobs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    asset_id uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    run_after timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX asset_jobs_one_open ON asset_jobs (asset_id) WHERE state IN ('pending', 'running');
CREATE INDEX asset_jobs_due ON asset_jobs (run_after) WHERE state = 'pending';
CREATE INDEX asset_jobs_leased ON asset_jobs (lease_until) WHERE state = 'running';
CREATE INDEX asset_jobs_by_tenant ON asset_jobs (tenant_id, state);

-- Tenants whose queue an ADMIN paused: their jobs wait until resumed.
CREATE TABLE asset_queue_pauses (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    paused_by uuid REFERENCES users (id) ON DELETE SET NULL,
    paused_at timestamptz NOT NULL DEFAULT now()
);
