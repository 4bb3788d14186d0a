-- Back to a tenant key on revisions and reference rows, and the append as a function.
ALTER TABLE entity_revisions ADD CONSTRAINT entity_revisions_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE entity_references ADD CONSTRAINT entity_references_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;

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
