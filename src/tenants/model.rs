use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::tenants;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
pub struct TenantRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Days a recycled entity or asset is kept before the sweeper purges it; None: kept.
    pub recycle_retention_days: Option<i32>,
}
