//! A tenant's own templates of its entity types, their versions and the re-validation each
//! change set off.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::tenant_templates;
use crate::error::AppResult;

/// One version of a tenant's template of a type.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = tenant_templates)]
pub struct TemplateRow {
    pub entity_type: String,
    pub version: i32,
    /// The markdown template; None: the package's.
    pub content: Option<String>,
    /// The JSON Schema; None: the package's.
    pub json_schema: Option<Value>,
    /// `template`, `instructions` or `reset`.
    pub change: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// `not_needed`, `pending`, `running`, `done`, `failed` or `superseded`.
    pub revalidation: String,
    pub checked: i32,
    pub valid: i32,
    pub invalid: i32,
    pub revalidation_error: Option<String>,
    pub revalidated_at: Option<DateTime<Utc>>,
}

/// What a new version holds.
pub struct NewVersion<'a> {
    pub tenant_id: Uuid,
    pub entity_type: &'a str,
    pub version: i32,
    pub content: Option<&'a str>,
    pub json_schema: Option<&'a Value>,
    pub change: &'a str,
    pub created_by: Uuid,
    /// Whether the change can alter verdicts (then its re-validation is pending).
    pub revalidate: bool,
}

/// The newest version of each type with something of the tenant's in force (a reset's row
/// holds nothing and is left out).
pub async fn templates_in_force(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<Vec<TemplateRow>> {
    let newest: Vec<TemplateRow> = tenant_templates::table
        .filter(tenant_templates::tenant_id.eq(tenant_id))
        .distinct_on(tenant_templates::entity_type)
        .order((
            tenant_templates::entity_type,
            tenant_templates::version.desc(),
        ))
        .select(TemplateRow::as_select())
        .load(conn)
        .await?;
    Ok(newest
        .into_iter()
        .filter(|row| row.content.is_some() || row.json_schema.is_some())
        .collect())
}

/// A type's versions, newest first, at most `limit`.
pub async fn template_versions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
    limit: i64,
) -> AppResult<Vec<TemplateRow>> {
    Ok(tenant_templates::table
        .filter(tenant_templates::tenant_id.eq(tenant_id))
        .filter(tenant_templates::entity_type.eq(entity_type))
        .order(tenant_templates::version.desc())
        .limit(limit)
        .select(TemplateRow::as_select())
        .load(conn)
        .await?)
}

/// Adds a version; None when another writer took that version number first.
pub async fn append_template(
    conn: &mut AsyncPgConnection,
    new: NewVersion<'_>,
) -> AppResult<Option<TemplateRow>> {
    Ok(diesel::insert_into(tenant_templates::table)
        .values((
            tenant_templates::tenant_id.eq(new.tenant_id),
            tenant_templates::entity_type.eq(new.entity_type),
            tenant_templates::version.eq(new.version),
            tenant_templates::content.eq(new.content),
            tenant_templates::json_schema.eq(new.json_schema),
            tenant_templates::change.eq(new.change),
            tenant_templates::created_by.eq(new.created_by),
            tenant_templates::revalidation.eq(if new.revalidate {
                "pending"
            } else {
                "not_needed"
            }),
        ))
        .on_conflict_do_nothing()
        .returning(TemplateRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// Moves a version's re-validation on: its state and counts so far.
pub async fn record_revalidation(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
    version: i32,
    state: &str,
    counts: (i32, i32, i32),
    error: Option<&str>,
) -> AppResult<()> {
    let (checked, valid, invalid) = counts;
    diesel::update(tenant_templates::table.find((tenant_id, entity_type, version)))
        .set((
            tenant_templates::revalidation.eq(state),
            tenant_templates::checked.eq(checked),
            tenant_templates::valid.eq(valid),
            tenant_templates::invalid.eq(invalid),
            tenant_templates::revalidation_error.eq(error),
            tenant_templates::revalidated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest version of a type whose change can alter verdicts (0 when there is none): the
/// one whose re-validation counts.
pub async fn newest_revalidating_version(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
) -> AppResult<i32> {
    Ok(tenant_templates::table
        .filter(tenant_templates::tenant_id.eq(tenant_id))
        .filter(tenant_templates::entity_type.eq(entity_type))
        .filter(tenant_templates::revalidation.ne("not_needed"))
        .select(diesel::dsl::max(tenant_templates::version))
        .first::<Option<i32>>(conn)
        .await?
        .unwrap_or(0))
}

/// Forgets a type's versions older than the newest `kept`.
pub async fn prune_versions(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: &str,
    newest: i32,
    kept: i32,
) -> AppResult<()> {
    diesel::delete(
        tenant_templates::table
            .filter(tenant_templates::tenant_id.eq(tenant_id))
            .filter(tenant_templates::entity_type.eq(entity_type))
            .filter(tenant_templates::version.le(newest - kept)),
    )
    .execute(conn)
    .await?;
    Ok(())
}
