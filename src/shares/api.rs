//! GraphQL of share links: making, listing and revoking them (members), and opening one
//! without an account (`sharedWith`).

use async_graphql::{Context, ID, InputObject, Json, Object};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::model::{ShareKind, ShareRow};
use super::service::{self, ShareInput};
use crate::accounts::api::User;
use crate::context::ContextExt;
use crate::db::pagination::{PageRequest, page_type};
use crate::db::parse_id;
use crate::entities::api::{Entity, EntityRefInput, EntityStatus, EntityType};
use crate::entities::service::EntityRow;
use crate::error::AppResult;
use crate::teams::api::Team;

/// The URL of a share's public page of JSON, when the server knows its own address.
fn url_of(ctx: &Context<'_>, code: &str) -> Option<String> {
    ctx.platform()
        .public_base(&ctx.auth().client)
        .ok()
        .map(|base| format!("{}/api/share/{code}", base.trim_end_matches('/')))
}

pub struct Share(pub ShareRow);

/// A share link of the tenant, as its creator, its team and ADMINs see it.
#[Object]
impl Share {
    /// The share's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What it shows.
    async fn kind(&self) -> ShareKind {
        self.0.kind()
    }

    /// Its title, shown to whoever opens it.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The code that opens it (`GET /api/share/{code}`, `sharedWith(code:)`).
    async fn code(&self, ctx: &Context<'_>) -> String {
        service::code_of(ctx.platform(), self.0.id)
    }

    /// Its public URL, when the server knows its own address.
    async fn url(&self, ctx: &Context<'_>) -> Option<String> {
        url_of(ctx, &service::code_of(ctx.platform(), self.0.id))
    }

    /// The type a TYPE share shows.
    async fn entity_type(&self) -> Option<EntityType> {
        self.0
            .entity_type
            .as_deref()
            .and_then(EntityType::from_slug)
    }

    /// The entities an ENTITY or ENTITIES share shows (those since deleted are left out).
    async fn entities(&self, ctx: &Context<'_>) -> AppResult<Vec<Entity>> {
        Entity::live_many(ctx, &self.0.entity_row_ids).await
    }

    /// The team it was made for, if any.
    async fn team(&self, ctx: &Context<'_>) -> AppResult<Option<Team>> {
        match self.0.team_id {
            Some(id) => Team::load(ctx, id).await,
            None => Ok(None),
        }
    }

    /// Whether it needs a password to open.
    async fn password_protected(&self) -> bool {
        self.0.password_hash.is_some()
    }

    /// Who made it.
    async fn created_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        User::load(ctx, self.0.created_by).await
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// Neither revoked nor expired.
    async fn active(&self) -> bool {
        self.0.is_open()
    }

    /// How many times it was opened.
    async fn access_count(&self) -> i64 {
        self.0.access_count
    }

    /// When it was last opened.
    async fn last_accessed_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_accessed_at
    }
}

page_type! {
    /// A page of share links.
    pub struct SharePage { total, shares: Vec<Share> }
}

/// What to share: `entities` (1 to 100), or a whole `entityType`.
#[derive(InputObject)]
pub struct CreateShareInput {
    /// The entities to share, by type and id.
    #[graphql(default)]
    pub entities: Vec<EntityRefInput>,
    /// A type whose every live entity is shared (as they are when the link is opened).
    pub entity_type: Option<EntityType>,
    /// A title shown to whoever opens it: up to 200 characters.
    pub title: Option<String>,
    /// When it stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
    /// A password (8 characters or more) it needs to open; none when absent.
    pub password: Option<String>,
    /// The team it is made for, whose members may see and revoke it (you must be in it).
    pub team_id: Option<ID>,
}

pub struct SharedEntity(pub EntityRow);

/// An entity as a share shows it: its content, nothing about who wrote it.
#[Object]
impl SharedEntity {
    /// The entity's type.
    async fn entity_type(&self) -> EntityType {
        self.0.kind()
    }

