-- Stories (issue 22): a story is a document of the library (its resource, schemas and the
-- current graph), and every graph it ever had is kept by version, so a session stays on the
-- graph it started with while the story is edited.
ALTER TABLE story_documents DROP CONSTRAINT story_documents_kind_check;
ALTER TABLE story_documents ADD CONSTRAINT story_documents_kind_check CHECK (kind IN (
    'api_connection', 'api_group', 'preset', 'schema', 'lorebook', 'player_profile',
    'character', 'story_resource', 'story', 'session'
));

CREATE TABLE story_graph_versions (
    tenant_id uuid NOT NULL,
    story_id uuid NOT NULL,
    version integer NOT NULL,
    graph jsonb NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, story_id, version),
    FOREIGN KEY (tenant_id, story_id) REFERENCES story_documents (tenant_id, id) ON DELETE CASCADE
);
