//! GraphQL: the tenant's live login sessions as ADMIN lists them (`activeSessions`,
//! `connections` and their `…Connection` fields in `operations`): newest first or most recently
//! active first, by offset or by cursor.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::accounts::service::SessionRow;
use crate::auth::Role;
use crate::context::ContextExt;
use crate::db::connection::{connection_type, page_of};
use crate::db::cursor::ConnectionArgs;
use crate::db::keyset::Window;
use crate::db::pagination::{PageRequest, page_type};
use crate::error::AppResult;
use crate::mud::characters::api::WorldCharacter;
use crate::mud::model::CharacterRow;
use crate::mud::sessions::store::{self, LiveSession, SessionKey, SessionOrder};

pub struct AdminSession {
    session: SessionRow,
    username: String,
    character: Option<CharacterRow>,
}

impl From<LiveSession> for AdminSession {
    fn from(live: LiveSession) -> Self {
        Self {
            session: live.session,
            username: live.username,
            character: live.character,
        }
    }
}

/// A live login session (seed 002's session rows).
#[Object]
impl AdminSession {
    /// The session's id (`kickSession` takes it).
    async fn session_id(&self) -> ID {
        ID(self.session.id.to_string())
    }

    /// The id of the signed-in user.
    async fn user_id(&self) -> ID {
        ID(self.session.user_id.to_string())
    }

    /// The signed-in user's username.
    async fn username(&self) -> &str {
        &self.username
    }

    /// The character the session plays, once it entered a world.
    async fn character_name(&self) -> Option<&str> {
        self.character.as_ref().map(|c| c.name.as_str())
    }

    /// The character the session plays, once it entered a world.
    async fn character(&self) -> Option<WorldCharacter> {
        self.character.clone().map(WorldCharacter)
    }

    /// When the user signed in.
    async fn created_at(&self) -> DateTime<Utc> {
        self.session.created_at
    }

    /// When the session was last active.
    async fn last_activity(&self) -> DateTime<Utc> {
        self.session.last_activity
    }

    /// Null: the session does not expire.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.session.expires_at
    }

    /// tui, browser or api.
    async fn client_type(&self) -> &str {
        &self.session.client_type
    }

    /// Seconds since the session was last active.
    async fn age_seconds(&self) -> i64 {
        (Utc::now() - self.session.last_activity)
            .num_seconds()
            .max(0)
    }
}

page_type! {
    /// A page of live login sessions.
    pub struct AdminSessionPage {
        total,
        sessions: Vec<AdminSession>,
    }
}

connection_type! {
    /// Live login sessions, a page at a time by cursor.
    pub struct AdminSessionConnection;
    /// A live login session and its cursor.
    pub struct AdminSessionEdge(AdminSession);
}

/// The live sessions `window` holds, in `order` (ADMIN).
async fn load_sessions(
    ctx: &Context<'_>,
    order: SessionOrder,
    window: &Window<SessionKey>,
) -> AppResult<(Option<i64>, Vec<LiveSession>)> {
    let viewer = ctx.viewer_with(Role::Admin)?;
    let mut conn = ctx.conn().await?;
    store::live_sessions(&mut conn, viewer.tenant_id, order, window).await
}

/// A page of the live sessions by offset, in `order`, with how many there are (ADMIN).
pub(super) async fn session_page(
    ctx: &Context<'_>,
    order: SessionOrder,
    offset: Option<i32>,
    limit: Option<i32>,
) -> AppResult<AdminSessionPage> {
    ctx.viewer_with(Role::Admin)?;
    let page = PageRequest::new(offset, limit)?;
    let (total, rows) = load_sessions(ctx, order, &Window::Offset(page)).await?;
    Ok(AdminSessionPage::new(
        total.unwrap_or_default(),
        page,
        rows.into_iter().map(AdminSession::from).collect(),
    ))
}

/// A page of the live sessions by cursor, in `order` (ADMIN). The cursors are bound to the
/// order: one from `activeSessionsConnection` does not work in `connectionsConnection`.
pub(super) async fn session_connection(
    ctx: &Context<'_>,
    order: SessionOrder,
    args: ConnectionArgs,
) -> AppResult<AdminSessionConnection> {
    ctx.viewer_with(Role::Admin)?;
    let cursors = ctx.cursors(format!("sessions/{order:?}"))?;
    let window = cursors.window(args)?;
    let (_, rows) = load_sessions(ctx, order, &Window::Keyset(window.clone())).await?;
    let key = |live: &LiveSession| order.key_of(&live.session);
    Ok(page_of(rows, &window, &cursors, key, AdminSession::from).into())
}
