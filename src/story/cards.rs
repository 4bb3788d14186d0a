//! Character covers and `.chr` archives. A cover is an image of the assets domain (sniffed
//! and bounded there; PNG, JPEG or WebP), referred to by the card. A `.chr` archive is the
//! reference's format: `manifest.json` (`sillystage_character_card`, version 1, the card's id,
//! where its content and cover are, the cover's type), `content.json` (the card, its id equal
//! to the manifest's) and the cover, which is required.

use axum::body::Bytes;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::characters::CharacterBody;
use super::library::{self, Stored};
use crate::archive::{self, Bounds, Files};
use crate::assets::service::{self as assets, AssetRuntime, ImageKind, Upload};
use crate::auth::{Role, Viewer};
use crate::context::Platform;
use crate::error::{AppError, AppResult};

const FORMAT: &str = "sillystage_character_card";
const CONTENT_PATH: &str = "content.json";

/// What a `.chr` archive may hold: a manifest, the content and a cover.
const CHR_BOUNDS: Bounds = Bounds {
    max_entries: 8,
    max_entry_bytes: 32 * 1024 * 1024,
    max_total_bytes: 40 * 1024 * 1024,
};

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    character_id: String,
    content_path: String,
    cover_path: String,
    cover_mime_type: String,
}

/// A card as `content.json` holds it: its id and name, then the card (without its cover
/// asset, which is this tenant's; the archive carries the cover itself).
#[derive(Serialize, Deserialize)]
pub struct CardContent {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(flatten)]
    pub card: CharacterBody,
}

impl CardContent {
    pub fn of(card: &Stored<CharacterBody>) -> Self {
        Self::new(card.id, &card.display_name, card.body.clone())
    }

    /// A card's content from its id, name and body (its cover asset left out).
    pub fn new(id: Uuid, display_name: &str, mut card: CharacterBody) -> Self {
        card.cover_asset_id = None;
        Self {
            id: id.to_string(),
            display_name: Some(display_name.to_owned()),
            card,
        }
    }

    pub fn into_body(self) -> CharacterBody {
        CharacterBody {
            cover_asset_id: None,
            ..self.card
        }
    }
}

fn covers_only(bytes: &[u8]) -> AppResult<ImageKind> {
    match ImageKind::sniff(bytes) {
        Some(kind @ (ImageKind::Png | ImageKind::Jpeg | ImageKind::Webp)) => Ok(kind),
        _ => Err(AppError::UnsupportedMediaType(
            "a cover is a PNG, JPEG or WebP image".into(),
        )),
    }
}

async fn card(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Stored<CharacterBody>> {
    library::get::<CharacterBody>(conn, viewer, id)
        .await?
        .ok_or_else(|| AppError::not_found("character card not found"))
}

/// Stores `bytes` as a cover image (through the assets domain: sniffed and bounded there).
pub(super) async fn store_cover(
    platform: &Platform,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    bytes: Bytes,
) -> AppResult<Uuid> {
    let kind = covers_only(&bytes)?;
    let upload = Upload {
        filename: format!("cover.{}", kind.extension()),
        bytes,
    };
    Ok(assets::upload(platform, runtime, viewer, upload, None)
        .await?
        .id)
}

/// Makes `bytes` the card's cover (WORLDBUILDER and above).
pub async fn set_cover(
    platform: &Platform,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    id: Uuid,
    bytes: Bytes,
) -> AppResult<Stored<CharacterBody>> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    card(&mut conn, viewer, id).await?;
    drop(conn);
    let asset_id = store_cover(platform, runtime, viewer, bytes).await?;
    let mut conn = platform.pool.get().await?;
    library::update::<CharacterBody>(&mut conn, viewer, id, None, None, |mut body| {
        body.cover_asset_id = Some(async_graphql::ID(asset_id.to_string()));
        Ok(body)
    })
    .await
}

/// A card's live cover: its type and bytes; None when it has none (or it is gone).
async fn cover_of(
    conn: &mut AsyncPgConnection,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    card: &Stored<CharacterBody>,
) -> AppResult<Option<(String, Bytes)>> {
    let asset_id = card
        .body
        .cover_asset_id
        .as_ref()
        .and_then(|id| Uuid::parse_str(id).ok());
    match asset_id {
        Some(asset_id) => assets::live_image(conn, runtime, viewer.tenant_id, asset_id).await,
        None => Ok(None),
    }
}

