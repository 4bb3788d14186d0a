//! DataLoaders of accounts, per request: users by id (cached for the request, so a list can
//! prefetch its authors), their roles in the viewer's tenant, and their memberships.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use super::model::{MembershipRow, UserRow};
use super::store as accounts;
use crate::auth::Role;
use crate::context::LoaderSet;
use crate::db::DbPool;
use crate::db::loading::{Cached, LoaderScope, SharedError, with_conn};

pub struct AccountLoaders {
    /// Users by id.
    pub users: Cached<UserLoader>,
    /// Roles in the viewer's tenant.
    pub roles: DataLoader<RoleLoader>,
    /// Every membership of a user, across tenants.
    pub memberships: DataLoader<MembershipsLoader>,
}

impl LoaderSet for AccountLoaders {
    fn build(scope: &LoaderScope) -> Self {
        let roles = RoleLoader {
            pool: scope.pool.clone(),
            tenant_id: scope.tenant_id,
        };
        Self {
            users: scope.cached(UserLoader(scope.pool.clone())),
            roles: DataLoader::new(roles, tokio::spawn),
            memberships: DataLoader::new(MembershipsLoader(scope.pool.clone()), tokio::spawn),
        }
    }
}

pub struct UserLoader(DbPool);

impl Loader<Uuid> for UserLoader {
    type Value = UserRow;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, UserRow>, SharedError> {
        let rows = with_conn(&self.0, async |conn| {
            accounts::users_by_ids(conn, keys).await
        })
        .await?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

pub struct RoleLoader {
    pool: DbPool,
    tenant_id: Option<Uuid>,
}

impl Loader<Uuid> for RoleLoader {
    type Value = Role;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Role>, SharedError> {
        let Some(tenant_id) = self.tenant_id else {
            return Ok(HashMap::new());
        };
        let rows = with_conn(&self.pool, async |conn| {
            accounts::memberships_in_tenant(conn, tenant_id, keys).await
        })
        .await?;
        Ok(rows.into_iter().map(|m| (m.user_id, m.role())).collect())
    }
}

pub struct MembershipsLoader(DbPool);

impl Loader<Uuid> for MembershipsLoader {
    type Value = Vec<MembershipRow>;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<MembershipRow>>, SharedError> {
        let rows = with_conn(&self.0, async |conn| {
            accounts::memberships_of_users(conn, keys).await
        })
        .await?;
        let mut by_user: HashMap<Uuid, Vec<MembershipRow>> = HashMap::new();
        for row in rows {
            by_user.entry(row.user_id).or_default().push(row);
        }
        Ok(by_user)
    }
}
