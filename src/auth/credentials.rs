//! The SQL behind a credential: the live session or API key it names, its account and its
//! membership, read (and its last use recorded) in one statement; when a member joined; and revoking a
//! member's keys when they leave a tenant.

use diesel::OptionalExtension;
use diesel::QueryableByName;
use diesel::sql_types::{Bool, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::viewer::{Principal, Tenantless};
use super::{Role, Viewer};
use crate::error::AppResult;

#[derive(QueryableByName)]
struct PrincipalRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    tenant_id: Option<Uuid>,
    #[diesel(sql_type = Bool)]
    is_superuser: bool,
    #[diesel(sql_type = Nullable<Text>)]
    role: Option<String>,
    /// When the session or API key itself expires.
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamptz>)]
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl PrincipalRow {
    /// A superuser acts as SUPERUSER anywhere; anyone else needs a membership in the tenant.
    fn into_viewer(self, session_id: Option<Uuid>, api_key_id: Option<Uuid>) -> Option<Viewer> {
        let role = if self.is_superuser {
            Role::Superuser
        } else {
            Role::from_db(self.role.as_deref()?)
        };
        Some(Viewer {
            user_id: self.user_id,
            tenant_id: self.tenant_id?,
            role,
            session_id,
            api_key_id,
            expires_at: self.expires_at,
        })
    }
}

/// Who a live session authenticates, touching its last activity in the same statement.
/// `None` when the session is revoked or expired, the account inactive, or the membership in
/// the session's tenant gone; a session in no tenant is `Tenantless`.
pub async fn session_principal(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
) -> AppResult<Option<Principal>> {
    let row: Option<PrincipalRow> = diesel::sql_query(
        "UPDATE sessions s SET last_activity = now() \
         FROM users u \
         WHERE s.id = $1 AND u.id = s.user_id AND u.is_active \
           AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now()) \
         RETURNING s.user_id, s.tenant_id, u.is_superuser, s.expires_at, \
           (SELECT m.role FROM memberships m WHERE m.tenant_id = s.tenant_id AND m.user_id = s.user_id) AS role",
    )
    .bind::<SqlUuid, _>(session_id)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.and_then(|r| match r.tenant_id {
        None => Some(Principal::Tenantless(Tenantless {
            user_id: r.user_id,
            session_id,
            expires_at: r.expires_at,
        })),
        Some(_) => r.into_viewer(Some(session_id), None).map(Principal::Member),
    }))
}

/// The viewer behind a live API key, recording its last use in the same statement.
pub async fn api_key_viewer(
    conn: &mut AsyncPgConnection,
    key_hash: &[u8],
) -> AppResult<Option<Viewer>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(embed)]
        principal: PrincipalRow,
    }
    let row: Option<Row> = diesel::sql_query(
        "UPDATE api_keys k SET last_used_at = now() \
         FROM users u \
         WHERE k.key_hash = $1 AND u.id = k.user_id AND u.is_active \
           AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()) \
         RETURNING k.id, k.user_id, k.tenant_id, u.is_superuser, k.expires_at, \
           (SELECT m.role FROM memberships m WHERE m.tenant_id = k.tenant_id AND m.user_id = k.user_id) AS role",
    )
    .bind::<diesel::sql_types::Bytea, _>(key_hash)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.and_then(|r| r.principal.into_viewer(None, Some(r.id))))
}

/// When a user joined a tenant (their membership's creation), if they are a member.
pub async fn joined_at(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    use crate::db::schema::memberships;
    use diesel::{ExpressionMethods, QueryDsl};
    Ok(memberships::table
        .filter(memberships::tenant_id.eq(tenant_id))
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::created_at)
        .first(conn)
        .await
        .optional()?)
}

/// Revokes every live key a user holds in a tenant (when they leave it).
pub async fn revoke_member_api_keys(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> AppResult<usize> {
    use crate::db::schema::api_keys;
    use diesel::{ExpressionMethods, QueryDsl};
    Ok(diesel::update(
        api_keys::table
            .filter(api_keys::tenant_id.eq(tenant_id))
            .filter(api_keys::user_id.eq(user_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?)
}
