//! DataLoaders of the story library, per request and scoped to the viewer's tenant: the
//! documents a page refers to (an API group's connections, a resource's cast) cost one
//! statement per page.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::model::DocumentRow;
use super::store;
use crate::context::LoaderSet;
use crate::db::loading::{Cached, LoaderScope, RowsById, Scope, SharedError, tenant_row};

pub struct StoryLoaders {
    /// Documents of every kind by id.
    pub documents: Cached<RowsById<DocumentRow>>,
    /// The masked keys of API connections that keep one, by connection id.
    pub masked_keys: Cached<MaskedKeys>,
}

impl LoaderSet for StoryLoaders {
    fn build(scope: &LoaderScope) -> Self {
        Self {
            documents: scope.cached(RowsById::new(scope.tenant())),
            masked_keys: scope.cached(MaskedKeys(scope.tenant())),
        }
    }
}

impl StoryLoaders {
    /// Drops everything cached, after a write.
    pub fn forget(&self) {
        self.documents.clear::<Uuid>();
        self.masked_keys.clear::<Uuid>();
    }
}

tenant_row!(DocumentRow, store::by_ids);

pub struct MaskedKeys(Scope);

impl Loader<Uuid> for MaskedKeys {
    type Value = Arc<str>;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Arc<str>>, SharedError> {
        let rows = self
            .0
            .run(async |conn, tenant| store::masked_keys(conn, tenant, keys).await)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, masked)| (id, Arc::from(masked)))
            .collect())
    }
}
