//! Rows of the assets domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{asset_jobs, assets};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = assets)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct AssetRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub sha256: String,
    pub file_type: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub original_filename: String,
    pub access_key: String,
    pub tags: Vec<String>,
    pub status: String,
    pub processing: String,
    pub processing_error: Option<String>,
    pub has_thumbnail: bool,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<Uuid>,
}

impl AssetRow {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Where the bytes are served: unguessable, answering 404 once purged; absolute under the
    /// server's public address when one is configured.
    pub fn public_url(&self, public_base: Option<&str>) -> String {
        let base = public_base.unwrap_or_default().trim_end_matches('/');
        format!("{base}/files/{}", self.access_key)
    }

    /// The thumbnail's address, once processing has made it.
    pub fn thumbnail_url(&self, public_base: Option<&str>) -> Option<String> {
        self.has_thumbnail
            .then(|| format!("{}/thumbnail", self.public_url(public_base)))
    }
}

#[derive(Queryable, QueryableByName, Selectable, Clone, Debug)]
#[diesel(table_name = asset_jobs)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct JobRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub asset_id: Uuid,
    pub state: String,
    pub attempts: i32,
    pub run_after: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
