//! The rules of share links. A share's code is its id and a tag the server computes from it
//! under its signing secret: the link can be shown again to whoever may manage the share, a
//! guessed or altered code finds nothing, and nothing secret is stored. Opening a code that is
//! unknown, altered, expired or revoked answers NOT_FOUND with nothing else said.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{NewShare, ShareKind, ShareRow};
use super::store::{self, Visible};
use crate::accounts::service as accounts;
use crate::auth::tokens::keyed_tag;
use crate::auth::viewer::ClientInfo;
use crate::auth::{Role, Viewer, password, rate_window};
use crate::context::Platform;
use crate::db::pagination::PageRequest;
use crate::db::validate_text;
use crate::entities::service::{self as entities, EntityRow, EntityType};
use crate::error::{AppError, AppResult};
use crate::teams::service::{self as teams, GroupKind, Permission};

/// At most this many entities in one share.
pub const MAX_ENTITIES: usize = 100;
const MAX_TITLE_CHARS: usize = 200;
const TAG_BYTES: usize = 16;
/// Openings per client address a minute, over every share.
const OPENINGS_PER_MINUTE: u32 = 120;
/// Wrong passwords per share and client address in a quarter of an hour.
const PASSWORD_TRIES: u32 = 10;

/// What to share.
pub struct ShareInput {
    /// The entities, by type and id (1 to 100); or else:
    pub entities: Vec<(EntityType, String)>,
    /// every live entity of this type.
    pub entity_type: Option<EntityType>,
    pub title: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub password: Option<String>,
    /// The team it is made for (its members may see and revoke it).
    pub team_id: Option<Uuid>,
}

fn not_found() -> AppError {
    AppError::not_found("share not found")
}

