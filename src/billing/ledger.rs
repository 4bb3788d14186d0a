//! The BrainBits ledger: append-only credits and debits whose running sum is the balance.
//! Every entry is written under the tenant's account lock (`store::lock_account`), which makes
//! "is there enough?" and "take it" one step however many requests race, so the balance can
//! never go negative (the table's CHECK on `balance_after` would refuse it anyway).

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::group_quotas::{self, GroupQuota};
use super::model::{BillingAccountRow, LedgerRow};
use super::store::{RUNNING, lock_account, tier_of_row};
use super::tiers::Tier;
use crate::db::schema::{brainbits_ledger, brainbits_user_quotas};
use crate::error::{AppError, AppResult};

/// The billing period an account is in: its Stripe subscription's current period while the
/// subscription runs (until the renewal's event moves it on, even if its end has passed, so a
/// late webhook cannot make a calendar-month allowance appear in between), otherwise the
/// calendar month (UTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Names the period in the ledger (one allowance per key).
    pub key: String,
}

impl Period {
    fn is_subscription(&self) -> bool {
        self.key.starts_with("subscription:")
    }
}

pub fn period_of(account: &BillingAccountRow, now: DateTime<Utc>) -> Period {
    if let (Some(start), Some(end), Some(status)) = (
        account.current_period_start,
        account.current_period_end,
        account.subscription_status.as_deref(),
    ) && RUNNING.contains(&status)
    {
        return Period {
            start,
            end,
            key: format!("subscription:{}", start.timestamp()),
        };
    }
    let start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let end = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(now + Duration::days(31));
    Period {
        start,
        end,
        key: format!("month:{:04}-{:02}", now.year(), now.month()),
    }
}

/// The balance: the running sum after the latest entry.
pub async fn balance(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<i64> {
    Ok(brainbits_ledger::table
        .filter(brainbits_ledger::tenant_id.eq(tenant_id))
        .order(brainbits_ledger::id.desc())
        .select(brainbits_ledger::balance_after)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(0))
}

/// An entry to append.
struct Entry<'a> {
    tenant_id: Uuid,
    amount: i64,
    kind: &'a str,
    reason: &'a str,
    user_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    operation: Option<&'a str>,
    provider: Option<&'a str>,
    period_key: Option<&'a str>,
    stripe_ref: Option<&'a str>,
}

/// The most BrainBits a balance may hold: far beyond any purchase, and far enough below
/// `i64::MAX` that no sum the ledger's queries take can overflow.
pub const MAX_BALANCE: i64 = 1_000_000_000_000_000;

/// Appends an entry; the caller holds the account lock. An entry that would take the balance
/// below zero or past [`MAX_BALANCE`] is refused (callers check first; this is the last guard).
async fn append(conn: &mut AsyncPgConnection, entry: Entry<'_>) -> AppResult<LedgerRow> {
    let balance_after = balance(conn, entry.tenant_id)
        .await?
        .checked_add(entry.amount)
        .filter(|after| (0..=MAX_BALANCE).contains(after))
        .ok_or_else(|| AppError::conflict("the BrainBits balance cannot hold this entry"))?;
    Ok(diesel::insert_into(brainbits_ledger::table)
        .values((
            brainbits_ledger::tenant_id.eq(entry.tenant_id),
            brainbits_ledger::amount.eq(entry.amount),
            brainbits_ledger::kind.eq(entry.kind),
            brainbits_ledger::reason.eq(entry.reason),
            brainbits_ledger::user_id.eq(entry.user_id),
            brainbits_ledger::actor_id.eq(entry.actor_id),
            brainbits_ledger::operation.eq(entry.operation),
            brainbits_ledger::provider.eq(entry.provider),
            brainbits_ledger::period_key.eq(entry.period_key),
            brainbits_ledger::stripe_ref.eq(entry.stripe_ref),
            brainbits_ledger::balance_after.eq(balance_after),
        ))
        .returning(LedgerRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Credits the tier's allowance for the current period unless it was credited already; an
/// upgrade within a period credits the difference to the larger allowance (a downgrade takes
/// nothing back). The caller holds the account lock.
async fn ensure_allowance(
    conn: &mut AsyncPgConnection,
    account: &BillingAccountRow,
    period: &Period,
) -> AppResult<()> {
    let tier = tier_of_row(account);
    // A paid tier's allowance belongs to its subscription's period: until Stripe has told it
    // (a checkout completed before the subscription's first event), nothing is credited.
    if tier != Tier::Free && !period.is_subscription() {
        return Ok(());
    }
    let key = format!("{}:{}", period.key, tier.as_str());
    let credited: Vec<(String, i64)> = brainbits_ledger::table
        .filter(brainbits_ledger::tenant_id.eq(account.tenant_id))
        .filter(brainbits_ledger::kind.eq("allowance"))
        .filter(brainbits_ledger::period_key.like(format!("{}:%", period.key)))
        .select((
            brainbits_ledger::period_key.assume_not_null(),
            brainbits_ledger::amount,
        ))
        .load(conn)
        .await?;
    if credited.iter().any(|(k, _)| *k == key) {
        return Ok(());
    }
    let already: i64 = credited.iter().map(|(_, amount)| amount).sum();
    // An allowance tops a balance up to MAX_BALANCE at most (only a balance bought up to
    // there could need it).
    let room = MAX_BALANCE - balance(conn, account.tenant_id).await?;
    let owed = (tier.monthly_brainbits() - already).min(room);
    if owed <= 0 {
        return Ok(());
    }
    let reason = format!("{} allowance", tier.display_name());
    append(
        conn,
        Entry {
            tenant_id: account.tenant_id,
            amount: owed,
            kind: "allowance",
            reason: &reason,
            user_id: None,
            actor_id: None,
            operation: None,
            provider: None,
            period_key: Some(&key),
            stripe_ref: None,
        },
    )
    .await?;
    Ok(())
}

/// The account as it stands now: allowance for the current period credited, its balance and
/// period. One short transaction under the account lock.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<(BillingAccountRow, i64, Period)> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let account = lock_account(conn, tenant_id).await?;
        let period = period_of(&account, Utc::now());
        ensure_allowance(conn, &account, &period).await?;
        let balance = balance(conn, tenant_id).await?;
        Ok((account, balance, period))
    })
    .await
}

