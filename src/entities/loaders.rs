//! DataLoaders of the entities domain. They are built per request for the viewer's tenant, so
//! a page of entities with their references, referrers and relationships costs one statement
//! per kind of link, whatever the page size.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::links::{self, ResolvedReference};
use super::model::{EntityRow, RelationshipRow};
use super::store;
use super::types::EntityType;
use crate::context::LoaderSet;
use crate::db::loading::{Cached, LoaderScope, RowsById, Scope, SharedError, tenant_row};

pub struct EntityLoaders {
    /// Entities by row id, live or recycled.
    pub by_row: Cached<RowsById<EntityRow>>,
    /// The references an entity's fields hold, resolved.
    pub outgoing: Cached<OutgoingReferences>,
    /// The references one field of an entity holds, resolved (keyed by row id and field).
    pub outgoing_of_kind: Cached<OutgoingReferencesOfKind>,
    /// The live entities whose fields reference an entity.
    pub incoming: Cached<IncomingReferences>,
    /// Explicit relationships touching an entity.
    pub relationships: Cached<Relationships>,
}

impl LoaderSet for EntityLoaders {
    fn build(scope: &LoaderScope) -> Self {
        Self {
            by_row: scope.cached(RowsById::new(scope.tenant())),
            outgoing: scope.cached(OutgoingReferences(scope.tenant())),
            outgoing_of_kind: scope.cached(OutgoingReferencesOfKind(scope.tenant())),
            incoming: scope.cached(IncomingReferences(scope.tenant())),
            relationships: scope.cached(Relationships(scope.tenant())),
        }
    }
}

impl EntityLoaders {
    /// Drops everything cached: called after every write, so later fields of the same request
    /// (a second mutation, a batched query) see the change.
    pub fn forget(&self) {
        self.by_row.clear::<Uuid>();
        self.outgoing.clear::<Uuid>();
        self.outgoing_of_kind.clear::<(Uuid, String)>();
        self.incoming.clear::<(EntityType, String)>();
        self.relationships.clear::<Uuid>();
    }
}

tenant_row!(EntityRow, store::entities_by_row_ids);

pub struct OutgoingReferences(Scope);

impl Loader<Uuid> for OutgoingReferences {
    type Value = Arc<Vec<ResolvedReference>>;
    type Error = SharedError;

    async fn load(
        &self,
        keys: &[Uuid],
    ) -> Result<HashMap<Uuid, Arc<Vec<ResolvedReference>>>, SharedError> {
        let rows = self
            .0
            .run(async |conn, tenant| links::outgoing_references(conn, tenant, keys).await)
            .await?;
        let mut found = links::resolve_outgoing(rows);
        Ok(keys
            .iter()
            .map(|key| (*key, Arc::new(found.remove(key).unwrap_or_default())))
            .collect())
    }
}

pub struct OutgoingReferencesOfKind(Scope);

impl Loader<(Uuid, String)> for OutgoingReferencesOfKind {
    type Value = Arc<Vec<ResolvedReference>>;
    type Error = SharedError;

    async fn load(
        &self,
        keys: &[(Uuid, String)],
    ) -> Result<HashMap<(Uuid, String), Arc<Vec<ResolvedReference>>>, SharedError> {
        let mut ids: Vec<Uuid> = keys.iter().map(|(id, _)| *id).collect();
        let mut kinds: Vec<String> = keys.iter().map(|(_, kind)| kind.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        kinds.sort_unstable();
        kinds.dedup();
        let rows = self
            .0
            .run(async |conn, tenant| {
                links::outgoing_references_of(conn, tenant, &ids, Some(&kinds)).await
            })
            .await?;
        Ok(split_by_kind(links::resolve_outgoing(rows), keys))
    }
}

/// Cuts each entity's resolved references into the lists of the fields `keys` ask for.
pub fn split_by_kind(
    by_source: HashMap<Uuid, Vec<ResolvedReference>>,
    keys: &[(Uuid, String)],
) -> HashMap<(Uuid, String), Arc<Vec<ResolvedReference>>> {
    keys.iter()
        .map(|(id, kind)| {
            let of_kind = by_source
                .get(id)
                .map(|all| all.iter().filter(|r| r.kind == *kind).cloned().collect())
                .unwrap_or_default();
            ((*id, kind.clone()), Arc::new(of_kind))
        })
        .collect()
}

/// Who references an entity, keyed by the entity's type and id (references are by id).
pub struct IncomingReferences(Scope);

/// A live entity whose field `kind` references the key.
#[derive(Clone, Debug)]
pub struct Referrer {
    pub kind: String,
    pub entity: Arc<EntityRow>,
}

impl Loader<(EntityType, String)> for IncomingReferences {
    type Value = Arc<Vec<Referrer>>;
    type Error = SharedError;

    async fn load(
        &self,
        keys: &[(EntityType, String)],
    ) -> Result<HashMap<(EntityType, String), Arc<Vec<Referrer>>>, SharedError> {
        let ids: Vec<String> = keys.iter().map(|(_, id)| id.clone()).collect();
        let rows = self
            .0
            .run(async |conn, tenant| links::incoming_references(conn, tenant, &ids, None).await)
            .await?;
        let mut found: HashMap<(EntityType, String), Vec<Referrer>> =
            keys.iter().map(|key| (key.clone(), Vec::new())).collect();
        for (reference, entity) in rows {
            let entity = Arc::new(entity);
            for key in keys.iter().filter(|(entity_type, id)| {
                *id == reference.target_entity_id && reference.targets(entity_type.slug())
            }) {
                found.entry(key.clone()).or_default().push(Referrer {
                    kind: reference.kind.clone(),
                    entity: entity.clone(),
                });
            }
        }
        Ok(found.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

pub struct Relationships(Scope);

impl Loader<Uuid> for Relationships {
    type Value = Arc<Vec<RelationshipRow>>;
    type Error = SharedError;

    async fn load(
        &self,
        keys: &[Uuid],
    ) -> Result<HashMap<Uuid, Arc<Vec<RelationshipRow>>>, SharedError> {
        let rows = self
            .0
            .run(async |conn, tenant| links::relationships_touching(conn, tenant, keys, None).await)
            .await?;
        let mut found: HashMap<Uuid, Vec<RelationshipRow>> =
            keys.iter().map(|key| (*key, Vec::new())).collect();
        for row in rows {
            for end in [row.source_id, row.target_id] {
                if let Some(list) = found.get_mut(&end) {
                    list.push(row.clone());
                }
            }
        }
        Ok(found.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}
