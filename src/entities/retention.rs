//! How long entity revisions are kept (every revision is a full copy of its entity, so a busy
//! entity's history grows without end unless old revisions go) and recycled entities (each
//! tenant's recycle-bin retention).

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::context::Platform;
use crate::error::AppResult;
use crate::events::{EntityAction, EntityChange, EventPayload};

/// Removes revisions older than `age_secs`, except each entity's newest `keep`, `limit` at
/// most (oldest first); how many. The entity itself and its version number are untouched;
/// its history simply starts later.
pub async fn prune_revisions(
    conn: &mut AsyncPgConnection,
    age_secs: f64,
    keep: i64,
    limit: i64,
) -> AppResult<usize> {
    // Only entities with more revisions than they keep, and an old one, are looked at:
    // one aggregate pass, then a ranking of just those entities' revisions.
    Ok(diesel::sql_query(
        "WITH crowded AS ( \
           SELECT tenant_id, entity_row_id FROM entity_revisions \
           GROUP BY tenant_id, entity_row_id \
           HAVING count(*) > $2 AND min(created_at) < now() - make_interval(secs => $1) \
           LIMIT $3), \
         ranked AS ( \
           SELECT r.tenant_id, r.id, r.created_at, \
                  row_number() OVER (PARTITION BY r.tenant_id, r.entity_row_id \
                                     ORDER BY r.version DESC) AS rank \
           FROM entity_revisions r JOIN crowded USING (tenant_id, entity_row_id)) \
         DELETE FROM entity_revisions WHERE (tenant_id, id) IN ( \
           SELECT tenant_id, id FROM ranked \
           WHERE rank > $2 AND created_at < now() - make_interval(secs => $1) \
           ORDER BY created_at LIMIT $3)",
    )
    .bind::<Double, _>(age_secs)
    .bind::<BigInt, _>(keep)
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await?)
}

/// Which recycle bins an expiry run looks in.
#[derive(Clone, Copy, Debug)]
pub struct RecycleExpiry {
    /// One tenant's (a cleanup its ADMIN asked for), or every tenant's (the sweeper).
    pub tenant_id: Option<Uuid>,
    /// Days in the bin after which things go; None: each tenant's own retention (tenants that
    /// keep recycled things are skipped).
    pub older_than_days: Option<i32>,
    /// Who asked, for the events; None for the sweeper.
    pub actor_id: Option<Uuid>,
}

#[derive(QueryableByName)]
struct Expired {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    entity_type: String,
    #[diesel(sql_type = Text)]
    entity_id: String,
}

/// Purges up to `limit` recycled entities that have been in the bin longer than their tenant's
/// retention (or `older_than_days`), leaving tombstones for sync clients, in one statement;
/// each is announced as purged. How many went.
pub async fn purge_expired(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    expiry: RecycleExpiry,
    limit: i64,
) -> AppResult<usize> {
    // The age is checked again in the DELETE itself: an entity restored (and perhaps recycled
    // again) between the choice and the delete is re-read there and kept.
    let doomed = crate::tenants::service::expired_in_bin("entities");
    let purged: Vec<Expired> = diesel::sql_query(format!(
        "WITH doomed AS ({doomed}), \
         gone AS ( \
           DELETE FROM entities x USING doomed d \
            WHERE x.tenant_id = d.tenant_id AND x.id = d.id AND x.deleted_at < d.cutoff \
           RETURNING x.tenant_id, x.id, x.entity_type, x.entity_id), \
         kept AS ( \
           INSERT INTO entity_tombstones (id, tenant_id, row_id, entity_type, entity_id) \
           SELECT gen_random_uuid(), tenant_id, id, entity_type, entity_id FROM gone) \
         SELECT tenant_id, id, entity_type, entity_id FROM gone"
    ))
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(expiry.tenant_id)
    .bind::<Nullable<Integer>, _>(expiry.older_than_days)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    for entity in &purged {
        platform.events.publish(
            entity.tenant_id,
            expiry.actor_id,
            EventPayload::Entity(EntityChange {
                action: EntityAction::Purged,
                entity_type: entity.entity_type.clone(),
                entity_id: entity.entity_id.clone(),
                previous_entity_id: None,
                row_id: entity.id,
            }),
        );
    }
    Ok(purged.len())
}