/// What became of a purchase's credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credit {
    Applied,
    /// Credited before (the same Stripe reference).
    AlreadyApplied,
    /// It would take the balance past [`MAX_BALANCE`]: nothing credited.
    OverLimit,
}

/// Credits purchased BrainBits once per Stripe object (`stripe_ref`), unless the balance could
/// not hold them. Runs in the caller's transaction.
pub async fn credit_purchase(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    brainbits: i64,
    stripe_ref: &str,
    actor_id: Option<Uuid>,
    reason: &str,
) -> AppResult<Credit> {
    if brainbits <= 0 {
        return Err(AppError::bad_input(
            "a purchase credits at least one BrainBit",
        ));
    }
    let account = lock_account(conn, tenant_id).await?;
    let credited: bool = diesel::select(diesel::dsl::exists(
        brainbits_ledger::table
            .filter(brainbits_ledger::tenant_id.eq(tenant_id))
            .filter(brainbits_ledger::stripe_ref.eq(stripe_ref)),
    ))
    .get_result(conn)
    .await?;
    if credited {
        return Ok(Credit::AlreadyApplied);
    }
    // The period's allowance goes first, so it is never mistaken for part of the purchase.
    ensure_allowance(conn, &account, &period_of(&account, Utc::now())).await?;
    let fits = balance(conn, tenant_id)
        .await?
        .checked_add(brainbits)
        .is_some_and(|after| after <= MAX_BALANCE);
    if !fits {
        return Ok(Credit::OverLimit);
    }
    append(
        conn,
        Entry {
            tenant_id,
            amount: brainbits,
            kind: "purchase",
            reason,
            user_id: None,
            actor_id,
            operation: None,
            provider: None,
            period_key: None,
            stripe_ref: Some(stripe_ref),
        },
    )
    .await?;
    Ok(Credit::Applied)
}

