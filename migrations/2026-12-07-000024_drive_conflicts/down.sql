ALTER TABLE drive_files DROP COLUMN entity_version;
