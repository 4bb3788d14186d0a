//! GraphQL: seed 002's database views for ADMIN ("view logs"): the tables with their row
//! counts, the schema map with its foreign keys, and a table's rows page by page.

use std::collections::{BTreeMap, HashSet};

use async_graphql::{Context, Json, Object, SimpleObject};
use serde_json::Value;

use super::store::{self, Scope, Table};
use super::{is_secret_column, mask_secret};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::pagination::PageRequest;
use crate::error::AppResult;

/// A table the viewer may browse (seed 002's DatabaseTableInfo).
#[derive(SimpleObject)]
pub struct DatabaseTableInfo {
    /// The table's name.
    pub name: String,
    /// Its column names, in order.
    pub columns: Vec<String>,
    /// How many of its rows the viewer may see (for an ADMIN, their tenant's).
    pub row_count: i64,
}

/// One column pair of a foreign key (seed 002's DatabaseSchemaForeignKey). A key over several
/// columns gives one entry per pair.
#[derive(SimpleObject)]
pub struct DatabaseForeignKey {
    /// The referencing column of this table.
    pub from_column: String,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced column.
    pub ref_column: String,
    /// What an update of the referenced key does: CASCADE, SET NULL, SET DEFAULT, RESTRICT or
    /// NO ACTION.
    pub on_update: String,
    /// What deleting the referenced row does: CASCADE, SET NULL, SET DEFAULT, RESTRICT or
    /// NO ACTION.
    pub on_delete: String,
}

/// A table of the schema map (seed 002's DatabaseSchemaTable).
#[derive(SimpleObject)]
pub struct DatabaseSchemaTable {
    /// The table's name.
    pub name: String,
    /// Its column names, in order.
    pub columns: Vec<String>,
    /// Its foreign keys to tables the viewer may see.
    pub foreign_keys: Vec<DatabaseForeignKey>,
}

/// A page of a table's rows (seed 002's DatabaseTableRowsResponse).
#[derive(SimpleObject)]
pub struct DatabaseTableRows {
    /// The table's name.
    pub table: String,
    /// Its column names, in order.
    pub columns: Vec<String>,
    /// The rows, ordered by primary key; each a list of values in column order. Secrets
    /// (password and token hashes, keys, signing secrets) show only their first 8 characters
    /// and "…".
    pub rows: Vec<Vec<Option<Json<Value>>>>,
    /// How many rows the viewer may see in the table.
    pub total: i64,
    /// How many rows were skipped.
    pub offset: i64,
    /// The most rows this page holds.
    pub limit: i64,
}

fn column_names(table: &Table) -> Vec<String> {
    table.columns.iter().map(|c| c.name.clone()).collect()
}

/// A row object as values in the table's column order, secrets masked.
/// The most of one cell a page shows: a page of 200 rows stays small whatever the table holds.
const MAX_CELL_CHARS: usize = 4096;

/// A value whose text is longer than `MAX_CELL_CHARS` becomes its beginning and "…" (a long
/// JSON document becomes the beginning of its text).
fn cut_long(value: Value) -> Value {
    let text = match &value {
        Value::String(text) => text.clone(),
        Value::Array(_) | Value::Object(_) => value.to_string(),
        _ => return value,
    };
    if text.chars().count() <= MAX_CELL_CHARS {
        return value;
    }
    let cut: String = text.chars().take(MAX_CELL_CHARS).collect();
    Value::String(format!("{cut}…"))
}

fn row_values(table: &Table, mut row: Value) -> Vec<Option<Json<Value>>> {
    table
        .columns
        .iter()
        .map(|column| {
            let value = row
                .get_mut(&column.name)
                .map(Value::take)
                .unwrap_or(Value::Null);
            let value = if is_secret_column(&column.name, &column.type_category) {
                mask_secret(&value, column.type_name == "bytea")
            } else {
                cut_long(value)
            };
            (!value.is_null()).then_some(Json(value))
        })
        .collect()
}

#[derive(Default)]
pub struct IntrospectionQuery;

#[Object]
impl IntrospectionQuery {
    /// The database tables you may browse, by name, with their columns and row counts (ADMIN:
    /// your tenant's own tables and rows; SUPERUSER: every table and row).
    async fn database_tables(&self, ctx: &Context<'_>) -> AppResult<Vec<DatabaseTableInfo>> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let scope = Scope::of(viewer);
        let mut conn = ctx.conn().await?;
        let tables = store::visible_tables(&mut conn, scope).await?;
        let counts = store::count_rows(&mut conn, scope, &tables).await?;
        Ok(tables
            .iter()
            .zip(counts)
            .map(|(table, row_count)| DatabaseTableInfo {
                name: table.name.clone(),
                columns: column_names(table),
                row_count,
            })
            .collect())
    }

