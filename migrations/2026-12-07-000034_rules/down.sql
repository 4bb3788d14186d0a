DROP TABLE tenant_rule_settings;
DROP TABLE tenant_rule_sets;
