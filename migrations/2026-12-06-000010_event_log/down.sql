DROP FUNCTION append_events(uuid, uuid[], uuid[], text[], jsonb[], text, integer);
DROP TABLE event_log;
