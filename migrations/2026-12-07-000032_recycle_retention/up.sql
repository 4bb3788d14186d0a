-- How many days an entity or asset stays in a tenant's recycle bin before the retention sweeper
-- purges it; NULL keeps recycled things until someone empties the bin by hand.
ALTER TABLE tenants
    ADD COLUMN recycle_retention_days integer DEFAULT 30
        CHECK (recycle_retention_days BETWEEN 1 AND 3650);
