//! A share's row and what it shows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::shares;

/// What a share shows.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ShareKind {
    /// One entity.
    Entity,
    /// A set of 2 to 100 entities.
    Entities,
    /// Every live entity of one type, as it is when the link is opened.
    Type,
}

impl ShareKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entity => "entity",
            Self::Entities => "entities",
            Self::Type => "type",
        }
    }

    pub fn from_db(text: &str) -> Self {
        match text {
            "entity" => Self::Entity,
            "entities" => Self::Entities,
            _ => Self::Type,
        }
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = shares, check_for_backend(diesel::pg::Pg))]
pub struct ShareRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub kind: String,
    pub entity_type: Option<String>,
    pub entity_row_ids: Vec<Uuid>,
    pub title: String,
    pub password_hash: Option<String>,
    pub team_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
    pub last_accessed_at: Option<DateTime<Utc>>,
    pub access_count: i64,
}

impl ShareRow {
    pub fn kind(&self) -> ShareKind {
        ShareKind::from_db(&self.kind)
    }

    /// Neither revoked nor expired.
    pub fn is_open(&self) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > Utc::now())
    }
}

#[derive(Insertable)]
#[diesel(table_name = shares)]
pub struct NewShare<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub kind: &'a str,
    pub entity_type: Option<&'a str>,
    pub entity_row_ids: Vec<Uuid>,
    pub title: &'a str,
    pub password_hash: Option<String>,
    pub team_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}
