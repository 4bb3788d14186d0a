//! A data package's layout, both ways: the manifest, one JSON file per document (its id and
//! display name beside its body's fields), and each card's content and cover as a `.chr` holds
//! them. Reading checks the manifest against the files: the format, every kind's count against
//! its ids and its files, ids that are UUIDs and unique in the package, each card's content id.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{Counts, MAX_DOCUMENTS};
use crate::archive::{self, Bounds, Files};
use crate::assets::service::ImageKind;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::story::cards::{CardContent, pretty};
use crate::story::characters::CharacterBody;
use crate::story::library::{self, Body};
use crate::story::lorebooks::LorebookBody;
use crate::story::model::{DocumentRow, Kind};
use crate::story::presets::PresetBody;
use crate::story::profiles::PlayerProfileBody;
use crate::story::resources::StoryResourceBody;
use crate::story::schemas::StateSchemaBody;
use crate::story::stories::StoryBody;
use crate::story::stories::service as stories;

const FORMAT: &str = "sillystage_data_package";
const BOUNDS: Bounds = Bounds {
    max_entries: 3 * MAX_DOCUMENTS,
    max_entry_bytes: 32 * 1024 * 1024,
    max_total_bytes: 128 * 1024 * 1024,
};

/// The kinds a package carries: kind, folder, manifest key.
const KINDS: [(Kind, &str); 7] = [
    (Kind::Preset, "presets"),
    (Kind::Schema, "schemas"),
    (Kind::Lorebook, "lorebooks"),
    (Kind::PlayerProfile, "player_profiles"),
    (Kind::Character, "characters"),
    (Kind::StoryResource, "story_resources"),
    (Kind::Story, "stories"),
];

#[derive(Serialize, Deserialize, Default, Clone)]
struct IdList {
    ids: Vec<String>,
    count: usize,
}

#[derive(Serialize, Deserialize)]
struct CharacterFiles {
    character_id: String,
    content_path: String,
    #[serde(default)]
    cover_path: Option<String>,
    #[serde(default)]
    cover_mime_type: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    created_at_ms: i64,
    /// Ids and count by folder name (and `stories`).
    contents: BTreeMap<String, IdList>,
    #[serde(default)]
    characters: Vec<CharacterFiles>,
}

/// One document of a package.
pub struct Document {
    pub kind: Kind,
    pub id: Uuid,
    pub display_name: String,
    /// The body's fields (a card's: its content).
    body: Value,
}

impl Document {
    pub fn of_row(row: DocumentRow) -> AppResult<Self> {
        let kind = Kind::parse(&row.kind).unwrap_or(Kind::ApiConnection);
        if matches!(kind, Kind::Session | Kind::StoryDraft) {
            return Err(AppError::bad_field(
                "ids",
                format!(
                    "{} \"{}\" is a {}: sessions and drafts stay where they are made",
                    row.id,
                    row.display_name,
                    kind.label()
                ),
            ));
        }
        if matches!(kind, Kind::ApiConnection | Kind::ApiGroup) {
            return Err(AppError::bad_field(
                "ids",
                format!(
                    "{} \"{}\" is an {}: those hold keys and never leave the tenant",
                    row.id,
                    row.display_name,
                    kind.label()
                ),
            ));
        }
        Ok(Self {
            kind,
            id: row.id,
            display_name: row.display_name,
            body: row.body,
        })
    }

    /// A card's cover asset.
    pub fn cover_asset(&self) -> Option<Uuid> {
        (self.kind == Kind::Character)
            .then(|| self.body.get("cover_asset_id")?.as_str()?.parse().ok())
            .flatten()
    }

    fn file(&self) -> AppResult<Vec<u8>> {
        let mut value = self.body.clone();
        if let Value::Object(fields) = &mut value {
            fields.insert("id".into(), Value::String(self.id.to_string()));
            fields.insert(
                "display_name".into(),
                Value::String(self.display_name.clone()),
            );
        }
        pretty(&value)
    }

    fn body_as<B: Body>(&self) -> AppResult<B> {
        serde_json::from_value(self.body.clone()).map_err(|e| {
            AppError::unfit(
                Some("package"),
                format!("{} {} does not read: {e}", self.kind.label(), self.id),
            )
        })
    }

