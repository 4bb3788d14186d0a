-- The activity feed (src/activity/store.rs) reads each source newest first, per tenant, past a
-- cursor's (time, id): one index per source ending in the unique id, so each branch of the
-- feed's UNION is one index descent followed by a page's read, at any depth and any `since`.
-- Sources that already have theirs: recycled assets (`assets_recycled`), invites sent
-- (`invites_tenant_idx`, (tenant_id, created_at DESC); ties on the instant are sorted, which
-- a tenant's few invites make cheap). Invites accepted and revoked are read through the same
-- index's tenant prefix: a tenant has a handful, so an index of their own would cost every
-- write for no read worth it.

-- Every write of an entity, newest first.
CREATE INDEX entity_revisions_by_tenant ON entity_revisions (tenant_id, created_at DESC, id DESC);

-- Every upload, live or recycled since (`assets_live` covers only live ones).
CREATE INDEX assets_by_created ON assets (tenant_id, created_at DESC, id DESC);

-- Every ledger entry (`brainbits_ledger_purchases` and `_consumption` cover one kind each).
CREATE INDEX brainbits_ledger_by_created ON brainbits_ledger (tenant_id, created_at DESC, id DESC);

-- Notes by when they were written (`notes_by_tenant` orders them by their last change).
CREATE INDEX notes_by_created ON notes (tenant_id, created_at DESC, id DESC);
