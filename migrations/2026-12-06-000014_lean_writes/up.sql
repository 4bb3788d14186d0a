-- Fewer statements per entity write (issue 20): every foreign-key check is a statement
-- PostgreSQL runs inside the write.
--
-- A revision and a reference row already point at their entity by (tenant_id, entity id), and
-- the entity at its tenant: their own keys into `tenants` checked the same thing again on every
-- insert (one lookup of the tenant per revision and per reference row). Deleting a tenant
-- still removes them, through their entity.
ALTER TABLE entity_revisions DROP CONSTRAINT entity_revisions_tenant_id_fkey;
ALTER TABLE entity_references DROP CONSTRAINT entity_references_tenant_id_fkey;

-- The event log's append is one statement the relay sends (src/events/log.rs): as a PL/pgSQL
-- function it ran as four statements and more (the call, the lock, the insert, a notification
-- per event).
DROP FUNCTION append_events(uuid, uuid[], uuid[], text[], jsonb[], text, integer);
