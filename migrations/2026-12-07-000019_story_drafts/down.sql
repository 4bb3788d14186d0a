DELETE FROM story_documents WHERE kind = 'story_draft';
ALTER TABLE story_documents DROP CONSTRAINT story_documents_kind_check;
ALTER TABLE story_documents ADD CONSTRAINT story_documents_kind_check CHECK (kind IN (
    'api_connection', 'api_group', 'preset', 'schema', 'lorebook', 'player_profile',
    'character', 'story_resource', 'story', 'session'
));
