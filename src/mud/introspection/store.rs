//! Catalog reads (tables, columns, primary and foreign keys of the `public` schema) and the
//! generic row reads of the database browser. Table and column names in SQL come from the
//! catalog only, quoted as identifiers; everything the caller gives is a bound parameter.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::quote_ident;
use crate::auth::Viewer;
use crate::db::pagination::PageRequest;
use crate::error::{AppError, AppResult};

/// The longest name PostgreSQL keeps (NAMEDATALEN - 1 bytes).
const MAX_NAME_BYTES: usize = 63;
/// The alias rows are read under; qualified everywhere, so no column name can shadow it.
const ROW_ALIAS: &str = "lg_row";

/// Whose rows a read covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every table and every row (SUPERUSER).
    All,
    /// Tenant-owned tables only, and only this tenant's rows in them (ADMIN).
    Tenant(Uuid),
}

impl Scope {
    pub fn of(viewer: &Viewer) -> Self {
        if viewer.is_superuser() {
            Self::All
        } else {
            Self::Tenant(viewer.tenant_id)
        }
    }

    /// Whether the scope reaches this table at all.
    pub fn sees(self, table: &Table) -> bool {
        match self {
            Self::All => true,
            Self::Tenant(_) => table.tenant_owned,
        }
    }

    /// The WHERE clause limiting a read of `table` to the scope (`$1` is the tenant).
    fn filter(self, table: &Table) -> AppResult<String> {
        match self {
            Self::All => Ok(String::new()),
            // Only reached through `sees`; refused again here so no path reads another
            // tenant's rows.
            Self::Tenant(_) if !table.tenant_owned => Err(AppError::not_found("table not found")),
            Self::Tenant(_) => Ok(format!(" WHERE {ROW_ALIAS}.\"tenant_id\" = $1")),
        }
    }
}

/// A column as the catalog has it.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    /// `pg_type.typname`, e.g. `text`, `bytea`, `uuid`.
    pub type_name: String,
    /// `pg_type.typcategory`: S string, N numeric, B boolean, D date/time, U user-defined, ...
    pub type_category: String,
    /// Where the column stands in the primary key (1-based), if it is part of it.
    pub key_position: Option<i32>,
}

/// A table of the `public` schema with its columns in order.
#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    /// Whether it has a `tenant_id` uuid column: a tenant-owned table.
    pub tenant_owned: bool,
    pub columns: Vec<Column>,
}

