//! SQL of the rules domain: a tenant's own rule sets and its rule settings.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::{tenant_rule_sets, tenant_rule_settings};
use crate::error::AppResult;

/// A tenant's rule set: its YAML as written and its parsed form.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = tenant_rule_sets)]
pub struct TenantSetRow {
    pub rule_set_id: String,
    pub source: String,
    pub parsed: Value,
    pub revision: i32,
    /// False once the tenant let the set go (its revision goes on from here if it returns).
    pub active: bool,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// A tenant's rule settings.
#[derive(Queryable, Selectable, Clone, Debug, Default)]
#[diesel(table_name = tenant_rule_settings)]
pub struct SettingsRow {
    pub disabled_rules: Vec<String>,
    pub system_prompts: Value,
}

/// Until the caller's transaction ends, no other change to the tenant's rules: a change checks
/// rule ids across all of the tenant's sets, so changes to two sets must not pass each other.
pub async fn lock_rules(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('rules:' || $1::text, 0))")
        .bind::<diesel::sql_types::Uuid, _>(tenant_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every set of the tenant's in force, by id.
pub async fn sets(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<Vec<TenantSetRow>> {
    Ok(tenant_rule_sets::table
        .filter(tenant_rule_sets::tenant_id.eq(tenant_id))
        .filter(tenant_rule_sets::active)
        .order(tenant_rule_sets::rule_set_id)
        .select(TenantSetRow::as_select())
        .load(conn)
        .await?)
}

/// One set, in force or let go, locked until the transaction ends when `lock`.
pub async fn find_set(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    rule_set_id: &str,
    lock: bool,
) -> AppResult<Option<TenantSetRow>> {
    let query = tenant_rule_sets::table
        .filter(tenant_rule_sets::tenant_id.eq(tenant_id))
        .filter(tenant_rule_sets::rule_set_id.eq(rule_set_id))
        .select(TenantSetRow::as_select());
    Ok(if lock {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    })
}

pub async fn count_sets(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<i64> {
    Ok(tenant_rule_sets::table
        .filter(tenant_rule_sets::tenant_id.eq(tenant_id))
        .filter(tenant_rule_sets::active)
        .count()
        .get_result(conn)
        .await?)
}

/// A set's new text, in force. `revision` is the row's next revision (1 for a set never kept
/// before); a row another writer changed or made meanwhile is not written (None).
pub async fn write_set(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    rule_set_id: &str,
    source: &str,
    parsed: &Value,
    revision: i32,
    user_id: Uuid,
) -> AppResult<Option<TenantSetRow>> {
    if revision > 1 {
        return Ok(diesel::update(
            tenant_rule_sets::table
                .filter(tenant_rule_sets::tenant_id.eq(tenant_id))
                .filter(tenant_rule_sets::rule_set_id.eq(rule_set_id))
                .filter(tenant_rule_sets::revision.eq(revision - 1)),
        )
        .set((
            tenant_rule_sets::source.eq(source),
            tenant_rule_sets::parsed.eq(parsed),
            tenant_rule_sets::revision.eq(revision),
            tenant_rule_sets::active.eq(true),
            tenant_rule_sets::updated_by.eq(user_id),
            tenant_rule_sets::updated_at.eq(diesel::dsl::now),
        ))
        .returning(TenantSetRow::as_returning())
        .get_result(conn)
        .await
        .optional()?);
    }
    Ok(diesel::insert_into(tenant_rule_sets::table)
        .values((
            tenant_rule_sets::tenant_id.eq(tenant_id),
            tenant_rule_sets::rule_set_id.eq(rule_set_id),
            tenant_rule_sets::source.eq(source),
            tenant_rule_sets::parsed.eq(parsed),
            tenant_rule_sets::updated_by.eq(user_id),
        ))
        .on_conflict_do_nothing()
        .returning(TenantSetRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// Lets a set go (kept inactive, its revision moved on); false when it was not in force.
pub async fn deactivate_set(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    rule_set_id: &str,
    user_id: Uuid,
) -> AppResult<bool> {
    Ok(diesel::update(
        tenant_rule_sets::table
            .filter(tenant_rule_sets::tenant_id.eq(tenant_id))
            .filter(tenant_rule_sets::rule_set_id.eq(rule_set_id))
            .filter(tenant_rule_sets::active),
    )
    .set((
        tenant_rule_sets::active.eq(false),
        tenant_rule_sets::revision.eq(tenant_rule_sets::revision + 1),
        tenant_rule_sets::updated_by.eq(user_id),
        tenant_rule_sets::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?
        > 0)
}

pub async fn settings(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<SettingsRow> {
    Ok(tenant_rule_settings::table
        .filter(tenant_rule_settings::tenant_id.eq(tenant_id))
        .select(SettingsRow::as_select())
        .first(conn)
        .await
        .optional()?
        .unwrap_or_else(|| SettingsRow {
            disabled_rules: Vec::new(),
            system_prompts: Value::Object(Default::default()),
        }))
}

/// The rules (and sets) the tenant switched off, the whole list replaced.
pub async fn save_disabled(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    disabled: &[String],
    user_id: Uuid,
) -> AppResult<()> {
    diesel::insert_into(tenant_rule_settings::table)
        .values((
            tenant_rule_settings::tenant_id.eq(tenant_id),
            tenant_rule_settings::disabled_rules.eq(disabled),
            tenant_rule_settings::updated_by.eq(user_id),
        ))
        .on_conflict(tenant_rule_settings::tenant_id)
        .do_update()
        .set((
            tenant_rule_settings::disabled_rules.eq(disabled),
            tenant_rule_settings::updated_by.eq(user_id),
            tenant_rule_settings::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// One type's system prompt set (or removed, for None) in one statement, so two types'
/// prompts set at once both stay.
pub async fn save_prompt(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    type_slug: &str,
    prompt: Option<&str>,
    user_id: Uuid,
) -> AppResult<()> {
    use diesel::PgJsonbExpressionMethods as _;
    use diesel::upsert::excluded;

    let given = serde_json::json!({ type_slug: prompt });
    let insert = diesel::insert_into(tenant_rule_settings::table)
        .values((
            tenant_rule_settings::tenant_id.eq(tenant_id),
            tenant_rule_settings::system_prompts.eq(match prompt {
                Some(_) => given,
                None => Value::Object(Default::default()),
            }),
            tenant_rule_settings::updated_by.eq(user_id),
        ))
        .on_conflict(tenant_rule_settings::tenant_id)
        .do_update();
    match prompt {
        Some(_) => {
            insert
                .set((
                    tenant_rule_settings::system_prompts.eq(tenant_rule_settings::system_prompts
                        .concat(excluded(tenant_rule_settings::system_prompts))),
                    tenant_rule_settings::updated_by.eq(user_id),
                    tenant_rule_settings::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?
        }
        None => {
            insert
                .set((
                    tenant_rule_settings::system_prompts
                        .eq(tenant_rule_settings::system_prompts.remove(type_slug.to_owned())),
                    tenant_rule_settings::updated_by.eq(user_id),
                    tenant_rule_settings::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}
