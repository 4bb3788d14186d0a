//! Billing accounts, subscriptions as Stripe reports them, invoices and applied Stripe events.
//! The BrainBits ledger is in `ledger`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

pub use super::ledger::credit_purchase;
use super::model::{BillingAccountRow, Invoice, OpenedCheckout};
use super::tiers::Tier;
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{
    billing_accounts, billing_checkouts, billing_invoices, stripe_events, tenants,
};
use crate::error::{AppError, AppResult};

/// The tenant's billing account, created (on FREE) if it has none yet.
pub async fn account(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<BillingAccountRow> {
    read_account(conn, tenant_id, false).await
}

/// The account, locked until the transaction ends: every balance decision of a tenant holds
/// this lock, so they happen one at a time.
pub async fn lock_account(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<BillingAccountRow> {
    read_account(conn, tenant_id, true).await
}

async fn read_account(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    lock: bool,
) -> AppResult<BillingAccountRow> {
    diesel::insert_into(billing_accounts::table)
        .values(billing_accounts::tenant_id.eq(tenant_id))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let query = billing_accounts::table
        .find(tenant_id)
        .select(BillingAccountRow::as_select());
    let row = if lock {
        query.for_update().first(conn).await?
    } else {
        query.first(conn).await?
    };
    Ok(row)
}

/// The tenant's tier (FREE until billing says otherwise).
pub async fn tier_of(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<Tier> {
    let tier: Option<String> = billing_accounts::table
        .find(tenant_id)
        .select(billing_accounts::tier)
        .first(conn)
        .await
        .optional()?;
    Ok(tier.as_deref().and_then(Tier::parse).unwrap_or(Tier::Free))
}

pub fn tier_of_row(account: &BillingAccountRow) -> Tier {
    Tier::parse(&account.tier).unwrap_or(Tier::Free)
}

pub async fn account_by_customer(
    conn: &mut AsyncPgConnection,
    customer_id: &str,
) -> AppResult<Option<BillingAccountRow>> {
    Ok(billing_accounts::table
        .filter(billing_accounts::stripe_customer_id.eq(customer_id))
        .select(BillingAccountRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Whether a tenant with this id exists (Stripe's metadata is ours, but may outlive a tenant).
pub async fn tenant_exists(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<bool> {
    Ok(
        diesel::select(diesel::dsl::exists(tenants::table.find(tenant_id)))
            .get_result(conn)
            .await?,
    )
}

/// A transaction-scoped lock serializing the creation of the tenant's Stripe customer.
pub async fn lock_customer_creation(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<()> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtextextended('stripe-customer:' || $1::text, 0))",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// One Checkout creation per tenant and purpose at a time, until the caller's transaction ends.
pub async fn lock_checkout(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    purpose: &str,
) -> AppResult<()> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtextextended('stripe-checkout:' || $1::text || ':' || $2, 0))",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<diesel::sql_types::Text, _>(purpose)
    .execute(conn)
    .await?;
    Ok(())
}

/// A Checkout session the tenant opened for a purpose (and has not paid, as far as we know).
#[derive(Queryable, Selectable)]
#[diesel(table_name = billing_checkouts, check_for_backend(diesel::pg::Pg))]
pub struct OpenCheckout {
    pub price_id: String,
    pub stripe_session_id: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

impl OpenCheckout {
    /// Whether it may be handed out again for `price_id`: the same price, and open long
    /// enough to pay (a few minutes).
    pub fn reusable_for(&self, price_id: &str) -> bool {
        self.price_id == price_id && self.expires_at > Utc::now() + chrono::Duration::minutes(10)
    }
}

/// The tenant's last Checkout session for `purpose`, however near its expiry.
pub async fn open_checkout(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    purpose: &str,
) -> AppResult<Option<OpenCheckout>> {
    Ok(billing_checkouts::table
        .find((tenant_id, purpose))
        .select(OpenCheckout::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Forgets the tenant's Checkout session for `purpose` (it was expired at Stripe).
pub async fn forget_checkout(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    purpose: &str,
) -> AppResult<()> {
    diesel::delete(billing_checkouts::table.find((tenant_id, purpose)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the tenant's open Checkout session for `purpose` (replacing an older one).
pub async fn record_checkout(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    purpose: &str,
    price_id: &str,
    session: &OpenedCheckout,
) -> AppResult<()> {
    let expires_at = chrono::DateTime::from_timestamp(session.expires_at, 0).ok_or_else(|| {
        AppError::Upstream("Stripe gave the checkout an expiry out of range".into())
    })?;
    let row = (
        billing_checkouts::tenant_id.eq(tenant_id),
        billing_checkouts::purpose.eq(purpose),
        billing_checkouts::price_id.eq(price_id),
        billing_checkouts::stripe_session_id.eq(&session.id),
        billing_checkouts::url.eq(&session.url),
        billing_checkouts::expires_at.eq(expires_at),
    );
    diesel::insert_into(billing_checkouts::table)
        .values(row)
        .on_conflict((billing_checkouts::tenant_id, billing_checkouts::purpose))
        .do_update()
        .set(row)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets a Checkout session that completed: it is not to be handed out again.
pub async fn close_checkout(
    conn: &mut AsyncPgConnection,
    stripe_session_id: &str,
) -> AppResult<()> {
    diesel::delete(
        billing_checkouts::table.filter(billing_checkouts::stripe_session_id.eq(stripe_session_id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_customer(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    customer_id: &str,
) -> AppResult<()> {
    account(conn, tenant_id).await?;
    diesel::update(billing_accounts::table.find(tenant_id))
        .set((
            billing_accounts::stripe_customer_id.eq(customer_id),
            billing_accounts::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A subscription as a Stripe event describes it.
#[derive(Clone, Debug)]
pub struct SubscriptionState {
    pub subscription_id: String,
    pub status: String,
    /// The tier it gives (FREE once it is over).
    pub tier: Tier,
    pub current_period_start: Option<DateTime<Utc>>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    /// When Stripe created the event (whole seconds).
    pub event_at: DateTime<Utc>,
    /// Orders events of the same second: created 0, updated 1, deleted 2.
    pub event_rank: i16,
}

/// Subscription statuses under which a subscription gives its tier.
pub const RUNNING: [&str; 3] = ["active", "trialing", "past_due"];

/// Applies a subscription state unless a newer one was applied already (events may arrive
/// out of order; within one second, created < updated < deleted), or it is about another
/// subscription that is not running while the current one is (an old subscription's end must
/// not end the new one); whether it was applied.
pub async fn apply_subscription(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    state: &SubscriptionState,
) -> AppResult<bool> {
    let account = lock_account(conn, tenant_id).await?;
    if account.subscription_event_at.is_some_and(|applied| {
        (applied, account.subscription_event_rank) > (state.event_at, state.event_rank)
    }) {
        return Ok(false);
    }
    let current_runs = account
        .subscription_status
        .as_deref()
        .is_some_and(|status| RUNNING.contains(&status));
    let another = account
        .stripe_subscription_id
        .as_deref()
        .is_some_and(|current| current != state.subscription_id);
    if another && current_runs && !RUNNING.contains(&state.status.as_str()) {
        return Ok(false);
    }
    diesel::update(billing_accounts::table.find(tenant_id))
        .set((
            billing_accounts::tier.eq(state.tier.as_str()),
            billing_accounts::stripe_subscription_id.eq(&state.subscription_id),
            billing_accounts::subscription_status.eq(&state.status),
            billing_accounts::current_period_start.eq(state.current_period_start),
            billing_accounts::current_period_end.eq(state.current_period_end),
            billing_accounts::cancel_at_period_end.eq(state.cancel_at_period_end),
            billing_accounts::subscription_event_at.eq(state.event_at),
            billing_accounts::subscription_event_rank.eq(state.event_rank),
            billing_accounts::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(true)
}

/// Activates the tier a completed checkout paid for, unless the subscription's own events were
/// applied already (they know its status and period). Ranked below every subscription event of
/// the same second. Whether it was applied.
pub async fn activate_from_checkout(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    subscription_id: &str,
    tier: Tier,
    event_at: DateTime<Utc>,
) -> AppResult<bool> {
    let account = lock_account(conn, tenant_id).await?;
    if account.stripe_subscription_id.as_deref() == Some(subscription_id)
        && account.subscription_event_at.is_some()
    {
        return Ok(false);
    }
    let state = SubscriptionState {
        subscription_id: subscription_id.to_owned(),
        status: "active".to_owned(),
        tier,
        current_period_start: None,
        current_period_end: None,
        cancel_at_period_end: false,
        event_at,
        event_rank: -1,
    };
    apply_subscription(conn, tenant_id, &state).await
}

const FINAL_INVOICE: [&str; 2] = ["paid", "void"];

pub async fn upsert_invoice(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    invoice: &Invoice,
) -> AppResult<()> {
    // An invoice id names one tenant's invoice; another tenant's event cannot take it over.
    // A paid or voided invoice is final: a late failure event does not reopen it. Stripe's
    // ids are global, so this one lookup goes by the id alone (on Citus: every shard, on the
    // rare webhook path), to catch an event that names another tenant's invoice.
    let stored: Option<(Uuid, String)> = billing_invoices::table
        .filter(billing_invoices::id.eq(&invoice.id))
        .select((billing_invoices::tenant_id, billing_invoices::status))
        .first(conn)
        .await
        .optional()?;
    if let Some((owner, status)) = stored {
        if owner != tenant_id {
            tracing::warn!(invoice = %invoice.id, "an invoice event names another tenant; ignored");
            return Ok(());
        }
        if FINAL_INVOICE.contains(&status.as_str())
            && !FINAL_INVOICE.contains(&invoice.status.as_str())
        {
            return Ok(());
        }
    }
    let values = (
        billing_invoices::status.eq(&invoice.status),
        billing_invoices::currency.eq(&invoice.currency),
        billing_invoices::amount_due.eq(invoice.amount_due),
        billing_invoices::amount_paid.eq(invoice.amount_paid),
        billing_invoices::hosted_invoice_url.eq(&invoice.hosted_invoice_url),
        billing_invoices::period_start.eq(invoice.period_start),
        billing_invoices::period_end.eq(invoice.period_end),
    );
    diesel::insert_into(billing_invoices::table)
        .values((
            billing_invoices::id.eq(&invoice.id),
            billing_invoices::tenant_id.eq(tenant_id),
            billing_invoices::created_at.eq(invoice.created_at),
            values,
        ))
        .on_conflict((billing_invoices::tenant_id, billing_invoices::id))
        .do_update()
        .set((values, billing_invoices::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Where an invoice sits in the list: when Stripe created it, and its id.
pub type InvoiceKey = (DateTime<Utc>, String);

fn tenant_invoices<'a>(tenant_id: Uuid) -> billing_invoices::BoxedQuery<'a, diesel::pg::Pg> {
    billing_invoices::table
        .filter(billing_invoices::tenant_id.eq(tenant_id))
        .into_boxed()
}

/// The tenant's invoices, newest first: an offset page with their total, or a page by cursor.
pub async fn invoices(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    window: &Window<InvoiceKey>,
) -> AppResult<(Option<i64>, Vec<Invoice>)> {
    let rows = windowed!(
        tenant_invoices(tenant_id),
        window.clone(),
        desc(billing_invoices::created_at, billing_invoices::id)
    )
    .select(Invoice::as_select());
    load_window(conn, window, rows, tenant_invoices(tenant_id).count()).await
}

/// Records that a Stripe event was applied; false when it had been already.
pub async fn record_stripe_event(
    conn: &mut AsyncPgConnection,
    id: &str,
    event_type: &str,
    tenant_id: Option<Uuid>,
) -> AppResult<bool> {
    let inserted = diesel::insert_into(stripe_events::table)
        .values((
            stripe_events::id.eq(id),
            stripe_events::event_type.eq(event_type),
            stripe_events::tenant_id.eq(tenant_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted > 0)
}

/// Forgets Stripe event ids received more than `age_secs` ago (Stripe redelivers for three
/// days), `limit` at most; how many.
pub async fn prune_stripe_events(
    conn: &mut AsyncPgConnection,
    age_secs: f64,
    limit: i64,
) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM stripe_events WHERE id IN (SELECT id FROM stripe_events \
         WHERE received_at < now() - make_interval(secs => $1) ORDER BY received_at LIMIT $2)",
    )
    .bind::<diesel::sql_types::Double, _>(age_secs)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await?)
}

/// Notes why a recorded event was acknowledged without being applied.
pub async fn record_rejection(
    conn: &mut AsyncPgConnection,
    id: &str,
    reason: &str,
) -> AppResult<()> {
    diesel::update(stripe_events::table.find(id))
        .set(stripe_events::rejection.eq(reason))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_team_quota(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    quota: Option<i64>,
) -> AppResult<BillingAccountRow> {
    account(conn, tenant_id).await?;
    diesel::update(billing_accounts::table.find(tenant_id))
        .set((
            billing_accounts::team_quota.eq(quota),
            billing_accounts::updated_at.eq(diesel::dsl::now),
        ))
        .returning(BillingAccountRow::as_returning())
        .get_result(conn)
        .await
        .map_err(AppError::from)
}
