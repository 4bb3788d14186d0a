//! Keyset pagination on the SQL side: which rows a list returns ([`Window`]: an offset page, or
//! the rows after (or before) a cursor's key), the row comparison `(a, b) < ($1, $2)` that
//! finds them on the list's index ([`RowCompare`]), and [`windowed!`], which applies a window
//! and the list's order to a boxed query.
//!
//! A keyset page costs the same at any depth: the index is entered at the cursor's key, where an
//! offset walks (and throws away) every row before it. The cursors themselves are made in
//! `db::cursor`; the GraphQL connection types in `db::connection`.

use diesel::expression::{AppearsOnTable, AsExpression, Expression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::Bool;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl;
use diesel_async::methods::LoadQuery;
use futures_util::future::BoxFuture;

use super::pagination::{PageRequest, load_page};
use crate::error::AppResult;

/// Which rows of a list to return.
#[derive(Clone, Debug)]
pub enum Window<K> {
    /// `limit` rows after skipping `offset` (small lists, and UIs that jump to page N).
    Offset(PageRequest),
    /// Rows beside a cursor's key.
    Keyset(Keyset<K>),
}

/// Up to `limit` rows after `key` in the list's order (or before it, `backward`); from the
/// list's start (or end) when there is no key. One row more is fetched, to tell whether the
/// list goes on.
#[derive(Clone, Debug)]
pub struct Keyset<K> {
    pub key: Option<K>,
    pub limit: i64,
    pub backward: bool,
}

impl<K> Keyset<K> {
    /// How many rows to fetch: the page and one more.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// The same window over another key type (a list whose key depends on its sort narrows
    /// its cursor's key to the sort's columns); a key that does not fit is the caller's error.
    pub fn try_map<T, E>(self, narrow: impl FnOnce(K) -> Result<T, E>) -> Result<Keyset<T>, E> {
        Ok(Keyset {
            key: self.key.map(narrow).transpose()?,
            limit: self.limit,
            backward: self.backward,
        })
    }
}

/// `(left…) <op> (right…)`: PostgreSQL compares rows element by element, so `(updated_at, id)
/// < ($1, $2)` is "comes after this key" in a descending list, and an index on
/// `(tenant_id, updated_at, id)` answers it by one descent.
#[derive(Debug, Clone)]
pub struct RowCompare<L, R> {
    left: L,
    right: R,
    op: &'static str,
}

impl<L, R> RowCompare<L, R> {
    /// Rows whose `columns` sort after `key` in a list ordered by those columns, descending
    /// (`before`: ascending), or before it.
    pub fn past<K>(columns: L, key: K, descending: bool, before: bool) -> Self
    where
        K: BindTo<L, Bound = R>,
    {
        Self {
            left: columns,
            right: key.bind(),
            op: if descending != before { "<" } else { ">" },
        }
    }
}

impl<L: Expression, R: Expression> Expression for RowCompare<L, R> {
    type SqlType = Bool;
}

impl<L: QueryFragment<Pg>, R: QueryFragment<Pg>> QueryFragment<Pg> for RowCompare<L, R> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("((");
        self.left.walk_ast(out.reborrow())?;
        out.push_sql(") ");
        out.push_sql(self.op);
        out.push_sql(" (");
        self.right.walk_ast(out.reborrow())?;
        out.push_sql("))");
        Ok(())
    }
}

// The operator is a value, so the statement has no static id: its SQL text is the cache key.
impl<L, R> QueryId for RowCompare<L, R> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<L, R, QS> AppearsOnTable<QS> for RowCompare<L, R>
where
    L: AppearsOnTable<QS>,
    R: AppearsOnTable<QS>,
{
}

impl<L, R, QS> diesel::expression::SelectableExpression<QS> for RowCompare<L, R>
where
    L: diesel::expression::SelectableExpression<QS>,
    R: diesel::expression::SelectableExpression<QS>,
{
}

