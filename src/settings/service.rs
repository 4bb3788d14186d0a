//! What other domains ask of settings (a person's own provider key, for a call they make), and
//! the rules of the settings document: its known keys and what each may hold.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::store;
use crate::error::{AppError, AppResult};

pub use super::keys::{open as provider_key, provider_of, slug as provider_slug};

/// How the apps look.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Light colours.
    Light,
    /// Dark colours.
    Dark,
    /// As the device is set.
    System,
}

/// A person's settings: every key optional, absent meaning the app's default.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub theme: Option<Theme>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    /// A provider slug (`openai_compatible`, `anthropic`, `ollama`).
    pub default_ai_provider: Option<String>,
    pub default_model: Option<String>,
    pub editor_font_size: Option<i32>,
    pub reduce_motion: Option<bool>,
    pub email_notifications: Option<bool>,
}

/// The keys a settings document may hold.
pub const KNOWN_KEYS: [&str; 8] = [
    "theme",
    "locale",
    "timezone",
    "defaultAiProvider",
    "defaultModel",
    "editorFontSize",
    "reduceMotion",
    "emailNotifications",
];

/// The stored settings (defaults before any change) and when they last changed.
pub async fn get(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> AppResult<(Settings, Option<DateTime<Utc>>)> {
    Ok(match store::settings(conn, user_id).await? {
        // A key this server no longer knows is ignored, never an error.
        Some((document, at)) => (
            serde_json::from_value(document).unwrap_or_default(),
            Some(at),
        ),
        None => (Settings::default(), None),
    })
}

/// Changes some keys (a null removes one, back to its default); every key is checked first,
/// and the change is one statement.
pub async fn update(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    patch: Map<String, Value>,
) -> AppResult<(Settings, DateTime<Utc>)> {
    for (key, value) in &patch {
        check(key, value)?;
    }
    let (document, at) = store::merge_settings(conn, user_id, &Value::Object(patch)).await?;
    Ok((serde_json::from_value(document).unwrap_or_default(), at))
}

fn check(key: &str, value: &Value) -> AppResult<()> {
    if value.is_null() {
        return if KNOWN_KEYS.contains(&key) {
            Ok(())
        } else {
            Err(unknown(key))
        };
    }
    let text = value.as_str();
    let fine = match key {
        "theme" => serde_json::from_value::<Theme>(value.clone()).is_ok(),
        "locale" => text.is_some_and(is_language_tag),
        "timezone" => text.is_some_and(is_time_zone),
        "defaultAiProvider" => text.and_then(provider_of).is_some(),
        "defaultModel" => text.is_some_and(|t| {
            let t = t.trim();
            !t.is_empty() && t.chars().count() <= 200 && !t.chars().any(char::is_control)
        }),
        "editorFontSize" => value.as_i64().is_some_and(|size| (8..=48).contains(&size)),
        "reduceMotion" | "emailNotifications" => value.is_boolean(),
        _ => return Err(unknown(key)),
    };
    if fine {
        Ok(())
    } else {
        Err(AppError::bad_field(
            "input",
            format!("`{key}` {}", expectation(key)),
        ))
    }
}

fn unknown(key: &str) -> AppError {
    AppError::bad_field(
        "input",
        format!(
            "`{key}` is not a setting; the settings are {}",
            KNOWN_KEYS.join(", ")
        ),
    )
}

fn expectation(key: &str) -> &'static str {
    match key {
        "locale" => "is a language tag such as en, en-GB or pt-BR",
        "timezone" => "is a time zone name such as UTC or Europe/Paris",
        "defaultModel" => "is 1 to 200 printable characters",
        "editorFontSize" => "is 8 to 48",
        _ => "has a value it cannot take",
    }
}

/// A BCP 47 tag as apps use them: a 2- or 3-letter language, then subtags of 2 to 8 letters or
/// digits (`en`, `en-GB`, `zh-Hant-TW`), 35 characters at most.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    tag.len() <= 35
        && language_ok
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// An IANA time zone name's shape (`UTC`, `Europe/Paris`, `America/Argentina/Buenos_Aires`,
/// `Etc/GMT+3`), 64 characters at most.
fn is_time_zone(zone: &str) -> bool {
    zone.len() <= 64
        && zone.split('/').all(|part| {
            !part.is_empty()
                && part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_and_time_zones_are_checked_by_shape() {
        for good in ["en", "en-GB", "pt-BR", "zh-Hant-TW"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in ["", "e", "english", "en_GB", "en--GB", "en-G"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
        for good in [
            "UTC",
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+3",
        ] {
            assert!(is_time_zone(good), "{good}");
        }
        for bad in ["", "/Paris", "Europe/", "Europe/../etc", "Europe Paris"] {
            assert!(!is_time_zone(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(check("theme", &Value::from("dark")).is_ok());
        assert!(check("theme", &Value::from("neon")).is_err());
        assert!(check("editorFontSize", &Value::from(100)).is_err());
        assert!(check("favouriteColour", &Value::from("red")).is_err());
        assert!(check("favouriteColour", &Value::Null).is_err());
        assert!(check("locale", &Value::Null).is_ok());
    }
}
