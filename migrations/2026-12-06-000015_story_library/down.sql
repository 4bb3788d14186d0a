DROP TABLE story_package_slots;
DROP TABLE story_settings;
DROP TABLE story_secrets;
DROP TABLE story_connection_checks;
DROP TABLE story_links;
DROP TABLE story_documents;
