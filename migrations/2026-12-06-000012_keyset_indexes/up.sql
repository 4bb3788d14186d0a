-- Lists paged by cursor: each order gets an index that ends in the list's unique column, so a
-- page by cursor is one index descent to the cursor's key followed by a short read, at any
-- depth. Indexes that were the same order without the unique column are replaced.

DROP INDEX entities_recycled;
CREATE INDEX entities_recycled ON entities (tenant_id, deleted_at DESC, id DESC)
    WHERE deleted_at IS NOT NULL;

DROP INDEX assets_recycled;
CREATE INDEX assets_recycled ON assets (tenant_id, deleted_at DESC, id DESC)
    WHERE deleted_at IS NOT NULL;

DROP INDEX dice_rolls_by_tenant;
CREATE INDEX dice_rolls_by_tenant ON dice_rolls (tenant_id, created_at DESC, id DESC);
DROP INDEX dice_rolls_by_user;
CREATE INDEX dice_rolls_by_user ON dice_rolls (tenant_id, user_id, created_at DESC, id DESC);
DROP INDEX dice_rolls_by_character;
CREATE INDEX dice_rolls_by_character ON dice_rolls (tenant_id, character_row_id, created_at DESC, id DESC)
    WHERE character_row_id IS NOT NULL;
DROP INDEX dice_rolls_by_campaign;
CREATE INDEX dice_rolls_by_campaign ON dice_rolls (tenant_id, campaign_row_id, created_at DESC, id DESC)
    WHERE campaign_row_id IS NOT NULL;

DROP INDEX chat_messages_by_tenant;
CREATE INDEX chat_messages_by_tenant ON chat_messages (tenant_id, created_at DESC, id DESC);
DROP INDEX chat_messages_by_room;
CREATE INDEX chat_messages_by_room ON chat_messages (world_id, room_id, created_at DESC, id DESC);
CREATE INDEX chat_messages_by_world ON chat_messages (world_id, created_at DESC, id DESC);

DROP INDEX sessions_tenant_activity_idx;
CREATE INDEX sessions_tenant_activity_idx ON sessions (tenant_id, last_activity DESC, id DESC)
    WHERE revoked_at IS NULL;
CREATE INDEX sessions_tenant_created_idx ON sessions (tenant_id, created_at DESC, id DESC)
    WHERE revoked_at IS NULL;

CREATE INDEX characters_by_tenant_name ON characters (tenant_id, lower(name), id);
DROP INDEX characters_by_user;
CREATE INDEX characters_by_user ON characters (user_id, lower(name), id);

DROP INDEX billing_invoices_by_tenant;
CREATE INDEX billing_invoices_by_tenant ON billing_invoices (tenant_id, created_at DESC, id DESC);

CREATE INDEX brainbits_ledger_purchases ON brainbits_ledger (tenant_id, created_at DESC, id DESC)
    WHERE kind = 'purchase';

CREATE INDEX tenants_by_created ON tenants (created_at DESC, id DESC);

DROP INDEX notes_by_tenant;
CREATE INDEX notes_by_tenant ON notes (tenant_id, updated_at DESC, id DESC);
DROP INDEX notes_by_entity;
CREATE INDEX notes_by_entity ON notes (entity_row_id, updated_at DESC, id DESC);

-- Rooms by zone, then key; rooms without a zone last (mud::worlds::store orders by these).
CREATE INDEX rooms_by_zone ON rooms (world_id, (zone_key IS NULL), coalesce(zone_key, ''), room_key);
