//! How each Stripe event the webhook understands changes a tenant's billing. Everything here
//! runs inside the webhook's one transaction.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::payload::{
    CheckoutSession, Event, EventObject, Expandable, Invoice, Subscription, meta, meta_uuid,
    timestamp,
};
use crate::billing::ledger;
use crate::billing::model;
use crate::billing::store::{self, SubscriptionState};
use crate::billing::tiers::Tier;
use crate::config::BillingSettings;
use crate::db::schema::{memberships, tenants};
use crate::error::AppResult;

/// What became of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Recorded, acknowledged, and not applied, for the reason given (an amount out of range,
    /// an object we cannot read): retrying would not change it.
    Rejected(String),
    /// Recorded before: nothing changed.
    Duplicate,
    /// Recorded, but not for us (unknown type, unknown tenant, nothing to do).
    Ignored,
    /// A subscription state older than the one applied last: recorded, nothing changed.
    Stale,
}

impl Outcome {
    /// How the metrics name it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Rejected(_) => "rejected",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Stale => "stale",
        }
    }

    pub fn body(self) -> Value {
        match self {
            Self::Applied => serde_json::json!({ "received": true }),
            Self::Duplicate => serde_json::json!({ "received": true, "duplicate": true }),
            Self::Ignored => serde_json::json!({ "received": true, "ignored": true }),
            Self::Stale => serde_json::json!({ "received": true, "stale": true }),
            Self::Rejected(reason) => serde_json::json!({ "received": true, "rejected": reason }),
        }
    }
}

/// Records the event and applies it, in the caller's transaction. A replayed event id changes
/// nothing.
pub async fn process(
    conn: &mut AsyncPgConnection,
    billing: &BillingSettings,
    event: &Event,
) -> AppResult<Outcome> {
    let tenant_id = tenant_of(conn, &event.object).await?;
    if !store::record_stripe_event(conn, &event.id, &event.event_type, tenant_id).await? {
        return Ok(Outcome::Duplicate);
    }
    let outcome = apply(conn, billing, tenant_id, event).await?;
    if let Outcome::Rejected(reason) = &outcome {
        tracing::warn!(
            event_id = %event.id,
            event_type = %event.event_type,
            reason,
            "Stripe event rejected (acknowledged, not applied)"
        );
        store::record_rejection(conn, &event.id, reason).await?;
    }
    Ok(outcome)
}

/// Applies a newly recorded event.
async fn apply(
    conn: &mut AsyncPgConnection,
    billing: &BillingSettings,
    tenant_id: Option<Uuid>,
    event: &Event,
) -> AppResult<Outcome> {
    if let EventObject::Unreadable(reason) = &event.object {
        return Ok(Outcome::Rejected(format!(
            "the event's object cannot be read: {reason}"
        )));
    }
    let Some(tenant_id) = tenant_id else {
        if !matches!(event.object, EventObject::Other) {
            tracing::warn!(
                event_id = %event.id,
                event_type = %event.event_type,
                "Stripe event for no known tenant; ignored"
            );
        }
        return Ok(Outcome::Ignored);
    };
    match &event.object {
        EventObject::CheckoutCompleted(session) => {
            checkout_completed(conn, billing, tenant_id, session, event).await
        }
        EventObject::Subscription {
            deleted,
            subscription,
        } => apply_subscription(conn, billing, tenant_id, *deleted, subscription, event).await,
        EventObject::Invoice { failed, invoice } => {
            apply_invoice(conn, tenant_id, *failed, invoice, event).await
        }
        EventObject::Unreadable(_) | EventObject::Other => Ok(Outcome::Ignored),
    }
}

/// The tenant an event is about. A customer already bound to a tenant decides (our checkout
/// binds it before the customer can pay); metadata naming a different tenant makes the event
/// ignored rather than trusted. Without a bound customer, the tenant the metadata (or the
/// checkout's client_reference_id) names, if it exists. The tenant row is key-share locked
/// until the transaction ends, so it cannot vanish under the writes that follow.
async fn tenant_of(conn: &mut AsyncPgConnection, object: &EventObject) -> AppResult<Option<Uuid>> {
    let (customer, named) = match object {
        EventObject::CheckoutCompleted(session) => (
            session.customer.as_ref(),
            meta_uuid(&session.metadata, "tenant_id").or_else(|| {
                session
                    .client_reference_id
                    .as_deref()
                    .and_then(|s| Uuid::parse_str(s.trim()).ok())
            }),
        ),
        EventObject::Subscription { subscription, .. } => (
            subscription.customer.as_ref(),
            meta_uuid(&subscription.metadata, "tenant_id"),
        ),
        EventObject::Invoice { invoice, .. } => (
            invoice.customer.as_ref(),
            meta_uuid(&invoice.subscription_details["metadata"], "tenant_id")
                .or_else(|| {
                    meta_uuid(
                        &invoice.parent["subscription_details"]["metadata"],
                        "tenant_id",
                    )
                })
                .or_else(|| meta_uuid(&invoice.metadata, "tenant_id")),
        ),
        EventObject::Unreadable(_) | EventObject::Other => return Ok(None),
    };
    if let Some(bound) = tenant_of_customer(conn, customer).await? {
        if named.is_some_and(|named| named != bound) {
            tracing::warn!(%bound, "a Stripe event names another tenant than its customer's; ignored");
            return Ok(None);
        }
        return Ok(Some(bound));
    }
    existing_tenant(conn, named).await
}

