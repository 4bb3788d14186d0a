-- The Checkout session a tenant has open for each purpose (a subscription; a block of BrainBits
-- bought by one member), handed out again while it is open instead of opening a second one.
CREATE TABLE billing_checkouts (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    purpose            text NOT NULL,
    price_id           text NOT NULL,
    stripe_session_id  text NOT NULL UNIQUE,
    url                text NOT NULL,
    expires_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, purpose)
);

-- Where a long sweep (the asset store's listing) stopped, to go on from there next time.
CREATE TABLE maintenance_cursors (
    name       text PRIMARY KEY,
    position   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- What the retention sweeper looks for, oldest first.
CREATE INDEX asset_jobs_finished ON asset_jobs (updated_at) WHERE state IN ('done', 'failed');
CREATE INDEX entity_revisions_by_age ON entity_revisions (created_at);
CREATE INDEX stripe_events_by_age ON stripe_events (received_at);
CREATE INDEX ollama_conversations_by_age ON ollama_conversations (updated_at);
