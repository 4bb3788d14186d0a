-- What the peer servers (PostGraphile 5, Mercurius) serve: views over loregraph's own tables in
-- the one-tenant benchmark database, plus one SQL function each for search and update.
--
-- Run by bench/harness.py after loregraph's runs, on the same database:
--   psql -v tenant=<the tenant's uuid> -f bench/peers/schema.sql
-- The tenant is a constant (the database has one tenant), so the planner can use loregraph's
-- indexes, which all begin with tenant_id. The peers have no authentication and no tenancy.
--
-- The views keep live rows only (deleted_at IS NULL), as loregraph's queries do. A character's
-- faction and location are ids inside its `fields` (fields->>'faction',
-- fields->>'primary_location'), exposed as text columns that the PostGraphile smart tags below
-- turn into relations.

\set ON_ERROR_STOP on

DROP SCHEMA IF EXISTS bench CASCADE;
DROP SCHEMA IF EXISTS bench_private CASCADE;
CREATE SCHEMA bench;
-- Helpers PostGraphile should not expose (it only introspects `bench`).
CREATE SCHEMA bench_private;

-- The one tenant, as a constant the planner folds into every query (IMMUTABLE, inlined).
CREATE FUNCTION bench_private.tenant_id() RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN :'tenant'::uuid;

CREATE VIEW bench.characters AS
    SELECT e.entity_id, e.name, e.status, e.fields, e.version, e.updated_at,
           -- loregraph's name order, lower(name) then entity_id, is its index
           -- entities_live_by_name; ordering on these two columns reads the same index.
           lower(e.name) AS sort_name,
           e.fields ->> 'faction' AS faction_id,
           e.fields ->> 'primary_location' AS location_id,
           -- tsvector columns are hidden by PostGraphile by default; Mercurius searches on it.
           e.search
      FROM public.entities e
     WHERE e.tenant_id = bench_private.tenant_id() AND e.entity_type = 'character' AND e.deleted_at IS NULL;

CREATE VIEW bench.factions AS
    SELECT e.entity_id, e.name, e.status, e.fields, e.version, e.updated_at
      FROM public.entities e
     WHERE e.tenant_id = bench_private.tenant_id() AND e.entity_type = 'faction' AND e.deleted_at IS NULL;

CREATE VIEW bench.locations AS
    SELECT e.entity_id, e.name, e.status, e.fields, e.version, e.updated_at
      FROM public.entities e
     WHERE e.tenant_id = bench_private.tenant_id() AND e.entity_type = 'location' AND e.deleted_at IS NULL;

-- PostGraphile smart tags: a primary key per view (so `characterByEntityId` exists), the two
-- references as relations named `faction` and `location`, and read-only views (the update is
-- the function below, as loregraph's is one operation with its revision).
COMMENT ON VIEW bench.characters IS '@primaryKey entity_id
@foreignKey (faction_id) references bench.factions (entity_id)|@fieldName faction|@foreignFieldName characters
@foreignKey (location_id) references bench.locations (entity_id)|@fieldName location|@foreignFieldName residents
@behavior -insert -update -delete';
COMMENT ON VIEW bench.factions IS '@primaryKey entity_id
@behavior -insert -update -delete';
COMMENT ON VIEW bench.locations IS '@primaryKey entity_id
@behavior -insert -update -delete';

-- A search hit: its rank and the character, which PostGraphile resolves through the relation
-- (in the same SQL statement).
CREATE TYPE bench.character_hit AS (rank real, entity_id text);
COMMENT ON TYPE bench.character_hit IS
    E'@foreignKey (entity_id) references bench.characters (entity_id)|@fieldName entity';

-- Full-text search as loregraph runs it (store::search_entities): the same tsvector column and
-- GIN index, best ts_rank first, then the most recently changed; and the same tsquery as
-- loregraph builds (src/entities/search.rs, TsQuery::parse): the text split on anything but
-- letters and digits, at most 16 words, each lower-cased and matching as a prefix, all required
-- ("k00042" becomes 'k00042:*'; no word at all, NULL: no hits). Built-in functions only: the
-- planner folds it to a constant (a helper SQL function would be run while planning, and counted
-- as statements by pg_stat_statements). A single STABLE SELECT, so PostgreSQL inlines the whole
-- function into the caller's query.
CREATE FUNCTION bench.search_characters(q text, lim integer DEFAULT 20) RETURNS SETOF bench.character_hit
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT ts_rank(c.search, t.query), c.entity_id
          FROM bench.characters c,
               (SELECT to_tsquery('simple', regexp_replace(
                           substring(nullif(btrim(regexp_replace(lower(q), '[^[:alnum:]]+', ' ', 'g')), '')
                                     FROM '^(\S+(?: \S+){0,15})'),
                           ' ', ':* & ', 'g') || ':*') AS query) t
         WHERE c.search @@ t.query
         ORDER BY 1 DESC, c.updated_at DESC
         LIMIT lim
    $$;

-- loregraph's updateEntity with fields {mood: …}: the mood merged into the fields, the version
-- bumped, updated_at and updated_by set, and a revision row (a full snapshot, as loregraph
-- writes) in the same statement, so in the same transaction. The actor is the entity's creator
-- (the peers have no users); the revision id is a time-ordered UUIDv7 like loregraph's.
-- loregraph also validates the fields against the type's JSON Schema and compares the stored
-- references: the peers do neither.
CREATE FUNCTION bench.update_character(character_id text, mood text) RETURNS bench.characters
    LANGUAGE sql VOLATILE
    AS $$
        WITH updated AS (
            UPDATE public.entities e
               SET fields = e.fields || jsonb_build_object('mood', update_character.mood),
                   version = e.version + 1,
                   updated_at = now(),
                   updated_by = e.created_by
             WHERE e.tenant_id = bench_private.tenant_id() AND e.entity_type = 'character'
               AND e.entity_id = update_character.character_id AND e.deleted_at IS NULL
            RETURNING e.*
        ), revision AS (
            INSERT INTO public.entity_revisions
                   (id, tenant_id, entity_row_id, version, action, actor_id, entity_id, name, status, fields,
                    markdown_body)
            SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
                          substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                          FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid,
                   u.tenant_id, u.id, u.version, 'updated', u.updated_by, u.entity_id, u.name, u.status, u.fields,
                   u.markdown_body
              FROM updated u
        )
        SELECT u.entity_id, u.name, u.status, u.fields, u.version, u.updated_at, lower(u.name),
               u.fields ->> 'faction', u.fields ->> 'primary_location', u.search
          FROM updated u
    $$;
