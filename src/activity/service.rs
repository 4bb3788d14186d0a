//! The rules of the feed and the dashboard.
//!
//! Who reads what: the feed is the studio's working log (who wrote which entity, uploaded
//! which file, invited whom, spent what), not the world as published, so a PLAYER — who
//! reads the world — is refused it. A WORLDBUILDER reads what worldbuilders share
//! (ENTITY, ASSET, NOTE); INVITE (addresses and roles of people not yet members) and BILLING
//! (what the tenant buys and spends) are the ADMIN's, as the screens that manage them are.
//! Asking for a kind beyond one's role is FORBIDDEN rather than silently answered without
//! it, so a client never mistakes a refusal for "nothing happened".
//!
//! The dashboard is the same audience's summary (WORLDBUILDER and above), added up from the
//! other domains' services: each keeps its own rule of what counts (a live entity, a stored
//! blob, the billing period).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{Activity, ActivityKey, ActivityKind, Source};
use super::store::{self, FeedQuery};
use crate::accounts::service as accounts;
use crate::assets::service as assets;
use crate::auth::{Role, Viewer};
use crate::billing::service::{self as billing, PeriodUsage};
use crate::db::pagination::PageRequest;
use crate::entities::service as entities;
use crate::error::{AppError, AppResult};
use crate::notes::service as notes;

/// A page of the feed when the client does not say.
pub const DEFAULT_PAGE: i32 = 50;
/// The largest page: every page reads up to this many rows from each source it merges, so
/// the feed's bound is below the other lists' 200.
pub const MAX_PAGE: i32 = 100;
/// How many of the latest entity changes the dashboard shows.
pub const RECENT_CHANGES: i64 = 10;

/// The kinds of activity `role` may read (none for a PLAYER).
pub fn readable_kinds(role: Role) -> &'static [ActivityKind] {
    match role {
        Role::Player => &[],
        Role::Worldbuilder => &[
            ActivityKind::Entity,
            ActivityKind::Asset,
            ActivityKind::Note,
        ],
        Role::Admin | Role::Superuser => &ActivityKind::ALL,
    }
}

/// The kinds to read for `viewer`: those asked for (each once), or every kind they may read
/// when none are named. FORBIDDEN for a PLAYER, and for a kind beyond the viewer's role.
pub fn kinds_for(viewer: &Viewer, asked: Option<&[ActivityKind]>) -> AppResult<Vec<ActivityKind>> {
    viewer.require_role(Role::Worldbuilder)?;
    let readable = readable_kinds(viewer.role);
    let Some(asked) = asked else {
        return Ok(readable.to_vec());
    };
    if let Some(kind) = asked.iter().find(|kind| !readable.contains(kind)) {
        return Err(AppError::forbidden(format!(
            "the {} activity is for the ADMIN role",
            kind.as_str().to_uppercase()
        )));
    }
    let kinds: BTreeSet<ActivityKind> = asked.iter().copied().collect();
    Ok(kinds.into_iter().collect())
}

