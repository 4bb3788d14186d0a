-- Tenants without a session's tenant, teams and groups of members, permission templates, and
-- BrainBits quotas per group.

-- A session may be in no tenant: an account whose last membership was removed still signs in,
-- to accept an invite or create a tenant.
ALTER TABLE sessions ALTER COLUMN tenant_id DROP NOT NULL;

-- Teams and groups of a tenant's members. A team is a unit of the studio (quotas and shares
-- are kept per team); a group carries permissions, from a preset or edited by an ADMIN.
CREATE TABLE member_groups (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('team', 'group')),
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    -- The preset a group was made from, if any (its permissions may have changed since).
    preset       text,
    -- A list of grants: {"permission": "edit_entities", "entityTypes": ["location"]}.
    permissions  jsonb NOT NULL DEFAULT '[]',
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX member_groups_name_idx ON member_groups (tenant_id, kind, lower(name));

-- Who is in which team or group. Leaving the tenant leaves its teams and groups.
CREATE TABLE member_group_members (
    tenant_id  uuid NOT NULL,
    group_id   uuid NOT NULL,
    user_id    uuid NOT NULL,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES member_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX member_group_members_user_idx ON member_group_members (tenant_id, user_id);

-- Named sets of permissions an ADMIN applies to members or groups.
CREATE TABLE permission_templates (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    permissions  jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX permission_templates_name_idx ON permission_templates (tenant_id, lower(name));

-- A member's own permissions, set by applying a template (which is remembered while it exists).
CREATE TABLE member_permissions (
    tenant_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    permissions  jsonb NOT NULL,
    template_id  uuid,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, template_id) REFERENCES permission_templates (tenant_id, id)
        ON DELETE SET NULL (template_id)
);

-- A team's or group's BrainBits cap per billing period.
CREATE TABLE brainbits_group_quotas (
    tenant_id     uuid NOT NULL,
    group_id      uuid NOT NULL,
    period_limit  bigint NOT NULL CHECK (period_limit >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES member_groups (tenant_id, id) ON DELETE CASCADE
);

-- What a team's or group's members consumed per billing period, counted in the debit's
-- transaction; a reset zeroes the period's count and records when.
CREATE TABLE brainbits_group_usage (
    tenant_id   uuid NOT NULL,
    group_id    uuid NOT NULL,
    period_key  text NOT NULL,
    used        bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    reset_at    timestamptz,
    PRIMARY KEY (tenant_id, group_id, period_key),
    FOREIGN KEY (tenant_id, group_id) REFERENCES member_groups (tenant_id, id) ON DELETE CASCADE
);
