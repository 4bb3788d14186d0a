//! Building a tenant's archive: everything read in one REPEATABLE READ transaction (the
//! archive is the tenant at one moment, however long the reading takes), a page at a time,
//! with the progress written as it goes; then zipped off the async workers.

use std::collections::HashMap;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::format::{self, Asset, AssetLink, Counts, EntityKey, Manifest, Note, Relationship};
use super::store;
use crate::archive::{self, Files};
use crate::assets::service::{self as assets, AssetRuntime};
use crate::context::Platform;
use crate::entities::service::{self as entities, EntityType, TemplateCatalog};
use crate::error::{AppError, AppResult};
use crate::notes::service as notes;
use crate::sync::service as sync;
use crate::tenants::service as tenants;

/// Rows read per page.
const PAGE: i64 = 500;

/// What one export reads and whose progress it reports.
pub struct ExportJob<'a> {
    pub platform: &'a Platform,
    pub templates: &'a TemplateCatalog,
    pub runtime: &'a AssetRuntime,
    pub tenant_id: Uuid,
    pub export_id: Uuid,
}

/// The archive's files, collected and counted.
struct Collected {
    files: Files,
    counts: Counts,
    bytes: usize,
    tenant_name: String,
}

impl Collected {
    fn add(&mut self, path: String, bytes: Vec<u8>) -> AppResult<()> {
        self.bytes += bytes.len();
        if self.bytes > format::MAX_ARCHIVE_BYTES {
            return Err(AppError::unfit(
                Some("archive"),
                format!(
                    "the tenant holds more than an archive may ({} MiB)",
                    format::MAX_ARCHIVE_BYTES / (1024 * 1024)
                ),
            ));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    fn add_json(&mut self, path: &str, value: &impl serde::Serialize) -> AppResult<()> {
        let bytes = serde_json::to_vec_pretty(value).map_err(AppError::internal)?;
        self.add(path.to_owned(), bytes)
    }
}

/// Builds the tenant's archive; its bytes.
pub async fn build(job: &ExportJob<'_>) -> AppResult<Vec<u8>> {
    let mut reader = job.platform.pool.get().await?;
    let mut progress = job.platform.pool.get().await?;
    let collected = reader
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| collect(job, conn, &mut progress).await)
        .await?;
    let manifest = Manifest {
        format: format::FORMAT.to_owned(),
        version: format::VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        exported_at: chrono::Utc::now(),
        tenant_name: collected.tenant_name,
        counts: collected.counts,
        files: format::entries_of(&collected.files),
    };
    let mut files = collected.files;
    let manifest = serde_json::to_vec_pretty(&manifest).map_err(AppError::internal)?;
    files.insert(format::MANIFEST.to_owned(), manifest);
    tokio::task::spawn_blocking(move || archive::write(&files))
        .await
        .map_err(AppError::internal)?
}

async fn collect(
    job: &ExportJob<'_>,
    conn: &mut AsyncPgConnection,
    progress: &mut AsyncPgConnection,
) -> AppResult<Collected> {
    let tenant = tenants::find_tenant(conn, job.tenant_id)
        .await?
        .ok_or_else(|| AppError::not_found("tenant not found"))?;
    let entity_total: i64 = entities::counts_by_type(conn, job.tenant_id)
        .await?
        .iter()
        .map(|(_, live, _)| live)
        .sum();
    let asset_total = assets::totals(conn, job.tenant_id)
        .await?
        .by_type
        .iter()
        .map(|(_, count, _)| count)
        .sum::<i64>();
    let note_total = notes::count(conn, job.tenant_id).await?;
    let total = i32::try_from(entity_total + asset_total + note_total).unwrap_or(i32::MAX);
    let mut done = 0i32;
    let mut collected = Collected {
        files: Files::new(),
        counts: Counts::default(),
        bytes: 0,
        tenant_name: tenant.name.clone(),
    };
    collected.add_json(
        format::SETTINGS,
        &format::Settings {
            tenant_name: tenant.name,
            recycle_retention_days: tenant.recycle_retention_days,
        },
    )?;

    // Entities, and their row ids for what points at them.
    let mut keys: HashMap<Uuid, EntityKey> = HashMap::new();
    let mut after = None;
    loop {
        let page = entities::live_page(conn, job.tenant_id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for row in &page {
            let Some(entity_type) = EntityType::from_slug(&row.entity_type) else {
                continue;
            };
            let file = sync::render_row(job.templates, entity_type, row);
            collected.add(
                format!("{}{}", format::ENTITIES_DIR, file.path),
                file.content.into_bytes(),
            )?;
            keys.insert(
                row.id,
                EntityKey {
                    entity_type: row.entity_type.clone(),
                    id: row.entity_id.clone(),
                },
            );
            collected.counts.entities += 1;
        }
        done += page.len() as i32;
        store::progress(progress, job.tenant_id, job.export_id, done, total).await?;
    }

    let relationships: Vec<Relationship> = entities::drawn_relationships(conn, job.tenant_id)
        .await?
        .into_iter()
        .map(|drawn| Relationship {
            from: EntityKey {
                entity_type: drawn.source_type,
                id: drawn.source_id,
            },
            to: EntityKey {
                entity_type: drawn.target_type,
                id: drawn.target_id,
            },
            kind: drawn.kind,
            attributes: drawn.attributes,
        })
        .collect();
    collected.counts.relationships = relationships.len();
    collected.add_json(format::RELATIONSHIPS, &relationships)?;

    let mut all_notes = Vec::new();
    let mut after = None;
    loop {
        let page = notes::page_after(conn, job.tenant_id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        done += page.len() as i32;
        all_notes.extend(page.into_iter().map(|note| Note {
            // A note on an entity in the recycle bin is kept, loose.
            entity: note.entity_row_id.and_then(|row| keys.get(&row).cloned()),
            title: note.title,
            content: note.content,
        }));
        store::progress(progress, job.tenant_id, job.export_id, done, total).await?;
    }
    collected.counts.notes = all_notes.len();
    collected.add_json(format::NOTES, &all_notes)?;

    let mut all_assets = Vec::new();
    let mut after = None;
    loop {
        let page = assets::live_page(conn, job.tenant_id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let ids: Vec<Uuid> = page.iter().map(|asset| asset.id).collect();
        let mut links: HashMap<Uuid, Vec<AssetLink>> = HashMap::new();
        for (asset_id, row, primary) in assets::links_of(conn, job.tenant_id, &ids).await? {
            // A link to an entity in the recycle bin is left out, as the entity is.
            if let Some(entity) = keys.get(&row) {
                links.entry(asset_id).or_default().push(AssetLink {
                    entity: entity.clone(),
                    primary,
                });
            }
        }
        for asset in page {
            let path = format!("{}{}", format::BYTES_DIR, asset.sha256);
            if !collected.files.contains_key(&path) {
                let bytes =
                    job.runtime
                        .blobs
                        .read_original(job.tenant_id, &asset.sha256)
                        .await
                        .map_err(|error| {
                            AppError::internal(error.context(format!(
                                "the bytes of asset {} could not be read",
                                asset.id
                            )))
                        })?;
                collected.add(path, bytes.to_vec())?;
            }
            let links = links.remove(&asset.id).unwrap_or_default();
            all_assets.push(Asset {
                sha256: asset.sha256,
                filename: asset.original_filename,
                tags: asset.tags,
                status: asset.status,
                links,
            });
            done += 1;
        }
        store::progress(progress, job.tenant_id, job.export_id, done, total).await?;
    }
    collected.counts.assets = all_assets.len();
    collected.add_json(format::ASSETS, &all_assets)?;
    Ok(collected)
}
