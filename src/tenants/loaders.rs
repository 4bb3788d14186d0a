//! DataLoaders of tenants, per request: tenants by id and their member counts.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use super::model::TenantRow;
use super::store as tenants;
use crate::context::LoaderSet;
use crate::db::DbPool;
use crate::db::loading::{LoaderScope, SharedError, with_conn};

pub struct TenantLoaders {
    pub tenants: DataLoader<TenantLoader>,
    pub member_counts: DataLoader<MemberCountLoader>,
}

impl LoaderSet for TenantLoaders {
    fn build(scope: &LoaderScope) -> Self {
        Self {
            tenants: DataLoader::new(TenantLoader(scope.pool.clone()), tokio::spawn),
            member_counts: DataLoader::new(MemberCountLoader(scope.pool.clone()), tokio::spawn),
        }
    }
}

pub struct TenantLoader(DbPool);

impl Loader<Uuid> for TenantLoader {
    type Value = TenantRow;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, TenantRow>, SharedError> {
        let rows = with_conn(&self.0, async |conn| {
            tenants::tenants_by_ids(conn, keys).await
        })
        .await?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

pub struct MemberCountLoader(DbPool);

impl Loader<Uuid> for MemberCountLoader {
    type Value = i64;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, i64>, SharedError> {
        let rows = with_conn(&self.0, async |conn| {
            tenants::member_counts(conn, keys).await
        })
        .await?;
        Ok(rows.into_iter().collect())
    }
}
