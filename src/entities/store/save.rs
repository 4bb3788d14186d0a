//! Writing an entity in one statement: the row, its revision and its reference rows together,
//! as data-modifying CTEs. A create or an edit is one round trip and needs no transaction of
//! its own (one statement is atomic), where row, references and revision used to take five
//! statements inside BEGIN … COMMIT.

use chrono::Utc;
use diesel::OptionalExtension;
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::revisions::RevisionAction;
use super::write::Write;
use crate::entities::model::EntityRow;
use crate::entities::types::EntityType;
use crate::error::{AppError, AppResult};

/// The columns of [`EntityRow`], as the statements return them.
macro_rules! entity_columns {
    () => {
        "id, tenant_id, entity_type, entity_id, name, status, fields, markdown_body, \
         schema_errors, version, created_by, updated_by, created_at, updated_at, deleted_at, \
         deleted_by"
    };
}

/// The revision of the written row (`$11` its id, `$12` the action, `$10` the actor) and the
/// references the fields hold (`$13`–`$16`: kinds, target types joined by commas, target ids,
/// positions), each sub-statement after the row's own (`written`).
macro_rules! revision_and_found {
    () => {
        "revision AS (
             INSERT INTO entity_revisions (id, tenant_id, entity_row_id, version, action,
                 actor_id, entity_id, name, status, fields, markdown_body)
             SELECT $11, tenant_id, id, version, $12, $10, entity_id, name, status, fields,
                 markdown_body
             FROM written),
         found (kind, types, target_entity_id, position) AS (
             SELECT * FROM unnest($13::text[], $14::text[], $15::text[], $16::int4[])),"
    };
}

/// `$1` tenant, `$2` row id, `$3` type, `$4`–`$9` the content, `$10` the actor, `$11`–`$16` as
/// `revision_and_found!`, `$17` the time.
const INSERT: &str = concat!(
    "WITH written AS (
         INSERT INTO entities (id, tenant_id, entity_type, entity_id, name, status, fields,
             markdown_body, schema_errors, created_by, updated_by, created_at, updated_at)
         VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9, $10, $10, $17, $17)
         RETURNING ",
    entity_columns!(),
    "),",
    revision_and_found!(),
    "
     referenced AS (
         INSERT INTO entity_references (tenant_id, source_id, kind, target_types,
             target_entity_id, position)
         SELECT $1, $2, kind, string_to_array(types, ','), target_entity_id, position
         FROM found WHERE EXISTS (SELECT FROM written))
     SELECT ",
    entity_columns!(),
    " FROM written"
);

/// `$1` tenant, `$2` row id (`$3`, the type, is not changed), `$4`–`$9` the content, `$10` the
/// actor, `$11`–`$16` as `revision_and_found!`, `$17` the time, `$18` the version the change
/// was made on and `$19` (when given) the row's stamp when it was read: nothing is written when
/// the row is at another version, or was written since (re-validation rewrites reference rows
/// without a new version, and this statement's snapshot could not see the rows it added). Reference rows the fields no longer hold are
/// deleted, new or changed ones upserted; the two touch different keys, so no row is written
/// twice in the statement, and an edit that leaves the references alone writes none.
const UPDATE: &str = concat!(
    "WITH written AS (
         UPDATE entities SET entity_id = $4, name = $5, status = $6, fields = $7,
             markdown_body = $8, schema_errors = $9, version = version + 1, updated_by = $10,
             updated_at = $17
         WHERE tenant_id = $1 AND id = $2 AND version = $18 AND entity_type = $3
           AND ($19::bigint IS NULL OR xmin::text::bigint = $19)
         RETURNING ",
    entity_columns!(),
    "),",
    revision_and_found!(),
    "
     stale AS (
         DELETE FROM entity_references r
         WHERE r.tenant_id = $1 AND r.source_id = $2 AND EXISTS (SELECT FROM written)
           AND NOT EXISTS (SELECT FROM found f
                           WHERE f.kind = r.kind AND f.target_entity_id = r.target_entity_id)),
     referenced AS (
         INSERT INTO entity_references (tenant_id, source_id, kind, target_types,
             target_entity_id, position)
         SELECT $1, $2, f.kind, string_to_array(f.types, ','), f.target_entity_id, f.position
         FROM found f
         WHERE EXISTS (SELECT FROM written)
           AND NOT EXISTS (SELECT FROM entity_references r
                           WHERE r.tenant_id = $1 AND r.source_id = $2 AND r.kind = f.kind
                             AND r.target_entity_id = f.target_entity_id
                             AND r.target_types = string_to_array(f.types, ',')
                             AND r.position = f.position)
         ON CONFLICT (tenant_id, source_id, kind, target_entity_id)
         DO UPDATE SET target_types = excluded.target_types, position = excluded.position)
     SELECT ",
    entity_columns!(),
    " FROM written"
);

