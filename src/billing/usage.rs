//! What the ledger says about consumption, read back: usage history by day or member, purchases,
//! and each member's use of the period against their quota.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::LedgerRow;
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::pagination::{PageRequest, load_page};
use crate::db::schema::brainbits_ledger;
use crate::error::AppResult;

/// How usage history is grouped.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UsageGrouping {
    /// By day (UTC), oldest first.
    Day,
    /// By user, largest first.
    User,
    /// By operation, largest first.
    Operation,
}

#[derive(QueryableByName)]
struct UsageRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = BigInt)]
    operations: i64,
}

/// Consumption since `since` grouped by day (YYYY-MM-DD, UTC), user id or operation: (key,
/// BrainBits, operations). Days come oldest first; users and operations largest first.
pub async fn usage_history(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    since: DateTime<Utc>,
    grouping: UsageGrouping,
) -> AppResult<Vec<(String, i64, i64)>> {
    let grouping_name = match grouping {
        UsageGrouping::Day => "day",
        UsageGrouping::User => "user",
        UsageGrouping::Operation => "operation",
    };
    let rows: Vec<UsageRow> = diesel::sql_query(
        "SELECT CASE $3
                  WHEN 'day' THEN to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                  WHEN 'user' THEN COALESCE(user_id::text, '')
                  ELSE COALESCE(operation, '')
                END AS key,
                (-sum(amount))::bigint AS amount, count(*) AS operations
         FROM brainbits_ledger
         WHERE tenant_id = $1 AND kind = 'consumption' AND created_at >= $2
         GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 500",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<Timestamptz, _>(since)
    .bind::<Text, _>(grouping_name)
    .load(conn)
    .await?;
    let mut rows: Vec<(String, i64, i64)> = rows
        .into_iter()
        .map(|row| (row.key, row.amount, row.operations))
        .collect();
    if grouping == UsageGrouping::Day {
        rows.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(rows)
}

fn tenant_purchases<'a>(tenant_id: Uuid) -> brainbits_ledger::BoxedQuery<'a, Pg> {
    brainbits_ledger::table
        .filter(brainbits_ledger::tenant_id.eq(tenant_id))
        .filter(brainbits_ledger::kind.eq("purchase"))
        .into_boxed()
}

/// Where a purchase sits in the list: when it was credited, and its entry's id.
pub type PurchaseKey = (DateTime<Utc>, i64);

/// The tenant's purchases, newest first: an offset page with their total, or a page by cursor.
pub async fn purchases(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    window: &Window<PurchaseKey>,
) -> AppResult<(Option<i64>, Vec<LedgerRow>)> {
    let rows = windowed!(
        tenant_purchases(tenant_id),
        window.clone(),
        desc(brainbits_ledger::created_at, brainbits_ledger::id)
    )
    .select(LedgerRow::as_select());
    load_window(conn, window, rows, tenant_purchases(tenant_id).count()).await
}

/// A page of the members (oldest first) with their consumption since `since` and their quotas:
/// (user, used, quota); and how many members there are.
pub async fn members_usage(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    since: DateTime<Utc>,
    page: PageRequest,
) -> AppResult<(i64, Vec<(Uuid, i64, Option<i64>)>)> {
    #[derive(QueryableByName)]
    struct MemberUsage {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
        #[diesel(sql_type = BigInt)]
        used: i64,
        #[diesel(sql_type = Nullable<BigInt>)]
        quota: Option<i64>,
    }
    let rows = diesel::sql_query(
        "SELECT m.user_id,
                COALESCE((SELECT -sum(l.amount) FROM brainbits_ledger l
                          WHERE l.tenant_id = m.tenant_id AND l.user_id = m.user_id
                            AND l.kind = 'consumption' AND l.created_at >= $2), 0)::bigint AS used,
                q.period_limit AS quota
         FROM memberships m
         LEFT JOIN brainbits_user_quotas q ON q.tenant_id = m.tenant_id AND q.user_id = m.user_id
         WHERE m.tenant_id = $1
         ORDER BY m.created_at, m.user_id
         LIMIT $3 OFFSET $4",
    )
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(page.limit)
    .bind::<BigInt, _>(page.offset);
    let members = crate::db::schema::memberships::table
        .filter(crate::db::schema::memberships::tenant_id.eq(tenant_id))
        .count();
    let (total, rows): (i64, Vec<MemberUsage>) = load_page(conn, rows, members).await?;
    Ok((
        total,
        rows.into_iter()
            .map(|row| (row.user_id, row.used, row.quota))
            .collect(),
    ))
}
