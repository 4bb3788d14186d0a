//! Rows of the entities domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::types::{EntityStatus, EntityType};
use crate::db::LazyJson;
use crate::db::schema::{entities, entity_references, entity_relationships, entity_revisions};

#[derive(Queryable, QueryableByName, Selectable, Clone, Debug)]
#[diesel(table_name = entities, check_for_backend(diesel::pg::Pg))]
pub struct EntityRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub entity_type: String,
    pub entity_id: String,
    pub name: String,
    pub status: String,
    /// Parsed when first read: most reads of a row never look at its fields.
    pub fields: LazyJson,
    pub markdown_body: String,
    pub schema_errors: Vec<String>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<Uuid>,
}

impl EntityRow {
    /// The type column; the application only ever writes valid slugs.
    pub fn kind(&self) -> EntityType {
        EntityType::from_slug(&self.entity_type).unwrap_or(EntityType::Character)
    }

    pub fn status(&self) -> EntityStatus {
        EntityStatus::from_slug(&self.status).unwrap_or_default()
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// The content of an entity a write sets (everything but bookkeeping).
#[derive(Clone, Debug, PartialEq)]
pub struct EntityContent {
    pub entity_id: String,
    pub name: String,
    pub status: EntityStatus,
    pub fields: Value,
    pub markdown_body: String,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = entity_references, check_for_backend(diesel::pg::Pg))]
pub struct ReferenceRow {
    pub tenant_id: Uuid,
    pub source_id: Uuid,
    pub kind: String,
    pub target_types: Vec<String>,
    pub target_entity_id: String,
    pub position: i32,
}

impl ReferenceRow {
    pub fn targets(&self, entity_type: &str) -> bool {
        self.target_types.iter().any(|t| t == entity_type)
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = entity_relationships, check_for_backend(diesel::pg::Pg))]
pub struct RelationshipRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub source_id: Uuid,
    pub target_id: Uuid,
    pub kind: String,
    pub attributes: Value,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = entity_revisions, check_for_backend(diesel::pg::Pg))]
pub struct RevisionRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub entity_row_id: Uuid,
    pub version: i32,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub entity_id: String,
    pub name: String,
    pub status: String,
    pub fields: Value,
    pub markdown_body: String,
}
