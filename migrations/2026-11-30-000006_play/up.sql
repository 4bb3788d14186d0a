-- Play data of the MUD (seed 002): chat, character axis state, Ollama conversations.

-- What is said in a world's rooms. The sender and recipient are characters; a whisper has a
-- recipient. Messages keep their world and room when characters are removed.
CREATE TABLE chat_messages (
    id                     uuid PRIMARY KEY,
    tenant_id              uuid NOT NULL,
    world_id               uuid NOT NULL,
    room_id                uuid NOT NULL,
    user_id                uuid REFERENCES users (id) ON DELETE SET NULL,
    character_id           uuid,
    character_name         text NOT NULL,
    channel                text NOT NULL CHECK (channel IN ('say', 'yell', 'whisper')),
    recipient_character_id uuid,
    recipient_name         text,
    text                   text NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((channel = 'whisper') = (recipient_name IS NOT NULL)),
    FOREIGN KEY (tenant_id, world_id) REFERENCES worlds (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, room_id) REFERENCES rooms (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, character_id) REFERENCES characters (tenant_id, id)
        ON DELETE SET NULL (character_id),
    FOREIGN KEY (tenant_id, recipient_character_id) REFERENCES characters (tenant_id, id)
        ON DELETE SET NULL (recipient_character_id)
);
CREATE INDEX chat_messages_by_tenant ON chat_messages (tenant_id, created_at DESC);
CREATE INDEX chat_messages_by_room ON chat_messages (world_id, room_id, created_at DESC);

-- A world's axis policy (axes, labels with score ranges, chat rules) and its hash, which is the
-- state version of snapshots made under it.
ALTER TABLE worlds ADD COLUMN axis_policy jsonb;
ALTER TABLE worlds ADD COLUMN axis_policy_hash text;

-- The registry of a world's axes: one row per axis name a policy ever had, so history keeps
-- naming axes a later policy dropped.
CREATE TABLE axes (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL,
    world_id   uuid NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT axes_name UNIQUE (world_id, name),
    CONSTRAINT axes_tenant_id UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, world_id) REFERENCES worlds (tenant_id, id) ON DELETE CASCADE
);

-- A character's score on an axis; absent means the default 0.5.
CREATE TABLE character_axis_scores (
    tenant_id    uuid NOT NULL,
    character_id uuid NOT NULL,
    axis_id      uuid NOT NULL,
    score        double precision NOT NULL CHECK (score >= 0 AND score <= 1),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (character_id, axis_id),
    FOREIGN KEY (tenant_id, character_id) REFERENCES characters (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, axis_id) REFERENCES axes (tenant_id, id) ON DELETE CASCADE
);

-- Something that moved axis scores: its type, metadata, and one delta row per character and axis.
CREATE TABLE axis_events (
    id                     uuid PRIMARY KEY,
    tenant_id              uuid NOT NULL,
    world_id               uuid NOT NULL,
    event_type             text NOT NULL,
    event_type_description text,
    metadata               jsonb NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT axis_events_tenant_id UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, world_id) REFERENCES worlds (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE axis_event_deltas (
    tenant_id    uuid NOT NULL,
    event_id     uuid NOT NULL,
    character_id uuid NOT NULL,
    axis_id      uuid NOT NULL,
    old_score    double precision NOT NULL,
    new_score    double precision NOT NULL,
    delta        double precision NOT NULL,
    PRIMARY KEY (event_id, character_id, axis_id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES axis_events (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, character_id) REFERENCES characters (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, axis_id) REFERENCES axes (tenant_id, id) ON DELETE CASCADE
);

-- The characters an event is about, whether or not their scores moved (a seeded profile at 0.5
-- is still the character's first event).
CREATE TABLE axis_event_characters (
    tenant_id    uuid NOT NULL,
    event_id     uuid NOT NULL,
    character_id uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (event_id, character_id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES axis_events (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, character_id) REFERENCES characters (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX axis_event_characters_by_character
    ON axis_event_characters (character_id, created_at DESC, event_id DESC);

-- The conversation an admin holds with an Ollama model, per login session (or API key), so any
-- node serving that session continues it.
CREATE TABLE ollama_conversations (
    owner_key  uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    server_url text NOT NULL,
    model      text NOT NULL,
    messages   jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now()
);
