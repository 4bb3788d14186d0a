//! Rows of teams, groups and permission templates.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{member_groups, permission_templates};

/// Teams and groups share one table and one shape; the kind tells them apart.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GroupKind {
    /// A unit of the studio: BrainBits quotas and share links are kept per team.
    Team,
    /// Members who share permissions.
    Group,
}

impl GroupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Team => "team",
            Self::Group => "group",
        }
    }

    pub fn from_db(text: &str) -> Self {
        if text == "team" {
            Self::Team
        } else {
            Self::Group
        }
    }

    /// "team" or "group", for messages.
    pub fn noun(self) -> &'static str {
        self.as_str()
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = member_groups, check_for_backend(diesel::pg::Pg))]
pub struct GroupRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub preset: Option<String>,
    pub permissions: serde_json::Value,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl GroupRow {
    pub fn kind(&self) -> GroupKind {
        GroupKind::from_db(&self.kind)
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = permission_templates, check_for_backend(diesel::pg::Pg))]
pub struct TemplateRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub permissions: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member's own permissions (set by applying a template).
#[derive(Clone, Debug)]
pub struct OwnPermissions {
    pub permissions: serde_json::Value,
    pub template_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}