/// Checks a page size asked for (`first`): 1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] when absent.
pub fn page_size(first: Option<i32>) -> AppResult<i32> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(AppError::bad_field(
            "first",
            format!("first must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(first)
}

/// A page of the feed to read.
pub struct FeedRequest {
    /// Only actions after this instant.
    pub since: Option<DateTime<Utc>>,
    /// The kinds to read, as [`kinds_for`] gave them (none reads nothing).
    pub kinds: Vec<ActivityKind>,
    /// Only items past this key (the cursor's).
    pub after: Option<ActivityKey>,
    /// How many rows: the page and one more.
    pub fetch: i64,
}

/// Up to `request.fetch` items of the viewer's tenant's feed, newest first. The kinds are
/// checked again against the viewer's role: a caller other than the resolver (a REST shim)
/// may not have.
pub async fn feed(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    request: &FeedRequest,
) -> AppResult<Vec<Activity>> {
    let kinds = kinds_for(viewer, Some(request.kinds.as_slice()))?;
    if !(2..=i64::from(MAX_PAGE) + 1).contains(&request.fetch) {
        return Err(AppError::bad_field(
            "first",
            format!("first must be between 1 and {MAX_PAGE}"),
        ));
    }
    let sources: Vec<Source> = kinds
        .iter()
        .flat_map(|kind| kind.sources().iter().copied())
        .collect();
    let query = FeedQuery {
        tenant_id: viewer.tenant_id,
        sources: &sources,
        since: request.since,
        after: request.after.as_ref(),
        fetch: request.fetch,
    };
    let rows = store::feed(conn, &query).await?;
    rows.into_iter().map(Activity::try_from).collect()
}

/// What the tenant's files take up.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    pub live_assets: i64,
    /// The live assets' sizes summed (an image uploaded twice counts twice).
    pub live_bytes: i64,
    pub recycled_assets: i64,
    pub recycled_bytes: i64,
    /// Distinct contents stored, live or recycled.
    pub stored_files: i64,
    /// What the blob store holds: each content once.
    pub stored_bytes: i64,
}

/// The tenant at a glance.
pub struct Dashboard {
    /// (type slug, live, recycled) for each type the tenant has entities of.
    pub entity_counts: Vec<(String, i64, i64)>,
    pub storage: Storage,
    pub notes: i64,
    pub members: i64,
    pub brainbits: PeriodUsage,
    /// The latest entity changes, newest first.
    pub recent_changes: Vec<Activity>,
}

/// The viewer's tenant at a glance (WORLDBUILDER and above). Reading the BrainBits settles
/// the billing account first, as every read of the balance does (a new period's allowance
/// is credited when it is first looked at).
pub async fn dashboard(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<Dashboard> {
    viewer.require_role(Role::Worldbuilder)?;
    let tenant_id = viewer.tenant_id;
    let entity_counts = entities::counts_by_type(conn, tenant_id).await?;
    let storage = storage(conn, tenant_id).await?;
    let notes = notes::count(conn, tenant_id).await?;
    // The members' page of one answers with their total.
    let one = PageRequest::new(None, Some(1))?;
    let (members, _) = accounts::list_members(conn, tenant_id, None, one).await?;
    let brainbits = billing::period_usage(conn, tenant_id).await?;
    let recent = FeedQuery {
        tenant_id,
        sources: &[Source::EntityRevision],
        since: None,
        after: None,
        fetch: RECENT_CHANGES,
    };
    let recent_changes = store::feed(conn, &recent)
        .await?
        .into_iter()
        .map(Activity::try_from)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Dashboard {
        entity_counts,
        storage,
        notes,
        members,
        brainbits,
        recent_changes,
    })
}

async fn storage(conn: &mut AsyncPgConnection, tenant_id: Uuid) -> AppResult<Storage> {
    let totals = assets::totals(conn, tenant_id).await?;
    Ok(Storage {
        live_assets: totals.by_type.iter().map(|(_, count, _)| count).sum(),
        live_bytes: totals.by_type.iter().map(|(_, _, bytes)| bytes).sum(),
        recycled_assets: totals.recycled.0,
        recycled_bytes: totals.recycled.1,
        stored_files: totals.stored.0,
        stored_bytes: totals.stored.1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role) -> Viewer {
        Viewer {
            user_id: Uuid::new_v4(),
            tenant_id: Uuid::new_v4(),
            role,
            session_id: None,
            api_key_id: None,
            expires_at: None,
        }
    }

    #[test]
    fn each_role_reads_its_kinds() {
        use ActivityKind::{Asset, Billing, Entity, Invite, Note};
        assert!(kinds_for(&viewer(Role::Player), None).is_err());
        let worldbuilder = viewer(Role::Worldbuilder);
        let kinds = kinds_for(&worldbuilder, None).unwrap_or_default();
        assert_eq!(kinds, [Entity, Asset, Note]);
        assert!(kinds_for(&worldbuilder, Some([Billing].as_slice())).is_err());
        assert!(kinds_for(&worldbuilder, Some([Invite].as_slice())).is_err());
        let admin = viewer(Role::Admin);
        let kinds = kinds_for(&admin, None).unwrap_or_default();
        assert_eq!(kinds, ActivityKind::ALL);
        // Asked twice, read once, in the kinds' order.
        let asked = [Note, Billing, Note];
        let kinds = kinds_for(&admin, Some(asked.as_slice())).unwrap_or_default();
        assert_eq!(kinds, [Billing, Note]);
    }

    #[test]
    fn a_page_holds_one_to_a_hundred_items() {
        assert_eq!(page_size(None).ok(), Some(DEFAULT_PAGE));
        assert_eq!(page_size(Some(100)).ok(), Some(100));
        assert!(page_size(Some(0)).is_err());
        assert!(page_size(Some(101)).is_err());
    }
}
