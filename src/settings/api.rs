//! GraphQL of a person's own settings and AI provider keys: theirs alone, in any tenant (and in
//! a session in no tenant).

use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::keys;
use super::service::{self, Settings, Theme};
use super::store::ProviderKeyRow;
use crate::context::ContextExt;
use crate::error::AppResult;
use crate::story::api::LlmProvider;

pub struct UserSettings {
    settings: Settings,
    updated_at: Option<DateTime<Utc>>,
}

/// Your settings; a setting never changed is null (the app's default).
#[Object]
impl UserSettings {
    /// How the apps look.
    async fn theme(&self) -> Option<Theme> {
        self.settings.theme
    }

    /// The language and region the apps speak (a BCP 47 tag such as `en-GB`).
    async fn locale(&self) -> Option<&str> {
        self.settings.locale.as_deref()
    }

    /// The time zone times are shown in (an IANA name such as `Europe/Paris`).
    async fn timezone(&self) -> Option<&str> {
        self.settings.timezone.as_deref()
    }

    /// The AI provider the apps offer first.
    async fn default_ai_provider(&self) -> Option<LlmProvider> {
        self.settings
            .default_ai_provider
            .as_deref()
            .and_then(service::provider_of)
            .map(LlmProvider::of)
    }

    /// The model the apps offer first.
    async fn default_model(&self) -> Option<&str> {
        self.settings.default_model.as_deref()
    }

    /// The editor's font size, 8 to 48.
    async fn editor_font_size(&self) -> Option<i32> {
        self.settings.editor_font_size
    }

    /// Fewer animations.
    async fn reduce_motion(&self) -> Option<bool> {
        self.settings.reduce_motion
    }

    /// Mail about your account and your studios.
    async fn email_notifications(&self) -> Option<bool> {
        self.settings.email_notifications
    }

    /// When they last changed; null if they never have.
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
}

/// Changes to your settings: an absent field stays, a null one goes back to its default.
#[derive(InputObject)]
pub struct UserSettingsInput {
    /// How the apps look.
    theme: MaybeUndefined<Theme>,
    /// A BCP 47 tag such as `en`, `en-GB` or `pt-BR`.
    locale: MaybeUndefined<String>,
    /// An IANA time zone name such as `UTC` or `Europe/Paris`.
    timezone: MaybeUndefined<String>,
    /// The AI provider the apps offer first.
    default_ai_provider: MaybeUndefined<LlmProvider>,
    /// The model the apps offer first: 1 to 200 characters.
    default_model: MaybeUndefined<String>,
    /// The editor's font size: 8 to 48.
    editor_font_size: MaybeUndefined<i32>,
    /// Fewer animations.
    reduce_motion: MaybeUndefined<bool>,
    /// Mail about your account and your studios.
    email_notifications: MaybeUndefined<bool>,
}

impl UserSettingsInput {
    fn into_patch(self) -> Map<String, Value> {
        fn put<T: Serialize>(patch: &mut Map<String, Value>, key: &str, value: MaybeUndefined<T>) {
            match value {
                MaybeUndefined::Undefined => {}
                MaybeUndefined::Null => {
                    patch.insert(key.to_owned(), Value::Null);
                }
                MaybeUndefined::Value(value) => {
                    patch.insert(
                        key.to_owned(),
                        serde_json::to_value(value).unwrap_or(Value::Null),
                    );
                }
            }
        }
        let mut patch = Map::new();
        put(&mut patch, "theme", self.theme);
        put(&mut patch, "locale", self.locale);
        put(&mut patch, "timezone", self.timezone);
        let provider = self
            .default_ai_provider
            .map_value(|provider| service::provider_slug(provider.wire()));
        put(&mut patch, "defaultAiProvider", provider);
        put(&mut patch, "defaultModel", self.default_model);
        put(&mut patch, "editorFontSize", self.editor_font_size);
        put(&mut patch, "reduceMotion", self.reduce_motion);
        put(&mut patch, "emailNotifications", self.email_notifications);
        patch
    }
}

pub struct ProviderKey(ProviderKeyRow);

/// One of your own AI provider keys, as it is ever shown: its provider and last four
/// characters.
#[Object]
impl ProviderKey {
    /// The provider it is for.
    async fn provider(&self) -> Option<LlmProvider> {
        service::provider_of(&self.0.provider).map(LlmProvider::of)
    }

    /// Its last four characters.
    async fn last_four(&self) -> &str {
        &self.0.last_four
    }

    /// The origin it may be sent to; a connection elsewhere calls without it.
    async fn origin(&self) -> &str {
        keys::approved_origin(&self.0)
    }

    /// When it was first set.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last replaced.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct SettingsQuery;

#[Object]
impl SettingsQuery {
    /// Your settings.
    async fn user_settings(&self, ctx: &Context<'_>) -> AppResult<UserSettings> {
        let account = ctx.account()?;
        let mut conn = ctx.conn().await?;
        let (settings, updated_at) = service::get(&mut conn, account.user_id).await?;
        Ok(UserSettings {
            settings,
            updated_at,
        })
    }

    /// Your own AI provider keys: provider and last four characters, never the key.
    async fn provider_keys(&self, ctx: &Context<'_>) -> AppResult<Vec<ProviderKey>> {
        let account = ctx.account()?;
        let mut conn = ctx.conn().await?;
        Ok(keys::list(&mut conn, account.user_id)
            .await?
            .into_iter()
            .map(ProviderKey)
            .collect())
    }
}

#[derive(Default)]
pub struct SettingsMutation;

#[Object]
impl SettingsMutation {
    /// Changes your settings: absent fields stay, null ones go back to their defaults.
    async fn update_user_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The settings to change.")] input: UserSettingsInput,
    ) -> AppResult<UserSettings> {
        let account = ctx.account()?;
        let mut conn = ctx.conn().await?;
        let (settings, at) =
            service::update(&mut conn, account.user_id, input.into_patch()).await?;
        Ok(UserSettings {
            settings,
            updated_at: Some(at),
        })
    }

    /// Keeps your own key for a provider (replacing the one before), sealed at rest. Calls you
    /// make through a connection of that provider without a key of its own use it, and are not
    /// metered in BrainBits.
    async fn set_provider_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider the key is for.")] provider: LlmProvider,
        #[graphql(desc = "The key: 8 to 512 characters without spaces. Never shown again.")]
        key: String,
        #[graphql(
            desc = "Where the key may be sent: an https URL (or http to this machine); the \
                    provider's own address when absent (required for OLLAMA)."
        )]
        base_url: Option<String>,
    ) -> AppResult<ProviderKey> {
        let account = ctx.account()?;
        let mut conn = ctx.conn().await?;
        let row = keys::set(
            ctx.platform(),
            &mut conn,
            account.user_id,
            provider.wire(),
            &key,
            base_url.as_deref(),
        )
        .await?;
        Ok(ProviderKey(row))
    }

    /// Forgets your key for a provider; false when there was none.
    async fn delete_provider_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider whose key to forget.")] provider: LlmProvider,
    ) -> AppResult<bool> {
        let account = ctx.account()?;
        let mut conn = ctx.conn().await?;
        keys::delete(&mut conn, account.user_id, provider.wire()).await
    }
}