impl Table {
    /// `ORDER BY` over the primary key, so pages are stable; a table without one is ordered
    /// by its whole row.
    fn order_by(&self) -> String {
        let mut key: Vec<&Column> = self
            .columns
            .iter()
            .filter(|c| c.key_position.is_some())
            .collect();
        if key.is_empty() {
            return "1".into();
        }
        key.sort_by_key(|c| c.key_position);
        key.iter()
            .map(|c| format!("{ROW_ALIAS}.{}", quote_ident(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn qualified_name(&self) -> String {
        format!("\"public\".{} {ROW_ALIAS}", quote_ident(&self.name))
    }
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    tenant_owned: bool,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    type_name: String,
    #[diesel(sql_type = Text)]
    type_category: String,
    #[diesel(sql_type = Nullable<Integer>)]
    key_position: Option<i32>,
}

/// The ordinary and partitioned tables of `public` (not partitions, which their parent
/// covers), with their columns in order; only the one named `name` when given.
async fn catalog_tables(conn: &mut AsyncPgConnection, name: Option<&str>) -> AppResult<Vec<Table>> {
    let rows: Vec<ColumnRow> = diesel::sql_query(
        "SELECT c.relname::text AS table_name,
                EXISTS (SELECT 1 FROM pg_attribute ta
                        WHERE ta.attrelid = c.oid AND ta.attname = 'tenant_id'
                          AND ta.atttypid = 'uuid'::regtype AND NOT ta.attisdropped) AS tenant_owned,
                a.attname::text AS column_name,
                ty.typname::text AS type_name,
                ty.typcategory::text AS type_category,
                array_position(pk.conkey, a.attnum) AS key_position
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         JOIN pg_type ty ON ty.oid = a.atttypid
         LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND ($1::text IS NULL OR c.relname = $1::text)
         ORDER BY c.relname, a.attnum",
    )
    .bind::<Nullable<Text>, _>(name.map(str::to_owned))
    .load(conn)
    .await?;
    let mut tables: Vec<Table> = Vec::new();
    for row in rows {
        let column = Column {
            name: row.column_name,
            type_name: row.type_name,
            type_category: row.type_category,
            key_position: row.key_position,
        };
        // Rows come by table, so a new name starts the next table.
        if tables.last().map(|t| t.name.as_str()) != Some(row.table_name.as_str()) {
            tables.push(Table {
                name: row.table_name,
                tenant_owned: row.tenant_owned,
                columns: Vec::new(),
            });
        }
        if let Some(table) = tables.last_mut() {
            table.columns.push(column);
        }
    }
    Ok(tables)
}

/// The tables the scope sees, by name.
pub async fn visible_tables(conn: &mut AsyncPgConnection, scope: Scope) -> AppResult<Vec<Table>> {
    let mut tables = catalog_tables(conn, None).await?;
    tables.retain(|table| scope.sees(table));
    Ok(tables)
}

/// The table called exactly `name`, if the scope sees it. NOT_FOUND both for a name the catalog
/// does not have and for a table out of scope, so existence cannot be probed.
pub async fn visible_table(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    name: &str,
) -> AppResult<Table> {
    let not_found = || AppError::not_found("table not found");
    // Names the catalog cannot hold are not asked about (a NUL would fail as bad text).
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.contains('\0') {
        return Err(not_found());
    }
    catalog_tables(conn, Some(name))
        .await?
        .into_iter()
        .find(|table| table.name == name && scope.sees(table))
        .ok_or_else(not_found)
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Integer)]
    position: i32,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// The exact number of rows of each table the scope sees, in the order given, in one statement.
pub async fn count_rows(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    tables: &[Table],
) -> AppResult<Vec<i64>> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let mut parts = Vec::with_capacity(tables.len());
    for (position, table) in tables.iter().enumerate() {
        parts.push(format!(
            "SELECT {position}::int4 AS position, count(*) AS count FROM {}{}",
            table.qualified_name(),
            scope.filter(table)?
        ));
    }
    let sql = parts.join(" UNION ALL ");
    let rows: Vec<CountRow> = match scope {
        Scope::All => diesel::sql_query(sql).load(conn).await?,
        Scope::Tenant(tenant_id) => {
            diesel::sql_query(sql)
                .bind::<SqlUuid, _>(tenant_id)
                .load(conn)
                .await?
        }
    };
    let mut counts = vec![0; tables.len()];
    for row in rows {
        if let Some(slot) = usize::try_from(row.position)
            .ok()
            .and_then(|i| counts.get_mut(i))
        {
            *slot = row.count;
        }
    }
    Ok(counts)
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Jsonb)]
    row_json: Value,
}

/// A page of the table's rows in scope, each as a JSON object keyed by column, ordered by the
/// primary key; and how many rows there are in scope.
pub async fn read_rows(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    table: &Table,
    page: PageRequest,
) -> AppResult<(i64, Vec<Value>)> {
    let from = table.qualified_name();
    let filter = scope.filter(table)?;
    let total = count_rows(conn, scope, std::slice::from_ref(table))
        .await?
        .into_iter()
        .next()
        .unwrap_or(0);
    // The row as one jsonb value works for every column type; `alias.*` is the whole row even
    // when a column shares the alias's name.
    let select = format!(
        "SELECT to_jsonb({ROW_ALIAS}.*) AS row_json FROM {from}{filter} ORDER BY {}",
        table.order_by()
    );
    let rows: Vec<JsonRow> = match scope {
        Scope::All => {
            diesel::sql_query(format!("{select} LIMIT $1 OFFSET $2"))
                .bind::<BigInt, _>(page.limit)
                .bind::<BigInt, _>(page.offset)
                .load(conn)
                .await?
        }
        Scope::Tenant(tenant_id) => {
            diesel::sql_query(format!("{select} LIMIT $2 OFFSET $3"))
                .bind::<SqlUuid, _>(tenant_id)
                .bind::<BigInt, _>(page.limit)
                .bind::<BigInt, _>(page.offset)
                .load(conn)
                .await?
        }
    };
    Ok((total, rows.into_iter().map(|r| r.row_json).collect()))
}

