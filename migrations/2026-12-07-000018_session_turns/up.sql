-- Live play (issue 22, point 4). An actor's private thoughts are kept in the transcript as
-- their own kind of line, read back as that actor's memory.
ALTER TABLE story_session_messages DROP CONSTRAINT story_session_messages_kind_check;
ALTER TABLE story_session_messages ADD CONSTRAINT story_session_messages_kind_check
    CHECK (kind IN ('player_input', 'narration', 'dialogue', 'action', 'thought'));
CREATE INDEX story_session_messages_thoughts
    ON story_session_messages (tenant_id, session_id, speaker_id, sequence)
    WHERE kind = 'thought';

-- The turn a session is running, one at most, whichever node runs it: the node claims the
-- row before the turn begins and removes it when the turn ends. It beats every second
-- (`beat_at`) and reads whether a cancel was asked from another node (`cancel_requested`);
-- a row whose node stopped beating for 30 seconds is claimed over.
CREATE TABLE story_session_turns (
    tenant_id uuid NOT NULL,
    session_id uuid NOT NULL,
    turn_id uuid NOT NULL,
    user_id uuid NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    beat_at timestamptz NOT NULL DEFAULT now(),
    cancel_requested boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, session_id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES story_documents (tenant_id, id) ON DELETE CASCADE
);
