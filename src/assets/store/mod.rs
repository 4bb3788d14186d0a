//! Queries of the assets domain, always within one tenant (serving by access key aside: the
//! key is the secret). This file holds the asset rows; `blobs` the stored contents they share,
//! `links` what ties assets to entities.

mod blobs;
mod links;

pub use blobs::*;
pub use links::*;

use chrono::{DateTime, Utc};
use diesel::dsl::{Eq, Filter, count_star, sql};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::AssetRow;
use crate::db::keyset::{Window, load_window, windowed};
use crate::db::schema::{asset_blobs, asset_links, assets};
use crate::db::search::TsQuery;
use crate::error::AppResult;

#[derive(Insertable)]
#[diesel(table_name = assets)]
pub struct NewAsset<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub sha256: &'a str,
    pub mime_type: &'a str,
    pub size_bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub original_filename: &'a str,
    pub access_key: &'a str,
    pub uploaded_by: Option<Uuid>,
}

pub async fn insert(conn: &mut AsyncPgConnection, asset: &NewAsset<'_>) -> AppResult<AssetRow> {
    Ok(diesel::insert_into(assets::table)
        .values(asset)
        .returning(AssetRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<AssetRow>> {
    Ok(one(tenant_id, id)
        .select(AssetRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// An asset of the tenant, locked for a change (inside a transaction).
pub async fn lock(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> AppResult<Option<AssetRow>> {
    Ok(one(tenant_id, id)
        .select(AssetRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

pub async fn by_ids(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<AssetRow>> {
    Ok(assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::id.eq_any(ids))
        .select(AssetRow::as_select())
        .load(conn)
        .await?)
}

/// The asset a public URL names: the key is the secret, so no tenant is needed.
pub async fn find_by_access_key(
    conn: &mut AsyncPgConnection,
    access_key: &str,
) -> AppResult<Option<AssetRow>> {
    Ok(assets::table
        .filter(assets::access_key.eq(access_key))
        .select(AssetRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// One asset's row, addressed by its tenant as well as its id, so no write can reach across
/// tenants even if a caller passed the wrong id.
pub type OneAsset =
    Filter<Filter<assets::table, Eq<assets::tenant_id, Uuid>>, Eq<assets::id, Uuid>>;

pub fn one(tenant_id: Uuid, id: Uuid) -> OneAsset {
    assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::id.eq(id))
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = assets)]
pub struct AssetChanges {
    pub original_filename: Option<String>,
    pub tags: Option<Vec<String>>,
    pub status: Option<String>,
}

/// Changes a live asset's metadata; NOT_FOUND when it went to the recycle bin meanwhile.
pub async fn update(
    conn: &mut AsyncPgConnection,
    asset: &AssetRow,
    changes: &AssetChanges,
) -> AppResult<AssetRow> {
    Ok(
        diesel::update(one(asset.tenant_id, asset.id).filter(assets::deleted_at.is_null()))
            .set((changes, assets::updated_at.eq(Utc::now())))
            .returning(AssetRow::as_returning())
            .get_result(conn)
            .await?,
    )
}

/// Moves an asset into the recycle bin (`deleted_by` Some) or out of it (None).
pub async fn set_recycled(
    conn: &mut AsyncPgConnection,
    asset: &AssetRow,
    deleted_by: Option<Option<Uuid>>,
) -> AppResult<AssetRow> {
    let deleted_at = deleted_by.map(|_| Utc::now());
    Ok(diesel::update(one(asset.tenant_id, asset.id))
        .set((
            assets::deleted_at.eq(deleted_at),
            assets::deleted_by.eq(deleted_by.flatten()),
            assets::updated_at.eq(Utc::now()),
        ))
        .returning(AssetRow::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn delete_row(conn: &mut AsyncPgConnection, asset: &AssetRow) -> AppResult<()> {
    diesel::delete(one(asset.tenant_id, asset.id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Every asset in a tenant's recycle bin, oldest deletion first (for emptying it).
pub async fn recycled(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<Vec<AssetRow>> {
    Ok(assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::deleted_at.is_not_null())
        .order(assets::deleted_at.asc())
        .select(AssetRow::as_select())
        .load(conn)
        .await?)
}

/// Recycled assets past their tenant's retention (or `expiry.older_than_days`), `limit` at most,
/// grouped by tenant with the time before which they were recycled.
pub async fn expired_recycled(
    conn: &mut AsyncPgConnection,
    expiry: crate::entities::service::RecycleExpiry,
    limit: i64,
) -> AppResult<Vec<(Uuid, DateTime<Utc>, Vec<AssetRow>)>> {
    use diesel::sql_types::{Integer, Timestamptz};
    #[derive(QueryableByName)]
    struct Expired {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        tenant_id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = Timestamptz)]
        cutoff: DateTime<Utc>,
    }
    let expired: Vec<Expired> =
        diesel::sql_query(crate::tenants::service::expired_in_bin("assets"))
            .bind::<Nullable<diesel::sql_types::Uuid>, _>(expiry.tenant_id)
            .bind::<Nullable<Integer>, _>(expiry.older_than_days)
            .bind::<BigInt, _>(limit)
            .load(conn)
            .await?;
    // Every row of one tenant shares its cutoff.
    let mut tenants: std::collections::BTreeMap<Uuid, (DateTime<Utc>, Vec<Uuid>)> =
        Default::default();
    for asset in expired {
        tenants
            .entry(asset.tenant_id)
            .or_insert_with(|| (asset.cutoff, Vec::new()))
            .1
            .push(asset.id);
    }
    let mut by_tenant = Vec::with_capacity(tenants.len());
    for (tenant_id, (cutoff, ids)) in tenants {
        let rows = assets::table
            .filter(assets::tenant_id.eq(tenant_id))
            .filter(assets::id.eq_any(&ids))
            .select(AssetRow::as_select())
            .load(conn)
            .await?;
        by_tenant.push((tenant_id, cutoff, rows));
    }
    Ok(by_tenant)
}

/// What a list of assets may be narrowed to.
#[derive(Default)]
pub struct AssetFilter {
    pub file_type: Option<String>,
    pub mime_type: Option<String>,
    pub entity_row_id: Option<Uuid>,
    pub uploaded_by: Option<Uuid>,
    pub tag: Option<String>,
    pub search: Option<TsQuery>,
    pub status: Option<String>,
    /// The recycle bin instead of the live assets.
    pub recycled: bool,
}

fn filtered<'a>(tenant_id: Uuid, filter: &'a AssetFilter) -> assets::BoxedQuery<'a, Pg> {
    let mut query = assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .into_boxed();
    query = if filter.recycled {
        query.filter(assets::deleted_at.is_not_null())
    } else {
        query.filter(assets::deleted_at.is_null())
    };
    if let Some(file_type) = &filter.file_type {
        query = query.filter(assets::file_type.eq(file_type));
    }
    if let Some(mime_type) = &filter.mime_type {
        query = query.filter(assets::mime_type.eq(mime_type));
    }
    if let Some(uploader) = filter.uploaded_by {
        query = query.filter(assets::uploaded_by.eq(uploader));
    }
    if let Some(tag) = &filter.tag {
        query = query.filter(assets::tags.contains(vec![tag.clone()]));
    }
    if let Some(status) = &filter.status {
        query = query.filter(assets::status.eq(status));
    }
    if let Some(entity) = filter.entity_row_id {
        query = query.filter(
            assets::id.eq_any(
                asset_links::table
                    .filter(asset_links::tenant_id.eq(tenant_id))
                    .filter(asset_links::entity_row_id.eq(entity))
                    .select(asset_links::asset_id),
            ),
        );
    }
    if let Some(search) = &filter.search {
        query = query.filter(search.matches_on("assets"));
    }
    query
}

/// Where an asset sits in a list: when it was uploaded (the recycle bin: when it was deleted),
/// and its id.
pub type AssetKey = (DateTime<Utc>, Uuid);

/// A page of assets, newest first (the recycle bin: most recently deleted first): an offset
/// page with the total the filter matches, or a page by cursor.
pub async fn list(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    filter: &AssetFilter,
    window: &Window<AssetKey>,
) -> AppResult<(Option<i64>, Vec<AssetRow>)> {
    let query = filtered(tenant_id, filter);
    let ordered = if filter.recycled {
        windowed!(query, window.clone(), desc(assets::deleted_at, assets::id))
    } else {
        windowed!(query, window.clone(), desc(assets::created_at, assets::id))
    };
    let rows = ordered.select(AssetRow::as_select());
    load_window(conn, window, rows, filtered(tenant_id, filter).count()).await
}

/// Live assets sharing their bytes with another live asset, grouped by content (largest
/// groups first), at most `limit` groups.
pub async fn duplicates(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    limit: i64,
) -> AppResult<Vec<AssetRow>> {
    let shared: Vec<String> = assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::deleted_at.is_null())
        .group_by(assets::sha256)
        .having(count_star().gt(1))
        .order((count_star().desc(), assets::sha256))
        .select(assets::sha256)
        .limit(limit)
        .load(conn)
        .await?;
    Ok(assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::deleted_at.is_null())
        .filter(assets::sha256.eq_any(&shared))
        .order((assets::sha256, assets::created_at, assets::id))
        .select(AssetRow::as_select())
        .load(conn)
        .await?)
}

/// Counts and bytes of a tenant's assets: live ones by type, plus the recycle bin, plus what
/// the stored (deduplicated) bytes come to.
pub struct AssetTotals {
    pub by_type: Vec<(String, i64, i64)>,
    pub recycled: (i64, i64),
    pub stored: (i64, i64),
}

/// `sum(size_bytes)` as a bigint (PostgreSQL sums bigints into numeric).
fn total_bytes() -> diesel::expression::SqlLiteral<Nullable<BigInt>> {
    sql::<Nullable<BigInt>>("sum(size_bytes)::bigint")
}

pub async fn totals(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<AssetTotals> {
    let live: Vec<(String, i64, Option<i64>)> = assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::deleted_at.is_null())
        .group_by(assets::mime_type)
        .order(assets::mime_type)
        .select((assets::mime_type, count_star(), total_bytes()))
        .load(conn)
        .await?;
    let recycled: (i64, Option<i64>) = assets::table
        .filter(assets::tenant_id.eq(tenant_id))
        .filter(assets::deleted_at.is_not_null())
        .select((count_star(), total_bytes()))
        .get_result(conn)
        .await?;
    let stored: (i64, Option<i64>) = asset_blobs::table
        .filter(asset_blobs::tenant_id.eq(tenant_id))
        .select((count_star(), total_bytes()))
        .get_result(conn)
        .await?;
    Ok(AssetTotals {
        by_type: live
            .into_iter()
            .map(|(t, n, b)| (t, n, b.unwrap_or(0)))
            .collect(),
        recycled: (recycled.0, recycled.1.unwrap_or(0)),
        stored: (stored.0, stored.1.unwrap_or(0)),
    })
}

/// Removes jobs that finished (done or failed) more than `age_secs` ago, `limit` at most; how
/// many. Their outcome stays on the asset.
pub async fn prune_finished_jobs(
    conn: &mut AsyncPgConnection,
    age_secs: f64,
    limit: i64,
) -> AppResult<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM asset_jobs WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM asset_jobs \
         WHERE state IN ('done', 'failed') AND updated_at < now() - make_interval(secs => $1) \
         ORDER BY updated_at LIMIT $2)",
    )
    .bind::<diesel::sql_types::Double, _>(age_secs)
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await?)
}