/// The public code of a share.
pub fn code_of(platform: &Platform, id: Uuid) -> String {
    let tag = keyed_tag(&platform.config.jwt_secret, "share-link", id.as_bytes());
    let mut bytes = id.as_bytes().to_vec();
    bytes.extend_from_slice(&tag[..TAG_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The share id a code names, if the code is one this server made.
fn id_of(platform: &Platform, code: &str) -> Option<Uuid> {
    if code.len() > 64 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(code.trim()).ok()?;
    if bytes.len() != 16 + TAG_BYTES {
        return None;
    }
    let id = Uuid::from_slice(&bytes[..16]).ok()?;
    let expected = keyed_tag(&platform.config.jwt_secret, "share-link", id.as_bytes());
    let matches = bytes[16..]
        .iter()
        .zip(&expected[..TAG_BYTES])
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    matches.then_some(id)
}

/// Whether the share's creator may still make shares in its tenant.
async fn creator_may_share(conn: &mut AsyncPgConnection, share: &ShareRow) -> AppResult<bool> {
    let Some(creator) = share.created_by else {
        return Ok(false);
    };
    let role = match accounts::membership(conn, share.tenant_id, creator).await? {
        Some(membership) => membership.role(),
        None => match accounts::find_user(conn, creator).await? {
            Some(user) if user.is_superuser && user.is_active => Role::Superuser,
            _ => return Ok(false),
        },
    };
    if role < Role::Worldbuilder {
        return Ok(false);
    }
    teams::member_allows(
        conn,
        share.tenant_id,
        creator,
        role,
        Permission::CreateShares,
    )
    .await
}

/// Makes a share (WORLDBUILDER with CREATE_SHARES); the row and its code.
pub async fn create(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    input: ShareInput,
) -> AppResult<(ShareRow, String)> {
    viewer.require_role(Role::Worldbuilder)?;
    teams::ensure_allowed(conn, viewer, Permission::CreateShares, None).await?;
    let title = input.title.as_deref().unwrap_or("").trim().to_owned();
    validate_text("title", &title, MAX_TITLE_CHARS)?;
    if let Some(at) = input.expires_at
        && at <= Utc::now()
    {
        return Err(AppError::bad_field(
            "expiresAt",
            "the expiry must be in the future",
        ));
    }
    if let Some(password) = &input.password {
        password::validate_new_password("password", password)?;
    }
    let (kind, entity_type, row_ids) = match (input.entities.is_empty(), input.entity_type) {
        (true, Some(entity_type)) => (ShareKind::Type, Some(entity_type.slug()), Vec::new()),
        (false, None) => {
            let row_ids = resolve(conn, viewer, &input.entities).await?;
            let kind = if row_ids.len() == 1 {
                ShareKind::Entity
            } else {
                ShareKind::Entities
            };
            (kind, None, row_ids)
        }
        _ => {
            return Err(AppError::bad_input(
                "share either `entities` (1 to 100) or a whole `entityType`, not both",
            ));
        }
    };
    if let Some(team_id) = input.team_id {
        ensure_in_team(conn, viewer, team_id).await?;
    }
    let password_hash = match &input.password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    let row = store::insert(
        conn,
        NewShare {
            id: Uuid::now_v7(),
            tenant_id: viewer.tenant_id,
            kind: kind.as_str(),
            entity_type,
            entity_row_ids: row_ids,
            title: &title,
            password_hash,
            team_id: input.team_id,
            created_by: Some(viewer.user_id),
            expires_at: input.expires_at,
        },
    )
    .await?;
    let code = code_of(platform, row.id);
    Ok((row, code))
}

/// The row ids of the live entities named, each once; NOT_FOUND naming the first missing.
async fn resolve(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    wanted: &[(EntityType, String)],
) -> AppResult<Vec<Uuid>> {
    if wanted.len() > MAX_ENTITIES {
        return Err(AppError::bad_field(
            "entities",
            format!("share at most {MAX_ENTITIES} entities at once"),
        ));
    }
    // One query for all of them, not one per entity.
    let found = entities::find_by_keys(conn, viewer.tenant_id, wanted, false).await?;
    let mut ids = Vec::with_capacity(wanted.len());
    for (entity_type, entity_id) in wanted {
        let id = found
            .iter()
            .find(|row| {
                row.deleted_at.is_none()
                    && row.kind() == *entity_type
                    && row.entity_id == *entity_id
            })
            .map(|row| row.id)
            .ok_or_else(|| entities::not_found(*entity_type, entity_id, entities::Bin::Live))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A team of the viewer's tenant that the viewer is in (or any team, for an ADMIN).
async fn ensure_in_team(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    team_id: Uuid,
) -> AppResult<()> {
    teams::get(conn, viewer, GroupKind::Team, team_id).await?;
    if viewer.role >= Role::Admin || team_ids_of(conn, viewer).await?.contains(&team_id) {
        Ok(())
    } else {
        Err(AppError::forbidden("you are not a member of that team"))
    }
}

async fn team_ids_of(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<Vec<Uuid>> {
    Ok(
        teams::groups_of_member(conn, viewer.tenant_id, viewer.user_id)
            .await?
            .into_iter()
            .filter(|group| group.kind() == GroupKind::Team)
            .map(|group| group.id)
            .collect(),
    )
}

/// The shares the viewer may manage, newest first: every share for an ADMIN, otherwise those
/// they made and (for WORLDBUILDERs) those made for their teams.
pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    page: PageRequest,
) -> AppResult<(i64, Vec<ShareRow>)> {
    if viewer.role >= Role::Admin {
        return store::list(conn, viewer.tenant_id, Visible::All, page).await;
    }
    let team_ids = if viewer.role >= Role::Worldbuilder {
        team_ids_of(conn, viewer).await?
    } else {
        Vec::new()
    };
    let visible = Visible::Of {
        user_id: viewer.user_id,
        team_ids: &team_ids,
    };
    store::list(conn, viewer.tenant_id, visible, page).await
}

/// Whether the viewer may see a share's code and revoke it: its creator, a member of its
/// team, or an ADMIN.
pub async fn may_manage(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    share: &ShareRow,
) -> AppResult<bool> {
    if viewer.role >= Role::Admin || share.created_by == Some(viewer.user_id) {
        return Ok(true);
    }
    // A team's PLAYERs may not make links, so they neither see nor hand out its codes.
    if viewer.role < Role::Worldbuilder {
        return Ok(false);
    }
    Ok(match share.team_id {
        Some(team_id) => team_ids_of(conn, viewer).await?.contains(&team_id),
        None => false,
    })
}

/// Revokes a share of the viewer's tenant: its link stops working at once. Revoking again
/// changes nothing.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<ShareRow> {
    let share = store::find_in(conn, viewer.tenant_id, id)
        .await?
        .ok_or_else(not_found)?;
    if !may_manage(conn, viewer, &share).await? {
        return Err(AppError::forbidden(
            "only the share's creator, its team or an ADMIN may revoke it",
        ));
    }
    if share.revoked_at.is_some() {
        return Ok(share);
    }
    store::revoke(conn, &share, viewer.user_id).await
}

/// Opens a share by its code, without an account: NOT_FOUND for a code that is unknown,
/// altered, expired or revoked; UNAUTHENTICATED when its password is missing or wrong; both
/// rate-limited per client address.
pub async fn open(
    platform: &Platform,
    code: &str,
    password: Option<&str>,
    client: &ClientInfo,
) -> AppResult<ShareRow> {
    let mut conn = platform.pool.get().await?;
    rate_window::ensure_within(
        &mut conn,
        &rate_window::address_key("share", client.ip),
        OPENINGS_PER_MINUTE,
        Duration::from_secs(60),
        "too many share links opened; wait a minute",
    )
    .await?;
    let id = id_of(platform, code).ok_or_else(not_found)?;
    let share = store::find(&mut conn, id)
        .await?
        .filter(ShareRow::is_open)
        .ok_or_else(not_found)?;
    // A link works while whoever made it could make it now: a member who left, was demoted or
    // lost CREATE_SHARES takes their links with them.
    if !creator_may_share(&mut conn, &share).await? {
        return Err(not_found());
    }
    if let Some(hash) = &share.password_hash {
        let Some(given) = password else {
            return Err(AppError::unauthenticated("this share needs its password"));
        };
        let key = format!(
            "{}:{}",
            rate_window::address_key("share-password", client.ip),
            share.id
        );
        // Every try is counted before the password is checked (so parallel guesses cannot all
        // slip under the limit); a right one is forgiven, so only wrong ones add up.
        rate_window::ensure_within(
            &mut conn,
            &key,
            PASSWORD_TRIES,
            Duration::from_secs(15 * 60),
            "too many wrong passwords for this share; try again later",
        )
        .await?;
        if !password::verify(given, Some(hash)).await? {
            return Err(AppError::unauthenticated("the share's password is wrong"));
        }
        rate_window::forgive(&mut conn, &key).await?;
    }
    store::touch(&mut conn, share.id).await?;
    Ok(share)
}

/// A page of what an opened share shows (of one type, when asked), by name, and how many. A
/// type the share does not cover is NOT_FOUND; entities since deleted are left out.
pub async fn entities_of(
    platform: &Platform,
    share: &ShareRow,
    entity_type: Option<EntityType>,
    page: PageRequest,
) -> AppResult<(i64, Vec<EntityRow>)> {
    let mut conn = platform.pool.get().await?;
    match share.kind() {
        ShareKind::Type => {
            let shared = share
                .entity_type
                .as_deref()
                .and_then(EntityType::from_slug)
                .ok_or_else(not_found)?;
            if entity_type.is_some_and(|wanted| wanted != shared) {
                return Err(AppError::not_found(
                    "this share holds no entities of that type",
                ));
            }
            entities::live_of_type(&mut conn, share.tenant_id, shared, page).await
        }
        ShareKind::Entity | ShareKind::Entities => {
            let mut rows: Vec<EntityRow> =
                entities::entities_by_row_ids(&mut conn, share.tenant_id, &share.entity_row_ids)
                    .await?
                    .into_iter()
                    .filter(|row| row.deleted_at.is_none())
                    .filter(|row| entity_type.is_none_or(|wanted| row.kind() == wanted))
                    .collect();
            if let Some(wanted) = entity_type
                && rows.is_empty()
            {
                return Err(AppError::not_found(format!(
                    "this share holds no {} entities",
                    wanted.slug()
                )));
            }
            rows.sort_by(|a, b| {
                (a.name.to_lowercase(), &a.entity_id).cmp(&(b.name.to_lowercase(), &b.entity_id))
            });
            let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
            let rows = rows
                .into_iter()
                .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
                .take(usize::try_from(page.limit).unwrap_or(0))
                .collect();
            Ok((total, rows))
        }
    }
}
