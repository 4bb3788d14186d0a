//! Text as every store needs it: what PostgreSQL can store (`validate_text`, the markdown
//! limit), case-folding and LIKE patterns.

use diesel::sql_types::Text;

use crate::error::{AppError, AppResult};

/// Longest markdown body, in characters (it is indexed for search, and diffed).
pub const MAX_MARKDOWN_CHARS: usize = 200_000;

diesel::define_sql_function! {
    /// PostgreSQL's `lower`, for case-insensitive matches and orders (indexes on `lower(…)`
    /// serve them).
    fn lower(x: Text) -> Text;
}

/// Text PostgreSQL can store (no NUL characters) of at most `max_chars` characters.
pub fn validate_text(field: &'static str, text: &str, max_chars: usize) -> AppResult<()> {
    if text.contains('\0') {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` must not contain NUL characters"),
        ));
    }
    if text.chars().count() > max_chars {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` must have at most {max_chars} characters"),
        ));
    }
    Ok(())
}

/// Escapes LIKE wildcards so a search for "50%" means those characters.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(super::escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
