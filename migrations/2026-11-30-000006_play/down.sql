DROP TABLE ollama_conversations;
DROP TABLE axis_event_characters;
DROP TABLE axis_event_deltas;
DROP TABLE axis_events;
DROP TABLE character_axis_scores;
DROP TABLE axes;
ALTER TABLE worlds DROP COLUMN axis_policy_hash;
ALTER TABLE worlds DROP COLUMN axis_policy;
DROP TABLE chat_messages;
