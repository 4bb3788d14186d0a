//! Data packages (seed 003): the library's documents — presets, state schemas, lorebooks,
//! player profiles, character cards with their covers, story resources, stories — moved between
//! tenants and servers as one ZIP in the reference layout: `manifest.json` (format
//! `sillystage_data_package`, version 1, what it contains by kind with ids and counts, where
//! each card's content and cover are) and one JSON file per document (`presets/{id}.json`...,
//! `characters/{id}/content.json` and its cover). API connections and groups (they hold keys)
//! and sessions are never exported; a story travels with its current graph (its version 1
//! where it lands).
//!
//! Export builds the archive into a slot at once; import takes an upload into a slot and
//! commits it: the whole package is validated (its manifest and counts, ids that are UUIDs and
//! new to the tenant and unique in it, every document's rules, every reference resolved inside
//! the package or the tenant), tried in a transaction that is rolled back, then applied in one
//! transaction. Slots live 30 minutes in the database.
//!
//! - [`format`]: the manifest and the files, both ways;
//! - [`store`]: the slots' SQL; [`api`]: the GraphQL.

pub mod api;
pub mod format;
pub mod store;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::Kind;
use crate::assets::service::AssetRuntime;
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use format::{Document, Package};

/// How long a prepared slot lives.
const SLOT_LIFETIME_MINUTES: i64 = 30;
/// Most documents one package holds.
pub const MAX_DOCUMENTS: usize = 2_000;

