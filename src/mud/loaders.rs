//! DataLoaders of the MUD domain, per request and scoped to the viewer's tenant: worlds, rooms
//! and characters by id, one statement per kind for a whole page.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::characters::store as character_store;
use super::model::{CharacterRow, RoomRow, WorldRow};
use super::worlds::store as world_store;
use crate::context::LoaderSet;
use crate::db::loading::{Cached, LoaderScope, Scope, SharedError};
use crate::error::AppResult;

/// A tenant-owned row that can be fetched by ids.
pub trait TenantRow: Send + Sync + 'static {
    fn id(&self) -> Uuid;

    fn fetch<'a>(
        conn: &'a mut AsyncPgConnection,
        tenant_id: Uuid,
        ids: &'a [Uuid],
    ) -> impl Future<Output = AppResult<Vec<Self>>> + Send + 'a
    where
        Self: Sized;
}

/// Implements `TenantRow` for a row type with an `id` and a store function fetching by ids.
macro_rules! tenant_row {
    ($row:ty, $fetch:path) => {
        impl TenantRow for $row {
            fn id(&self) -> Uuid {
                self.id
            }

            fn fetch<'a>(
                conn: &'a mut AsyncPgConnection,
                tenant_id: Uuid,
                ids: &'a [Uuid],
            ) -> impl Future<Output = AppResult<Vec<Self>>> + Send + 'a {
                $fetch(conn, tenant_id, ids)
            }
        }
    };
}

tenant_row!(WorldRow, world_store::worlds_by_ids);
tenant_row!(RoomRow, world_store::rooms_by_ids);
tenant_row!(CharacterRow, character_store::characters_by_ids);

/// Rows of one kind by id, within the viewer's tenant.
pub struct RowsById<R>(Scope, PhantomData<fn() -> R>);

impl<R: TenantRow> Loader<Uuid> for RowsById<R> {
    type Value = Arc<R>;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Arc<R>>, SharedError> {
        let rows = self
            .0
            .run(async |conn, tenant| R::fetch(conn, tenant, keys).await)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.id(), Arc::new(row)))
            .collect())
    }
}

pub struct MudLoaders {
    pub worlds: Cached<RowsById<WorldRow>>,
    pub rooms: Cached<RowsById<RoomRow>>,
    pub characters: Cached<RowsById<CharacterRow>>,
}

impl LoaderSet for MudLoaders {
    fn build(scope: &LoaderScope) -> Self {
        Self {
            worlds: scope.cached(RowsById(scope.tenant(), PhantomData)),
            rooms: scope.cached(RowsById(scope.tenant(), PhantomData)),
            characters: scope.cached(RowsById(scope.tenant(), PhantomData)),
        }
    }
}

impl MudLoaders {
    /// Drops everything cached, after a write.
    pub fn forget(&self) {
        self.worlds.clear::<Uuid>();
        self.rooms.clear::<Uuid>();
        self.characters.clear::<Uuid>();
    }
}
