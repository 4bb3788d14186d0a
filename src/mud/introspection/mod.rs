//! The database browser of seed 002's admin views ("view logs"): the tables, their columns and
//! foreign keys as the catalog has them, and their rows, page by page.
//!
//! What a viewer reaches is decided here, never by the request: a tenant ADMIN sees only
//! tenant-owned tables (those with a `tenant_id` column) and only their own tenant's rows in
//! them; a SUPERUSER sees every table of the `public` schema and every row. A table is named by
//! the caller but found in the catalog by a bound parameter, and only the catalog's own names
//! are ever put into SQL, quoted as identifiers. Secrets (password and token hashes, keys,
//! signing secrets) are shown cut to their first characters.

pub mod api;
pub mod store;

use serde_json::Value;

pub use api::IntrospectionQuery;

/// How many characters of a secret the browser shows.
const SECRET_PREFIX_CHARS: usize = 8;

/// Fragments of a column name that say it holds a secret, or something a secret can be
/// recovered or forged from.
const SECRET_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "salt",
    "credential",
    "private_key",
    "access_key",
    "api_key",
    "signing_key",
    "totp",
];

/// Whether a column is masked in the browser, decided by its name so that tables added later
/// are covered too: `*_hash`, `*password*`, `*secret*`, `*token*`, `*access_key*` and the like.
/// References (`*_id`) and columns of types that cannot carry a secret (booleans, numbers,
/// dates and times: PostgreSQL's type categories B, N, D and T) are shown as they are.
pub fn is_secret_column(name: &str, type_category: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let named = name == "hash"
        || name.ends_with("_hash")
        || SECRET_FRAGMENTS
            .iter()
            .any(|fragment| name.contains(fragment));
    let reference = name.ends_with("_id") || name.ends_with("_ids");
    let may_carry = !matches!(type_category, "B" | "N" | "D" | "T");
    named && !reference && may_carry
}

/// A secret cut to its first 8 characters and "…" (for `bytea`, 8 hex digits of its bytes),
/// and never to more than half of it, so a short secret is not shown whole; null stays null.
pub fn mask_secret(value: &Value, is_bytea: bool) -> Value {
    let text = match value {
        Value::Null => return Value::Null,
        Value::String(text) if is_bytea => text.strip_prefix("\\x").unwrap_or(text).to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let shown = SECRET_PREFIX_CHARS.min(text.chars().count() / 2);
    let prefix: String = text.chars().take(shown).collect();
    Value::String(format!("{prefix}…"))
}

/// An identifier as SQL spells it: in double quotes, with inner double quotes doubled (what
/// PostgreSQL's `quote_ident` always does).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_are_found_by_column_name() {
        for name in [
            "password_hash",
            "token_hash",
            "key_hash",
            "webhook_secret",
            "signing_secret",
            "client_secret",
            "access_key",
            "refresh_token",
            "api_key",
            "Password",
            "totp_seed",
            "hash",
        ] {
            assert!(is_secret_column(name, "S"), "{name} should be masked");
        }
        // A token may be a uuid, bytes or JSON as well as text.
        assert!(is_secret_column("reset_token", "U"));
        assert!(is_secret_column("token_hash", "U"));
        assert!(is_secret_column("secrets", "U"));
        assert!(is_secret_column("recovery_tokens", "A"));
    }

    #[test]
    fn ordinary_columns_are_shown() {
        for name in [
            "world_key",
            "room_key",
            "zone_key",
            "sha256",
            "prefix",
            "email",
            "name",
            "owner_key",
            "config",
        ] {
            assert!(!is_secret_column(name, "S"), "{name} should be shown");
        }
        // References to secrets and facts about them are not secrets.
        assert!(!is_secret_column("api_key_id", "U"));
        assert!(!is_secret_column("token_id", "U"));
        assert!(!is_secret_column("token_expires_at", "D"));
        assert!(!is_secret_column("tokens_used", "N"));
        assert!(!is_secret_column("password_set", "B"));
    }

    #[test]
    fn secrets_are_cut_to_eight_characters() {
        let hash = json!("$argon2id$v=19$m=19456,t=2,p=1$abcdefghijklmnop");
        assert_eq!(mask_secret(&hash, false), json!("$argon2i…"));
        let bytes = json!("\\x0123456789abcdef0123");
        assert_eq!(mask_secret(&bytes, true), json!("01234567…"));
        assert_eq!(mask_secret(&json!("short"), false), json!("sh…"));
        assert_eq!(mask_secret(&json!("x"), false), json!("…"));
        assert_eq!(mask_secret(&json!({"k": "v"}), false), json!("{\"k\"…"));
        assert_eq!(mask_secret(&Value::Null, true), Value::Null);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("worlds"), "\"worlds\"");
        assert_eq!(
            quote_ident("worlds\" ; DROP TABLE users --"),
            "\"worlds\"\" ; DROP TABLE users --\""
        );
    }
}
