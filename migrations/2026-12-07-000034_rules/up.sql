-- A tenant's own rule sets: new ones, and its copies of the template package's (a set here with
-- a package set's id takes that set's place for the tenant). The YAML source is kept as written
-- (rules are edited as text) beside its parsed form, so reading rules never parses YAML again.
-- A set the tenant let go (its copy reset, its own set dropped) stays as an inactive row, so
-- its revisions go on rising and a client holding an old revision is told of the change.
CREATE TABLE tenant_rule_sets (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rule_set_id  text NOT NULL,
    source       text NOT NULL,
    parsed       jsonb NOT NULL,
    revision     integer NOT NULL DEFAULT 1,
    active       boolean NOT NULL DEFAULT true,
    updated_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, rule_set_id)
);

-- A tenant's rule settings: rules (or whole sets) it switched off, and the AI system prompt it
-- gives each entity type's generation.
CREATE TABLE tenant_rule_settings (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    disabled_rules  text[] NOT NULL DEFAULT '{}',
    system_prompts  jsonb NOT NULL DEFAULT '{}',
    updated_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);
