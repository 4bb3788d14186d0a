DROP INDEX notes_by_created;
DROP INDEX brainbits_ledger_by_created;
DROP INDEX assets_by_created;
DROP INDEX entity_revisions_by_tenant;
