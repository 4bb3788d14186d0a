-- Story drafts (issue 22, point 1): a story being built section by section by the architect,
-- kept as a document of the library until it is finalized into a story.
ALTER TABLE story_documents DROP CONSTRAINT story_documents_kind_check;
ALTER TABLE story_documents ADD CONSTRAINT story_documents_kind_check CHECK (kind IN (
    'api_connection', 'api_group', 'preset', 'schema', 'lorebook', 'player_profile',
    'character', 'story_resource', 'story', 'session', 'story_draft'
));
