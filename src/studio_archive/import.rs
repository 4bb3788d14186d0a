//! Importing a tenant's archive into the caller's tenant: the whole archive is checked first
//! (its files against the manifest, every entity file, every reference between the parts,
//! every image, and that none of its entities exists here already), and only an archive with
//! no problem is applied, in one transaction: all of it or nothing.

use std::collections::BTreeMap;

use axum::body::Bytes;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::format::{self, Asset, EntityKey, Note, Relationship, Settings};
use crate::archive::{self, Files};
use crate::assets::service::{self as assets, AssetRuntime, ImportedAsset};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::entities::service::{self as entities, EntityContent, EntityRow, EntityType};
use crate::error::{AppError, AppResult};
use crate::notes::service as notes;
use crate::sync::service as sync;
use crate::tenants::service as tenants;

/// The most problems one report lists.
const MAX_PROBLEMS: usize = 100;

/// What an import did, or why it did nothing.
#[derive(Clone, Debug, Default)]
pub struct ImportOutcome {
    pub applied: bool,
    pub problems: Vec<String>,
    pub counts: format::Counts,
}

impl ImportOutcome {
    fn refused(mut problems: Vec<String>) -> Self {
        problems.truncate(MAX_PROBLEMS);
        Self {
            applied: false,
            problems,
            counts: format::Counts::default(),
        }
    }
}

/// An archive checked whole, ready to apply.
struct Checked {
    /// None when the archive carries no settings: the tenant's stay as they are.
    settings: Option<Settings>,
    entities: BTreeMap<(EntityType, String), EntityContent>,
    relationships: Vec<Relationship>,
    notes: Vec<Note>,
    assets: Vec<(Asset, Bytes)>,
}

/// Imports an archive into the viewer's tenant (ADMIN).
pub async fn import(
    platform: &Platform,
    templates: &entities::TemplateCatalog,
    runtime: &AssetRuntime,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    bytes: Vec<u8>,
) -> AppResult<ImportOutcome> {
    viewer.require_role(Role::Admin)?;
    let files = match archive::read(bytes, format::BOUNDS).await {
        Ok(files) => files,
        Err(error) => return Ok(ImportOutcome::refused(vec![error.message()])),
    };
    // Checksums over up to 512 MiB and every entity file parsed: off the async workers.
    let checked = match tokio::task::spawn_blocking(move || check(&files))
        .await
        .map_err(AppError::internal)?
    {
        Ok(checked) => checked,
        Err(problems) => return Ok(ImportOutcome::refused(problems)),
    };
    let keys: Vec<(EntityType, String)> = checked.entities.keys().cloned().collect();
    let taken = entities::find_by_keys(conn, viewer.tenant_id, &keys, false).await?;
    if !taken.is_empty() {
        let problems = taken
            .iter()
            .map(|row| {
                format!(
                    "{}/{} already exists in this tenant (live or in the recycle bin)",
                    row.entity_type, row.entity_id
                )
            })
            .collect();
        return Ok(ImportOutcome::refused(problems));
    }
    for (asset, bytes) in &checked.assets {
        let imported = imported_asset(asset, bytes);
        if let Err(error) = assets::check_imported(&platform.config.assets, &imported) {
            let problem = format!("asset `{}`: {}", asset.filename, error.message());
            return Ok(ImportOutcome::refused(vec![problem]));
        }
    }
    apply(platform, templates, runtime, conn, viewer, checked).await
}

fn imported_asset(asset: &Asset, bytes: &Bytes) -> ImportedAsset {
    ImportedAsset {
        bytes: bytes.clone(),
        filename: asset.filename.clone(),
        tags: asset.tags.clone(),
        status: asset.status.clone(),
    }
}