async fn existing_tenant(
    conn: &mut AsyncPgConnection,
    tenant_id: Option<Uuid>,
) -> AppResult<Option<Uuid>> {
    let Some(tenant_id) = tenant_id else {
        return Ok(None);
    };
    Ok(tenants::table
        .find(tenant_id)
        .select(tenants::id)
        .for_key_share()
        .first::<Uuid>(conn)
        .await
        .optional()?)
}

async fn tenant_of_customer(
    conn: &mut AsyncPgConnection,
    customer: Option<&Expandable>,
) -> AppResult<Option<Uuid>> {
    let Some(customer) = customer.map(Expandable::id).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let Some(account) = store::account_by_customer(conn, customer).await? else {
        return Ok(None);
    };
    // Key-share lock it like a tenant named in metadata.
    existing_tenant(conn, Some(account.tenant_id)).await
}

/// Remembers the tenant's Stripe customer, unless that customer already belongs to another
/// tenant (then the first binding stands and the mismatch is logged).
async fn link_customer(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    customer: Option<&Expandable>,
) -> AppResult<()> {
    let Some(customer) = customer.map(Expandable::id).filter(|c| !c.is_empty()) else {
        return Ok(());
    };
    match store::account_by_customer(conn, customer).await? {
        None => store::set_customer(conn, tenant_id, customer).await,
        Some(account) if account.tenant_id == tenant_id => Ok(()),
        Some(account) => {
            tracing::warn!(
                customer,
                %tenant_id,
                bound_to = %account.tenant_id,
                "Stripe customer already belongs to another tenant; not rebound"
            );
            Ok(())
        }
    }
}

async fn checkout_completed(
    conn: &mut AsyncPgConnection,
    billing: &BillingSettings,
    tenant_id: Uuid,
    session: &CheckoutSession,
    event: &Event,
) -> AppResult<Outcome> {
    // Paid (or on its way): not to be handed out again.
    store::close_checkout(conn, &session.id).await?;
    match session.mode.as_deref() {
        Some("subscription") => {
            if session.customer.is_none() {
                return Ok(Outcome::Ignored);
            }
            link_customer(conn, tenant_id, session.customer.as_ref()).await?;
            // A paid subscription checkout activates its tier at once; the subscription's own
            // events (period, later changes) take over as they arrive.
            let tier = meta(&session.metadata, "price_id").and_then(|p| billing.tier_of_price(&p));
            let subscription = session.subscription.as_ref().map(Expandable::id);
            if let (Some(tier), Some(subscription), Some("paid")) =
                (tier, subscription, session.payment_status.as_deref())
            {
                store::activate_from_checkout(conn, tenant_id, subscription, tier, event.created)
                    .await?;
            }
            Ok(Outcome::Applied)
        }
        Some("payment") => {
            let tokens = meta(&session.metadata, "kind").as_deref() == Some("tokens");
            let paid = session.payment_status.as_deref() == Some("paid");
            if !tokens || !paid {
                return Ok(Outcome::Ignored);
            }
            let asked = meta(&session.metadata, "brainbits");
            let Some(brainbits) = asked
                .as_deref()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|n| (1..=ledger::MAX_BALANCE).contains(n))
            else {
                return Ok(Outcome::Rejected(format!(
                    "token checkout {} asks for {} BrainBits: not a whole number from 1 to {}",
                    session.id,
                    asked.map_or("no".into(), |asked| asked
                        .chars()
                        .take(40)
                        .collect::<String>()),
                    ledger::MAX_BALANCE
                )));
            };
            if session.customer.is_some() {
                link_customer(conn, tenant_id, session.customer.as_ref()).await?;
            }
            let actor_id =
                member_of(conn, tenant_id, meta_uuid(&session.metadata, "user_id")).await?;
            let reason = match meta(&session.metadata, "block_id") {
                Some(block) => format!("purchase of token block {block}"),
                None => "purchase of BrainBits".to_owned(),
            };
            // Idempotent by the session id, whatever event id carried it.
            let credit =
                ledger::credit_purchase(conn, tenant_id, brainbits, &session.id, actor_id, &reason)
                    .await?;
            Ok(match credit {
                ledger::Credit::Applied | ledger::Credit::AlreadyApplied => Outcome::Applied,
                ledger::Credit::OverLimit => Outcome::Rejected(format!(
                    "token checkout {} would take the balance past {} BrainBits",
                    session.id,
                    ledger::MAX_BALANCE
                )),
            })
        }
        _ => Ok(Outcome::Ignored),
    }
}

