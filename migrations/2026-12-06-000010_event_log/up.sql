-- A short log of the events every node relays, so a node whose relay connection was down
-- replays what it missed, and a subscriber resumes from the last sequence it saw (`since`).
-- Rows are written by each node's relay, in batches, and pruned by the retention sweeper.
-- No foreign key to tenants: an event may outlive its tenant by the log's retention, and a
-- batch must never fail for one of them.
-- Appends take one advisory lock from before their rows are numbered until they commit, so
-- sequence numbers become visible in order: whoever sees N has every event below it.
CREATE TABLE event_log (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Given by the publisher: a batch appended again after a lost reply is not logged twice.
    event_id  uuid NOT NULL UNIQUE,
    tenant_id uuid NOT NULL,
    -- The payload's type (`entity`, `chat`...): a resuming subscriber reads only its kind.
    kind      text NOT NULL,
    -- The node that published it.
    node_id   uuid NOT NULL,
    logged_at timestamptz NOT NULL DEFAULT now(),
    event     jsonb NOT NULL
);

CREATE INDEX event_log_by_tenant_kind ON event_log (tenant_id, kind, seq);
