//! SQL of the story library: documents, their links, sealed keys and the tenant's settings,
//! always within one tenant.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{DocumentRow, Kind, Link};
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{
    story_documents as docs, story_links as links, story_secrets, story_settings,
};
use crate::db::{escape_like, lower};
use crate::error::AppResult;

/// A new document.
pub struct NewDocument<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub kind: Kind,
    pub display_name: &'a str,
    pub body: &'a serde_json::Value,
    pub created_by: Uuid,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewDocument<'_>) -> AppResult<DocumentRow> {
    Ok(diesel::insert_into(docs::table)
        .values((
            docs::tenant_id.eq(new.tenant_id),
            docs::id.eq(new.id),
            docs::kind.eq(new.kind.as_str()),
            docs::display_name.eq(new.display_name),
            docs::body.eq(new.body),
            docs::created_by.eq(new.created_by),
        ))
        .returning(DocumentRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<DocumentRow>> {
    Ok(docs::table
        .find((tenant_id, id))
        .select(DocumentRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The document, locked until the transaction ends.
pub async fn lock(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<DocumentRow>> {
    Ok(docs::table
        .find((tenant_id, id))
        .select(DocumentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

pub async fn by_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<DocumentRow>> {
    Ok(docs::table
        .filter(docs::tenant_id.eq(tenant_id))
        .filter(docs::id.eq_any(ids))
        .select(DocumentRow::as_select())
        .load(conn)
        .await?)
}

/// The kinds of those of `ids` that exist in the tenant, locked against deletion until the
/// transaction ends (a link to them is about to be written).
pub async fn kinds_of(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<(Uuid, String)>> {
    Ok(docs::table
        .filter(docs::tenant_id.eq(tenant_id))
        .filter(docs::id.eq_any(ids))
        .select((docs::id, docs::kind))
        .for_key_share()
        .load(conn)
        .await?)
}

/// Writes a document's new name and body, one version on.
pub async fn save(
    conn: &mut AsyncPgConnection,
    row: &DocumentRow,
    display_name: &str,
    body: &serde_json::Value,
) -> AppResult<DocumentRow> {
    Ok(diesel::update(docs::table.find((row.tenant_id, row.id)))
        .set((
            docs::display_name.eq(display_name),
            docs::body.eq(body),
            docs::version.eq(row.version + 1),
            docs::updated_at.eq(Utc::now()),
        ))
        .returning(DocumentRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, tenant_id: Uuid, id: Uuid) -> AppResult<()> {
    diesel::delete(docs::table.find((tenant_id, id)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes `links` the document's only links.
pub async fn replace_links(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    from_id: Uuid,
    new_links: &[Link],
) -> AppResult<()> {
    diesel::delete(
        links::table
            .filter(links::tenant_id.eq(tenant_id))
            .filter(links::from_id.eq(from_id)),
    )
    .execute(conn)
    .await?;
    if new_links.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = new_links
        .iter()
        .map(|link| {
            (
                links::tenant_id.eq(tenant_id),
                links::from_id.eq(from_id),
                links::slot.eq(link.slot),
                links::position.eq(link.position),
                links::to_id.eq(link.to_id),
            )
        })
        .collect();
    diesel::insert_into(links::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// The documents that refer to `id` (at most `limit`), by name.
pub async fn referrers(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
    limit: i64,
) -> AppResult<Vec<(String, Uuid, String)>> {
    Ok(docs::table
        .filter(docs::tenant_id.eq(tenant_id))
        .filter(
            docs::id.eq_any(
                links::table
                    .filter(links::tenant_id.eq(tenant_id))
                    .filter(links::to_id.eq(id))
                    .select(links::from_id),
            ),
        )
        .order((lower(docs::display_name), docs::id))
        .limit(limit)
        .select((docs::kind, docs::id, docs::display_name))
        .load(conn)
        .await?)
}

/// How many documents of each kind the tenant has.
pub async fn counts(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<Vec<(String, i64)>> {
    Ok(docs::table
        .filter(docs::tenant_id.eq(tenant_id))
        .group_by(docs::kind)
        .select((docs::kind, diesel::dsl::count_star()))
        .load(conn)
        .await?)
}

/// Where a document sits in its library: its name folded to lower case, then its id.
pub type DocumentKey = (String, Uuid);

fn of_kind<'a>(
    tenant_id: Uuid,
    kind: Kind,
    pattern: Option<&'a str>,
) -> docs::BoxedQuery<'a, diesel::pg::Pg> {
    let mut query = docs::table
        .filter(docs::tenant_id.eq(tenant_id))
        .filter(docs::kind.eq(kind.as_str()))
        .into_boxed();
    if let Some(pattern) = pattern {
        query = query.filter(docs::display_name.ilike(pattern));
    }
    query
}

/// A page of one kind's documents by name (those whose name contains `search`, when given).
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    kind: Kind,
    search: Option<&str>,
    window: &Window<DocumentKey>,
) -> AppResult<(Option<i64>, Vec<(DocumentRow, String)>)> {
    let pattern = search.map(|s| format!("%{}%", escape_like(s)));
    // The folded name comes from PostgreSQL, so a cursor's key is exactly what the order
    // compares (Rust's lower-casing differs for a few characters).
    let rows = windowed!(
        of_kind(tenant_id, kind, pattern.as_deref()),
        window.clone(),
        asc(lower(docs::display_name), docs::id)
    )
    .select((DocumentRow::as_select(), lower(docs::display_name)));
    let total = of_kind(tenant_id, kind, pattern.as_deref()).count();
    load_window(conn, window, rows, total).await
}

/// The sealed key of an API connection and its masked form.
pub async fn secret(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    document_id: Uuid,
) -> AppResult<Option<(Vec<u8>, String)>> {
    Ok(story_secrets::table
        .find((tenant_id, document_id))
        .select((story_secrets::sealed, story_secrets::masked))
        .first(conn)
        .await
        .optional()?)
}

/// The masked keys of those of `ids` that have one.
pub async fn masked_keys(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<(Uuid, String)>> {
    Ok(story_secrets::table
        .filter(story_secrets::tenant_id.eq(tenant_id))
        .filter(story_secrets::document_id.eq_any(ids))
        .select((story_secrets::document_id, story_secrets::masked))
        .load(conn)
        .await?)
}

/// Keeps (or, with None, removes) a connection's sealed key.
pub async fn put_secret(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    document_id: Uuid,
    sealed: Option<(&[u8], &str)>,
) -> AppResult<()> {
    match sealed {
        Some((sealed, masked)) => {
            diesel::insert_into(story_secrets::table)
                .values((
                    story_secrets::tenant_id.eq(tenant_id),
                    story_secrets::document_id.eq(document_id),
                    story_secrets::sealed.eq(sealed),
                    story_secrets::masked.eq(masked),
                ))
                .on_conflict((story_secrets::tenant_id, story_secrets::document_id))
                .do_update()
                .set((
                    story_secrets::sealed.eq(sealed),
                    story_secrets::masked.eq(masked),
                ))
                .execute(conn)
                .await?;
        }
        None => {
            diesel::delete(story_secrets::table.find((tenant_id, document_id)))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// The tenant's default API group and preset.
pub async fn settings(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    Ok(story_settings::table
        .find(tenant_id)
        .select((
            story_settings::default_api_group_id,
            story_settings::default_preset_id,
        ))
        .first(conn)
        .await
        .optional()?
        .unwrap_or((None, None)))
}

pub async fn put_settings(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    api_group_id: Option<Uuid>,
    preset_id: Option<Uuid>,
) -> AppResult<()> {
    diesel::insert_into(story_settings::table)
        .values((
            story_settings::tenant_id.eq(tenant_id),
            story_settings::default_api_group_id.eq(api_group_id),
            story_settings::default_preset_id.eq(preset_id),
        ))
        .on_conflict(story_settings::tenant_id)
        .do_update()
        .set((
            story_settings::default_api_group_id.eq(api_group_id),
            story_settings::default_preset_id.eq(preset_id),
            story_settings::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// What the documents `from_ids` refer to.
pub async fn linked_from(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    from_ids: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    Ok(links::table
        .filter(links::tenant_id.eq(tenant_id))
        .filter(links::from_id.eq_any(from_ids))
        .select(links::to_id)
        .distinct()
        .load(conn)
        .await?)
}

/// Records how a connection's last call went.
pub async fn record_check(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    document_id: Uuid,
    ok: bool,
    message: Option<&str>,
) -> AppResult<()> {
    use crate::db::schema::story_connection_checks as checks;
    diesel::insert_into(checks::table)
        .values((
            checks::tenant_id.eq(tenant_id),
            checks::document_id.eq(document_id),
            checks::ok.eq(ok),
            checks::message.eq(message),
        ))
        .on_conflict((checks::tenant_id, checks::document_id))
        .do_update()
        .set((
            checks::ok.eq(ok),
            checks::message.eq(message),
            checks::checked_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// How the last calls of those of `ids` went: (id, answered, what went wrong, when).
pub async fn checks(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<(Uuid, bool, Option<String>, chrono::DateTime<Utc>)>> {
    use crate::db::schema::story_connection_checks as checks;
    Ok(checks::table
        .filter(checks::tenant_id.eq(tenant_id))
        .filter(checks::document_id.eq_any(ids))
        .select((
            checks::document_id,
            checks::ok,
            checks::message,
            checks::checked_at,
        ))
        .load(conn)
        .await?)
}

/// The kind's most recently changed documents.
pub async fn recent(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    kind: Kind,
    limit: i64,
) -> AppResult<Vec<DocumentRow>> {
    Ok(of_kind(tenant_id, kind, None)
        .order((docs::updated_at.desc(), docs::id.desc()))
        .limit(limit)
        .select(DocumentRow::as_select())
        .load(conn)
        .await?)
}
