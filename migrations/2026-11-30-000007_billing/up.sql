-- Billing (seed 001): each tenant's tier and Stripe subscription, the BrainBits ledger, quotas,
-- invoices, and the Stripe events already applied.

-- One row per tenant that has touched billing. Ledger writes lock it, which serializes every
-- balance decision of the tenant.
CREATE TABLE billing_accounts (
    tenant_id              uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    tier                   text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'studio')),
    stripe_customer_id     text UNIQUE,
    stripe_subscription_id text,
    -- Stripe's subscription status: active, trialing, past_due, canceled, unpaid, incomplete...
    subscription_status    text,
    current_period_start   timestamptz,
    current_period_end     timestamptz,
    cancel_at_period_end   boolean NOT NULL DEFAULT false,
    -- When Stripe created the subscription event applied last; older ones arriving late are
    -- ignored, so out-of-order delivery leaves the latest state.
    subscription_event_at  timestamptz,
    -- Breaks ties between events of the same second: created < updated < deleted.
    subscription_event_rank smallint NOT NULL DEFAULT 0,
    -- BrainBits the whole team may consume per billing period; null means no cap.
    team_quota             bigint CHECK (team_quota >= 0),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Append-only: credits (allowance, purchase) and debits (consumption). The balance is the sum,
-- kept as `balance_after` on each entry (written under the account's lock, never negative).
CREATE TABLE brainbits_ledger (
    id            bigserial PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    amount        bigint NOT NULL CHECK (amount <> 0),
    kind          text NOT NULL CHECK (kind IN ('allowance', 'purchase', 'consumption', 'adjustment')),
    reason        text NOT NULL,
    -- Whose consumption it was.
    user_id       uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Who caused the entry (null for Stripe and the system).
    actor_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    operation     text,
    provider      text,
    -- The billing period an allowance is for.
    period_key    text,
    -- The Stripe object a purchase came from (a checkout session).
    stripe_ref    text,
    balance_after bigint NOT NULL CHECK (balance_after >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX brainbits_ledger_allowance ON brainbits_ledger (tenant_id, period_key)
    WHERE kind = 'allowance';
CREATE UNIQUE INDEX brainbits_ledger_stripe_ref ON brainbits_ledger (tenant_id, stripe_ref)
    WHERE stripe_ref IS NOT NULL;
CREATE INDEX brainbits_ledger_by_tenant ON brainbits_ledger (tenant_id, id DESC);
CREATE INDEX brainbits_ledger_consumption ON brainbits_ledger (tenant_id, created_at)
    WHERE kind = 'consumption';

-- A member's BrainBits cap per billing period.
CREATE TABLE brainbits_user_quotas (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    period_limit  bigint NOT NULL CHECK (period_limit >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);

-- Invoices as Stripe reported them through webhooks.
CREATE TABLE billing_invoices (
    id                 text PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    status             text NOT NULL,
    currency           text NOT NULL,
    amount_due         bigint NOT NULL,
    amount_paid        bigint NOT NULL,
    hosted_invoice_url text,
    period_start       timestamptz,
    period_end         timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_invoices_by_tenant ON billing_invoices (tenant_id, created_at DESC);

-- Every Stripe event applied, so a replay changes nothing.
CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    event_type  text NOT NULL,
    tenant_id   uuid REFERENCES tenants (id) ON DELETE SET NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
