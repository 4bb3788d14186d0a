-- Worldbuilding entities, their references, explicit relationships, revisions, and notes.

CREATE TABLE entities (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_type text NOT NULL,
    entity_id text NOT NULL CHECK (entity_id ~ '^[a-z0-9][a-z0-9_]*$'),
    name text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'draft', 'archived', 'deprecated', 'prototype', 'destroyed', 'quarantined')),
    fields jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(fields) = 'object'),
    markdown_body text NOT NULL DEFAULT '',
    -- What the type's JSON Schema found wrong; reference errors are computed when read.
    schema_errors text[] NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    deleted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', name || ' ' || entity_id), 'A')
        || setweight(jsonb_to_tsvector('simple', fields, '["string", "numeric"]'), 'B')
        || setweight(to_tsvector('simple', markdown_body), 'C')
    ) STORED,
    -- An id stays taken while its entity is in the recycle bin, so a restore never collides.
    CONSTRAINT entities_key UNIQUE (tenant_id, entity_type, entity_id)
);

-- Each list order has an index ending in the same tie-breaker the query sorts by, so a page is
-- read off the index instead of sorting the whole type.
CREATE INDEX entities_live_by_updated ON entities (tenant_id, entity_type, updated_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX entities_live_by_created ON entities (tenant_id, entity_type, created_at DESC, id DESC) WHERE deleted_at IS NULL;
-- `name` is included because PostgreSQL only scans an expression index index-only when the
-- expression's own columns are in it too.
CREATE INDEX entities_live_by_name ON entities (tenant_id, entity_type, lower(name), entity_id) INCLUDE (id, name) WHERE deleted_at IS NULL;
CREATE INDEX entities_live_by_status ON entities (tenant_id, entity_type, status, updated_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX entities_recent ON entities (tenant_id, updated_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX entities_recycled ON entities (tenant_id, deleted_at DESC) WHERE deleted_at IS NOT NULL;
CREATE INDEX entities_by_entity_id ON entities (tenant_id, entity_id);
CREATE INDEX entities_search ON entities USING gin (search);
CREATE INDEX entities_fields ON entities USING gin (fields jsonb_path_ops);
-- Bulk re-validation walks a type in id order.
CREATE INDEX entities_live_by_id ON entities (tenant_id, entity_type, id) WHERE deleted_at IS NULL;
-- Deleting a user sets these to null; without indexes that scans every tenant's entities.
CREATE INDEX entities_created_by ON entities (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX entities_updated_by ON entities (updated_by) WHERE updated_by IS NOT NULL;
CREATE INDEX entities_deleted_by ON entities (deleted_by) WHERE deleted_by IS NOT NULL;

-- The ids an entity's fields hold, as its template's reference map finds them. Targets are
-- by id, not by row, because a reference may name an entity that does not exist (yet).
CREATE TABLE entity_references (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    kind text NOT NULL,
    target_types text[] NOT NULL,
    target_entity_id text NOT NULL,
    position integer NOT NULL,
    PRIMARY KEY (tenant_id, source_id, kind, target_entity_id)
);
CREATE INDEX entity_references_by_source ON entity_references (source_id);
CREATE INDEX entity_references_by_target ON entity_references (tenant_id, target_entity_id);

-- Relationships drawn by hand between two entities.
CREATE TABLE entity_relationships (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    target_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind ~ '^[a-z0-9][a-z0-9_.]*$'),
    attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT entity_relationships_key UNIQUE (tenant_id, source_id, target_id, kind)
);
CREATE INDEX entity_relationships_by_source ON entity_relationships (source_id);
CREATE INDEX entity_relationships_by_target ON entity_relationships (target_id);
CREATE INDEX entity_relationships_created_by ON entity_relationships (created_by) WHERE created_by IS NOT NULL;

-- Every write to an entity, as a full snapshot after it.
CREATE TABLE entity_revisions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_row_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    version integer NOT NULL,
    action text NOT NULL CHECK (action IN ('created', 'updated', 'deleted', 'restored', 'renamed')),
    actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    entity_id text NOT NULL,
    name text NOT NULL,
    status text NOT NULL,
    fields jsonb NOT NULL,
    markdown_body text NOT NULL,
    CONSTRAINT entity_revisions_key UNIQUE (tenant_id, entity_row_id, version)
);
CREATE INDEX entity_revisions_by_entity ON entity_revisions (entity_row_id, version DESC);
CREATE INDEX entity_revisions_actor ON entity_revisions (actor_id) WHERE actor_id IS NOT NULL;

CREATE TABLE notes (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    author_id uuid REFERENCES users (id) ON DELETE SET NULL,
    entity_row_id uuid REFERENCES entities (id) ON DELETE SET NULL,
    title text NOT NULL,
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', content), 'B')
    ) STORED
);
CREATE INDEX notes_by_tenant ON notes (tenant_id, updated_at DESC);
CREATE INDEX notes_by_entity ON notes (entity_row_id, updated_at DESC);
CREATE INDEX notes_search ON notes USING gin (search);
CREATE INDEX notes_author ON notes (author_id) WHERE author_id IS NOT NULL;
