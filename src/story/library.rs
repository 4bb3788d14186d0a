//! The rules every kind of story document shares: who may read and write (PLAYER and above
//! read, WORLDBUILDER and above write; API connections and groups are read from WORLDBUILDER
//! up), names, body sizes, references (each must name a document of the right kind in the
//! viewer's tenant; a referred-to document cannot be deleted, and the refusal names its
//! referrers), and versions (an update may name the version it was made against).
//!
//! A kind is a [`Body`]: its own rules in `check`, the documents it refers to in `links`.

use async_graphql::ID;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::model::{DocumentRow, Kind, Link};
use super::store::{self, DocumentKey, NewDocument};
use crate::auth::{Role, Viewer};
use crate::db::keyset::Window;
use crate::db::validate_text;
use crate::error::{AppError, AppResult, Referrer};

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// How many referrers a refused delete names.
const MAX_REFERRERS_NAMED: i64 = 20;

/// The body of one kind of document.
pub trait Body: Serialize + DeserializeOwned + Clone + Send + Sync + Sized + 'static {
    const KIND: Kind;
    /// Most bytes the body may take as JSON.
    const MAX_BYTES: usize = 256 * 1024;
    /// The least role that reads documents of this kind.
    const READ_ROLE: Role = Role::Player;
    /// The least role that writes them (a kind whose documents belong to their maker, as
    /// sessions do, checks who else may in its own service).
    const WRITE_ROLE: Role = Role::Worldbuilder;

    /// Checks the body and puts it in its stored form (trimmed text, defaults filled in);
    /// BAD_USER_INPUT naming the field otherwise.
    fn check(&mut self) -> AppResult<()>;

    /// The documents it refers to.
    fn links(&self) -> Vec<Link> {
        Vec::new()
    }

    /// The name a document gets when it is given none (None: a name is required).
    fn default_name(&self) -> Option<String> {
        None
    }

    /// Carries over from `current` what the server manages and an update's input does not
    /// hold (a character's cover).
    fn keep_managed(&mut self, _current: &Self) {}
}

/// A document as read: its row's facts and its body.
#[derive(Clone, Debug)]
pub struct Stored<B> {
    pub id: Uuid,
    pub display_name: String,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub body: B,
}

impl<B: Body> Stored<B> {
    /// The row read as a `B`; None when it is another kind.
    pub fn decode(mut row: DocumentRow) -> AppResult<Option<Self>> {
        if row.kind != B::KIND.as_str() {
            return Ok(None);
        }
        let body = serde_json::from_value(std::mem::take(&mut row.body)).map_err(|e| {
            AppError::internal(anyhow::anyhow!(
                "stored {} {} does not read: {e}",
                B::KIND.as_str(),
                row.id
            ))
        })?;
        stored(row, body).map(Some)
    }
}

fn not_found<B: Body>() -> AppError {
    AppError::not_found(format!("{} not found", B::KIND.label()))
}

/// A display name as stored: trimmed, 1 to 200 printable characters; the body's default when
/// blank and it has one.
fn checked_name<B: Body>(name: Option<&str>, body: &B) -> AppResult<String> {
    let name = name.map(str::trim).unwrap_or_default();
    let name = if name.is_empty() {
        match body.default_name() {
            Some(default) => default,
            None => {
                return Err(AppError::bad_field(
                    "displayName",
                    "give a display name of 1 to 200 characters",
                ));
            }
        }
    } else {
        name.to_owned()
    };
    validate_text("displayName", &name, MAX_NAME_CHARS)?;
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "displayName",
            "the display name must not contain control characters",
        ));
    }
    Ok(name)
}

/// The body checked, as JSON within its kind's size.
fn checked_body<B: Body>(body: &mut B) -> AppResult<serde_json::Value> {
    body.check()?;
    let json = serde_json::to_value(&*body).map_err(AppError::internal)?;
    let size = serde_json::to_vec(&json).map_err(AppError::internal)?.len();
    if size > B::MAX_BYTES {
        return Err(AppError::PayloadTooLarge(format!(
            "a {} may take at most {} KiB; this one takes {} KiB",
            B::KIND.label(),
            B::MAX_BYTES / 1024,
            size.div_ceil(1024)
        )));
    }
    Ok(json)
}