impl<L, R> ValidGrouping<()> for RowCompare<L, R>
where
    L: ValidGrouping<()>,
    R: ValidGrouping<()>,
    L::IsAggregate: diesel::expression::MixedAggregates<R::IsAggregate>,
{
    type IsAggregate =
        <L::IsAggregate as diesel::expression::MixedAggregates<R::IsAggregate>>::Output;
}

/// A cursor's key as bound parameters of the SQL types of the columns it is compared with.
pub trait BindTo<Columns> {
    type Bound;
    fn bind(self) -> Self::Bound;
}

macro_rules! bind_tuple {
    ($(($column:ident, $value:ident, $index:tt)),+) => {
        impl<$($column,)+ $($value,)+> BindTo<($($column,)+)> for ($($value,)+)
        where
            $($column: Expression, $column::SqlType: diesel::sql_types::SqlType,
              $value: AsExpression<$column::SqlType>,)+
        {
            type Bound = ($(<$value as AsExpression<$column::SqlType>>::Expression,)+);
            fn bind(self) -> Self::Bound {
                ($(self.$index.as_expression(),)+)
            }
        }
    };
}

bind_tuple!((A, VA, 0), (B, VB, 1));
bind_tuple!((A, VA, 0), (B, VB, 1), (C, VC, 2));

/// Applies a [`Window`] and the list's order to a boxed query: an offset page in the list's
/// order, or the rows past the cursor's key (one more than the page, to tell whether the list
/// goes on). A keyset page going backward is fetched in reverse order;
/// `db::connection` turns it round.
///
/// ```text
/// windowed!(query, window, desc(notes::updated_at, notes::id))
/// windowed!(query, window, asc(lower(entities::name), entities::entity_id))
/// ```
///
/// The columns end with a unique one, so every key names one place in the list.
#[macro_export]
macro_rules! windowed {
    ($query:expr, $window:expr, desc($($column:expr),+ $(,)?)) => {
        $crate::windowed!(@apply $query, $window, true, desc, asc, ($($column),+))
    };
    ($query:expr, $window:expr, asc($($column:expr),+ $(,)?)) => {
        $crate::windowed!(@apply $query, $window, false, asc, desc, ($($column),+))
    };
    (@apply $query:expr, $window:expr, $descending:expr, $order:ident, $reverse:ident,
        ($($column:expr),+)) => {{
        let query = $query;
        match $window {
            $crate::db::keyset::Window::Offset(page) => query
                .order(($($column.$order(),)+))
                .offset(page.offset)
                .limit(page.limit),
            $crate::db::keyset::Window::Keyset(keyset) => {
                let query = match keyset.key.clone() {
                    Some(key) => query.filter($crate::db::keyset::RowCompare::past(
                        ($($column,)+),
                        key,
                        $descending,
                        keyset.backward,
                    )),
                    None => query,
                };
                let query = if keyset.backward {
                    query.order(($($column.$reverse(),)+))
                } else {
                    query.order(($($column.$order(),)+))
                };
                query.limit(keyset.fetch())
            }
        }
    }};
}

pub use crate::windowed;

/// Loads a windowed list: an offset page with its total (`total` counts the same filter; both
/// statements go out together), or a keyset page alone (no total: a cursor walk does not count).
/// Boxed for the reason [`load_page`] is.
pub fn load_window<'conn, K, Row, Rows, Total>(
    conn: &'conn mut AsyncPgConnection,
    window: &Window<K>,
    rows: Rows,
    total: Total,
) -> BoxFuture<'conn, AppResult<(Option<i64>, Vec<Row>)>>
where
    Row: Send + 'conn,
    Rows: LoadQuery<'conn, &'conn AsyncPgConnection, Row> + Send + 'conn,
    Total: LoadQuery<'conn, &'conn AsyncPgConnection, i64> + Send + 'conn,
{
    match window {
        Window::Offset(_) => {
            let page = load_page(conn, rows, total);
            Box::pin(async move {
                let (total, rows) = page.await?;
                Ok((Some(total), rows))
            })
        }
        Window::Keyset(_) => {
            let shared: &'conn AsyncPgConnection = conn;
            Box::pin(async move {
                let mut conn = shared;
                Ok((None, rows.load(&mut conn).await?))
            })
        }
    }
}