    /// Inserts it with its own id (a card with its cover asset, when it has one).
    pub async fn insert(
        &self,
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        covers: &HashMap<Uuid, Uuid>,
    ) -> AppResult<()> {
        let name = Some(self.display_name.as_str());
        match self.kind {
            Kind::Preset => self.insert_as::<PresetBody>(conn, viewer, name).await,
            Kind::Schema => self.insert_as::<StateSchemaBody>(conn, viewer, name).await,
            Kind::Lorebook => self.insert_as::<LorebookBody>(conn, viewer, name).await,
            Kind::PlayerProfile => {
                self.insert_as::<PlayerProfileBody>(conn, viewer, name)
                    .await
            }
            Kind::StoryResource => {
                self.insert_as::<StoryResourceBody>(conn, viewer, name)
                    .await
            }
            Kind::Character => {
                let content: CardContent =
                    serde_json::from_value(self.body.clone()).map_err(|e| {
                        AppError::unfit(Some("package"), format!("card {}: {e}", self.id))
                    })?;
                let mut body = content.into_body();
                body.cover_asset_id = covers
                    .get(&self.id)
                    .map(|id| async_graphql::ID(id.to_string()));
                library::insert_as(conn, viewer, self.id, name, body)
                    .await
                    .map(drop)
            }
            Kind::Story => {
                let body: StoryBody = self.body_as()?;
                stories::create(conn, viewer, Some(self.id), name, body)
                    .await
                    .map(drop)
            }
            Kind::ApiConnection | Kind::ApiGroup | Kind::Session | Kind::StoryDraft => {
                Err(AppError::bad_input(
                    "API connections, API groups, sessions and drafts are not imported",
                ))
            }
        }
    }

    async fn insert_as<B: Body>(
        &self,
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        name: Option<&str>,
    ) -> AppResult<()> {
        let body: B = self.body_as()?;
        library::insert_as(conn, viewer, self.id, name, body)
            .await
            .map(drop)
    }
}

/// A package's documents, and its cards' covers.
#[derive(Default)]
pub struct Package {
    documents: Vec<Document>,
    covers: HashMap<Uuid, (String, Vec<u8>)>,
}

impl Package {
    /// Adds a document (a card's body as its `.chr` content, with its cover when it has one).
    pub fn add(&mut self, mut document: Document, cover: Option<(String, axum::body::Bytes)>) {
        if document.kind == Kind::Character {
            if let Ok(body) = serde_json::from_value::<CharacterBody>(document.body.clone()) {
                let content = CardContent::new(document.id, &document.display_name, body);
                document.body = serde_json::to_value(content).unwrap_or_default();
            }
            if let Some((mime_type, bytes)) = cover {
                self.covers.insert(document.id, (mime_type, bytes.to_vec()));
            }
        }
        self.documents.push(document);
    }

    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Document> {
        self.documents.iter().filter(move |d| d.kind == kind)
    }

    pub fn ids(&self) -> Vec<Uuid> {
        self.documents.iter().map(|d| d.id).collect()
    }

    /// The cards' covers by card id.
    pub fn covers(&self) -> impl Iterator<Item = (Uuid, &Vec<u8>)> {
        self.covers.iter().map(|(id, (_, bytes))| (*id, bytes))
    }

    pub fn counts(&self) -> Counts {
        let count = |kind| self.of_kind(kind).count();
        Counts {
            presets: count(Kind::Preset),
            schemas: count(Kind::Schema),
            lorebooks: count(Kind::Lorebook),
            player_profiles: count(Kind::PlayerProfile),
            characters: count(Kind::Character),
            story_resources: count(Kind::StoryResource),
            stories: count(Kind::Story),
        }
    }

    /// The package as a ZIP archive.
    pub fn write(&self, created_at: DateTime<Utc>) -> AppResult<Vec<u8>> {
        let mut files = Files::new();
        let mut contents = BTreeMap::new();
        let mut characters = Vec::new();
        for (kind, folder) in KINDS {
            let mut list = IdList::default();
            for document in self.of_kind(kind) {
                let id = document.id.to_string();
                if kind == Kind::Character {
                    let content_path = format!("characters/{id}/content.json");
                    files.insert(content_path.clone(), pretty(&document.body)?);
                    let (cover_path, cover_mime_type) = match self.covers.get(&document.id) {
                        Some((mime_type, bytes)) => {
                            let extension = ImageKind::from_mime_type(mime_type)
                                .map_or("img", ImageKind::extension);
                            let path = format!("characters/{id}/cover.{extension}");
                            files.insert(path.clone(), bytes.clone());
                            (Some(path), Some(mime_type.clone()))
                        }
                        None => (None, None),
                    };
                    characters.push(CharacterFiles {
                        character_id: id.clone(),
                        content_path,
                        cover_path,
                        cover_mime_type,
                    });
                } else {
                    files.insert(format!("{folder}/{id}.json"), document.file()?);
                }
                list.ids.push(id);
            }
            list.count = list.ids.len();
            contents.insert(folder.to_owned(), list);
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            version: 1,
            created_at_ms: created_at.timestamp_millis(),
            contents,
            characters,
        };
        files.insert("manifest.json".into(), pretty(&manifest)?);
        archive::write(&files)
    }

