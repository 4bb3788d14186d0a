//! SQL of the beta program.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{CodeRow, EnrollmentRow, FeedbackRow, WaitlistRow};
use crate::db::pagination::{PageDsl, PageRequest, load_page};
use crate::db::schema::{beta_codes, beta_enrollments, beta_feedback, beta_waitlist};
use crate::error::AppResult;

pub struct NewCode<'a> {
    pub code_hash: &'a [u8],
    pub code_hint: &'a str,
    pub label: &'a str,
    pub tier: &'a str,
    pub beta_days: i32,
    pub max_uses: i32,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
}

pub async fn insert_code(conn: &mut AsyncPgConnection, new: NewCode<'_>) -> AppResult<CodeRow> {
    Ok(diesel::insert_into(beta_codes::table)
        .values((
            beta_codes::id.eq(Uuid::now_v7()),
            beta_codes::code_hash.eq(new.code_hash),
            beta_codes::code_hint.eq(new.code_hint),
            beta_codes::label.eq(new.label),
            beta_codes::tier.eq(new.tier),
            beta_codes::beta_days.eq(new.beta_days),
            beta_codes::max_uses.eq(new.max_uses),
            beta_codes::expires_at.eq(new.expires_at),
            beta_codes::created_by.eq(new.created_by),
        ))
        .returning(CodeRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn code_by_hash(conn: &mut AsyncPgConnection, hash: &[u8]) -> AppResult<Option<CodeRow>> {
    Ok(beta_codes::table
        .filter(beta_codes::code_hash.eq(hash))
        .select(CodeRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn code(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<CodeRow>> {
    Ok(beta_codes::table
        .find(id)
        .select(CodeRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Takes one use of an open code; None when it is no longer open (used up meanwhile).
pub async fn use_code(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<CodeRow>> {
    Ok(diesel::update(
        beta_codes::table
            .find(id)
            .filter(beta_codes::uses.lt(beta_codes::max_uses))
            .filter(beta_codes::revoked_at.is_null())
            .filter(
                beta_codes::expires_at
                    .is_null()
                    .or(beta_codes::expires_at.gt(diesel::dsl::now)),
            ),
    )
    .set(beta_codes::uses.eq(beta_codes::uses + 1))
    .returning(CodeRow::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

pub async fn revoke_code(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<CodeRow>> {
    Ok(diesel::update(beta_codes::table.find(id))
        .set(beta_codes::revoked_at.eq(diesel::dsl::now))
        .returning(CodeRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

pub async fn list_codes(
    conn: &mut AsyncPgConnection,
    page: PageRequest,
) -> AppResult<(i64, Vec<CodeRow>)> {
    let rows = beta_codes::table
        .order((beta_codes::created_at.desc(), beta_codes::id.desc()))
        .select(CodeRow::as_select())
        .page(page);
    load_page(conn, rows, beta_codes::table.count()).await
}

pub async fn enrollment(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<Option<EnrollmentRow>> {
    Ok(beta_enrollments::table
        .find(tenant_id)
        .select(EnrollmentRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Enrolls a tenant (again, once an earlier beta ended); None while it is in one (the caller's
/// transaction then rolls back).
pub async fn enroll(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    code: &CodeRow,
    redeemed_by: Uuid,
) -> AppResult<Option<EnrollmentRow>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        tenant_id: Uuid,
    }
    let enrolled: Option<Id> = diesel::sql_query(
        "INSERT INTO beta_enrollments AS e (tenant_id, code_id, redeemed_by, tier, ends_at) \
         VALUES ($1, $2, $3, $4, now() + make_interval(days => $5)) \
         ON CONFLICT (tenant_id) DO UPDATE SET code_id = EXCLUDED.code_id, \
           redeemed_by = EXCLUDED.redeemed_by, tier = EXCLUDED.tier, started_at = now(), \
           ends_at = EXCLUDED.ends_at \
         WHERE e.ends_at <= now() \
         RETURNING tenant_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<diesel::sql_types::Uuid, _>(code.id)
    .bind::<diesel::sql_types::Uuid, _>(redeemed_by)
    .bind::<diesel::sql_types::Text, _>(&code.tier)
    .bind::<diesel::sql_types::Integer, _>(code.beta_days)
    .get_result(conn)
    .await
    .optional()?;
    match enrolled {
        Some(id) => enrollment(conn, id.tenant_id).await,
        None => Ok(None),
    }
}

/// Moves an enrollment's end `days` later (from now, when it already ended).
pub async fn extend(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    days: i32,
) -> AppResult<Option<EnrollmentRow>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        tenant_id: Uuid,
    }
    let extended: Option<Id> = diesel::sql_query(
        "UPDATE beta_enrollments SET ends_at = GREATEST(ends_at, now()) + make_interval(days => $2) \
         WHERE tenant_id = $1 RETURNING tenant_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(tenant_id)
    .bind::<diesel::sql_types::Integer, _>(days)
    .get_result(conn)
    .await
    .optional()?;
    match extended {
        Some(id) => enrollment(conn, id.tenant_id).await,
        None => Ok(None),
    }
}

pub struct NewFeedback<'a> {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub kind: &'a str,
    pub message: &'a str,
    pub page: &'a str,
}

pub async fn insert_feedback(
    conn: &mut AsyncPgConnection,
    new: NewFeedback<'_>,
) -> AppResult<FeedbackRow> {
    Ok(diesel::insert_into(beta_feedback::table)
        .values((
            beta_feedback::id.eq(Uuid::now_v7()),
            beta_feedback::user_id.eq(new.user_id),
            beta_feedback::tenant_id.eq(new.tenant_id),
            beta_feedback::kind.eq(new.kind),
            beta_feedback::message.eq(new.message),
            beta_feedback::page.eq(new.page),
        ))
        .returning(FeedbackRow::as_returning())
        .get_result(conn)
        .await?)
}

/// A page of feedback, newest first: everyone's, or one user's; of one status when asked.
pub async fn list_feedback(
    conn: &mut AsyncPgConnection,
    user_id: Option<Uuid>,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<(i64, Vec<FeedbackRow>)> {
    let scoped = || {
        let mut query = beta_feedback::table.into_boxed();
        if let Some(user_id) = user_id {
            query = query.filter(beta_feedback::user_id.eq(user_id));
        }
        if let Some(status) = status {
            query = query.filter(beta_feedback::status.eq(status.to_owned()));
        }
        query
    };
    let rows = scoped()
        .order((beta_feedback::created_at.desc(), beta_feedback::id.desc()))
        .select(FeedbackRow::as_select())
        .page(page);
    load_page(conn, rows, scoped().count()).await
}

pub async fn update_feedback(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: Option<&str>,
    note: Option<&str>,
) -> AppResult<Option<FeedbackRow>> {
    #[derive(AsChangeset)]
    #[diesel(table_name = beta_feedback)]
    struct Changes<'a> {
        status: Option<&'a str>,
        admin_note: Option<&'a str>,
        updated_at: DateTime<Utc>,
    }
    Ok(diesel::update(beta_feedback::table.find(id))
        .set(Changes {
            status,
            admin_note: note,
            updated_at: Utc::now(),
        })
        .returning(FeedbackRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// Adds an address to the waitlist; false when it is on it already.
pub async fn join_waitlist(
    conn: &mut AsyncPgConnection,
    email: &str,
    name: &str,
    note: &str,
) -> AppResult<bool> {
    let added = diesel::insert_into(beta_waitlist::table)
        .values((
            beta_waitlist::id.eq(Uuid::now_v7()),
            beta_waitlist::email.eq(email),
            beta_waitlist::name.eq(name),
            beta_waitlist::note.eq(note),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(added > 0)
}

pub async fn list_waitlist(
    conn: &mut AsyncPgConnection,
    promoted: Option<bool>,
    page: PageRequest,
) -> AppResult<(i64, Vec<WaitlistRow>)> {
    let scoped = || {
        let query = beta_waitlist::table.into_boxed();
        match promoted {
            Some(true) => query.filter(beta_waitlist::promoted_at.is_not_null()),
            Some(false) => query.filter(beta_waitlist::promoted_at.is_null()),
            None => query,
        }
    };
    let rows = scoped()
        .order((beta_waitlist::created_at.asc(), beta_waitlist::id.asc()))
        .select(WaitlistRow::as_select())
        .page(page);
    load_page(conn, rows, scoped().count()).await
}

/// Marks an entry promoted with its code; None when it is missing or already promoted.
pub async fn promote(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    code_id: Uuid,
) -> AppResult<Option<WaitlistRow>> {
    Ok(diesel::update(
        beta_waitlist::table
            .find(id)
            .filter(beta_waitlist::promoted_at.is_null()),
    )
    .set((
        beta_waitlist::promoted_at.eq(diesel::dsl::now),
        beta_waitlist::code_id.eq(code_id),
    ))
    .returning(WaitlistRow::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

/// The program in numbers.
#[derive(QueryableByName, Clone, Debug)]
pub struct Counts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub codes: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub open_codes: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub redemptions: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub enrolled_tenants: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub active_enrollments: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub waitlist: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub waitlist_promoted: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub feedback: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub feedback_new: i64,
}

pub async fn counts(conn: &mut AsyncPgConnection) -> AppResult<Counts> {
    Ok(diesel::sql_query(
        "SELECT \
           (SELECT count(*) FROM beta_codes) AS codes, \
           (SELECT count(*) FROM beta_codes WHERE revoked_at IS NULL AND uses < max_uses \
              AND (expires_at IS NULL OR expires_at > now())) AS open_codes, \
           (SELECT COALESCE(sum(uses), 0)::bigint FROM beta_codes) AS redemptions, \
           (SELECT count(*) FROM beta_enrollments) AS enrolled_tenants, \
           (SELECT count(*) FROM beta_enrollments WHERE ends_at > now()) AS active_enrollments, \
           (SELECT count(*) FROM beta_waitlist) AS waitlist, \
           (SELECT count(*) FROM beta_waitlist WHERE promoted_at IS NOT NULL) AS waitlist_promoted, \
           (SELECT count(*) FROM beta_feedback) AS feedback, \
           (SELECT count(*) FROM beta_feedback WHERE status = 'new') AS feedback_new",
    )
    .get_result(conn)
    .await?)
}
