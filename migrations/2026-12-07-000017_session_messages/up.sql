-- A session's transcript (issue 22): what the player said and what the story answered, in
-- order within each turn. Deleting the session deletes its transcript.
CREATE TABLE story_session_messages (
    tenant_id uuid NOT NULL,
    session_id uuid NOT NULL,
    sequence integer NOT NULL,
    turn_index integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('player_input', 'narration', 'dialogue', 'action')),
    speaker_id text,
    speaker_name text,
    text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, session_id, sequence),
    FOREIGN KEY (tenant_id, session_id) REFERENCES story_documents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX story_session_messages_by_turn
    ON story_session_messages (tenant_id, session_id, turn_index, sequence);
