-- MUD administration (seed 002) and dice rolls (seed 000).

-- Usernames: unique (ignoring case), 2 to 20 characters. Existing accounts get one derived from
-- their email's local part, numbered where two would clash.
ALTER TABLE users ADD COLUMN username text;
ALTER TABLE users ADD COLUMN account_origin text NOT NULL DEFAULT 'legacy'
    CHECK (account_origin IN ('visitor', 'admin', 'superuser', 'system', 'legacy'));
-- The same derivation as `accounts::usernames::derive`: the local part's allowed characters,
-- leading `_` `.` `-` dropped, at most 14, padded with "user"; then the first free `base_N`.
DO $$
DECLARE
    account record;
    base text;
    candidate text;
    n integer;
BEGIN
    FOR account IN SELECT id, email FROM users ORDER BY created_at, id LOOP
        base := left(regexp_replace(
            regexp_replace(split_part(account.email, '@', 1), '[^A-Za-z0-9_.-]', '', 'g'),
            '^[_.-]+', ''), 14);
        IF char_length(base) < 2 THEN
            base := base || 'user';
        END IF;
        candidate := base;
        n := 1;
        WHILE EXISTS (SELECT 1 FROM users WHERE lower(username) = lower(candidate)) LOOP
            n := n + 1;
            candidate := base || '_' || n;
        END LOOP;
        UPDATE users SET username = candidate WHERE id = account.id;
    END LOOP;
END $$;
ALTER TABLE users ALTER COLUMN username SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_username_length CHECK (char_length(username) BETWEEN 2 AND 20);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

-- A world the tenant runs. `world_key` is the seed's world_id: the name clients and operators use.
CREATE TABLE worlds (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    world_key    text NOT NULL,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    config       jsonb NOT NULL DEFAULT '{}',
    is_active    boolean NOT NULL DEFAULT true,
    -- The UNIVERSE entity this world is set in, if any.
    universe_row_id uuid REFERENCES entities (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT worlds_key UNIQUE (tenant_id, world_key),
    CONSTRAINT worlds_tenant_id UNIQUE (tenant_id, id)
);

-- Rooms of a world, grouped into zones. `exits` maps a direction to another room's key.
CREATE TABLE rooms (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    world_id     uuid NOT NULL,
    room_key     text NOT NULL,
    zone_key     text,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    exits        jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rooms_key UNIQUE (world_id, room_key),
    CONSTRAINT rooms_tenant_id UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, world_id) REFERENCES worlds (tenant_id, id) ON DELETE CASCADE
);

-- A character in a world (not the CHARACTER entity type). Unique per (world, name). A
-- tombstoned character keeps its history but no longer belongs to anyone.
CREATE TABLE characters (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    world_id         uuid NOT NULL,
    user_id          uuid REFERENCES users (id) ON DELETE SET NULL,
    name             text NOT NULL,
    inventory        jsonb NOT NULL DEFAULT '[]',
    base_state       jsonb NOT NULL DEFAULT '{}',
    current_state    jsonb NOT NULL DEFAULT '{}',
    state_seed       bigint NOT NULL DEFAULT 0 CHECK (state_seed >= 0),
    state_version    text,
    state_updated_at timestamptz,
    room_id          uuid,
    moved_at         timestamptz,
    tombstoned_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT characters_tenant_id UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, world_id) REFERENCES worlds (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, room_id) REFERENCES rooms (tenant_id, id) ON DELETE SET NULL (room_id)
);
CREATE UNIQUE INDEX characters_name_key ON characters (world_id, lower(name));
CREATE INDEX characters_by_user ON characters (user_id);

-- Entering a world binds one of the user's characters to their login session; the character
-- belongs to the session's tenant (a session that switches tenant stops playing it).
ALTER TABLE sessions ADD COLUMN character_id uuid;
ALTER TABLE sessions ADD CONSTRAINT sessions_character_fkey
    FOREIGN KEY (tenant_id, character_id) REFERENCES characters (tenant_id, id)
    ON DELETE SET NULL (character_id);
CREATE INDEX sessions_by_character ON sessions (character_id) WHERE character_id IS NOT NULL;

-- Dice rolls (seed 000). `dice` are the faces rolled; the counts and result follow from them by
-- the rules in DOMAIN_NOTES, stored so statistics are one indexed aggregate.
CREATE TABLE dice_rolls (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    character_row_id uuid REFERENCES entities (id) ON DELETE SET NULL,
    campaign_row_id uuid REFERENCES entities (id) ON DELETE SET NULL,
    die_size        integer NOT NULL CHECK (die_size BETWEEN 2 AND 1000),
    pool            integer NOT NULL CHECK (pool BETWEEN 1 AND 100),
    difficulty      integer,
    dice            integer[] NOT NULL,
    physical        boolean NOT NULL DEFAULT false,
    successes       integer NOT NULL,
    failures        integer NOT NULL,
    botches         integer NOT NULL,
    criticals       integer NOT NULL,
    total           integer NOT NULL,
    result          text NOT NULL CHECK (result IN ('botch', 'failure', 'success', 'critical', 'other')),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dice_rolls_by_tenant ON dice_rolls (tenant_id, created_at DESC);
CREATE INDEX dice_rolls_by_user ON dice_rolls (tenant_id, user_id, created_at DESC);
CREATE INDEX dice_rolls_by_character ON dice_rolls (character_row_id) WHERE character_row_id IS NOT NULL;
CREATE INDEX dice_rolls_by_campaign ON dice_rolls (campaign_row_id) WHERE campaign_row_id IS NOT NULL;

-- The traits a roll was made with, in order (for "most rolled traits").
CREATE TABLE dice_roll_traits (
    roll_id   uuid NOT NULL REFERENCES dice_rolls (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    name      text NOT NULL,
    trait_id  text,
    PRIMARY KEY (roll_id, position)
);
