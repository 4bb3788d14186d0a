DROP TABLE story_session_messages;