/// Writes `links` after checking that each names a document of the right kind in the tenant
/// (locked against deletion until the transaction ends).
async fn write_links(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    from_id: Uuid,
    links: &[Link],
) -> AppResult<()> {
    let ids: Vec<Uuid> = links.iter().map(|link| link.to_id).collect();
    let found = store::kinds_of(conn, tenant_id, &ids).await?;
    for link in links {
        let kind = found
            .iter()
            .find(|(id, _)| *id == link.to_id)
            .and_then(|(_, kind)| Kind::parse(kind));
        if kind != Some(link.to_kind) {
            return Err(AppError::bad_input(format!(
                "`{}` names {}, which is not a {} of this tenant",
                link.slot,
                link.to_id,
                link.to_kind.label()
            )));
        }
    }
    store::replace_links(conn, tenant_id, from_id, links).await
}

/// Creates a document inside the caller's transaction (WORLDBUILDER and above).
pub async fn insert<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    display_name: Option<&str>,
    body: B,
) -> AppResult<Stored<B>> {
    insert_as(conn, viewer, Uuid::now_v7(), display_name, body).await
}

/// Creates a document with the id it brought (an imported one) inside the caller's
/// transaction; CONFLICT when the tenant has one with that id.
pub async fn insert_as<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    display_name: Option<&str>,
    mut body: B,
) -> AppResult<Stored<B>> {
    viewer.require_role(B::WRITE_ROLE)?;
    let json = checked_body(&mut body)?;
    let display_name = checked_name(display_name, &body)?;
    let row = store::insert(
        conn,
        NewDocument {
            tenant_id: viewer.tenant_id,
            id,
            kind: B::KIND,
            display_name: &display_name,
            body: &json,
            created_by: viewer.user_id,
        },
    )
    .await?;
    write_links(conn, viewer.tenant_id, id, &body.links()).await?;
    stored(row, body)
}

fn stored<B>(row: DocumentRow, body: B) -> AppResult<Stored<B>> {
    Ok(Stored {
        id: row.id,
        display_name: row.display_name,
        version: row.version,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        body,
    })
}

/// Creates a document (WORLDBUILDER and above), with its references, in one transaction.
pub async fn create<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    display_name: Option<&str>,
    body: B,
) -> AppResult<Stored<B>> {
    conn.transaction::<_, AppError, _>(async |conn| insert(conn, viewer, display_name, body).await)
        .await
}

/// The document locked for a change inside the caller's transaction; NOT_FOUND when the
/// tenant has no such document of this kind, CONFLICT when it moved past `expected_version`.
pub async fn lock<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
) -> AppResult<Stored<B>> {
    viewer.require_role(B::WRITE_ROLE)?;
    let row = store::lock(conn, viewer.tenant_id, id)
        .await?
        .ok_or_else(not_found::<B>)?;
    let current = Stored::<B>::decode(row)?.ok_or_else(not_found::<B>)?;
    if let Some(expected) = expected_version
        && expected != current.version
    {
        return Err(AppError::conflict(format!(
            "the {} changed since version {expected}: it is at version {} now; reload and \
             try again",
            B::KIND.label(),
            current.version
        )));
    }
    Ok(current)
}

/// Writes a locked document's new name and body (checked again, references rewritten), one
/// version on, inside the caller's transaction.
pub async fn save<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    current: &Stored<B>,
    display_name: Option<&str>,
    mut body: B,
) -> AppResult<Stored<B>> {
    let json = checked_body(&mut body)?;
    let display_name = checked_name(display_name.or(Some(&current.display_name)), &body)?;
    let links = body.links();
    let row = DocumentRow {
        tenant_id: viewer.tenant_id,
        id: current.id,
        kind: B::KIND.as_str().to_owned(),
        display_name: String::new(),
        body: serde_json::Value::Null,
        version: current.version,
        created_by: current.created_by,
        created_at: current.created_at,
        updated_at: current.updated_at,
    };
    let row = store::save(conn, &row, &display_name, &json).await?;
    write_links(conn, viewer.tenant_id, current.id, &links).await?;
    stored(row, body)
}

/// Changes a document in one transaction: `change` gets the current body and returns the new
/// one (or refuses).
pub async fn update<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
    expected_version: Option<i32>,
    display_name: Option<&str>,
    change: impl FnOnce(B) -> AppResult<B> + Send,
) -> AppResult<Stored<B>> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let current = lock::<B>(conn, viewer, id, expected_version).await?;
        let body = change(current.body.clone())?;
        save(conn, viewer, &current, display_name, body).await
    })
    .await
}

