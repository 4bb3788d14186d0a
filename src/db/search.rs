//! Full-text search: a user's words become a PostgreSQL `tsquery` in which every word also
//! matches as a prefix ("rust" finds "Rusty"), for any table with a generated `search` column
//! (entities, notes, assets).

use diesel::BoxableExpression;
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Float};

use super::fragment::Fragment;

use crate::db::schema::entities;
use crate::error::{AppError, AppResult};

/// At most this many words of a query are used.
const MAX_TERMS: usize = 16;

/// A parsed search: only letters and digits reach PostgreSQL, so no input can break the
/// tsquery syntax.
#[derive(Clone, Debug)]
pub struct TsQuery(String);

impl TsQuery {
    /// None when the text has no searchable word (an empty search filters nothing).
    pub fn parse(text: &str) -> Option<Self> {
        let terms: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .take(MAX_TERMS)
            .map(|word| format!("{}:*", word.to_lowercase()))
            .collect();
        (!terms.is_empty()).then(|| Self(terms.join(" & ")))
    }

    /// Like `parse`, but a search with no searchable word is BAD_USER_INPUT.
    pub fn require(field: &'static str, text: &str) -> AppResult<Self> {
        Self::parse(text).ok_or_else(|| {
            AppError::bad_field(
                field,
                "the search must contain at least one letter or digit",
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self) -> Box<dyn BoxableExpression<entities::table, Pg, SqlType = Bool>> {
        self.matches_on("entities")
    }

    /// The condition that `table`'s generated `search` column matches this query (entities,
    /// notes and assets each have one).
    pub fn matches_on<QS>(
        &self,
        table: &'static str,
    ) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
        Box::new(Fragment::<Bool>::around(
            format!("{table}.search @@ to_tsquery('simple', "),
            self.0.clone(),
            ")",
        ))
    }

    pub fn rank(&self) -> Box<dyn BoxableExpression<entities::table, Pg, SqlType = Float>> {
        Box::new(Fragment::<Float>::around(
            "ts_rank(entities.search, to_tsquery('simple', ",
            self.0.clone(),
            "))",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::TsQuery;

    #[test]
    fn words_become_prefix_terms_and_syntax_is_dropped() {
        assert_eq!(
            TsQuery::parse("Rust  harbor").unwrap().as_str(),
            "rust:* & harbor:*"
        );
        assert_eq!(TsQuery::parse("a'|!(b)").unwrap().as_str(), "a:* & b:*");
        assert!(TsQuery::parse(" &|! ").is_none());
    }
}
