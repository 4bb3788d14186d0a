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
    Ok(diesel::sql_query(
        "DELETE FROM entity_revisions WHERE id IN ( \
           SELECT r.id FROM entity_revisions r \
           WHERE r.created_at < now() - make_interval(secs => $1) \
             AND r.version <= (SELECT n.version FROM entity_revisions n \
                               WHERE n.entity_row_id = r.entity_row_id \
                               ORDER BY n.version DESC OFFSET $2 LIMIT 1) \
           ORDER BY r.created_at LIMIT $3)",
    )
    .bind::<Double, _>(age_secs)
    .bind::<BigInt, _>(keep)
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await?)
}
