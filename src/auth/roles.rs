//! The one role ladder shared by every domain.

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// What a user may do in a tenant. Ordered: each role is above the ones before it.
/// SUPERUSER is global and is never stored on a membership.
#[derive(
    Enum, Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Plays and chats; reads the world.
    Player,
    /// Also edits the world.
    Worldbuilder,
    /// Also manages the tenant: users, invites, keys, settings.
    Admin,
    /// Everything, in every tenant.
    Superuser,
}

impl Role {
    /// The database spelling (also the seed's JSON spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Player => "player",
            Self::Worldbuilder => "worldbuilder",
            Self::Admin => "admin",
            Self::Superuser => "superuser",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "player" => Some(Self::Player),
            "worldbuilder" => Some(Self::Worldbuilder),
            "admin" => Some(Self::Admin),
            "superuser" => Some(Self::Superuser),
            _ => None,
        }
    }

    /// Reads a role column; the database's CHECK constraint keeps it valid.
    pub fn from_db(text: &str) -> Self {
        Self::parse(text).unwrap_or(Self::Player)
    }
}