/// Deletes a document (WORLDBUILDER and above) unless something refers to it: CONFLICT naming
/// the referrers.
pub async fn delete<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let current = lock::<B>(conn, viewer, id, None).await?;
        let referrers = store::referrers(conn, viewer.tenant_id, id, MAX_REFERRERS_NAMED).await?;
        if !referrers.is_empty() {
            let named: Vec<String> = referrers
                .iter()
                .map(|(kind, _, name)| {
                    let label = Kind::parse(kind).map_or("document", Kind::label);
                    format!("{label} \"{name}\"")
                })
                .collect();
            return Err(AppError::InUse {
                message: format!(
                    "the {} \"{}\" is still used by {}",
                    B::KIND.label(),
                    current.display_name,
                    named.join(", ")
                ),
                referrers: referrers
                    .into_iter()
                    .map(|(kind, id, name)| Referrer {
                        kind: kind.to_ascii_uppercase(),
                        id: id.to_string(),
                        name,
                    })
                    .collect(),
            });
        }
        store::delete(conn, viewer.tenant_id, id).await
    })
    .await
}

/// One document of the viewer's tenant; None when there is none of this kind.
pub async fn get<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<Stored<B>>> {
    viewer.require_role(B::READ_ROLE)?;
    fetch(conn, viewer.tenant_id, id).await
}

/// One document of the tenant whatever the viewer may read: for the engine acting on a
/// session's behalf (a player's turn calls the tenant's API group and connections, which only
/// WORLDBUILDERs read). Never hand what it finds to the viewer as such.
pub async fn fetch<B: Body>(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<Stored<B>>> {
    match store::find(conn, tenant_id, id).await? {
        Some(row) => Stored::decode(row),
        None => Ok(None),
    }
}

/// Those of `ids` that are `B`s of the tenant, in the order of `ids` (one statement; repeats
/// and other kinds left out). For the engine, as [`fetch`].
pub async fn fetch_many<B: Body>(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<Stored<B>>> {
    let mut rows: std::collections::HashMap<Uuid, DocumentRow> =
        store::by_ids(conn, tenant_id, ids)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
    let mut found = Vec::with_capacity(rows.len());
    for id in ids {
        if let Some(row) = rows.remove(id) {
            found.extend(Stored::decode(row)?);
        }
    }
    Ok(found)
}

/// A window of the kind's documents by name, those whose name contains `search`.
pub async fn list<B: Body>(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    search: Option<&str>,
    window: &Window<DocumentKey>,
) -> AppResult<(Option<i64>, Vec<Listed<B>>)> {
    viewer.require_role(B::READ_ROLE)?;
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let (total, rows) = store::list(conn, viewer.tenant_id, B::KIND, search, window).await?;
    let mut documents = Vec::with_capacity(rows.len());
    for (row, folded) in rows {
        let id = row.id;
        documents.extend(Stored::decode(row)?.map(|document| Listed {
            document,
            key: (folded, id),
        }));
    }
    Ok((total, documents))
}

/// A document of a list, with its key in the list's order (for its cursor).
pub struct Listed<B> {
    pub document: Stored<B>,
    pub key: DocumentKey,
}

/// A list of ids as stored: each a document id, no repeats, at most `max`.
pub fn checked_ids(field: &'static str, ids: &mut [ID], max: usize) -> AppResult<()> {
    if ids.len() > max {
        return Err(AppError::bad_field(
            field,
            format!("`{field}` may name at most {max} documents"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for id in ids.iter_mut() {
        *id = checked_id(field, id)?;
        if !seen.insert(id.0.clone()) {
            return Err(AppError::bad_field(
                field,
                format!("`{field}` names {} twice", id.0),
            ));
        }
    }
    Ok(())
}

/// A document id in its stored form.
pub fn checked_id(field: &'static str, id: &ID) -> AppResult<ID> {
    Ok(ID(crate::db::parse_id(field, id)?.to_string()))
}

/// The ids' uuids (ids checked by [`checked_ids`] or [`checked_id`]).
pub fn uuids(ids: &[ID]) -> Vec<Uuid> {
    ids.iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}
