//! GraphQL of API connections beyond the library's reads and delete: creating and changing
//! them (with their keys), a test call, and the models a connection offers.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::service::{self, ConnectionUpdate, KeyChange};
use super::{ApiConnection, ApiConnectionBody, LlmProvider};
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::{parse_id, validate_text};
use crate::error::{AppError, AppResult};
use crate::llm::service::{self as llm, ChatRequest, LlmRuntime, Message, Role as Speaker};
use crate::story::loaders::StoryLoaders;

/// A new API connection.
#[derive(InputObject)]
pub struct CreateApiConnectionInput {
    /// Its name in lists: 1 to 200 characters.
    pub display_name: String,
    /// The wire protocol (ignored with `useStudioKey`: the studio's).
    #[graphql(default_with = "LlmProvider::OpenaiCompatible")]
    pub provider: LlmProvider,
    /// Where calls go (`https://api.openai.com/v1`); not with `useStudioKey`.
    pub base_url: Option<String>,
    /// The provider's key, sealed at rest and never shown again; none for a local server.
    pub api_key: Option<String>,
    /// The model to ask.
    pub model: String,
    /// Call the studio's provider with the studio's key instead (metered in BrainBits).
    #[graphql(default)]
    pub use_studio_key: bool,
}

/// A change to an API connection: only what is given changes.
#[derive(InputObject, Default)]
pub struct UpdateApiConnectionInput {
    /// A new name: 1 to 200 characters.
    pub display_name: Option<String>,
    /// Another wire protocol.
    pub provider: Option<LlmProvider>,
    /// Another base URL.
    pub base_url: Option<String>,
    /// A new key (replacing the one kept).
    pub api_key: Option<String>,
    /// Forget the key kept.
    #[graphql(default)]
    pub remove_api_key: bool,
    /// Another model.
    pub model: Option<String>,
}

/// A model's answer to a call, and what the call cost.
#[derive(SimpleObject)]
pub struct ModelReply {
    /// The answer.
    pub text: String,
    /// The model asked.
    pub model: String,
    /// Tokens of the prompt, as the provider counted them (null when it did not say).
    pub prompt_tokens: Option<u32>,
    /// Tokens of the answer, as the provider counted them (null when it did not say).
    pub completion_tokens: Option<u32>,
    /// Why the model stopped, in the provider's words.
    pub finish_reason: Option<String>,
    /// Attempts the call took (retries after rate limits and failures).
    pub attempts: u32,
    /// Whether the call was metered.
    pub metered: bool,
    /// BrainBits taken for it (0 when not metered).
    pub charged: i64,
    /// The tenant's BrainBits balance afterwards.
    pub balance: i64,
}

/// A model a connection offers.
#[derive(SimpleObject)]
pub struct LlmModel {
    /// The id to put in a connection's `model`.
    pub id: String,
    /// The provider's name for it, when it has one besides the id.
    pub display_name: Option<String>,
}

#[derive(Default)]
pub struct ApiConnectionCalls;

#[Object]
impl ApiConnectionCalls {
    /// The models an API connection offers, as its provider lists them (WORLDBUILDER and above).
    async fn list_models(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The API connection's id.")] api_connection_id: ID,
    ) -> AppResult<Vec<LlmModel>> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("apiConnectionId", &api_connection_id)?;
        let mut conn = ctx.conn().await?;
        let target = service::target(ctx.platform(), &mut conn, viewer, id).await?;
        drop(conn);
        let runtime = ctx.part::<Arc<LlmRuntime>>()?;
        let listed = llm::list_models(runtime, &target).await;
        service::record(ctx.platform(), viewer, id, &listed).await;
        Ok(listed?
            .into_iter()
            .map(|model| LlmModel {
                id: model.id,
                display_name: model.display_name,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct ApiConnectionWrites;

#[Object]
impl ApiConnectionWrites {
    /// Creates an API connection (WORLDBUILDER and above); its key is sealed and never shown
    /// again.
    async fn create_api_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new connection.")] input: CreateApiConnectionInput,
    ) -> AppResult<ApiConnection> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let body = ApiConnectionBody {
            provider: input.provider,
            base_url: input.base_url,
            model: input.model,
            uses_studio_key: input.use_studio_key,
        };
        let mut conn = ctx.conn().await?;
        let stored = service::create(
            ctx.platform(),
            &mut conn,
            viewer,
            &input.display_name,
            body,
            input.api_key,
        )
        .await?;
        Ok(stored.into())
    }

    /// Changes an API connection (WORLDBUILDER and above).
    async fn update_api_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
        #[graphql(desc = "Change it only if it is still at this version (CONFLICT otherwise).")]
        expected_version: Option<i32>,
        #[graphql(desc = "The changes; what is absent stays.")] input: UpdateApiConnectionInput,
    ) -> AppResult<ApiConnection> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("id", &id)?;
        let key = match (input.api_key, input.remove_api_key) {
            (Some(_), true) => {
                return Err(AppError::bad_input(
                    "give either `apiKey` or `removeApiKey`, not both",
                ));
            }
            (Some(key), false) => KeyChange::Set(key),
            (None, true) => KeyChange::Remove,
            (None, false) => KeyChange::Keep,
        };
        let update = ConnectionUpdate {
            display_name: input.display_name,
            provider: input.provider,
            base_url: input.base_url,
            model: input.model,
            key,
        };
        let mut conn = ctx.conn().await?;
        let stored = service::update(
            ctx.platform(),
            &mut conn,
            viewer,
            id,
            expected_version,
            update,
        )
        .await?;
        ctx.loaders::<StoryLoaders>().forget();
        Ok(stored.into())
    }

    /// Sends a short prompt through an API connection and returns the answer with its usage
    /// and cost (WORLDBUILDER and above; metered like every call on the studio's provider).
    async fn test_api_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its id.")] id: ID,
        #[graphql(desc = "What to ask (up to 2,000 characters); a greeting when absent.")]
        prompt: Option<String>,
    ) -> AppResult<ModelReply> {
        let viewer = ctx.viewer_with(Role::Worldbuilder)?;
        let id = parse_id("id", &id)?;
        let prompt = prompt.unwrap_or_else(|| "Reply with one short greeting.".into());
        validate_text("prompt", &prompt, 2_000)?;
        let request = ChatRequest {
            messages: vec![Message::new(Speaker::User, prompt)],
            temperature: Some(0.0),
            max_tokens: Some(64),
            json: false,
        };
        let runtime = ctx.part::<Arc<LlmRuntime>>()?;
        let (reply, model) = service::call(
            ctx.platform(),
            runtime,
            viewer,
            id,
            &request,
            "api_connection_test",
        )
        .await?;
        let usage = reply.completion.usage;
        Ok(ModelReply {
            text: reply.completion.text,
            model,
            prompt_tokens: usage.map(|u| u.prompt_tokens),
            completion_tokens: usage.map(|u| u.completion_tokens),
            finish_reason: reply.completion.finish_reason,
            attempts: reply.completion.attempts,
            metered: reply.metered,
            charged: reply.charged,
            balance: reply.balance,
        })
    }
}