/// A debit asked for.
pub struct Debit<'a> {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub operation: &'a str,
    pub provider: &'a str,
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// BrainBits consumed in the tenant since `since`, by one user or by everyone.
pub async fn consumed_since(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Option<Uuid>,
    since: DateTime<Utc>,
) -> AppResult<i64> {
    let row: Total = diesel::sql_query(
        "SELECT COALESCE(-sum(amount), 0)::bigint AS total FROM brainbits_ledger
         WHERE tenant_id = $1 AND kind = 'consumption' AND created_at >= $2
           AND ($3::uuid IS NULL OR user_id = $3)",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<Timestamptz, _>(since)
    .bind::<Nullable<SqlUuid>, _>(user_id)
    .get_result(conn)
    .await?;
    Ok(row.total)
}

pub async fn user_quota(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<i64>> {
    Ok(brainbits_user_quotas::table
        .find((tenant_id, user_id))
        .select(brainbits_user_quotas::period_limit)
        .first(conn)
        .await
        .optional()?)
}

pub async fn set_user_quota(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    quota: Option<i64>,
) -> AppResult<()> {
    match quota {
        Some(limit) => {
            diesel::insert_into(brainbits_user_quotas::table)
                .values((
                    brainbits_user_quotas::tenant_id.eq(tenant_id),
                    brainbits_user_quotas::user_id.eq(user_id),
                    brainbits_user_quotas::period_limit.eq(limit),
                ))
                .on_conflict((
                    brainbits_user_quotas::tenant_id,
                    brainbits_user_quotas::user_id,
                ))
                .do_update()
                .set((
                    brainbits_user_quotas::period_limit.eq(limit),
                    brainbits_user_quotas::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
        }
        None => {
            diesel::delete(brainbits_user_quotas::table.find((tenant_id, user_id)))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// One bound on what a member may consume now: what is left under it, and the refusal when
/// that is too little.
struct Bound {
    left: i64,
    reason: &'static str,
    message: String,
}

/// The bounds on what a member may consume now, in the order refusals name them: their
/// quota, their teams' and groups' quotas, the whole tenant's ("team") quota, the balance.
async fn bounds(
    conn: &mut AsyncPgConnection,
    account: &BillingAccountRow,
    user_id: Uuid,
    period: &Period,
    groups: &[GroupQuota],
) -> AppResult<Vec<Bound>> {
    let tenant_id = account.tenant_id;
    let mut bounds = Vec::with_capacity(3 + groups.len());
    if let Some(limit) = user_quota(conn, tenant_id, user_id).await? {
        let used = consumed_since(conn, tenant_id, Some(user_id), period.start).await?;
        bounds.push(Bound {
            left: limit - used,
            reason: "quota_exceeded",
            message: format!("your quota allows {limit} BrainBits this period and {used} are used"),
        });
    }
    for group in groups {
        if let Some(limit) = group.quota {
            bounds.push(Bound {
                left: limit - group.used,
                reason: "quota_exceeded",
                message: format!(
                    "{}'s quota allows {limit} BrainBits this period and {} are used",
                    group.label(),
                    group.used
                ),
            });
        }
    }
    if let Some(limit) = account.team_quota {
        let used = consumed_since(conn, tenant_id, None, period.start).await?;
        bounds.push(Bound {
            left: limit - used,
            reason: "quota_exceeded",
            message: format!(
                "the team's quota allows {limit} BrainBits this period and {used} are used"
            ),
        });
    }
    let available = balance(conn, tenant_id).await?;
    bounds.push(Bound {
        left: available,
        reason: "insufficient_brainbits",
        message: format!("{available} BrainBits are left"),
    });
    Ok(bounds)
}

/// The first bound that leaves less than `needed`, as its refusal.
fn refusal(bounds: &[Bound], needed: i64) -> Option<AppError> {
    bounds
        .iter()
        .find(|bound| bound.left < needed)
        .map(|bound| refused(bound.reason, bound.message.clone()))
}

/// How much of a debit to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// All of it, or nothing (refused).
    All,
    /// As much of it as the quotas and the balance allow (work already done is paid for as far
    /// as it can be); refused only when nothing at all is left.
    UpTo,
}

/// Takes BrainBits under the account lock: the period's allowance is credited first, then the
/// member's quota, the team's quota and the balance are checked, each refusal naming its
/// reason (FORBIDDEN with `reason` quota_exceeded or insufficient_brainbits).
pub async fn debit(
    conn: &mut AsyncPgConnection,
    debit: &Debit<'_>,
    take: Take,
) -> AppResult<LedgerRow> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let account = lock_account(conn, debit.tenant_id).await?;
        let period = period_of(&account, Utc::now());
        ensure_allowance(conn, &account, &period).await?;
        let groups = group_quotas::of_member(conn, debit.tenant_id, debit.user_id, &period).await?;
        let bounds = bounds(conn, &account, debit.user_id, &period, &groups).await?;
        let needed = match take {
            Take::All => debit.amount,
            Take::UpTo => 1,
        };
        if let Some(refusal) = refusal(&bounds, needed) {
            return Err(refusal);
        }
        let left = bounds.iter().map(|bound| bound.left).min().unwrap_or(0);
        let amount = debit.amount.min(left);
        group_quotas::count(conn, debit.tenant_id, &groups, &period, amount).await?;
        append(
            conn,
            Entry {
                tenant_id: debit.tenant_id,
                amount: -amount,
                kind: "consumption",
                reason: debit.operation,
                user_id: Some(debit.user_id),
                actor_id: Some(debit.user_id),
                operation: Some(debit.operation),
                provider: Some(debit.provider),
                period_key: Some(&period.key),
                stripe_ref: None,
            },
        )
        .await
    })
    .await
}

/// Refuses (as [`debit`] would) unless the member may consume at least one BrainBit now:
/// checked before work whose cost is known only once it is done.
pub async fn ensure_room(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let account = lock_account(conn, tenant_id).await?;
        let period = period_of(&account, Utc::now());
        ensure_allowance(conn, &account, &period).await?;
        let groups = group_quotas::of_member(conn, tenant_id, user_id, &period).await?;
        let bounds = bounds(conn, &account, user_id, &period, &groups).await?;
        refusal(&bounds, 1).map_or(Ok(()), Err)
    })
    .await
}

fn refused(reason: &'static str, message: String) -> AppError {
    AppError::Forbidden {
        message,
        reason: Some(reason),
    }
}