    /// Reads and checks a package's archive (off the async workers).
    pub async fn read(bytes: Vec<u8>) -> AppResult<Package> {
        let files = archive::read(bytes, BOUNDS).await?;
        let manifest: Manifest = archive::json(&files, "manifest.json")?;
        if manifest.format != FORMAT || manifest.version != 1 {
            return Err(unfit(format!("not a {FORMAT} version 1 archive")));
        }
        let mut package = Package::default();
        let mut seen = HashSet::new();
        for (kind, folder) in KINDS {
            let list = manifest.contents.get(folder).cloned().unwrap_or_default();
            let in_folder = files
                .keys()
                .filter(|name| name.starts_with(&format!("{folder}/")))
                .filter(|name| kind != Kind::Character || name.ends_with("/content.json"))
                .count();
            if list.count != list.ids.len() || list.count != in_folder {
                return Err(unfit(format!(
                    "the manifest counts {} {folder} and names {}, and the archive holds {in_folder}",
                    list.count,
                    list.ids.len()
                )));
            }
            for id in &list.ids {
                let uuid = Uuid::parse_str(id)
                    .map_err(|_| unfit(format!("`{id}` is not a document id (a UUID)")))?;
                if !seen.insert(uuid) {
                    return Err(unfit(format!("{id} is in the package twice")));
                }
                let document = if kind == Kind::Character {
                    read_card(&files, &manifest, id, uuid, &mut package)?
                } else {
                    read_document(&files, kind, &format!("{folder}/{id}.json"), uuid)?
                };
                package.documents.push(document);
            }
        }
        if package.documents.len() > MAX_DOCUMENTS {
            return Err(unfit(format!(
                "a package holds at most {MAX_DOCUMENTS} documents"
            )));
        }
        if package.documents.is_empty() {
            return Err(unfit("the package is empty".into()));
        }
        Ok(package)
    }
}

fn unfit(message: String) -> AppError {
    AppError::unfit(Some("package"), message)
}

#[derive(Deserialize)]
struct Named {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
}

fn read_json<T: DeserializeOwned>(files: &Files, path: &str) -> AppResult<T> {
    archive::json(files, path)
}

fn read_document(files: &Files, kind: Kind, path: &str, id: Uuid) -> AppResult<Document> {
    let mut body: Value = read_json(files, path)?;
    let named: Named = serde_json::from_value(body.clone())
        .map_err(|e| unfit(format!("`{path}` does not read: {e}")))?;
    if named.id != id.to_string() {
        return Err(unfit(format!("`{path}` holds the id {}", named.id)));
    }
    if let Value::Object(fields) = &mut body {
        fields.remove("id");
        fields.remove("display_name");
    }
    Ok(Document {
        kind,
        id,
        display_name: named.display_name.unwrap_or_default(),
        body,
    })
}

fn read_card(
    files: &Files,
    manifest: &Manifest,
    id: &str,
    uuid: Uuid,
    package: &mut Package,
) -> AppResult<Document> {
    let entry = manifest
        .characters
        .iter()
        .find(|c| c.character_id == id)
        .ok_or_else(|| unfit(format!("the manifest says nothing of card {id}'s files")))?;
    let body: Value = read_json(files, &entry.content_path)?;
    let content: CardContent = serde_json::from_value(body.clone())
        .map_err(|e| unfit(format!("`{}` does not read: {e}", entry.content_path)))?;
    if content.id != id {
        return Err(unfit(format!(
            "`{}` holds the id {}",
            entry.content_path, content.id
        )));
    }
    if let Some(path) = &entry.cover_path {
        let bytes = files
            .get(path)
            .ok_or_else(|| unfit(format!("card {id}'s cover `{path}` is not in the archive")))?;
        let kind = ImageKind::sniff(bytes);
        let declared = entry
            .cover_mime_type
            .as_deref()
            .and_then(ImageKind::from_mime_type);
        if kind.is_none() || kind != declared || kind == Some(ImageKind::Gif) {
            return Err(unfit(format!(
                "card {id}'s cover is not the PNG, JPEG or WebP it says"
            )));
        }
        let mime_type = entry.cover_mime_type.clone().unwrap_or_default();
        package.covers.insert(uuid, (mime_type, bytes.clone()));
    }
    Ok(Document {
        kind: Kind::Character,
        id: uuid,
        display_name: content.display_name.clone().unwrap_or_default(),
        body,
    })
}
