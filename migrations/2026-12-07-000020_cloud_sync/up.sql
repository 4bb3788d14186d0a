-- Cloud sync for desktop clients (issue 23): a change feed clients pull in order, the pushes
-- they make (each applied once), and the conflicts kept when a push's base is stale.

-- The transaction that wrote each revision. A pull reads only revisions written by
-- transactions older than every transaction still running (`pg_snapshot_xmin`), in the order
-- of their transaction ids, so no revision can later appear behind a cursor already handed
-- out: the feed is stable under concurrent writes.
ALTER TABLE entity_revisions
    ADD COLUMN written_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX entity_revisions_feed ON entity_revisions (tenant_id, written_xid, id);

-- An entity purged for good takes its revisions with it; its tombstone stays, so a client
-- that had it hears that it is gone.
CREATE TABLE entity_tombstones (
    id          uuid NOT NULL,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    row_id      uuid NOT NULL,
    entity_type text NOT NULL,
    entity_id   text NOT NULL,
    purged_at   timestamptz NOT NULL DEFAULT now(),
    written_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX entity_tombstones_feed ON entity_tombstones (tenant_id, written_xid, id);

-- What each pushed change did, by the client's id for it: a retried push answers the same and
-- applies nothing twice.
CREATE TABLE sync_push_receipts (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL,
    change_id  text NOT NULL,
    result     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, change_id)
);

-- A pushed change whose base was no longer current: the three versions kept until someone
-- picks one. `*_content` are markdown files; NULL is "deleted" (ours) or "gone" (theirs, base).
CREATE TABLE sync_conflicts (
    id              uuid NOT NULL,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_type     text NOT NULL,
    entity_id       text NOT NULL,
    base_version    integer,
    base_content    text,
    theirs_version  integer,
    theirs_content  text,
    ours_content    text,
    pushed_by       uuid,
    client_id       text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    resolved_by     uuid,
    resolution      text,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sync_conflicts_open ON sync_conflicts (tenant_id, created_at, id) WHERE resolved_at IS NULL;
CREATE INDEX sync_conflicts_all ON sync_conflicts (tenant_id, created_at, id);
