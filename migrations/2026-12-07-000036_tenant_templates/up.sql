-- A tenant's own templates of its entity types, one row per version: the newest is in force.
-- `content` (the markdown template: frontmatter key order, version, AI instructions, entity
-- selectors) and `json_schema` (what its entities are validated against) each stand in for the
-- package's; NULL keeps the package's. A change that can alter verdicts re-validates the
-- type's entities in the background, and its row keeps the counts.
CREATE TABLE tenant_templates (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_type        text NOT NULL,
    version            integer NOT NULL CHECK (version > 0),
    content            text,
    json_schema        jsonb,
    -- What changed: `template`, `instructions` or `reset`.
    change             text NOT NULL CHECK (change IN ('template', 'instructions', 'reset')),
    created_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    revalidation       text NOT NULL DEFAULT 'not_needed' CHECK (
        revalidation IN ('not_needed', 'pending', 'running', 'done', 'failed', 'superseded')
    ),
    checked            integer NOT NULL DEFAULT 0,
    valid              integer NOT NULL DEFAULT 0,
    invalid            integer NOT NULL DEFAULT 0,
    revalidation_error text,
    -- The re-validation's last progress (or its end).
    revalidated_at     timestamptz,
    PRIMARY KEY (tenant_id, entity_type, version)
);
