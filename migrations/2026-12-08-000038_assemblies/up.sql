-- What an assembly's slots hold (seed "Assembly System"): the slots themselves are defined in
-- the assembly's frontmatter (`slot_definitions`, inherited down its chain of parents); a row
-- here is a slot the assembly fills, with how it is placed (its transform, its order in its
-- group), and the assets in it: one per variant key ('' = the slot's default image).
CREATE TABLE assembly_slots (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    assembly_row_id  uuid NOT NULL,
    slot_group       text NOT NULL CHECK (length(slot_group) BETWEEN 1 AND 100),
    slot_name        text NOT NULL CHECK (length(slot_name) BETWEEN 1 AND 100),
    -- Order within its group (reorderSlots), then by name.
    position         integer NOT NULL DEFAULT 0,
    offset_x         double precision NOT NULL DEFAULT 0,
    offset_y         double precision NOT NULL DEFAULT 0,
    scale            double precision NOT NULL DEFAULT 1 CHECK (scale > 0 AND scale <= 100),
    rotation         double precision NOT NULL DEFAULT 0 CHECK (rotation BETWEEN -360 AND 360),
    -- Overrides of the definition's (NULL: the definition's z_index, its first overlay mode).
    z_index          integer CHECK (z_index BETWEEN 1 AND 999),
    overlay_mode     text CHECK (
        overlay_mode IN ('replace', 'overlay', 'blend', 'multiply', 'screen', 'add')
    ),
    updated_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, assembly_row_id, slot_group, slot_name),
    FOREIGN KEY (tenant_id, assembly_row_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX assembly_slots_updated_by ON assembly_slots (updated_by) WHERE updated_by IS NOT NULL;

CREATE TABLE assembly_slot_assets (
    tenant_id        uuid NOT NULL,
    assembly_row_id  uuid NOT NULL,
    slot_group       text NOT NULL,
    slot_name        text NOT NULL,
    variant_key      text NOT NULL DEFAULT '' CHECK (length(variant_key) <= 100),
    asset_id         uuid NOT NULL,
    PRIMARY KEY (tenant_id, assembly_row_id, slot_group, slot_name, variant_key),
    FOREIGN KEY (tenant_id, assembly_row_id, slot_group, slot_name)
        REFERENCES assembly_slots (tenant_id, assembly_row_id, slot_group, slot_name)
        ON DELETE CASCADE,
    -- A purged asset leaves the slots it filled.
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, id) ON DELETE CASCADE
);
-- assembliesUsingAsset.
CREATE INDEX assembly_slot_assets_by_asset ON assembly_slot_assets (tenant_id, asset_id);
