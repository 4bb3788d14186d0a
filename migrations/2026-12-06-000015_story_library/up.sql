-- The story engine's library (issue 21): API connections and groups, presets, state schemas,
-- lorebooks, player profiles, character cards and story resources. One table holds them all
-- (each kind's body is JSON its service validates), so that one table of links can say, with
-- foreign keys, what refers to what: a document still referred to cannot be deleted, whatever
-- path the delete takes, and the referrers are named by one query.
CREATE TABLE story_documents (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN (
        'api_connection', 'api_group', 'preset', 'schema', 'lorebook', 'player_profile',
        'character', 'story_resource'
    )),
    display_name text NOT NULL,
    body jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- Libraries are browsed by name (keyset: lower name, then id), and the dashboard shows what
-- changed last.
CREATE INDEX story_documents_by_name ON story_documents (tenant_id, kind, lower(display_name), id);
CREATE INDEX story_documents_recent ON story_documents (tenant_id, kind, updated_at DESC, id DESC);

-- `from_id` refers to `to_id` through its `slot` (a role of an API group, a resource's
-- characters in order...). Deleting the referrer removes its links; deleting what is referred
-- to is refused by the key (NO ACTION) — the service names the referrers first.
CREATE TABLE story_links (
    tenant_id uuid NOT NULL,
    from_id uuid NOT NULL,
    slot text NOT NULL,
    position integer NOT NULL DEFAULT 0,
    to_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, from_id, slot, position),
    FOREIGN KEY (tenant_id, from_id) REFERENCES story_documents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, to_id) REFERENCES story_documents (tenant_id, id)
);
CREATE INDEX story_links_to ON story_links (tenant_id, to_id);

-- An API connection's key, sealed with AES-256-GCM under the server's secrets key (never the
-- database's to read), and the masked form reads show.
CREATE TABLE story_secrets (
    tenant_id uuid NOT NULL,
    document_id uuid NOT NULL,
    sealed bytea NOT NULL,
    masked text NOT NULL,
    PRIMARY KEY (tenant_id, document_id),
    FOREIGN KEY (tenant_id, document_id) REFERENCES story_documents (tenant_id, id) ON DELETE CASCADE
);

-- The last time each API connection was called (a test call, a model list, a story's call):
-- whether it answered, and what went wrong if not. The dashboard's health reads it; nothing
-- calls a provider just to draw a dashboard.
CREATE TABLE story_connection_checks (
    tenant_id uuid NOT NULL,
    document_id uuid NOT NULL,
    ok boolean NOT NULL,
    message text,
    checked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, document_id),
    FOREIGN KEY (tenant_id, document_id) REFERENCES story_documents (tenant_id, id) ON DELETE CASCADE
);

-- The tenant's explicit defaults (the reference derives them from sort order). Deleting the
-- default group or preset clears it here.
CREATE TABLE story_settings (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    default_api_group_id uuid,
    default_preset_id uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, default_api_group_id) REFERENCES story_documents (tenant_id, id)
        ON DELETE SET NULL (default_api_group_id),
    FOREIGN KEY (tenant_id, default_preset_id) REFERENCES story_documents (tenant_id, id)
        ON DELETE SET NULL (default_preset_id)
);

-- Data package slots (seed 003: prepare, then upload or download, then commit), kept in the
-- database so they survive a restart and every node sees them; they expire after 30 minutes.
CREATE TABLE story_package_slots (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    direction text NOT NULL CHECK (direction IN ('export', 'import')),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    archive bytea,
    committed_at timestamptz,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX story_package_slots_expiry ON story_package_slots (tenant_id, expires_at);
