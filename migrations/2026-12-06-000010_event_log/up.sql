-- A short log of the events every node relays, so a node whose relay connection was down
-- replays what it missed, and a subscriber resumes from the last sequence it saw (`since`).
-- Rows are written by each node's relay, in batches, and pruned by the retention sweeper.
-- No foreign key to tenants: an event may outlive its tenant by the log's retention, and a
-- batch must never fail for one of them.
-- Appends (`append_events`) take one advisory lock from before their rows are numbered until
-- they commit, so sequence numbers become visible in order: whoever sees N has every event
-- below it. (That needs the identity's default CACHE 1: numbers handed out in call order.)
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

-- Logs a batch of events (in the order given; one already logged is skipped) and notifies
-- `channel` of each in sequence order: the event itself when it fits a notification, else its
-- sequence alone. Called as one autocommit statement, so the lock is held from before the rows
-- are numbered until they are committed, and for one round trip only.
CREATE FUNCTION append_events(
    node uuid, ids uuid[], tenants uuid[], kinds text[], bodies jsonb[], channel text,
    max_notified integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    logged record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('loregraph-event-log', 0));
    FOR logged IN
        WITH inserted AS (
            INSERT INTO event_log (event_id, tenant_id, kind, node_id, event)
            SELECT id, tenant, kind, node, body
              FROM unnest(ids, tenants, kinds, bodies)
                   WITH ORDINALITY AS given (id, tenant, kind, body, position)
             ORDER BY position
            ON CONFLICT (event_id) DO NOTHING
            RETURNING seq, event
        )
        SELECT seq, event FROM inserted ORDER BY seq
    LOOP
        PERFORM pg_notify(channel, CASE
            WHEN octet_length(logged.event::text) <= max_notified
            THEN json_build_object('node', node, 'seq', logged.seq, 'message', logged.event)
            ELSE json_build_object('node', node, 'seq', logged.seq)
        END::text);
    END LOOP;
END
$$;
