-- The tenant's timeline: events derived from its entities by autoPopulateTimeline (EVENT and
-- TIMELINE entities, births, deaths, foundings and other dated fields), one row per place in
-- an entity that holds a date. The original text is kept; `sort_key` (year * 10000 + month *
-- 100 + day) and `end_key` (the last key it may stand for) place it; an event that could not
-- be placed has no `precision` and the largest keys (it sorts last).
CREATE TABLE timeline_events (
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                uuid NOT NULL,
    source_entity_id  uuid NOT NULL,
    source_type       text NOT NULL,
    source_path       text NOT NULL,
    kind              text NOT NULL CHECK (
        kind IN ('event', 'entry', 'birth', 'death', 'key_date', 'founding', 'end', 'dated_field')
    ),
    title             text NOT NULL,
    date_text         text NOT NULL,
    end_text          text,
    sort_key          bigint NOT NULL,
    end_key           bigint NOT NULL,
    precision         text CHECK (precision IN ('day', 'month', 'year', 'decade', 'century')),
    approximate       boolean NOT NULL DEFAULT false,
    -- `type:entity_id` of the entity the event is about, those taking part, and where.
    subject           text NOT NULL,
    participants      text[] NOT NULL DEFAULT '{}',
    location          text,
    tags              text[] NOT NULL DEFAULT '{}',
    exclusive         boolean NOT NULL DEFAULT false,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (sort_key <= end_key),
    -- Unplaced: no precision, and the largest keys.
    CHECK ((precision IS NULL) = (sort_key = 9223372036854775807)),
    UNIQUE (tenant_id, source_entity_id, source_path),
    FOREIGN KEY (tenant_id, source_entity_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE
);
-- The timeline in order (the placed), and what an entity filter looks in.
CREATE INDEX timeline_events_in_order ON timeline_events (tenant_id, sort_key, id)
    WHERE precision IS NOT NULL;
CREATE INDEX timeline_events_by_participant ON timeline_events USING gin (participants);
CREATE INDEX timeline_events_by_subject ON timeline_events (tenant_id, subject);
CREATE INDEX timeline_events_by_location ON timeline_events (tenant_id, location)
    WHERE location IS NOT NULL;

-- The eras of a tenant's calendar (`[{name, abbreviation, offset}]`) and when its timeline was
-- last populated.
CREATE TABLE timeline_settings (
    tenant_id     uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    eras          jsonb NOT NULL DEFAULT '[]',
    populated_at  timestamptz
);
