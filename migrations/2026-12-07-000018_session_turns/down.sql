DROP TABLE story_session_turns;
DROP INDEX story_session_messages_thoughts;
DELETE FROM story_session_messages WHERE kind = 'thought';
ALTER TABLE story_session_messages DROP CONSTRAINT story_session_messages_kind_check;
ALTER TABLE story_session_messages ADD CONSTRAINT story_session_messages_kind_check
    CHECK (kind IN ('player_input', 'narration', 'dialogue', 'action'));
