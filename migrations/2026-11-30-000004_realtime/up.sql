-- Realtime: which server nodes are alive, who is online on which of them, and who is editing
-- what. Live sockets belong to one node; these rows are what lets every node answer for all.

-- Each running server process. A node refreshes `seen_at` on every heartbeat; one that has not
-- for longer than the heartbeat timeout is dead, and any node sweeps its presence away.
CREATE TABLE server_nodes (
    id uuid PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at timestamptz NOT NULL DEFAULT now()
);

-- One row per user, tenant and node while the user has a live socket on that node. A user is
-- online in a tenant while any of their rows belongs to a live node.
CREATE TABLE presence (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    node_id uuid NOT NULL REFERENCES server_nodes (id) ON DELETE CASCADE,
    since timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, node_id)
);
CREATE INDEX presence_by_node ON presence (node_id);

-- Who has which entity open for editing. A mark lasts while its user is online; a mark of a
-- user without a live socket lapses when it has not been renewed within the heartbeat timeout.
CREATE TABLE presence_editing (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    entity_row_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    since timestamptz NOT NULL DEFAULT now(),
    renewed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, entity_row_id)
);
CREATE INDEX presence_editing_by_entity ON presence_editing (tenant_id, entity_row_id);
CREATE INDEX presence_editing_by_renewal ON presence_editing (renewed_at);
