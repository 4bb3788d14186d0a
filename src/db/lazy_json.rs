//! A `jsonb` column read as text and parsed on first use. Lists and resolved references load
//! whole rows, but most requests never look at a row's JSON (a page of names, the faction each
//! one belongs to); parsing every document up front was the largest cost of such a page.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Jsonb;
use serde_json::Value;

/// The jsonb wire format: a version byte, then the document as text.
const JSONB_VERSION: u8 = 1;

#[derive(FromSqlRow)]
pub struct LazyJson {
    text: Box<str>,
    parsed: OnceLock<Value>,
}

impl LazyJson {
    /// The document, parsed the first time it is asked for. PostgreSQL only stores valid JSON,
    /// so the parse cannot fail on what it sends; should it ever, the document reads as null
    /// rather than failing a whole page.
    pub fn value(&self) -> &Value {
        self.parsed
            .get_or_init(|| serde_json::from_str(&self.text).unwrap_or(Value::Null))
    }
}

impl Deref for LazyJson {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl Clone for LazyJson {
    fn clone(&self) -> Self {
        Self {
            text: self.text.clone(),
            parsed: self.parsed.clone(),
        }
    }
}

impl fmt::Debug for LazyJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromSql<Jsonb, Pg> for LazyJson {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let bytes = value.as_bytes();
        let Some((&JSONB_VERSION, document)) = bytes.split_first() else {
            return Err("unsupported jsonb encoding version".into());
        };
        Ok(Self {
            text: std::str::from_utf8(document)?.into(),
            parsed: OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lazy(text: &str) -> LazyJson {
        LazyJson {
            text: text.into(),
            parsed: OnceLock::new(),
        }
    }

    #[test]
    fn reads_as_the_document_it_holds() {
        let fields = lazy(r#"{"faction": "f00001", "age": 61}"#);
        assert_eq!(fields["faction"], "f00001");
        assert_eq!(*fields, serde_json::json!({"age": 61, "faction": "f00001"}));
    }
}
