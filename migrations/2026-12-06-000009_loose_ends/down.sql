DROP INDEX ollama_conversations_by_age;
DROP INDEX stripe_events_by_age;
DROP INDEX entity_revisions_by_age;
DROP INDEX asset_jobs_finished;
DROP TABLE maintenance_cursors;
DROP TABLE billing_checkouts;
