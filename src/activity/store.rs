//! The feed's one statement: a `UNION ALL` with a branch per source asked for, each scoped to
//! the tenant, after `since` when given, past the cursor's key when given, in the feed's order
//! and cut at the page; then the branches merged in that order and cut again.
//!
//! The statement's text is put together from the fixed fragments below (which branches, by
//! the kinds asked for); every value — the tenant, `since`, the cursor's key, the page size —
//! is a bound parameter, the same six in every statement:
//!
//! `$1` tenant · `$2` since · `$3`, `$4`, `$5` the cursor's time, source and id · `$6` rows.
//!
//! The order is `(at DESC, source DESC, id DESC)`, with `source` and `id` compared under the
//! "C" collation: bytewise, so a uuid's text sorts as the uuid does and a zero-padded number
//! as the number does. That lets each branch order by its table's own columns, which its
//! index (`tenant_id`, time DESC, id DESC) serves without a sort, while the merge and the
//! cursor compare text in the very same order.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{ActivityKey, ActivityRow, Source};
use crate::error::AppResult;

/// How one source reads: fixed SQL, never input.
struct Branch {
    /// The time of the action (a column of `from`).
    at: &'static str,
    /// The row's id as text, ordered under "C" as `order_id` orders it.
    id: &'static str,
    /// The id column the branch orders by (its index's last column).
    order_id: &'static str,
    /// The row's tenant column.
    tenant: &'static str,
    /// `verb, actor_id, entity_type, entity_id, name, amount, role`, typed (a branch of NULLs
    /// alone must still say what type each column is).
    columns: &'static str,
    /// The table, with any join.
    from: &'static str,
    /// What else selects the branch's rows (`TRUE` for nothing more).
    only: &'static str,
}

fn branch(source: Source) -> Branch {
    match source {
        Source::EntityRevision => Branch {
            at: "r.created_at",
            id: "r.id::text",
            order_id: "r.id",
            tenant: "r.tenant_id",
            columns: "r.action AS verb, r.actor_id AS actor_id, e.entity_type AS entity_type, \
                      r.entity_id AS entity_id, r.name AS name, NULL::bigint AS amount, \
                      NULL::text AS role",
            // Every revision has its entity (the foreign key cascades); the type lives there.
            from: "entity_revisions r JOIN entities e \
                   ON e.tenant_id = r.tenant_id AND e.id = r.entity_row_id",
            only: "TRUE",
        },
        Source::AssetUploaded => Branch {
            at: "a.created_at",
            id: "a.id::text",
            order_id: "a.id",
            tenant: "a.tenant_id",
            columns: "'uploaded'::text AS verb, a.uploaded_by AS actor_id, \
                      NULL::text AS entity_type, NULL::text AS entity_id, \
                      a.original_filename AS name, NULL::bigint AS amount, NULL::text AS role",
            from: "assets a",
            only: "TRUE",
        },
        Source::AssetRecycled => Branch {
            at: "a.deleted_at",
            id: "a.id::text",
            order_id: "a.id",
            tenant: "a.tenant_id",
            columns: "'recycled'::text AS verb, a.deleted_by AS actor_id, \
                      NULL::text AS entity_type, NULL::text AS entity_id, \
                      a.original_filename AS name, NULL::bigint AS amount, NULL::text AS role",
            from: "assets a",
            // The partial index `assets_recycled` has this very predicate.
            only: "a.deleted_at IS NOT NULL",
        },
        Source::InviteSent => Branch {
            at: "i.created_at",
            id: "i.id::text",
            order_id: "i.id",
            tenant: "i.tenant_id",
            columns: "'invited'::text AS verb, i.created_by AS actor_id, \
                      NULL::text AS entity_type, NULL::text AS entity_id, i.email AS name, \
                      NULL::bigint AS amount, i.role AS role",
            from: "invites i",
            only: "TRUE",
        },
        Source::InviteAccepted => Branch {
            at: "i.accepted_at",
            id: "i.id::text",
            order_id: "i.id",
            tenant: "i.tenant_id",
            columns: "'accepted'::text AS verb, i.accepted_by AS actor_id, \
                      NULL::text AS entity_type, NULL::text AS entity_id, i.email AS name, \
                      NULL::bigint AS amount, i.role AS role",
            from: "invites i",
            only: "i.accepted_at IS NOT NULL",
        },
        Source::InviteRevoked => Branch {
            at: "i.revoked_at",
            id: "i.id::text",
            order_id: "i.id",
            tenant: "i.tenant_id",
            // Who revoked an invite is not recorded: no actor.
            columns: "'revoked'::text AS verb, NULL::uuid AS actor_id, \
                      NULL::text AS entity_type, NULL::text AS entity_id, i.email AS name, \
                      NULL::bigint AS amount, i.role AS role",
            from: "invites i",
            only: "i.revoked_at IS NOT NULL",
        },
        Source::Ledger => Branch {
            at: "l.created_at",
            // Zero-padded to bigint's 19 digits and more: text order is then number order.
            id: "lpad(l.id::text, 20, '0')",
            order_id: "l.id",
            tenant: "l.tenant_id",
            // A debit names its member in both columns; a purchase may name only its actor;
            // an allowance neither.
            columns: "l.kind AS verb, COALESCE(l.actor_id, l.user_id) AS actor_id, \
                      NULL::text AS entity_type, NULL::text AS entity_id, l.reason AS name, \
                      l.amount AS amount, NULL::text AS role",
            from: "brainbits_ledger l",
            only: "TRUE",
        },
        Source::NoteWritten => Branch {
            at: "n.created_at",
            id: "n.id::text",
            order_id: "n.id",
            tenant: "n.tenant_id",
            columns: "'created'::text AS verb, n.author_id AS actor_id, \
                      NULL::text AS entity_type, NULL::text AS entity_id, n.title AS name, \
                      NULL::bigint AS amount, NULL::text AS role",
            from: "notes n",
            only: "TRUE",
        },
    }
}

