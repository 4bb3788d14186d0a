DROP TABLE sync_conflicts;
DROP TABLE sync_push_receipts;
DROP TABLE entity_tombstones;
DROP INDEX entity_revisions_feed;
ALTER TABLE entity_revisions DROP COLUMN written_xid;
