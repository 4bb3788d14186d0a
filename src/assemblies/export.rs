//! An assembly exported through a profile: the manifest (every file the package holds, where
//! it comes from, how it is placed, what is missing, what the pipeline would warn about), and
//! the ZIP with the files — converted to the profile's format where it names one — and the
//! manifest, whose checksums are those of the files beside it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::chain::{Effective, Resolved};
use super::model::SlotAssetRow;
use super::profiles::{ExportProfile, Profiles};
use super::service::Setting;
use super::validation::completeness;
use crate::assets::service::{self as assets, AssetRow, AssetRuntime};
use crate::context::Platform;
use crate::error::{AppError, AppResult};

/// The formats converted to PNG for a profile that wants PNGs.
const RASTER: [&str; 4] = ["png", "jpg", "webp", "gif"];

/// Most bytes of assets one export reads.
pub const MAX_EXPORT_BYTES: i64 = 512 * 1024 * 1024;

/// One file of the package.
#[derive(Clone, Debug)]
pub struct ExportFile {
    /// Where it goes, under the package's root folder.
    pub path: String,
    pub slot: Effective,
    pub variant_key: String,
    pub asset: AssetRow,
    /// The format it is converted to (the profile's), when the asset is in another.
    pub converted_to: Option<String>,
}

/// What an export holds.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub profile: Arc<ExportProfile>,
    /// The package's root folder.
    pub root: String,
    pub files: Vec<ExportFile>,
    /// Required slots (the assembly's and the profile's) that are empty.
    pub missing_required: Vec<String>,
    pub warnings: Vec<String>,
}

impl Manifest {
    pub fn complete(&self) -> bool {
        self.missing_required.is_empty()
    }
}

/// The pattern filled in from the fill's keys (checked letters, digits, `_` and `-` when it
/// was written, so they never leave their folder).
fn named(pattern: &str, assembly_id: &str, fill: &SlotAssetRow) -> String {
    let key = fill.variant_key.as_str();
    pattern
        .replace("{assembly_id}", assembly_id)
        .replace("{slot_group}", &fill.slot_group)
        .replace("{slot_name}", &fill.slot_name)
        .replace(
            "{slot_variant_key_or_default}",
            if key.is_empty() { "default" } else { key },
        )
}