type Statement = BoxedSqlQuery<'static, Pg, SqlQuery>;

/// Binds `$1`–`$16` (as the statements above number them) for `write` of row `row_id`.
fn bind_write(
    sql: &'static str,
    row_id: Uuid,
    write: &Write<'_>,
    action: RevisionAction,
) -> Statement {
    let references = &write.checked.references;
    let kinds: Vec<String> = references.iter().map(|r| r.kind.clone()).collect();
    let types: Vec<String> = references
        .iter()
        .map(|r| {
            let slugs: Vec<&str> = r.target_types.iter().map(|t| t.slug()).collect();
            slugs.join(",")
        })
        .collect();
    let targets: Vec<String> = references.iter().map(|r| r.entity_id.clone()).collect();
    let positions: Vec<i32> = (0..references.len())
        .map(|position| i32::try_from(position).unwrap_or(i32::MAX))
        .collect();
    let content = write.content;
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<SqlUuid, _>(write.tenant_id)
        .bind::<SqlUuid, _>(row_id)
        .bind::<Text, _>(write.entity_type.slug())
        .bind::<Text, _>(content.entity_id.clone())
        .bind::<Text, _>(content.name.clone())
        .bind::<Text, _>(content.status.slug())
        .bind::<Jsonb, _>(content.fields.clone())
        .bind::<Text, _>(content.markdown_body.clone())
        .bind::<Array<Text>, _>(write.checked.schema_errors.clone())
        .bind::<SqlUuid, _>(write.actor_id)
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<Text, _>(action.as_str())
        .bind::<Array<Text>, _>(kinds)
        .bind::<Array<Text>, _>(types)
        .bind::<Array<Text>, _>(targets)
        .bind::<Array<Int4>, _>(positions)
        .bind::<Timestamptz, _>(Utc::now())
}

/// Inserts a new entity with its references and first revision, in one statement. An id the
/// type already has is CONFLICT.
pub async fn insert(conn: &mut AsyncPgConnection, write: Write<'_>) -> AppResult<EntityRow> {
    bind_write(INSERT, Uuid::now_v7(), &write, RevisionAction::Created)
        .get_result(conn)
        .await
        .map_err(|error| duplicate_or(error, write.entity_type, &write.content.entity_id))
}

/// Saves new content over `current`, bumping its version, with a revision and its references
/// brought in line with the fields, in one statement; None (nothing written) when the row is
/// no longer at `current`'s version, or (given `stamp`, from [`find_live_stamped`]) when it
/// was written at all since it was read. A new id the type already has is CONFLICT.
pub async fn save(
    conn: &mut AsyncPgConnection,
    current: &EntityRow,
    stamp: Option<i64>,
    write: Write<'_>,
    action: RevisionAction,
) -> AppResult<Option<EntityRow>> {
    bind_write(UPDATE, current.id, &write, action)
        .bind::<Int4, _>(current.version)
        .bind::<Nullable<BigInt>, _>(stamp)
        .get_result(conn)
        .await
        .optional()
        .map_err(|error| duplicate_or(error, write.entity_type, &write.content.entity_id))
}

fn duplicate_or(
    error: diesel::result::Error,
    entity_type: EntityType,
    entity_id: &str,
) -> AppError {
    match AppError::from(error) {
        AppError::Conflict(_) => AppError::conflict(format!(
            "Entity already exists: {}/{entity_id}",
            entity_type.slug()
        )),
        other => other,
    }
}

/// A live entity with its stamp: the transaction that last wrote its row (`xmin`), which
/// changes with every write, so a save conditional on it notices any writer in between.
pub async fn find_live_stamped(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    entity_type: EntityType,
    entity_id: &str,
) -> AppResult<Option<(EntityRow, i64)>> {
    use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};

    use crate::db::schema::entities;
    let found: Option<(EntityRow, i64)> = entities::table
        .filter(entities::tenant_id.eq(tenant_id))
        .filter(entities::entity_type.eq(entity_type.slug()))
        .filter(entities::entity_id.eq(entity_id))
        .filter(entities::deleted_at.is_null())
        .select((
            EntityRow::as_select(),
            diesel::dsl::sql::<BigInt>("entities.xmin::text::bigint"),
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(found)
}
