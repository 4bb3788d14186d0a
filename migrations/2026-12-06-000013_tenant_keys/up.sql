-- Ready to distribute by tenant (Citus): every table a tenant owns carries `tenant_id` in its
-- primary key, in each of its unique keys, and in each foreign key to another such table, so
-- that all of one tenant's rows can live on one node and every key is checked there. A
-- foreign key that sets its column to null on delete names that column alone: the row keeps
-- its tenant. The tables read before a tenant is known (sessions, refresh tokens, API keys,
-- invites, memberships, Stripe's events, customers and checkouts, the event log) and the
-- shared ones (tenants, users, server nodes and secrets, persisted queries, throttles,
-- cursors) are routing and reference tables; README "Running on Citus" lists them, and
-- tests/it/tenant_keys.rs reads the catalog and fails on a tenant table that breaks the rule.

-- A session (a routing table: found by its token before the tenant is known) may not point
-- into a tenant table on Citus. Removing a character already unbinds the sessions playing it
-- in the same transaction (mud::characters::service::remove); a tenant's removal takes its
-- sessions with it.
ALTER TABLE sessions DROP CONSTRAINT sessions_character_fkey;

-- 1. Foreign keys that point at a key about to change: remembered, dropped, and made again
--    once the keys are in place. Those that already carry tenant_id come back as they were;
--    those that do not are made anew below.
CREATE TEMPORARY TABLE kept_foreign_keys ON COMMIT DROP AS
SELECT con.conrelid::regclass AS holder, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
WHERE con.contype = 'f'
  AND con.confrelid IN ('worlds'::regclass, 'rooms'::regclass, 'characters'::regclass,
                        'axes'::regclass, 'axis_events'::regclass)
  AND con.conkey[1] = (SELECT attnum FROM pg_attribute
                       WHERE attrelid = con.conrelid AND attname = 'tenant_id');

DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM kept_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.holder, fk.name);
    END LOOP;
END $$;

ALTER TABLE asset_jobs DROP CONSTRAINT asset_jobs_asset_id_fkey;
ALTER TABLE asset_links DROP CONSTRAINT asset_links_asset_id_fkey,
                        DROP CONSTRAINT asset_links_entity_row_id_fkey;
ALTER TABLE dice_rolls DROP CONSTRAINT dice_rolls_character_row_id_fkey,
                       DROP CONSTRAINT dice_rolls_campaign_row_id_fkey;
ALTER TABLE dice_roll_traits DROP CONSTRAINT dice_roll_traits_roll_id_fkey;
ALTER TABLE entity_references DROP CONSTRAINT entity_references_source_id_fkey;
ALTER TABLE entity_relationships DROP CONSTRAINT entity_relationships_source_id_fkey,
                                 DROP CONSTRAINT entity_relationships_target_id_fkey;
ALTER TABLE entity_revisions DROP CONSTRAINT entity_revisions_entity_row_id_fkey;
ALTER TABLE notes DROP CONSTRAINT notes_entity_row_id_fkey;
ALTER TABLE presence_editing DROP CONSTRAINT presence_editing_entity_row_id_fkey;
ALTER TABLE worlds DROP CONSTRAINT worlds_universe_row_id_fkey;

-- 2. The keys, each led by tenant_id.
ALTER TABLE entities DROP CONSTRAINT entities_pkey, ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE entity_relationships DROP CONSTRAINT entity_relationships_pkey,
                                 ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE entity_revisions DROP CONSTRAINT entity_revisions_pkey, ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE notes DROP CONSTRAINT notes_pkey, ADD PRIMARY KEY (tenant_id, id);

-- The file route reads an asset by its access key alone (a 256-bit capability in the URL,
-- unique by its randomness): an index of its own serves it.
ALTER TABLE assets DROP CONSTRAINT assets_pkey, ADD PRIMARY KEY (tenant_id, id),
                   DROP CONSTRAINT assets_access_key_key,
                   ADD CONSTRAINT assets_access_key_key UNIQUE (tenant_id, access_key);
CREATE INDEX assets_by_access_key ON assets (access_key);
ALTER TABLE asset_jobs DROP CONSTRAINT asset_jobs_pkey, ADD PRIMARY KEY (tenant_id, id);
DROP INDEX asset_jobs_one_open;
CREATE UNIQUE INDEX asset_jobs_one_open ON asset_jobs (tenant_id, asset_id)
    WHERE state IN ('pending', 'running');

ALTER TABLE dice_rolls DROP CONSTRAINT dice_rolls_pkey, ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE dice_roll_traits ADD COLUMN tenant_id uuid;
UPDATE dice_roll_traits t SET tenant_id = r.tenant_id FROM dice_rolls r WHERE r.id = t.roll_id;
ALTER TABLE dice_roll_traits ALTER COLUMN tenant_id SET NOT NULL,
                             DROP CONSTRAINT dice_roll_traits_pkey,
                             ADD PRIMARY KEY (tenant_id, roll_id, position);

