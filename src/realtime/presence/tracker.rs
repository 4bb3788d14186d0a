//! The task that turns this node's socket openings and closings into presence rows and events,
//! beats the node's heartbeat, and sweeps what dead nodes and lapsed marks left behind.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::oneshot;
use uuid::Uuid;

use super::store::{self, Member};
use super::{Change, publish, publish_departures};
use diesel_async::AsyncConnection;

use super::PresenceTracker;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::PresenceKind;

/// Socket openings and closings taken together into one transaction.
const BATCH: usize = 1024;
const LONGEST_RETRY: Duration = Duration::from_secs(5);

pub async fn run(platform: Platform, presence: PresenceTracker) {
    let Some(mut changes) = presence.take_receiver() else {
        return;
    };
    let node_id = platform.events.node_id();
    let timeout = platform.config.realtime.heartbeat_timeout;
    let mut sockets: HashMap<Member, usize> = HashMap::new();
    let mut ticks = tokio::time::interval(timeout / 3);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            () = platform.shutdown.cancelled() => break,
            _ = ticks.tick() => {
                if let Err(error) = beat_and_sweep(&platform, node_id, &sockets).await {
                    tracing::warn!(error = ?error, "presence heartbeat failed");
                }
            }
            count = changes.recv_many(&mut batch, BATCH) => {
                if count == 0 {
                    break;
                }
                let mut waiting = Vec::new();
                let (arrived, departed) = count_sockets(&mut sockets, batch.drain(..), &mut waiting);
                apply(&platform, node_id, &sockets, &arrived, &departed).await;
                for recorded in waiting {
                    let _ = recorded.send(());
                }
            }
        }
    }
    leave_for_good(&platform, node_id).await;
}

/// Updates the per-member socket counts; returns who got their first socket on this node and
/// who lost their last one (a member who did both within the batch is in neither).
fn count_sockets(
    sockets: &mut HashMap<Member, usize>,
    changes: impl Iterator<Item = Change>,
    waiting: &mut Vec<oneshot::Sender<()>>,
) -> (Vec<Member>, Vec<Member>) {
    let mut present_before: HashMap<Member, bool> = HashMap::new();
    for change in changes {
        let member = match &change {
            Change::Connected(member, _) | Change::Disconnected(member) => *member,
        };
        present_before
            .entry(member)
            .or_insert_with(|| sockets.contains_key(&member));
        match change {
            Change::Connected(_, recorded) => {
                *sockets.entry(member).or_insert(0) += 1;
                waiting.push(recorded);
            }
            Change::Disconnected(_) => {
                if let Some(count) = sockets.get_mut(&member) {
                    *count -= 1;
                    if *count == 0 {
                        sockets.remove(&member);
                    }
                }
            }
        }
    }
    let mut arrived = Vec::new();
    let mut departed = Vec::new();
    for (member, before) in present_before {
        match (before, sockets.contains_key(&member)) {
            (false, true) => arrived.push(member),
            (true, false) => departed.push(member),
            _ => {}
        }
    }
    (arrived, departed)
}

/// Writes the changes, retrying while the database is unreachable (changes queue meanwhile).
async fn apply(
    platform: &Platform,
    node_id: Uuid,
    sockets: &HashMap<Member, usize>,
    arrived: &[Member],
    departed: &[Member],
) {
    let mut retry = Duration::from_millis(100);
    loop {
        match write(platform, node_id, sockets, arrived, departed).await {
            Ok(()) => return,
            Err(error) => tracing::warn!(error = ?error, "presence not recorded yet; retrying"),
        }
        tokio::select! {
            () = platform.shutdown.cancelled() => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(LONGEST_RETRY);
    }
}

/// One transaction, so a retry after a failure repeats all of it and the events go out once,
/// after the commit.
async fn write(
    platform: &Platform,
    node_id: Uuid,
    sockets: &HashMap<Member, usize>,
    arrived: &[Member],
    departed: &[Member],
) -> AppResult<()> {
    let mut conn = platform.pool.get().await?;
    let (online, offline, ended) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let arriving: Vec<Member> = if store::beat(conn, node_id).await? {
                arrived.to_vec()
            } else {
                // Swept as dead meanwhile (a long pause): its rows are gone, so everyone with
                // a socket here arrives again.
                sockets.keys().copied().collect()
            };
            let online = store::arrive(conn, node_id, &arriving).await?;
            let (offline, ended) = store::depart(conn, &[node_id], departed).await?;
            Ok((online, offline, ended))
        })
        .await?;
    drop(conn);
    for member in online {
        publish(&platform.events, member, PresenceKind::Online, None);
    }
    publish_departures(&platform.events, &offline, ended);
    Ok(())
}

async fn beat_and_sweep(
    platform: &Platform,
    node_id: Uuid,
    sockets: &HashMap<Member, usize>,
) -> AppResult<()> {
    let timeout = platform.config.realtime.heartbeat_timeout;
    let mut conn = platform.pool.get().await?;
    if !store::beat(&mut conn, node_id).await? && !sockets.is_empty() {
        // Another node took this one for dead (a long pause or outage) and swept its rows.
        tracing::warn!("this node was swept as dead; recording its presence again");
        let members: Vec<Member> = sockets.keys().copied().collect();
        for member in store::arrive(&mut conn, node_id, &members).await? {
            publish(&platform.events, member, PresenceKind::Online, None);
        }
    }
    let (offline, ended) = store::sweep_dead_nodes(&mut conn, node_id, timeout).await?;
    publish_departures(&platform.events, &offline, ended);
    let lapsed = store::lapse_marks(&mut conn, timeout).await?;
    publish_departures(&platform.events, &[], lapsed);
    Ok(())
}

/// On shutdown: everyone on this node goes offline here, and the node's row goes.
async fn leave_for_good(platform: &Platform, node_id: Uuid) {
    let result: AppResult<()> = async {
        let mut conn = platform.pool.get().await?;
        let members = store::members_on(&mut conn, &[node_id]).await?;
        let (offline, ended) = store::depart(&mut conn, &[node_id], &members).await?;
        store::remove_node(&mut conn, node_id).await?;
        publish_departures(&platform.events, &offline, ended);
        Ok(())
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(error = ?error, "could not clear this node's presence; others will sweep it");
    }
}
