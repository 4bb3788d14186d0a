-- Fewer statements per entity write (issue 20): every foreign-key check is a statement
-- PostgreSQL runs inside the write.
--
-- A revision and a reference row already point at their entity by (tenant_id, entity id), and
-- the entity at its tenant: their own keys into `tenants` checked the same thing again on every
-- insert (one lookup of the tenant per revision and per reference row). Deleting a tenant
-- still removes them, through their entity.
ALTER TABLE entity_revisions DROP CONSTRAINT entity_revisions_tenant_id_fkey;
ALTER TABLE entity_references DROP CONSTRAINT entity_references_tenant_id_fkey;

-- The event log's append notifies in one statement instead of one per event: the rows are
-- numbered and notified in sequence order, as before.
CREATE OR REPLACE FUNCTION append_events(
    node uuid, ids uuid[], tenants uuid[], kinds text[], bodies jsonb[], channel text,
    max_notified integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    notified bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('loregraph-event-log', 0));
    WITH inserted AS (
        INSERT INTO event_log (event_id, tenant_id, kind, node_id, event)
        SELECT id, tenant, kind, node, body
          FROM unnest(ids, tenants, kinds, bodies)
               WITH ORDINALITY AS given (id, tenant, kind, body, position)
         ORDER BY position
        ON CONFLICT (event_id) DO NOTHING
        RETURNING seq, event
    )
    -- The subquery's order is the order the notifications are queued in: a plain scan of a
    -- sorted subquery evaluates its outer expressions row by row, in that order.
    SELECT count(pg_notify(channel, CASE
               WHEN octet_length(logged.event::text) <= max_notified
               THEN json_build_object('node', node, 'seq', logged.seq, 'message', logged.event)
               ELSE json_build_object('node', node, 'seq', logged.seq)
           END::text))
      INTO notified
      FROM (SELECT seq, event FROM inserted ORDER BY seq) AS logged;
END
$$;