/// A slot made ready.
pub struct Slot {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// What a package holds, by kind.
#[derive(Default, Debug, Clone, Copy)]
pub struct Counts {
    pub presets: usize,
    pub schemas: usize,
    pub lorebooks: usize,
    pub player_profiles: usize,
    pub characters: usize,
    pub story_resources: usize,
    pub stories: usize,
}

fn expiry() -> DateTime<Utc> {
    Utc::now() + Duration::minutes(SLOT_LIFETIME_MINUTES)
}

/// The documents `ids` (and, with `with_dependencies`, what they refer to, transitively),
/// packed into a new export slot (WORLDBUILDER and above).
pub async fn prepare_export(
    platform: &Platform,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    ids: &[Uuid],
    with_dependencies: bool,
) -> AppResult<(Slot, Counts)> {
    viewer.require_role(Role::Worldbuilder)?;
    if ids.is_empty() {
        return Err(AppError::bad_field(
            "ids",
            "choose at least one document to export",
        ));
    }
    let mut conn = platform.pool.get().await?;
    let mut chosen: Vec<Uuid> = ids.to_vec();
    let mut seen: HashSet<Uuid> = chosen.iter().copied().collect();
    let mut frontier = chosen.clone();
    while with_dependencies && !frontier.is_empty() {
        let next = super::store::linked_from(&mut conn, viewer.tenant_id, &frontier).await?;
        frontier = next.into_iter().filter(|id| seen.insert(*id)).collect();
        chosen.extend(&frontier);
        if chosen.len() > MAX_DOCUMENTS {
            return Err(AppError::bad_field(
                "ids",
                format!("a package holds at most {MAX_DOCUMENTS} documents"),
            ));
        }
    }
    if chosen.len() > MAX_DOCUMENTS {
        return Err(AppError::bad_field(
            "ids",
            format!("a package holds at most {MAX_DOCUMENTS} documents"),
        ));
    }
    let rows = super::store::by_ids(&mut conn, viewer.tenant_id, &chosen).await?;
    if let Some(missing) = chosen
        .iter()
        .find(|id| !rows.iter().any(|row| row.id == **id))
    {
        return Err(AppError::not_found(format!(
            "no document {missing} in this tenant"
        )));
    }
    let mut package = Package::default();
    for row in rows {
        let document = Document::of_row(row)?;
        let cover = match document.cover_asset() {
            Some(asset_id) => {
                crate::assets::service::live_image(&mut conn, runtime, viewer.tenant_id, asset_id)
                    .await?
            }
            None => None,
        };
        package.add(document, cover);
    }
    let counts = package.counts();
    let archive = package.write(Utc::now())?;
    // What is exported must be importable: no larger than an upload may be.
    if archive.len() > super::service::MAX_FILE_BYTES {
        return Err(AppError::PayloadTooLarge(format!(
            "the package would take {} MiB, more than the {} MiB an import takes: export fewer \
             documents at a time",
            archive.len().div_ceil(1024 * 1024),
            super::service::MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let expires_at = expiry();
    let id = store::open(
        &mut conn,
        viewer.tenant_id,
        viewer.user_id,
        "export",
        Some(&archive),
        expires_at,
    )
    .await?;
    Ok((Slot { id, expires_at }, counts))
}

/// The archive of an export slot.
pub async fn export_archive(platform: &Platform, viewer: &Viewer, id: Uuid) -> AppResult<Vec<u8>> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    store::find(&mut conn, viewer.tenant_id, id, "export", false)
        .await?
        .and_then(|slot| slot.archive)
        .ok_or_else(|| AppError::not_found("no such export, or it expired"))
}

/// A new import slot to upload a package into (WORLDBUILDER and above).
pub async fn prepare_import(platform: &Platform, viewer: &Viewer) -> AppResult<Slot> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    let expires_at = expiry();
    let id = store::open(
        &mut conn,
        viewer.tenant_id,
        viewer.user_id,
        "import",
        None,
        expires_at,
    )
    .await?;
    Ok(Slot { id, expires_at })
}

/// Keeps an uploaded package in its import slot.
pub async fn upload_import(
    platform: &Platform,
    viewer: &Viewer,
    id: Uuid,
    archive: &[u8],
) -> AppResult<()> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    let slot = store::find(&mut conn, viewer.tenant_id, id, "import", false)
        .await?
        .ok_or_else(|| AppError::not_found("no such import, or it expired"))?;
    if slot.committed_at.is_some() {
        return Err(AppError::conflict("this import was committed already"));
    }
    store::put_archive(&mut conn, viewer.tenant_id, id, archive).await
}

/// What committing an import did.
pub struct Imported {
    pub counts: Counts,
    pub ids: Vec<Uuid>,
}

/// A trial run's outcome: the error that stopped it, or the sign it passed (and was rolled back).
enum Trial {
    Failed(AppError),
    Passed,
}

impl From<diesel::result::Error> for Trial {
    fn from(error: diesel::result::Error) -> Self {
        Trial::Failed(error.into())
    }
}

/// Validates the uploaded package whole and applies it in one transaction (WORLDBUILDER and
/// above); a package that fails any check changes nothing.
pub async fn commit_import(
    platform: &Platform,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Imported> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    let slot = store::find(&mut conn, viewer.tenant_id, id, "import", false)
        .await?
        .ok_or_else(|| AppError::not_found("no such import, or it expired"))?;
    if slot.committed_at.is_some() {
        return Err(AppError::conflict("this import was committed already"));
    }
    let archive = slot
        .archive
        .ok_or_else(|| AppError::conflict("upload the package before committing it"))?;
    let package = Package::read(archive).await?;
    // Every cover must pass the asset checks before the first is stored.
    for (_, cover) in package.covers() {
        crate::assets::service::check_image(platform, cover)?;
    }
    let ids = package.ids();
    let taken = super::store::by_ids(&mut conn, viewer.tenant_id, &ids).await?;
    if let Some(row) = taken.first() {
        return Err(AppError::conflict(format!(
            "this tenant already has a document {} (\"{}\")",
            row.id, row.display_name
        )));
    }
    // Everything the database checks (each document's rules, every reference) is tried first,
    // so a package that fails leaves no cover behind either.
    let trial = conn
        .transaction::<(), Trial, _>(async |conn| {
            if let Err(error) = insert_all(conn, viewer, &package, &HashMap::new()).await {
                return Err(Trial::Failed(error));
            }
            Err(Trial::Passed)
        })
        .await;
    match trial {
        Err(Trial::Passed) => {}
        Err(Trial::Failed(error)) => return Err(error),
        Ok(()) => unreachable!("a trial always rolls back"),
    }
    drop(conn);
    let mut covers = HashMap::new();
    for (character, bytes) in package.covers() {
        let asset =
            super::cards::store_cover(platform, runtime, viewer, bytes.clone().into()).await?;
        covers.insert(character, asset);
    }
    let mut conn = platform.pool.get().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        let slot = store::find(conn, viewer.tenant_id, id, "import", true)
            .await?
            .ok_or_else(|| AppError::not_found("no such import, or it expired"))?;
        if slot.committed_at.is_some() {
            return Err(AppError::conflict("this import was committed already"));
        }
        insert_all(conn, viewer, &package, &covers).await?;
        store::mark_committed(conn, viewer.tenant_id, id).await
    })
    .await?;
    Ok(Imported {
        counts: package.counts(),
        ids,
    })
}

/// Inserts the package's documents, what others refer to first, inside the caller's
/// transaction.
async fn insert_all(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    package: &Package,
    covers: &HashMap<Uuid, Uuid>,
) -> AppResult<()> {
    for kind in [
        Kind::Schema,
        Kind::Lorebook,
        Kind::PlayerProfile,
        Kind::Preset,
        Kind::Character,
        Kind::StoryResource,
        Kind::Story,
    ] {
        for document in package.of_kind(kind) {
            document.insert(conn, viewer, covers).await?;
        }
    }
    Ok(())
}
