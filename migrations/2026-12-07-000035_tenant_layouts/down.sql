DROP TABLE tenant_layouts;
