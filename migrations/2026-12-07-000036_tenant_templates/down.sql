DROP TABLE tenant_templates;