/// The card's cover: its type and bytes.
pub async fn cover(
    platform: &Platform,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(String, Bytes)> {
    let mut conn = platform.pool.get().await?;
    let card = card(&mut conn, viewer, id).await?;
    cover_of(&mut conn, runtime, viewer, &card)
        .await?
        .ok_or_else(|| AppError::not_found("the character card has no cover"))
}

/// The card as a `.chr` archive (WORLDBUILDER and above); CONFLICT without a cover (the
/// format requires one).
pub async fn export(
    platform: &Platform,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(String, Vec<u8>)> {
    viewer.require_role(Role::Worldbuilder)?;
    let mut conn = platform.pool.get().await?;
    let card = card(&mut conn, viewer, id).await?;
    let (mime_type, cover) = cover_of(&mut conn, runtime, viewer, &card)
        .await?
        .ok_or_else(|| {
            AppError::conflict("a .chr archive carries the card's cover: give the card one first")
        })?;
    drop(conn);
    let files = chr_files(&card, &mime_type, cover.to_vec())?;
    let file_name = format!("{}.chr", card.id);
    Ok((file_name, archive::write(&files)?))
}

/// The files of a card's `.chr` archive (also a data package's per-card layout).
pub fn chr_files(
    card: &Stored<CharacterBody>,
    mime_type: &str,
    cover: Vec<u8>,
) -> AppResult<Files> {
    let extension = ImageKind::from_mime_type(mime_type)
        .map(ImageKind::extension)
        .unwrap_or("img");
    let cover_path = format!("cover.{extension}");
    let manifest = Manifest {
        format: FORMAT.into(),
        version: 1,
        character_id: card.id.to_string(),
        content_path: CONTENT_PATH.into(),
        cover_path: cover_path.clone(),
        cover_mime_type: mime_type.to_owned(),
    };
    let mut files = Files::new();
    files.insert("manifest.json".into(), pretty(&manifest)?);
    files.insert(CONTENT_PATH.into(), pretty(&CardContent::of(card))?);
    files.insert(cover_path, cover);
    Ok(files)
}

pub fn pretty<T: Serialize>(value: &T) -> AppResult<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(AppError::internal)
}

/// Imports a `.chr` archive as a card with the archive's id (CONFLICT when the tenant has
/// that id; `as_copy` gives the card a new one instead). A state schema the tenant lacks is
/// left out of the card.
pub async fn import(
    platform: &Platform,
    runtime: &AssetRuntime,
    viewer: &Viewer,
    bytes: Vec<u8>,
    as_copy: bool,
) -> AppResult<Stored<CharacterBody>> {
    viewer.require_role(Role::Worldbuilder)?;
    let files = archive::read(bytes, CHR_BOUNDS).await?;
    let manifest: Manifest = archive::json(&files, "manifest.json")?;
    if manifest.format != FORMAT || manifest.version != 1 {
        return Err(AppError::unfit(
            Some("manifest"),
            format!("not a {FORMAT} version 1 archive"),
        ));
    }
    let content: CardContent = archive::json(&files, &manifest.content_path)?;
    if content.id != manifest.character_id {
        return Err(AppError::unfit(
            Some("manifest"),
            "the content's id is not the manifest's character_id",
        ));
    }
    let cover = files.get(&manifest.cover_path).ok_or_else(|| {
        AppError::unfit(
            Some("manifest"),
            "the archive has no cover at its cover_path",
        )
    })?;
    let declared = ImageKind::from_mime_type(&manifest.cover_mime_type);
    if declared != Some(covers_only(cover)?) {
        return Err(AppError::unfit(
            Some("manifest"),
            "the cover is not what cover_mime_type says",
        ));
    }
    let id = match Uuid::parse_str(&content.id) {
        Ok(id) if !as_copy => id,
        _ => Uuid::now_v7(),
    };
    let display_name = content.display_name.clone();
    let mut body = content.into_body();
    // Everything that can refuse the card is asked before its cover is stored.
    library::Body::check(&mut body)?;
    assets::check_image(platform, cover)?;
    let mut conn = platform.pool.get().await?;
    if super::store::find(&mut conn, viewer.tenant_id, id)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!(
            "this tenant already has a document {id}: import the card as a copy"
        )));
    }
    if let Some(schema) = body.schema_id.clone()
        && !schema_exists(&mut conn, viewer, &schema).await?
    {
        body.schema_id = None;
    }
    drop(conn);
    let asset_id = store_cover(platform, runtime, viewer, Bytes::from(cover.clone())).await?;
    body.cover_asset_id = Some(async_graphql::ID(asset_id.to_string()));
    let mut conn = platform.pool.get().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        library::insert_as(conn, viewer, id, display_name.as_deref(), body).await
    })
    .await
}

async fn schema_exists(conn: &mut AsyncPgConnection, viewer: &Viewer, id: &str) -> AppResult<bool> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(false);
    };
    Ok(
        library::get::<super::schemas::StateSchemaBody>(conn, viewer, id)
            .await?
            .is_some(),
    )
}
