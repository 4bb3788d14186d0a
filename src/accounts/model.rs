//! Rows of the accounts domain.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Role;
use crate::db::schema::{memberships, sessions, users};

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_superuser: bool,
    pub is_active: bool,
    pub last_tenant_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub username: String,
    pub account_origin: String,
}

/// A new account. Without a chosen username, one is derived from the email.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_superuser: bool,
    pub username: Option<&'a str>,
    pub origin: AccountOrigin,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(super) struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_superuser: bool,
    pub username: &'a str,
    pub account_origin: &'a str,
}

/// How an account came to be (seed 002's account_origin).
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AccountOrigin {
    /// Signed up by themselves (registration, an accepted invite).
    Visitor,
    /// Created by a tenant ADMIN.
    Admin,
    /// Created by a SUPERUSER.
    Superuser,
    /// Created from the command line.
    System,
    /// Existed before origins were recorded.
    Legacy,
}

impl AccountOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visitor => "visitor",
            Self::Admin => "admin",
            Self::Superuser => "superuser",
            Self::System => "system",
            Self::Legacy => "legacy",
        }
    }

    pub fn from_db(text: &str) -> Self {
        match text {
            "visitor" => Self::Visitor,
            "admin" => Self::Admin,
            "superuser" => Self::Superuser,
            "system" => Self::System,
            _ => Self::Legacy,
        }
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = memberships, check_for_backend(diesel::pg::Pg))]
pub struct MembershipRow {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MembershipRow {
    pub fn role(&self) -> Role {
        Role::from_db(&self.role)
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    pub id: Uuid,
    pub user_id: Uuid,
    /// None for a session in no tenant.
    pub tenant_id: Option<Uuid>,
    pub client_type: String,
    pub created_at: DateTime<Utc>,
    pub last_activity: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The world character the session plays, once it entered a world.
    pub character_id: Option<Uuid>,
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub client_type: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub user_agent: Option<&'a str>,
    pub ip_address: Option<String>,
}

/// How a session was opened (seed 002's client types).
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClientType {
    /// A terminal (MUD) client.
    Tui,
    /// A web browser.
    Browser,
    /// A script or another program.
    Api,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tui => "tui",
            Self::Browser => "browser",
            Self::Api => "api",
        }
    }
}