/// Every problem of the archive, or its parts ready to apply.
fn check(files: &Files) -> Result<Checked, Vec<String>> {
    format::verify(files)?;
    let mut problems = Vec::new();
    // Absent, it is None (`json` gives the default): the tenant's settings stay.
    let settings: Option<Settings> = format::json(files, format::SETTINGS).map_err(|p| vec![p])?;
    let relationships: Vec<Relationship> =
        format::json(files, format::RELATIONSHIPS).map_err(|p| vec![p])?;
    let notes: Vec<Note> = format::json(files, format::NOTES).map_err(|p| vec![p])?;
    let described: Vec<Asset> = format::json(files, format::ASSETS).map_err(|p| vec![p])?;

    let mut entities = BTreeMap::new();
    for (path, bytes) in files {
        if let Some(relative) = path.strip_prefix(format::ENTITIES_DIR) {
            let Ok(text) = std::str::from_utf8(bytes) else {
                problems.push(format!("`{path}` is not UTF-8 text"));
                continue;
            };
            match sync::read_entity_file(relative, text) {
                Ok(file) => {
                    let key = (file.entity_type, file.content.entity_id.clone());
                    if entities.insert(key, file.content).is_some() {
                        problems.push(format!("`{path}` holds an entity another file holds too"));
                    }
                }
                Err(file_problems) => problems.extend(
                    file_problems
                        .into_iter()
                        .map(|problem| format!("`{path}`: {}", problem.message)),
                ),
            }
        } else if !path.starts_with(format::BYTES_DIR)
            && ![
                format::MANIFEST,
                format::SETTINGS,
                format::RELATIONSHIPS,
                format::NOTES,
                format::ASSETS,
            ]
            .contains(&path.as_str())
        {
            problems.push(format!("`{path}` is not part of a tenant export"));
        }
    }
    let known = |key: &EntityKey| {
        EntityType::from_slug(&key.entity_type)
            .is_some_and(|t| entities.contains_key(&(t, key.id.clone())))
    };
    for relationship in &relationships {
        let attributes = Some(relationship.attributes.clone());
        if let Err(error) = entities::validate_relationship(&relationship.kind, attributes) {
            problems.push(format!(
                "a relationship `{}`: {}",
                relationship.kind,
                error.message()
            ));
        }
        for end in [&relationship.from, &relationship.to] {
            if !known(end) {
                problems.push(format!(
                    "a `{}` relationship names {}/{}, which the archive does not hold",
                    relationship.kind, end.entity_type, end.id
                ));
            }
        }
    }
    for note in &notes {
        if let Some(entity) = note.entity.as_ref().filter(|entity| !known(entity)) {
            problems.push(format!(
                "the note `{}` is attached to {}/{}, which the archive does not hold",
                note.title, entity.entity_type, entity.id
            ));
        }
    }
    let mut assets = Vec::with_capacity(described.len());
    for asset in described {
        let path = format!("{}{}", format::BYTES_DIR, asset.sha256);
        match files.get(&path) {
            Some(bytes) if format::sha256(bytes) == asset.sha256 => {
                for link in asset.links.iter().filter(|link| !known(&link.entity)) {
                    problems.push(format!(
                        "asset `{}` illustrates {}/{}, which the archive does not hold",
                        asset.filename, link.entity.entity_type, link.entity.id
                    ));
                }
                let bytes = Bytes::from(bytes.clone());
                assets.push((asset, bytes));
            }
            Some(_) => problems.push(format!("`{path}` is not the content its name says")),
            None => problems.push(format!("asset `{}` has no bytes ({path})", asset.filename)),
        }
    }
    if problems.is_empty() {
        Ok(Checked {
            settings,
            entities,
            relationships,
            notes,
            assets,
        })
    } else {
        Err(problems)
    }
}

/// Writes the checked archive in one transaction; what was written is announced after it
/// commits.
async fn apply(
    platform: &Platform,
    templates: &entities::TemplateCatalog,
    runtime: &AssetRuntime,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    checked: Checked,
) -> AppResult<ImportOutcome> {
    let settings = &platform.config.assets;
    let (written, counts) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let mut counts = format::Counts::default();
            let mut written = Vec::new();
            let mut rows: BTreeMap<(EntityType, String), EntityRow> = BTreeMap::new();
            for ((entity_type, entity_id), content) in checked.entities {
                let replaced =
                    entities::replace(conn, templates, viewer, entity_type, content, None).await?;
                written.extend(replaced.written());
                rows.insert((entity_type, entity_id), replaced.row().clone());
                counts.entities += 1;
            }
            let row_of = |key: &EntityKey| {
                EntityType::from_slug(&key.entity_type)
                    .and_then(|t| rows.get(&(t, key.id.clone())))
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("a checked key vanished")))
            };
            for relationship in &checked.relationships {
                let (from, to) = (row_of(&relationship.from)?, row_of(&relationship.to)?);
                let attributes = &relationship.attributes;
                entities::relate(conn, viewer, from, to, &relationship.kind, attributes).await?;
                counts.relationships += 1;
            }
            for note in &checked.notes {
                let attachment = match &note.entity {
                    Some(key) => Some(notes::Attachment {
                        entity_type: EntityType::from_slug(&key.entity_type).ok_or_else(|| {
                            AppError::internal(anyhow::anyhow!("a checked type vanished"))
                        })?,
                        entity_id: &key.id,
                    }),
                    None => None,
                };
                notes::create(conn, viewer, &note.title, &note.content, attachment).await?;
                counts.notes += 1;
            }
            for (asset, bytes) in &checked.assets {
                let mut links = Vec::with_capacity(asset.links.len());
                for link in &asset.links {
                    links.push((row_of(&link.entity)?.id, link.primary));
                }
                let imported = imported_asset(asset, bytes);
                assets::import_asset(conn, runtime, settings, viewer, &imported, &links).await?;
                counts.assets += 1;
            }
            if let Some(settings) = &checked.settings {
                let retention = Some(settings.recycle_retention_days);
                tenants::update(conn, viewer, None, retention).await?;
            }
            Ok((written, counts))
        })
        .await?;
    for write in written {
        entities::announce(platform, viewer, write);
    }
    runtime.wake.notify_one();
    Ok(ImportOutcome {
        applied: true,
        problems: Vec::new(),
        counts,
    })
}
