-- Back to keys by id alone (the rows stay; only keys and foreign keys change).
DROP INDEX asset_jobs_by_asset;
DROP INDEX billing_invoices_by_stripe_id;
CREATE TEMPORARY TABLE kept_foreign_keys ON COMMIT DROP AS
SELECT con.conrelid::regclass AS holder, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
WHERE con.contype = 'f'
  AND con.confrelid IN ('worlds'::regclass, 'rooms'::regclass, 'characters'::regclass,
                        'axes'::regclass, 'axis_events'::regclass);

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

ALTER TABLE entities DROP CONSTRAINT entities_pkey, ADD PRIMARY KEY (id);
ALTER TABLE entity_relationships DROP CONSTRAINT entity_relationships_pkey, ADD PRIMARY KEY (id);
ALTER TABLE entity_revisions DROP CONSTRAINT entity_revisions_pkey, ADD PRIMARY KEY (id);
ALTER TABLE notes DROP CONSTRAINT notes_pkey, ADD PRIMARY KEY (id);
DROP INDEX assets_by_access_key;
ALTER TABLE assets DROP CONSTRAINT assets_pkey, ADD PRIMARY KEY (id),
                   DROP CONSTRAINT assets_access_key_key,
                   ADD CONSTRAINT assets_access_key_key UNIQUE (access_key);
ALTER TABLE asset_jobs DROP CONSTRAINT asset_jobs_pkey, ADD PRIMARY KEY (id);
DROP INDEX asset_jobs_one_open;
CREATE UNIQUE INDEX asset_jobs_one_open ON asset_jobs (asset_id)
    WHERE state IN ('pending', 'running');
ALTER TABLE dice_rolls DROP CONSTRAINT dice_rolls_pkey, ADD PRIMARY KEY (id);
ALTER TABLE dice_roll_traits DROP CONSTRAINT dice_roll_traits_pkey,
                             ADD PRIMARY KEY (roll_id, position),
                             DROP COLUMN tenant_id;
ALTER TABLE worlds DROP CONSTRAINT worlds_pkey, ADD PRIMARY KEY (id),
                   ADD CONSTRAINT worlds_tenant_id UNIQUE (tenant_id, id);
ALTER TABLE rooms DROP CONSTRAINT rooms_pkey, ADD PRIMARY KEY (id),
                  ADD CONSTRAINT rooms_tenant_id UNIQUE (tenant_id, id),
                  DROP CONSTRAINT rooms_key, ADD CONSTRAINT rooms_key UNIQUE (world_id, room_key);
ALTER TABLE characters DROP CONSTRAINT characters_pkey, ADD PRIMARY KEY (id),
                       ADD CONSTRAINT characters_tenant_id UNIQUE (tenant_id, id);
DROP INDEX characters_name_key;
CREATE UNIQUE INDEX characters_name_key ON characters (world_id, lower(name));
ALTER TABLE axes DROP CONSTRAINT axes_pkey, ADD PRIMARY KEY (id),
                 ADD CONSTRAINT axes_tenant_id UNIQUE (tenant_id, id),
                 DROP CONSTRAINT axes_name, ADD CONSTRAINT axes_name UNIQUE (world_id, name);
ALTER TABLE axis_events DROP CONSTRAINT axis_events_pkey, ADD PRIMARY KEY (id),
                        ADD CONSTRAINT axis_events_tenant_id UNIQUE (tenant_id, id);
ALTER TABLE axis_event_characters DROP CONSTRAINT axis_event_characters_pkey,
                                  ADD PRIMARY KEY (event_id, character_id);
ALTER TABLE axis_event_deltas DROP CONSTRAINT axis_event_deltas_pkey,
                              ADD PRIMARY KEY (event_id, character_id, axis_id);
ALTER TABLE character_axis_scores DROP CONSTRAINT character_axis_scores_pkey,
                                  ADD PRIMARY KEY (character_id, axis_id);
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_pkey, ADD PRIMARY KEY (id);
ALTER TABLE billing_invoices DROP CONSTRAINT billing_invoices_pkey, ADD PRIMARY KEY (id);
ALTER TABLE brainbits_ledger DROP CONSTRAINT brainbits_ledger_pkey, ADD PRIMARY KEY (id);
ALTER TABLE ollama_conversations DROP CONSTRAINT ollama_conversations_pkey,
                                 ADD PRIMARY KEY (owner_key);

DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM kept_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.holder, fk.name, fk.definition);
    END LOOP;
END $$;
ALTER TABLE sessions ADD CONSTRAINT sessions_character_fkey
    FOREIGN KEY (tenant_id, character_id) REFERENCES characters (tenant_id, id)
    ON DELETE SET NULL (character_id);

ALTER TABLE asset_jobs ADD FOREIGN KEY (asset_id) REFERENCES assets (id) ON DELETE CASCADE;
ALTER TABLE asset_links ADD FOREIGN KEY (asset_id) REFERENCES assets (id) ON DELETE CASCADE,
                        ADD FOREIGN KEY (entity_row_id) REFERENCES entities (id) ON DELETE CASCADE;
ALTER TABLE dice_rolls
    ADD FOREIGN KEY (character_row_id) REFERENCES entities (id) ON DELETE SET NULL,
    ADD FOREIGN KEY (campaign_row_id) REFERENCES entities (id) ON DELETE SET NULL;
ALTER TABLE dice_roll_traits ADD FOREIGN KEY (roll_id) REFERENCES dice_rolls (id) ON DELETE CASCADE;
ALTER TABLE entity_references ADD FOREIGN KEY (source_id) REFERENCES entities (id) ON DELETE CASCADE;
CREATE INDEX entity_references_by_source ON entity_references (source_id);
ALTER TABLE entity_relationships
    ADD FOREIGN KEY (source_id) REFERENCES entities (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (target_id) REFERENCES entities (id) ON DELETE CASCADE;
ALTER TABLE entity_revisions ADD FOREIGN KEY (entity_row_id) REFERENCES entities (id) ON DELETE CASCADE;
ALTER TABLE notes ADD FOREIGN KEY (entity_row_id) REFERENCES entities (id) ON DELETE SET NULL;
ALTER TABLE presence_editing ADD FOREIGN KEY (entity_row_id) REFERENCES entities (id) ON DELETE CASCADE;
ALTER TABLE worlds ADD FOREIGN KEY (universe_row_id) REFERENCES entities (id) ON DELETE SET NULL;