/// One column pair of a foreign key.
pub struct ForeignKeyRow {
    pub table_name: String,
    pub from_column: String,
    pub ref_schema: String,
    pub ref_table: String,
    pub ref_column: String,
    /// `pg_constraint.confupdtype`: a, r, c, n or d.
    pub on_update: String,
    /// `pg_constraint.confdeltype`.
    pub on_delete: String,
}

#[derive(QueryableByName)]
struct FkRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    from_column: String,
    #[diesel(sql_type = Text)]
    ref_schema: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    ref_column: String,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

/// Every foreign key of the tables of `public`, one row per column pair (a composite key gives
/// several), by table, constraint and column order. Keys cloned onto partitions are left out.
pub async fn foreign_keys(conn: &mut AsyncPgConnection) -> AppResult<Vec<ForeignKeyRow>> {
    let rows: Vec<FkRow> = diesel::sql_query(
        "SELECT c.relname::text AS table_name,
                fa.attname::text AS from_column,
                rn.nspname::text AS ref_schema,
                rc.relname::text AS ref_table,
                ra.attname::text AS ref_column,
                con.confupdtype::text AS on_update,
                con.confdeltype::text AS on_delete
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class rc ON rc.oid = con.confrelid
         JOIN pg_namespace rn ON rn.oid = rc.relnamespace
         CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(from_num, ref_num, ord)
         JOIN pg_attribute fa ON fa.attrelid = con.conrelid AND fa.attnum = k.from_num
         JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.ref_num
         WHERE con.contype = 'f' AND con.conparentid = 0 AND n.nspname = 'public'
         ORDER BY c.relname, con.conname, k.ord",
    )
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ForeignKeyRow {
            table_name: r.table_name,
            from_column: r.from_column,
            ref_schema: r.ref_schema,
            ref_table: r.ref_table,
            ref_column: r.ref_column,
            on_update: r.on_update,
            on_delete: r.on_delete,
        })
        .collect())
}

/// A referential action as SQL words.
pub fn action_words(code: &str) -> &'static str {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, key_position: Option<i32>) -> Column {
        Column {
            name: name.into(),
            type_name: "uuid".into(),
            type_category: "U".into(),
            key_position,
        }
    }

    fn table(tenant_owned: bool, columns: Vec<Column>) -> Table {
        Table {
            name: "odd\"name".into(),
            tenant_owned,
            columns,
        }
    }

    #[test]
    fn rows_are_ordered_by_the_primary_key_in_key_order() {
        let composite = table(
            true,
            vec![
                column("tenant_id", Some(2)),
                column("x", None),
                column("user\"id", Some(1)),
            ],
        );
        assert_eq!(
            composite.order_by(),
            "lg_row.\"user\"\"id\", lg_row.\"tenant_id\""
        );
        assert_eq!(table(false, vec![column("a", None)]).order_by(), "1");
        assert_eq!(
            composite.qualified_name(),
            "\"public\".\"odd\"\"name\" lg_row"
        );
    }

    #[test]
    fn a_tenant_scope_reaches_only_tenant_owned_tables() {
        let owned = table(true, vec![column("tenant_id", None)]);
        let global = table(false, vec![column("id", Some(1))]);
        let tenant = Scope::Tenant(Uuid::nil());
        assert!(tenant.sees(&owned) && !tenant.sees(&global));
        assert!(Scope::All.sees(&global));
        assert_eq!(
            tenant.filter(&owned).ok().as_deref(),
            Some(" WHERE lg_row.\"tenant_id\" = $1")
        );
        assert!(tenant.filter(&global).is_err());
        assert_eq!(Scope::All.filter(&global).ok().as_deref(), Some(""));
    }

    #[test]
    fn referential_actions_are_words() {
        assert_eq!(action_words("a"), "NO ACTION");
        assert_eq!(action_words("r"), "RESTRICT");
        assert_eq!(action_words("c"), "CASCADE");
        assert_eq!(action_words("n"), "SET NULL");
        assert_eq!(action_words("d"), "SET DEFAULT");
    }
}