    /// The schema map: the tables you may browse with their columns and foreign keys (ADMIN:
    /// your tenant's own tables; SUPERUSER: every table).
    async fn database_schema(&self, ctx: &Context<'_>) -> AppResult<Vec<DatabaseSchemaTable>> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let scope = Scope::of(viewer);
        let mut conn = ctx.conn().await?;
        let tables = store::visible_tables(&mut conn, scope).await?;
        let visible: HashSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        let mut keys: BTreeMap<String, Vec<DatabaseForeignKey>> = BTreeMap::new();
        for key in store::foreign_keys(&mut conn).await? {
            // A key to a table out of sight is left out, as the table is.
            let ref_table = if key.ref_schema == "public" {
                if !visible.contains(key.ref_table.as_str()) {
                    continue;
                }
                key.ref_table
            } else if scope == Scope::All {
                format!("{}.{}", key.ref_schema, key.ref_table)
            } else {
                continue;
            };
            if !visible.contains(key.table_name.as_str()) {
                continue;
            }
            keys.entry(key.table_name)
                .or_default()
                .push(DatabaseForeignKey {
                    from_column: key.from_column,
                    ref_table,
                    ref_column: key.ref_column,
                    on_update: store::action_words(&key.on_update).into(),
                    on_delete: store::action_words(&key.on_delete).into(),
                });
        }
        Ok(tables
            .iter()
            .map(|table| DatabaseSchemaTable {
                name: table.name.clone(),
                columns: column_names(table),
                foreign_keys: keys.remove(&table.name).unwrap_or_default(),
            })
            .collect())
    }

    /// A page of a table's rows, ordered by its primary key (ADMIN: only your tenant's rows of
    /// its own tables; SUPERUSER: any table). A table you may not see is NOT_FOUND, like one
    /// that does not exist. Limit defaults to 50, at most 200.
    async fn table_rows(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The table's name, as `databaseTables` lists it.")] table: String,
        #[graphql(desc = "How many rows to skip: 0 to 10,000, 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many rows to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<DatabaseTableRows> {
        let viewer = ctx.viewer_with(Role::Admin)?;
        let page = PageRequest::new(offset, limit)?;
        let scope = Scope::of(viewer);
        let mut conn = ctx.conn().await?;
        let table = store::visible_table(&mut conn, scope, &table).await?;
        let (total, rows) = store::read_rows(&mut conn, scope, &table, page).await?;
        Ok(DatabaseTableRows {
            columns: column_names(&table),
            rows: rows
                .into_iter()
                .map(|row| row_values(&table, row))
                .collect(),
            table: table.name,
            total,
            offset: page.offset,
            limit: page.limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mud::introspection::store::Column;

    #[test]
    fn long_cells_are_cut() {
        let long = "x".repeat(MAX_CELL_CHARS + 10);
        let cut = cut_long(json!(long));
        assert_eq!(
            cut.as_str().map(|t| t.chars().count()),
            Some(MAX_CELL_CHARS + 1)
        );
        let document = json!({ "text": "y".repeat(MAX_CELL_CHARS) });
        assert!(
            cut_long(document)
                .as_str()
                .is_some_and(|t| t.ends_with('…'))
        );
        assert_eq!(cut_long(json!({ "short": 1 })), json!({ "short": 1 }));
        assert_eq!(cut_long(json!(12)), json!(12));
    }

    fn column(name: &str, type_name: &str, type_category: &str) -> Column {
        Column {
            name: name.into(),
            type_name: type_name.into(),
            type_category: type_category.into(),
            key_position: None,
        }
    }

    #[test]
    fn rows_follow_the_column_order_and_hide_secrets() {
        let table = Table {
            name: "invites".into(),
            tenant_owned: true,
            columns: vec![
                column("id", "uuid", "U"),
                column("token_hash", "bytea", "U"),
                column("email", "text", "S"),
                column("accepted_at", "timestamptz", "D"),
            ],
        };
        let row = json!({
            "email": "a@b.test",
            "accepted_at": null,
            "token_hash": "\\xdeadbeefcafebabe",
            "id": "0190",
        });
        let values: Vec<Option<Value>> = row_values(&table, row)
            .into_iter()
            .map(|v| v.map(|Json(v)| v))
            .collect();
        assert_eq!(
            values,
            [
                Some(json!("0190")),
                Some(json!("deadbeef…")),
                Some(json!("a@b.test")),
                None,
            ]
        );
    }
}
