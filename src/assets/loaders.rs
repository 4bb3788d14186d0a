//! DataLoaders of the assets domain, per request and scoped to the viewer's tenant: a page of
//! entities with their primary assets, or of assets with their entities, costs one statement
//! per kind of link.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::model::AssetRow;
use super::store;
use crate::context::LoaderSet;
use crate::db::loading::{Cached, LoaderScope, RowsById, Scope, SharedError, tenant_row};

/// How many assets `Entity.assets` shows at most.
pub const MAX_ASSETS_PER_ENTITY: usize = 200;

pub struct AssetLoaders {
    /// Assets by id, live or recycled.
    pub by_id: Cached<RowsById<AssetRow>>,
    /// The live assets linked to an entity (by row id), primary first.
    pub of_entity: Cached<AssetsOfEntity>,
    /// The live entities (row ids) an asset is linked to.
    pub entities: Cached<EntitiesOfAsset>,
}

impl LoaderSet for AssetLoaders {
    fn build(scope: &LoaderScope) -> Self {
        Self {
            by_id: scope.cached(RowsById::new(scope.tenant())),
            of_entity: scope.cached(AssetsOfEntity(scope.tenant())),
            entities: scope.cached(EntitiesOfAsset(scope.tenant())),
        }
    }
}

impl AssetLoaders {
    /// Drops everything cached, after a write.
    pub fn forget(&self) {
        self.by_id.clear::<Uuid>();
        self.of_entity.clear::<Uuid>();
        self.entities.clear::<Uuid>();
    }
}

tenant_row!(AssetRow, store::by_ids);

/// An entity's assets; the first is its primary asset when it has one.
#[derive(Clone, Debug, Default)]
pub struct EntityAssets {
    pub primary: Option<Arc<AssetRow>>,
    pub all: Vec<Arc<AssetRow>>,
}

pub struct AssetsOfEntity(Scope);

impl Loader<Uuid> for AssetsOfEntity {
    type Value = Arc<EntityAssets>;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Arc<EntityAssets>>, SharedError> {
        let rows = self
            .0
            .run(async |conn, tenant| store::assets_of_entities(conn, tenant, keys).await)
            .await?;
        let mut found: HashMap<Uuid, EntityAssets> = HashMap::new();
        for (entity, primary, asset) in rows {
            let entry = found.entry(entity).or_default();
            if entry.all.len() >= MAX_ASSETS_PER_ENTITY {
                continue;
            }
            let asset = Arc::new(asset);
            if primary {
                entry.primary = Some(asset.clone());
            }
            entry.all.push(asset);
        }
        Ok(keys
            .iter()
            .map(|key| (*key, Arc::new(found.remove(key).unwrap_or_default())))
            .collect())
    }
}

pub struct EntitiesOfAsset(Scope);

impl Loader<Uuid> for EntitiesOfAsset {
    type Value = Arc<Vec<Uuid>>;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Arc<Vec<Uuid>>>, SharedError> {
        let rows = self
            .0
            .run(async |conn, tenant| store::entities_of_assets(conn, tenant, keys).await)
            .await?;
        let mut found: HashMap<Uuid, Vec<Uuid>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for (asset, entity) in rows {
            found.entry(asset).or_default().push(entity);
        }
        Ok(found.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}
