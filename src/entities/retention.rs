//! How long entity revisions are kept: every revision is a full copy of its entity, so a busy
//! entity's history grows without end unless old revisions go.

use diesel::sql_types::{BigInt, Double};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppResult;

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
