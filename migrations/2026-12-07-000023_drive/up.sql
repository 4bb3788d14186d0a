-- Google Drive: each member's connection in a tenant, the push channels watching it, and the
-- changes the sync worker has applied.

ALTER TABLE oauth_flows DROP CONSTRAINT oauth_flows_purpose_check;
ALTER TABLE oauth_flows ADD CONSTRAINT oauth_flows_purpose_check
    CHECK (purpose IN ('sign_in', 'link', 'drive'));

-- One per member of a tenant. The tokens are sealed (AES-256-GCM under the server's secrets
-- key, bound to the tenant and user): a copy of the database does not reach anyone's Drive.
CREATE TABLE drive_connections (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    google_email       text,
    scopes             text NOT NULL,
    sealed_tokens      bytea NOT NULL,
    access_expires_at  timestamptz NOT NULL,
    folder_id          text,
    folder_name        text,
    -- Drive's changes.list position: the sync worker resumes here after a restart.
    page_token         text,
    last_synced_at     timestamptz,
    last_error         text,
    -- A sync round holds the connection until then (a lease: a round that died lets go).
    round_until        timestamptz,
    connected_at       timestamptz NOT NULL DEFAULT now(),
    refreshed_at       timestamptz,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX drive_connections_user_idx ON drive_connections (user_id);

-- A push channel (`changes.watch`): Google posts to /api/drive/webhook with its id and token.
CREATE TABLE drive_channels (
    tenant_id       uuid NOT NULL,
    id              text NOT NULL,
    user_id         uuid NOT NULL,
    token           text NOT NULL,
    -- Where Google posts (kept to renew the channel at the same address).
    address         text NOT NULL,
    resource_id     text,
    expires_at      timestamptz NOT NULL,
    stopped_at      timestamptz,
    -- The highest X-Goog-Message-Number handled: an older or repeated one is not processed.
    last_message    bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES drive_connections (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX drive_channels_owner_idx ON drive_channels (tenant_id, user_id);
-- Google's notifications name the channel, not the tenant (the id is random and unguessable).
CREATE INDEX drive_channels_by_id ON drive_channels (id);
-- One channel per member at a time.
CREATE UNIQUE INDEX drive_channels_one_open ON drive_channels (tenant_id, user_id)
    WHERE stopped_at IS NULL;

-- Which Drive file holds which entity, and the Drive version last seen, so one change is
-- applied once however often it is reported.
CREATE TABLE drive_files (
    tenant_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    file_id      text NOT NULL,
    entity_row   uuid,
    version      bigint NOT NULL,
    md5          text,
    -- The entity's `updated_at` the file holds: a write-back newer than it goes to Drive once
    -- (whichever node gets there first), an import leaves nothing to write back.
    entity_updated_at timestamptz,
    synced_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, file_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES drive_connections (tenant_id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, entity_row) REFERENCES entities (tenant_id, id) ON DELETE SET NULL (entity_row)
);
CREATE INDEX drive_files_entity_idx ON drive_files (tenant_id, entity_row);
