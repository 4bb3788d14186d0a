//! Writing an entity in one statement: the row, its revision and its reference rows together,
//! as data-modifying CTEs. A create or an edit is one round trip and needs no transaction of
//! its own (one statement is atomic), where row, references and revision used to take five
//! statements inside BEGIN … COMMIT.

use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::revisions::RevisionAction;
use super::write::Write;
use crate::db::fragment::{Fragment, NumberedBinds, NumberedStatement};
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
         WHERE tenant_id = $1 AND id = $2 AND version = $18::int4 AND entity_type = $3
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

/// The values of one write, by the numbers the statements above give them.
struct WriteBinds {
    tenant_id: Uuid,
    row_id: Uuid,
    entity_type: &'static str,
    entity_id: String,
    name: String,
    status: &'static str,
    fields: serde_json::Value,
    markdown_body: String,
    schema_errors: Vec<String>,
    actor_id: Uuid,
    revision_id: Uuid,
    action: &'static str,
    kinds: Vec<String>,
    types: Vec<String>,
    targets: Vec<String>,
    positions: Vec<i32>,
    at: DateTime<Utc>,
    /// `$18` and `$19`, an update's only.
    version: Option<i32>,
    stamp: Option<i64>,
}

impl NumberedBinds for WriteBinds {
    fn bind<'b>(&'b self, number: usize, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        match number {
            1 => out.push_bind_param::<SqlUuid, _>(&self.tenant_id),
            2 => out.push_bind_param::<SqlUuid, _>(&self.row_id),
            3 => out.push_bind_param::<Text, _>(self.entity_type),
            4 => out.push_bind_param::<Text, _>(&self.entity_id),
            5 => out.push_bind_param::<Text, _>(&self.name),
            6 => out.push_bind_param::<Text, _>(self.status),
            7 => out.push_bind_param::<Jsonb, _>(&self.fields),
            8 => out.push_bind_param::<Text, _>(&self.markdown_body),
            9 => out.push_bind_param::<Array<Text>, _>(&self.schema_errors),
            10 => out.push_bind_param::<SqlUuid, _>(&self.actor_id),
            11 => out.push_bind_param::<SqlUuid, _>(&self.revision_id),
            12 => out.push_bind_param::<Text, _>(self.action),
            13 => out.push_bind_param::<Array<Text>, _>(&self.kinds),
            14 => out.push_bind_param::<Array<Text>, _>(&self.types),
            15 => out.push_bind_param::<Array<Text>, _>(&self.targets),
            16 => out.push_bind_param::<Array<Int4>, _>(&self.positions),
            17 => out.push_bind_param::<Timestamptz, _>(&self.at),
            18 => out.push_bind_param::<Nullable<Int4>, _>(&self.version),
            19 => out.push_bind_param::<Nullable<BigInt>, _>(&self.stamp),
            _ => Err(diesel::result::Error::QueryBuilderError(
                format!("the entity write has no parameter ${number}").into(),
            )),
        }
    }
}

/// `write` of row `row_id` as the statement `text` (an update's version and stamp are filled
/// in by the caller).
fn statement(
    text: &'static str,
    row_id: Uuid,
    write: &Write<'_>,
    action: RevisionAction,
) -> NumberedStatement<WriteBinds> {
    let references = &write.checked.references;
    let content = write.content;
    NumberedStatement {
        text,
        binds: WriteBinds {
            tenant_id: write.tenant_id,
            row_id,
            entity_type: write.entity_type.slug(),
            entity_id: content.entity_id.clone(),
            name: content.name.clone(),
            status: content.status.slug(),
            fields: content.fields.clone(),
            markdown_body: content.markdown_body.clone(),
            schema_errors: write.checked.schema_errors.clone(),
            actor_id: write.actor_id,
            revision_id: Uuid::now_v7(),
            action: action.as_str(),
            kinds: references.iter().map(|r| r.kind.clone()).collect(),
            types: references
                .iter()
                .map(|r| {
                    let slugs: Vec<&str> = r.target_types.iter().map(|t| t.slug()).collect();
                    slugs.join(",")
                })
                .collect(),
            targets: references.iter().map(|r| r.entity_id.clone()).collect(),
            positions: (0..references.len())
                .map(|position| i32::try_from(position).unwrap_or(i32::MAX))
                .collect(),
            at: Utc::now(),
            version: None,
            stamp: None,
        },
    }
}

/// Inserts a new entity with its references and first revision, in one statement. An id the
/// type already has is CONFLICT.
pub async fn insert(conn: &mut AsyncPgConnection, write: Write<'_>) -> AppResult<EntityRow> {
    statement(INSERT, Uuid::now_v7(), &write, RevisionAction::Created)
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
    let mut update = statement(UPDATE, current.id, &write, action);
    update.binds.version = Some(current.version);
    update.binds.stamp = stamp;
    update
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
            Fragment::<BigInt>::text("entities.xmin::text::bigint"),
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(found)
}
