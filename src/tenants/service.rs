//! What other domains may ask of tenants: the one way in from outside it (ARCHITECTURE.md).

/// A tenant's row, as accounts open sessions in it.
pub use super::model::TenantRow;

/// Creating a tenant (registration, the first superuser) and finding one (a session, a Stripe
/// customer), with the rule for its name.
pub use super::store::{find_tenant, insert_tenant, validate_name};
