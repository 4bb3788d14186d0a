-- A short log of the events every node relays, so a node whose relay connection was down
-- replays what it missed, and a subscriber resumes from the last sequence it saw (`since`).
-- Rows are written by each node's relay, in batches, and pruned by the retention sweeper.
-- No foreign key to tenants: an event may outlive its tenant by the log's retention, and a
-- batch must never fail for one of them.
CREATE TABLE event_log (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    -- The payload's type (`entity`, `chat`...): a resuming subscriber reads only its kinds.
    kind      text NOT NULL,
    -- The node that published it (it delivered the event itself and skips it on replay).
    node_id   uuid NOT NULL,
    logged_at timestamptz NOT NULL DEFAULT now(),
    event     jsonb NOT NULL
);

CREATE INDEX event_log_by_tenant_kind ON event_log (tenant_id, kind, seq);
