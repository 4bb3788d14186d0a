DROP TABLE drive_files;
DROP TABLE drive_channels;
DROP TABLE drive_connections;
DELETE FROM oauth_flows WHERE purpose = 'drive';
ALTER TABLE oauth_flows DROP CONSTRAINT oauth_flows_purpose_check;
ALTER TABLE oauth_flows ADD CONSTRAINT oauth_flows_purpose_check
    CHECK (purpose IN ('sign_in', 'link'));
