//! DataLoaders of teams and groups, per request: the rows by id and their member counts.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use super::model::GroupRow;
use super::store;
use crate::context::LoaderSet;
use crate::db::loading::{LoaderScope, RowsById, Scope, SharedError, tenant_row};

tenant_row!(GroupRow, store::groups_by_ids);

pub struct TeamLoaders {
    /// Teams and groups by id.
    pub groups: DataLoader<RowsById<GroupRow>>,
    /// How many members a team or group has.
    pub member_counts: DataLoader<MemberCountLoader>,
}

impl LoaderSet for TeamLoaders {
    fn build(scope: &LoaderScope) -> Self {
        Self {
            groups: DataLoader::new(RowsById::new(scope.tenant()), tokio::spawn),
            member_counts: DataLoader::new(MemberCountLoader(scope.tenant()), tokio::spawn),
        }
    }
}

pub struct MemberCountLoader(Scope);

impl Loader<Uuid> for MemberCountLoader {
    type Value = i64;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, i64>, SharedError> {
        let counts = self
            .0
            .run(async |conn, tenant_id| store::member_counts(conn, tenant_id, keys).await)
            .await?;
        Ok(counts.into_iter().collect())
    }
}