/// The profile in force with this id; refused naming asm_exp_001 when there is none.
pub fn profile(setting: &Setting, profiles: &Profiles, id: &str) -> AppResult<Arc<ExportProfile>> {
    profiles.get(id).cloned().ok_or_else(|| {
        let why = format!(
            "there is no export profile {id:?} (the profiles: {})",
            profiles
                .profiles
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        match &setting.rules.known_profiles {
            Some(rule) => rule.refuse(why),
            None => AppError::not_found(why),
        }
    })
}

/// What exporting the assembly through the profile gives; `assets` are the assets its slots
/// hold (validation::assets_in).
pub fn manifest(
    resolved: &Resolved,
    profile: Arc<ExportProfile>,
    assets: &HashMap<Uuid, AssetRow>,
) -> AppResult<Manifest> {
    let assembly_id = resolved.chain.subject().id();
    let mut missing_required = completeness(resolved).missing;
    for (group, name) in &profile.required {
        let path = format!("{group}.{name}");
        let filled = resolved.slot(&path).is_some_and(Effective::is_filled);
        if !filled && !missing_required.contains(&path) {
            missing_required.push(path);
        }
    }
    let mut warnings = Vec::new();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    let mut files = Vec::new();
    for slot in resolved.filled() {
        let place = slot.path();
        let group = profile.groups.iter().find(|g| {
            g.sources
                .iter()
                .any(|(gr, name)| *gr == slot.definition.group && *name == slot.definition.name)
        });
        for fill in slot.filled.iter().flat_map(|f| f.assets.iter()) {
            let key = fill.variant_key.as_str();
            let Some(asset) = assets.get(&fill.asset_id).filter(|a| !a.is_deleted()) else {
                warnings.push(format!(
                    "{place}: its asset {} is in the recycle bin",
                    fill.asset_id
                ));
                continue;
            };
            let extension = assets::file_extension(asset);
            let (path, dimensions) = match group {
                Some(group) => match group.files.iter().find(|(k, _)| k == key) {
                    Some((_, file)) => (
                        format!("{}/{file}", group.folder),
                        group.required_dimensions,
                    ),
                    None => {
                        warnings.push(format!(
                            "{place}: the profile's group {} has no file for the variant {:?}",
                            group.name,
                            if key.is_empty() { "default" } else { key }
                        ));
                        continue;
                    }
                },
                None => {
                    let named = named(&profile.pattern, assembly_id, fill);
                    let has_extension = named
                        .rsplit('/')
                        .next()
                        .is_some_and(|last| last.contains('.'));
                    let path = if has_extension {
                        named
                    } else {
                        format!("{named}.{extension}")
                    };
                    (path, slot.definition.expected_dimensions)
                }
            };
            if let (Some((w, h)), Some(aw), Some(ah)) = (dimensions, asset.width, asset.height)
                && (i64::from(aw), i64::from(ah)) != (w, h)
            {
                let why = format!("{path} ({place}) is {aw}×{ah}; the pipeline wants {w}×{h}");
                if !profile.warn_on_dimensions {
                    return Err(AppError::bad_input(why));
                }
                warnings.push(why);
            }
            let wanted = path
                .rsplit_once('.')
                .map(|(_, ext)| ext.to_ascii_lowercase());
            let mut path = path;
            let mut converted_to = None;
            if let Some(wanted) = wanted.filter(|ext| *ext != extension) {
                if profile.format.as_deref() == Some("png")
                    && wanted == "png"
                    && RASTER.contains(&extension.as_str())
                {
                    converted_to = Some(wanted);
                } else {
                    // Not an image this server converts: kept as it is, named for what it is.
                    let stem = path
                        .rsplit_once('.')
                        .map_or(path.as_str(), |(stem, _)| stem);
                    let kept = format!("{stem}.{extension}");
                    warnings.push(format!(
                        "{place}: the pipeline wants {wanted}, and the asset is {extension}: \
                         exported as it is, as {kept}"
                    ));
                    path = kept;
                }
            }
            if profile.include_manifest && path == profile.manifest_name {
                warnings.push(format!("{path} ({place}) is the manifest's name; left out"));
                continue;
            }
            if let Some(first) = taken.get(&path) {
                warnings.push(format!(
                    "{path}: {place} would overwrite {first}'s file; left out"
                ));
                continue;
            }
            taken.insert(path.clone(), place.clone());
            files.push(ExportFile {
                path,
                slot: slot.clone(),
                variant_key: key.to_owned(),
                asset: asset.clone(),
                converted_to,
            });
        }
    }
    let root = profile.root_name.replace("{assembly_id}", assembly_id);
    Ok(Manifest {
        profile,
        root,
        files,
        missing_required,
        warnings,
    })
}

/// The manifest as the package holds it; `written` gives each file's checksum and size once
/// written.
pub fn manifest_json(
    resolved: &Resolved,
    manifest: &Manifest,
    written: &HashMap<String, (String, usize)>,
) -> Value {
    let subject = resolved.chain.subject();
    let files: Vec<Value> = manifest
        .files
        .iter()
        .map(|file| {
            let filled = file.slot.filled.as_ref();
            let (sha256, bytes) = written
                .get(&file.path)
                .map(|(sha, n)| (json!(sha), json!(n)))
                .unwrap_or((Value::Null, Value::Null));
            json!({
                "path": file.path,
                "slot_group": file.slot.definition.group,
                "slot_name": file.slot.definition.name,
                "variant_key": if file.variant_key.is_empty() { Value::Null } else { json!(file.variant_key) },
                "asset_id": file.asset.id,
                "original_filename": file.asset.original_filename,
                "source_sha256": file.asset.sha256,
                "sha256": sha256,
                "bytes": bytes,
                "width": file.asset.width,
                "height": file.asset.height,
                "converted_to": file.converted_to,
                "z_index": file.slot.z_index(),
                "overlay_mode": file.slot.overlay_mode(),
                "offset": filled.map(|f| json!([f.slot.offset_x, f.slot.offset_y])),
                "scale": filled.map(|f| f.slot.scale),
                "rotation": filled.map(|f| f.slot.rotation),
                "inherited_from": filled.map(|f| f.from.as_str()).filter(|from| *from != subject.id()),
            })
        })
        .collect();
    json!({
        "export_profile": manifest.profile.id,
        "profile_version": manifest.profile.version,
        "generator": "loregraph",
        "generated_at": Utc::now().to_rfc3339(),
        "assembly": {
            "id": subject.id(),
            "name": subject.row.name,
            "assembly_type": subject.assembly_type(),
            "hierarchy_level": subject.level(),
            "chain": resolved.chain.nodes.iter().map(|n| n.id()).collect::<Vec<_>>(),
        },
        "complete": manifest.complete(),
        "missing_required": manifest.missing_required,
        "files": files,
        "warnings": manifest.warnings,
    })
}

/// The package as a ZIP: every file under the root folder (converted where the manifest says)
/// and the manifest beside them.
pub async fn build(
    platform: &Platform,
    runtime: &AssetRuntime,
    resolved: &Resolved,
    manifest: &Manifest,
) -> AppResult<Vec<u8>> {
    let total: i64 = manifest.files.iter().map(|f| f.asset.size_bytes).sum();
    if total > MAX_EXPORT_BYTES {
        return Err(AppError::PayloadTooLarge(format!(
            "the export would read {total} bytes of images; at most {MAX_EXPORT_BYTES} are exported at once"
        )));
    }
    // Exports hold their images in memory: a few at a time on a node.
    static EXPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _turn = EXPORTS.acquire().await.map_err(AppError::internal)?;
    let tenant_id = resolved.chain.subject().row.tenant_id;
    let mut files = crate::archive::Files::new();
    let mut held: usize = 0;
    let mut written: HashMap<String, (String, usize)> = HashMap::new();
    for file in &manifest.files {
        let bytes = runtime
            .blobs
            .read_original(tenant_id, &file.asset.sha256)
            .await
            .map_err(|error| {
                AppError::internal(error.context(format!("reading the asset {}", file.asset.id)))
            })?;
        let bytes = match file.converted_to.as_deref() {
            Some("png") => assets::as_png(platform, bytes).await?,
            _ => bytes,
        };
        held += bytes.len();
        if held as i64 > MAX_EXPORT_BYTES {
            return Err(AppError::PayloadTooLarge(format!(
                "the export's files come to more than {MAX_EXPORT_BYTES} bytes"
            )));
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        written.insert(file.path.clone(), (sha256, bytes.len()));
        files.insert(format!("{}/{}", manifest.root, file.path), Vec::from(bytes));
    }
    if manifest.profile.include_manifest {
        let json = manifest_json(resolved, manifest, &written);
        let text = serde_json::to_vec_pretty(&json).map_err(AppError::internal)?;
        files.insert(
            format!("{}/{}", manifest.root, manifest.profile.manifest_name),
            text,
        );
    }
    tokio::task::spawn_blocking(move || crate::archive::write(&files))
        .await
        .map_err(AppError::internal)?
}