    /// The entity's id within its type.
    async fn entity_id(&self) -> &str {
        &self.0.entity_id
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Its status.
    async fn status(&self) -> Option<EntityStatus> {
        EntityStatus::from_slug(&self.0.status)
    }

    /// Its fields, as its template arranges them.
    async fn fields(&self) -> Json<Value> {
        Json(self.0.fields.value().clone())
    }

    /// Its markdown body.
    async fn markdown_body(&self) -> &str {
        &self.0.markdown_body
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

page_type! {
    /// A page of shared entities, by name.
    pub struct SharedEntityPage { total, entities: Vec<SharedEntity> }
}

pub struct SharedContent(pub ShareRow);

/// What a share link opens onto.
#[Object]
impl SharedContent {
    /// What it shows.
    async fn kind(&self) -> ShareKind {
        self.0.kind()
    }

    /// Its title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The type a TYPE share shows.
    async fn entity_type(&self) -> Option<EntityType> {
        self.0
            .entity_type
            .as_deref()
            .and_then(EntityType::from_slug)
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// A page of what it shows, by name (of one type, when asked).
    async fn entities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entities of this type.")] r#type: Option<EntityType>,
        #[graphql(desc = "How many to skip: 0 to 10,000, 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<SharedEntityPage> {
        let page = PageRequest::new(offset, limit)?;
        let (total, rows) = service::entities_of(ctx.platform(), &self.0, r#type, page).await?;
        Ok(SharedEntityPage::new(
            total,
            page,
            rows.into_iter().map(SharedEntity).collect(),
        ))
    }
}

#[derive(Default)]
pub struct ShareQuery;

#[Object]
impl ShareQuery {
    /// The share links you may manage, newest first: those you made and your teams' (every
    /// one, for an ADMIN).
    async fn shares(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to skip: 0 to 10,000, 0 when absent.")] offset: Option<i32>,
        #[graphql(desc = "How many to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<SharePage> {
        let viewer = ctx.viewer()?;
        let page = PageRequest::new(offset, limit)?;
        let mut conn = ctx.conn().await?;
        let (total, rows) = service::list(&mut conn, viewer, page).await?;
        Ok(SharePage::new(
            total,
            page,
            rows.into_iter().map(Share).collect(),
        ))
    }

    /// Opens a share link; no account needed. An unknown, expired or revoked code is
    /// NOT_FOUND; a missing or wrong password UNAUTHENTICATED. Rate-limited per address.
    async fn shared_with(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The share's code.")] code: String,
        #[graphql(desc = "Its password, when it has one.")] password: Option<String>,
    ) -> AppResult<SharedContent> {
        // For whoever holds the link now: no cache may keep the answer.
        ctx.append_http_header(axum::http::header::CACHE_CONTROL, "no-store");
        let share = service::open(
            ctx.platform(),
            &code,
            password.as_deref(),
            &ctx.auth().client,
        )
        .await?;
        Ok(SharedContent(share))
    }
}

#[derive(Default)]
pub struct ShareMutation;

#[Object]
impl ShareMutation {
    /// Makes a read-only share link of entities or a whole type (WORLDBUILDER, CREATE_SHARES).
    async fn create_share(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to share and how.")] input: CreateShareInput,
    ) -> AppResult<Share> {
        let viewer = ctx.viewer()?;
        let team_id = input
            .team_id
            .as_ref()
            .map(|id| parse_id("teamId", id))
            .transpose()?;
        let input = ShareInput {
            entities: input
                .entities
                .into_iter()
                .map(|entity| (entity.r#type, entity.entity_id))
                .collect(),
            entity_type: input.entity_type,
            title: input.title,
            expires_at: input.expires_at,
            password: input.password,
            team_id,
        };
        let mut conn = ctx.conn().await?;
        let (row, _) = service::create(ctx.platform(), &mut conn, viewer, input).await?;
        Ok(Share(row))
    }

    /// Revokes a share link (its creator, its team or an ADMIN): it stops working at once.
    async fn revoke_share(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The share's id.")] id: ID,
    ) -> AppResult<Share> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let mut conn = ctx.conn().await?;
        Ok(Share(service::revoke(&mut conn, viewer, id).await?))
    }
}
