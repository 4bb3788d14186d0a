ALTER TABLE tenants DROP COLUMN recycle_retention_days;