/// One branch: its rows of the tenant after `$2` and past the cursor's key, in the feed's
/// order, at most `$6` of them (no branch can contribute more to one page).
fn branch_sql(source: Source) -> String {
    let Branch {
        at,
        id,
        order_id,
        tenant,
        columns,
        from,
        only,
    } = branch(source);
    let name = source.name();
    // `at <= $3` is the bound the index can use; the row comparison then drops the rows of
    // that very instant the cursor's page already showed. With no cursor (or no `since`) the
    // planner folds the whole condition away, the parameters' values being known.
    format!(
        "(SELECT {at} AS at, '{name}'::text AS source, {id} AS id, {columns} \
          FROM {from} \
          WHERE {tenant} = $1 AND {only} \
            AND ($2::timestamptz IS NULL OR {at} > $2::timestamptz) \
            AND ($3::timestamptz IS NULL OR ({at} <= $3::timestamptz \
                 AND ({at}, '{name}'::text COLLATE \"C\", {id} COLLATE \"C\") \
                     < ($3::timestamptz, $4::text, $5::text))) \
          ORDER BY {at} DESC, {order_id} DESC \
          LIMIT $6)"
    )
}

/// The whole statement for `sources` (at least one).
pub(super) fn statement(sources: &[Source]) -> String {
    let branches: Vec<String> = sources.iter().copied().map(branch_sql).collect();
    format!(
        "SELECT at, source, id, verb, actor_id, entity_type, entity_id, name, amount, role \
         FROM ({}) AS activity \
         ORDER BY at DESC, source COLLATE \"C\" DESC, id COLLATE \"C\" DESC \
         LIMIT $6",
        branches.join(" UNION ALL ")
    )
}

/// A page of the feed to read.
pub struct FeedQuery<'a> {
    pub tenant_id: Uuid,
    /// The branches to read (none reads nothing).
    pub sources: &'a [Source],
    /// Only actions after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only items past this key in the feed's order (older, or as old and later in the order).
    pub after: Option<&'a ActivityKey>,
    /// How many rows: the page and one more, to tell whether the feed goes on.
    pub fetch: i64,
}

/// Up to `fetch` items of the tenant's feed, newest first.
pub async fn feed(
    conn: &mut AsyncPgConnection,
    query: &FeedQuery<'_>,
) -> AppResult<Vec<ActivityRow>> {
    if query.sources.is_empty() {
        return Ok(Vec::new());
    }
    let (after_at, after_source, after_id) = match query.after {
        Some((at, source, id)) => (Some(*at), Some(source.clone()), Some(id.clone())),
        None => (None, None, None),
    };
    Ok(diesel::sql_query(statement(query.sources))
        .bind::<SqlUuid, _>(query.tenant_id)
        .bind::<Nullable<Timestamptz>, _>(query.since)
        .bind::<Nullable<Timestamptz>, _>(after_at)
        .bind::<Nullable<Text>, _>(after_source)
        .bind::<Nullable<Text>, _>(after_id)
        .bind::<BigInt, _>(query.fetch)
        .load(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_branches_asked_for_are_read() {
        let sql = statement(&[Source::NoteWritten, Source::Ledger]);
        assert!(sql.contains("FROM notes n"), "{sql}");
        assert!(sql.contains("FROM brainbits_ledger l"), "{sql}");
        assert!(!sql.contains("entity_revisions"), "{sql}");
        assert!(!sql.contains("invites"), "{sql}");
        assert_eq!(sql.matches(" UNION ALL ").count(), 1);
    }

    #[test]
    fn every_statement_uses_the_same_six_parameters() {
        // A parameter left out of the text would leave its type for PostgreSQL to guess.
        for source in Source::ALL {
            let sql = statement(&[source]);
            for number in 1..=6 {
                let parameter = format!("${number}");
                assert!(sql.contains(&parameter), "{source:?}: {parameter}");
            }
            assert!(!sql.contains("$7"), "{source:?}");
            // The branch's own order matches the feed's: time, then the id it compares.
            let Branch { at, order_id, .. } = branch(source);
            let order = format!("ORDER BY {at} DESC, {order_id} DESC");
            assert!(sql.contains(&order), "{sql}");
        }
        let all = statement(&Source::ALL);
        assert_eq!(all.matches(" UNION ALL ").count(), Source::ALL.len() - 1);
    }
}
