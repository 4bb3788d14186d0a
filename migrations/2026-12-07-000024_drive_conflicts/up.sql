-- The entity's version when a Drive file last matched it: a new version of the file is pushed
-- with it as its base, so an entity changed here meanwhile makes a sync conflict (as a
-- desktop client's push does) instead of being overwritten.
ALTER TABLE drive_files ADD COLUMN entity_version integer;
