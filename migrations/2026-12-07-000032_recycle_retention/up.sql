-- How many days an entity or asset stays in a tenant's recycle bin before the retention sweeper
-- purges it; NULL keeps recycled things until someone empties the bin by hand. Tenants that
-- exist already keep theirs (NULL: nothing they recycled goes without their ADMIN saying so);
-- new tenants start with 30 days.
ALTER TABLE tenants
    ADD COLUMN recycle_retention_days integer
        CHECK (recycle_retention_days BETWEEN 1 AND 3650);
ALTER TABLE tenants ALTER COLUMN recycle_retention_days SET DEFAULT 30;
