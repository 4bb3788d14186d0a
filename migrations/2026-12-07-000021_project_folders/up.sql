-- A tenant's project folder on the server's disk (issue 23, point 4): its markdown files kept
-- in sync with the tenant's entities both ways.
CREATE TABLE project_folders (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The folder, relative to the configured projects root.
    path      text NOT NULL,
    -- Changes read from the folder are made as this member (an ADMIN when bound).
    bound_by  uuid NOT NULL,
    bound_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);

-- Which file holds which entity, so a change made through the API goes back to the file it
-- came from, and a file deleted on disk names the entity it held.
CREATE TABLE project_files (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    row_id    uuid NOT NULL,
    -- Relative to the project folder, with `/` separators.
    path      text NOT NULL,
    PRIMARY KEY (tenant_id, row_id),
    FOREIGN KEY (tenant_id, row_id) REFERENCES entities (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX project_files_by_path ON project_files (tenant_id, path);