/// `user_id` when it names a member of the tenant (the ledger's actor), else none.
async fn member_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Option<Uuid>,
) -> AppResult<Option<Uuid>> {
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let member: bool = diesel::select(diesel::dsl::exists(
        memberships::table
            .filter(memberships::tenant_id.eq(tenant_id))
            .filter(memberships::user_id.eq(user_id)),
    ))
    .get_result(conn)
    .await?;
    Ok(member.then_some(user_id))
}

/// Stripe statuses under which the subscription's price gives its tier.
const PAYING_STATUSES: [&str; 3] = ["active", "trialing", "past_due"];

async fn apply_subscription(
    conn: &mut AsyncPgConnection,
    billing: &BillingSettings,
    tenant_id: Uuid,
    deleted: bool,
    subscription: &Subscription,
    event: &Event,
) -> AppResult<Outcome> {
    let first_item = subscription
        .items
        .as_ref()
        .and_then(|items| items.data.as_slice().first());
    let status = match subscription.status.as_deref() {
        Some(status) if !status.is_empty() => status.to_owned(),
        _ if deleted => "canceled".to_owned(),
        _ => return Ok(Outcome::Ignored),
    };
    let tier = if !deleted && PAYING_STATUSES.contains(&status.as_str()) {
        // The first item on a tier's price gives the tier (add-ons may come before it).
        let items = subscription
            .items
            .as_ref()
            .map(|items| items.data.as_slice())
            .unwrap_or_default();
        let tier = items
            .iter()
            .filter_map(|item| item.price.as_ref())
            .find_map(|price| billing.tier_of_price(&price.id));
        match tier {
            Some(tier) => tier,
            None => {
                tracing::warn!(
                    subscription = %subscription.id,
                    prices = ?items
                        .iter()
                        .filter_map(|item| item.price.as_ref().map(|p| p.id.as_str()))
                        .collect::<Vec<_>>(),
                    "subscription on a price no tier is configured for; ignored"
                );
                return Ok(Outcome::Ignored);
            }
        }
    } else {
        Tier::Free
    };
    link_customer(conn, tenant_id, subscription.customer.as_ref()).await?;
    let state = SubscriptionState {
        subscription_id: subscription.id.clone(),
        status,
        tier,
        current_period_start: timestamp(
            subscription
                .current_period_start
                .or_else(|| first_item.and_then(|i| i.current_period_start)),
        ),
        current_period_end: timestamp(
            subscription
                .current_period_end
                .or_else(|| first_item.and_then(|i| i.current_period_end)),
        ),
        cancel_at_period_end: subscription.cancel_at_period_end.unwrap_or(false),
        event_at: event.created,
        // Events of the same second apply in their natural order.
        event_rank: match event.event_type.as_str() {
            "customer.subscription.created" => 0,
            "customer.subscription.deleted" => 2,
            _ => 1,
        },
    };
    Ok(
        if store::apply_subscription(conn, tenant_id, &state).await? {
            Outcome::Applied
        } else {
            Outcome::Stale
        },
    )
}

async fn apply_invoice(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    failed: bool,
    invoice: &Invoice,
    event: &Event,
) -> AppResult<Outcome> {
    let status = match invoice.status.as_deref() {
        Some(status) if !status.is_empty() => status.to_owned(),
        _ if failed => "open".to_owned(),
        _ => "paid".to_owned(),
    };
    let values = model::Invoice {
        id: invoice.id.clone(),
        status,
        currency: invoice.currency.clone().unwrap_or_default(),
        amount_due: invoice.amount_due.unwrap_or(0),
        amount_paid: invoice.amount_paid.unwrap_or(0),
        hosted_invoice_url: invoice.hosted_invoice_url.clone(),
        period_start: timestamp(invoice.period_start),
        period_end: timestamp(invoice.period_end),
        created_at: timestamp(invoice.created).unwrap_or(event.created),
    };
    store::upsert_invoice(conn, tenant_id, &values).await?;
    Ok(Outcome::Applied)
}
