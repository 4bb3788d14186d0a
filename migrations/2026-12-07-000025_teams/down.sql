DROP TABLE brainbits_group_usage;
DROP TABLE brainbits_group_quotas;
DROP TABLE member_permissions;
DROP TABLE permission_templates;
DROP TABLE member_group_members;
DROP TABLE member_groups;
DELETE FROM sessions WHERE tenant_id IS NULL;
ALTER TABLE sessions ALTER COLUMN tenant_id SET NOT NULL;
