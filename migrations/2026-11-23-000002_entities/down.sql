DROP TABLE notes;
DROP TABLE entity_revisions;
DROP TABLE entity_relationships;
DROP TABLE entity_references;
DROP TABLE entities;