ALTER TABLE worlds DROP CONSTRAINT worlds_pkey, DROP CONSTRAINT worlds_tenant_id,
                   ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE rooms DROP CONSTRAINT rooms_pkey, DROP CONSTRAINT rooms_tenant_id,
                  ADD PRIMARY KEY (tenant_id, id),
                  DROP CONSTRAINT rooms_key,
                  ADD CONSTRAINT rooms_key UNIQUE (tenant_id, world_id, room_key);
ALTER TABLE characters DROP CONSTRAINT characters_pkey, DROP CONSTRAINT characters_tenant_id,
                       ADD PRIMARY KEY (tenant_id, id);
DROP INDEX characters_name_key;
CREATE UNIQUE INDEX characters_name_key ON characters (tenant_id, world_id, lower(name));
ALTER TABLE axes DROP CONSTRAINT axes_pkey, DROP CONSTRAINT axes_tenant_id,
                 ADD PRIMARY KEY (tenant_id, id),
                 DROP CONSTRAINT axes_name,
                 ADD CONSTRAINT axes_name UNIQUE (tenant_id, world_id, name);
ALTER TABLE axis_events DROP CONSTRAINT axis_events_pkey, DROP CONSTRAINT axis_events_tenant_id,
                        ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE axis_event_characters DROP CONSTRAINT axis_event_characters_pkey,
                                  ADD PRIMARY KEY (tenant_id, event_id, character_id);
ALTER TABLE axis_event_deltas DROP CONSTRAINT axis_event_deltas_pkey,
                              ADD PRIMARY KEY (tenant_id, event_id, character_id, axis_id);
ALTER TABLE character_axis_scores DROP CONSTRAINT character_axis_scores_pkey,
                                  ADD PRIMARY KEY (tenant_id, character_id, axis_id);
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_pkey, ADD PRIMARY KEY (tenant_id, id);

ALTER TABLE billing_invoices DROP CONSTRAINT billing_invoices_pkey, ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE brainbits_ledger DROP CONSTRAINT brainbits_ledger_pkey, ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE ollama_conversations DROP CONSTRAINT ollama_conversations_pkey,
                                 ADD PRIMARY KEY (tenant_id, owner_key);

-- 3. The foreign keys again, each through the tenant.
DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM kept_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.holder, fk.name, fk.definition);
    END LOOP;
END $$;

ALTER TABLE asset_jobs ADD CONSTRAINT asset_jobs_asset_id_fkey
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE asset_links
    ADD CONSTRAINT asset_links_asset_id_fkey
        FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT asset_links_entity_row_id_fkey
        FOREIGN KEY (tenant_id, entity_row_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE dice_rolls
    ADD CONSTRAINT dice_rolls_character_row_id_fkey
        FOREIGN KEY (tenant_id, character_row_id) REFERENCES entities (tenant_id, id)
        ON DELETE SET NULL (character_row_id),
    ADD CONSTRAINT dice_rolls_campaign_row_id_fkey
        FOREIGN KEY (tenant_id, campaign_row_id) REFERENCES entities (tenant_id, id)
        ON DELETE SET NULL (campaign_row_id);
ALTER TABLE dice_roll_traits ADD CONSTRAINT dice_roll_traits_roll_id_fkey
    FOREIGN KEY (tenant_id, roll_id) REFERENCES dice_rolls (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE entity_references ADD CONSTRAINT entity_references_source_id_fkey
    FOREIGN KEY (tenant_id, source_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE entity_relationships
    ADD CONSTRAINT entity_relationships_source_id_fkey
        FOREIGN KEY (tenant_id, source_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT entity_relationships_target_id_fkey
        FOREIGN KEY (tenant_id, target_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE entity_revisions ADD CONSTRAINT entity_revisions_entity_row_id_fkey
    FOREIGN KEY (tenant_id, entity_row_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE notes ADD CONSTRAINT notes_entity_row_id_fkey
    FOREIGN KEY (tenant_id, entity_row_id) REFERENCES entities (tenant_id, id)
    ON DELETE SET NULL (entity_row_id);
ALTER TABLE presence_editing ADD CONSTRAINT presence_editing_entity_row_id_fkey
    FOREIGN KEY (tenant_id, entity_row_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE worlds ADD CONSTRAINT worlds_universe_row_id_fkey
    FOREIGN KEY (tenant_id, universe_row_id) REFERENCES entities (tenant_id, id)
    ON DELETE SET NULL (universe_row_id);

-- The entity_references index by source alone served lookups without the tenant; they all
-- name it now.
DROP INDEX entity_references_by_source;

-- Lookups the wider keys no longer serve: a Stripe invoice by Stripe's (global) id, for the
-- webhook's guard against an event naming another tenant's invoice; an asset's jobs, for the
-- cascade when the asset goes.
CREATE INDEX billing_invoices_by_stripe_id ON billing_invoices (id);
CREATE INDEX asset_jobs_by_asset ON asset_jobs (tenant_id, asset_id);
