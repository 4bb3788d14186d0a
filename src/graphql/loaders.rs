//! Per-request DataLoaders: every by-id load in a resolver goes through one of these, so a list
//! of N objects costs one query per kind of related object, not N. They are created per request
//! (never shared across requests), which also keeps tenants apart.

use std::collections::HashMap;
use std::sync::OnceLock;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use uuid::Uuid;

use crate::accounts::model::{MembershipRow, UserRow};
use crate::accounts::store as accounts;
use crate::assets::loaders::AssetLoaders;
use crate::auth::Role;
use crate::db::DbPool;
use crate::db::loading::{SharedError, with_conn};
use crate::entities::loaders::EntityLoaders;
use crate::mud::loaders::MudLoaders;
use crate::tenants::model::TenantRow;
use crate::tenants::store as tenants;

pub struct Loaders {
    // Each built on first use: a request (or a subscriber's event) needs few of them.
    users: OnceLock<DataLoader<UserLoader, HashMapCache>>,
    tenants: OnceLock<DataLoader<TenantLoader>>,
    roles: OnceLock<DataLoader<RoleLoader>>,
    member_counts: OnceLock<DataLoader<MemberCountLoader>>,
    memberships: OnceLock<DataLoader<MembershipsLoader>>,
    entities: OnceLock<EntityLoaders>,
    assets: OnceLock<AssetLoaders>,
    mud: OnceLock<MudLoaders>,
    pool: DbPool,
    tenant_id: Option<Uuid>,
    cached: bool,
}

impl Loaders {
    /// Loaders for one request: what they load is cached until the request ends (writes clear
    /// what they touch), so list resolvers can prefetch what nested fields will ask for.
    pub fn new(pool: &DbPool, tenant_id: Option<Uuid>) -> Self {
        Self::build(pool, tenant_id, true)
    }

    /// Loaders for a long-lived WebSocket connection: batching only, never caching, so every
    /// event shows the data as it is when the event is resolved.
    pub fn uncached(pool: &DbPool, tenant_id: Option<Uuid>) -> Self {
        Self::build(pool, tenant_id, false)
    }

    fn build(pool: &DbPool, tenant_id: Option<Uuid>, cached: bool) -> Self {
        Self {
            users: OnceLock::new(),
            tenants: OnceLock::new(),
            roles: OnceLock::new(),
            member_counts: OnceLock::new(),
            memberships: OnceLock::new(),
            entities: OnceLock::new(),
            assets: OnceLock::new(),
            mud: OnceLock::new(),
            pool: pool.clone(),
            tenant_id,
            cached,
        }
    }

    /// Users by id; cached for the request (when the loaders are), so a list resolver can
    /// prefetch them.
    pub fn users(&self) -> &DataLoader<UserLoader, HashMapCache> {
        self.users.get_or_init(|| {
            let users = DataLoader::with_cache(
                UserLoader(self.pool.clone()),
                tokio::spawn,
                HashMapCache::default(),
            );
            users.enable_all_cache(self.cached);
            users
        })
    }

    pub fn tenants(&self) -> &DataLoader<TenantLoader> {
        self.tenants
            .get_or_init(|| DataLoader::new(TenantLoader(self.pool.clone()), tokio::spawn))
    }

    /// Roles in the viewer's tenant.
    pub fn roles(&self) -> &DataLoader<RoleLoader> {
        self.roles.get_or_init(|| {
            let loader = RoleLoader {
                pool: self.pool.clone(),
                tenant_id: self.tenant_id,
            };
            DataLoader::new(loader, tokio::spawn)
        })
    }

    pub fn member_counts(&self) -> &DataLoader<MemberCountLoader> {
        self.member_counts
            .get_or_init(|| DataLoader::new(MemberCountLoader(self.pool.clone()), tokio::spawn))
    }

    /// Every membership of a user, across tenants.
    pub fn memberships(&self) -> &DataLoader<MembershipsLoader> {
        self.memberships
            .get_or_init(|| DataLoader::new(MembershipsLoader(self.pool.clone()), tokio::spawn))
    }

    /// Whether what they load is kept for the rest of the request.
    pub fn caches(&self) -> bool {
        self.cached
    }

    /// The assets domain's loaders, scoped to the viewer's tenant.
    pub fn assets(&self) -> &AssetLoaders {
        self.assets
            .get_or_init(|| AssetLoaders::new(&self.pool, self.tenant_id, self.cached))
    }

    /// The MUD domain's loaders, scoped to the viewer's tenant.
    pub fn mud(&self) -> &MudLoaders {
        self.mud
            .get_or_init(|| MudLoaders::new(&self.pool, self.tenant_id, self.cached))
    }

    /// The entities domain's loaders, scoped to the viewer's tenant.
    pub fn entities(&self) -> &EntityLoaders {
        self.entities
            .get_or_init(|| EntityLoaders::new(&self.pool, self.tenant_id, self.cached))
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

pub struct TenantLoader(DbPool);

impl Loader<Uuid> for TenantLoader {
    type Value = TenantRow;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, TenantRow>, SharedError> {
        let rows = with_conn(&self.0, async |conn| {
            tenants::tenants_by_ids(conn, keys).await
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

pub struct MemberCountLoader(DbPool);

impl Loader<Uuid> for MemberCountLoader {
    type Value = i64;
    type Error = SharedError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, i64>, SharedError> {
        let rows = with_conn(&self.0, async |conn| {
            tenants::member_counts(conn, keys).await
        })
        .await?;
        Ok(rows.into_iter().collect())
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
