//! Hand-written SQL that keeps its statement cacheable. `diesel::dsl::sql` and `sql_query`
//! mark every statement they appear in as not to be cached, so PostgreSQL parses and plans it
//! again on every request (a search, a page ranked by relevance, an entity's write). A
//! [`Fragment`] is static text around at most one bound value, and a [`NumberedStatement`] is a
//! whole statement whose `$n` placeholders are bound by number; both leave the prepared
//! statement cache to do its work, keyed by the statement's text.

use std::marker::PhantomData;

use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, TypedExpressionType, ValidGrouping,
    is_aggregate,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{SqlType, Text, Untyped};

/// A piece of SQL of type `ST`: `text`, then (when given) one bound text value, then `after`.
#[derive(Debug, Clone)]
pub struct Fragment<ST> {
    text: String,
    bound: Option<String>,
    after: &'static str,
    sql_type: PhantomData<ST>,
}

impl<ST> Fragment<ST> {
    /// Text alone.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            bound: None,
            after: "",
            sql_type: PhantomData,
        }
    }

    /// `text`, a bound text value, `after`: `ts_rank(entities.search, to_tsquery('simple', `
    /// `$1` `))`.
    pub fn around(text: impl Into<String>, bound: String, after: &'static str) -> Self {
        Self {
            text: text.into(),
            bound: Some(bound),
            after,
            sql_type: PhantomData,
        }
    }
}

impl<ST: SqlType + TypedExpressionType> Expression for Fragment<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Fragment<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(&self.text);
        if let Some(bound) = &self.bound {
            out.push_bind_param::<Text, _>(bound)?;
        }
        out.push_sql(self.after);
        Ok(())
    }
}

impl<ST> QueryId for Fragment<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> AppearsOnTable<QS> for Fragment<ST> where Self: Expression {}

impl<ST, QS> SelectableExpression<QS> for Fragment<ST> where Self: Expression {}

impl<ST, GB> ValidGrouping<GB> for Fragment<ST> {
    type IsAggregate = is_aggregate::Never;
}

/// Binds the value a [`NumberedStatement`]'s text numbers `$n`.
pub trait NumberedBinds: Send {
    fn bind<'b>(&'b self, number: usize, out: AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

/// A whole statement whose text names its parameters `$1`, `$2`…, each as often as it needs
/// them; `binds` gives the value of each number. Loaded like `sql_query` (rows by name), but
/// cached as a prepared statement.
pub struct NumberedStatement<B> {
    pub text: &'static str,
    pub binds: B,
}

impl<B: NumberedBinds> QueryFragment<Pg> for NumberedStatement<B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = self.text;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let number = rest[at + 1..at + 1 + digits].parse().map_err(|_| {
                diesel::result::Error::QueryBuilderError("a `$` without a parameter number".into())
            })?;
            self.binds.bind(number, out.reborrow())?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl<B> QueryId for NumberedStatement<B> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> Query for NumberedStatement<B> {
    type SqlType = Untyped;
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::Integer;

    struct Two(i32, String);

    impl NumberedBinds for Two {
        fn bind<'b>(&'b self, number: usize, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            match number {
                1 => out.push_bind_param::<Integer, _>(&self.0),
                2 => out.push_bind_param::<Text, _>(&self.1),
                _ => Err(diesel::result::Error::QueryBuilderError(
                    "no such parameter".into(),
                )),
            }
        }
    }

    #[test]
    fn fragments_and_numbered_statements_stay_cacheable() {
        let statement = NumberedStatement {
            text: "SELECT $1, $2 WHERE $1 > 0",
            binds: Two(7, "x".into()),
        };
        assert!(statement.is_safe_to_cache_prepared(&Pg).unwrap());
        // Each use of a number is bound where it stands.
        let sql = diesel::debug_query::<Pg, _>(&statement).to_string();
        assert!(sql.starts_with("SELECT $1, $2 WHERE $3 > 0"), "{sql}");
        assert!(sql.contains("[7, \"x\", 7]"), "{sql}");

        let rank = Fragment::<Text>::around("lower(", "Rusty".into(), ")");
        assert!(rank.is_safe_to_cache_prepared(&Pg).unwrap());
        // What this module is for: diesel's own hand-written SQL turns the cache off.
        assert!(
            !diesel::dsl::sql::<Text>("1")
                .is_safe_to_cache_prepared(&Pg)
                .unwrap()
        );

        let unknown = NumberedStatement {
            text: "SELECT $3",
            binds: Two(1, String::new()),
        };
        // A number without a value is an error of the query, never a panic.
        let mut text = String::new();
        let shown = std::fmt::write(
            &mut text,
            format_args!("{}", diesel::debug_query::<Pg, _>(&unknown)),
        );
        assert!(shown.is_err());
    }
}
