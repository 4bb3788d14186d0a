//! Subscriptions shared by identical subscribers. Sockets that subscribe with the same document,
//! variables and operation name, as the same viewer with the same credentials, would each run
//! the same selection on the same event and serialize the same bytes. They join one group
//! instead: the group's task runs the subscription once, serializes each result once, and hands
//! every member a pointer to the bytes. Ten thousand dashboards on one API key cost one
//! execution per event.
//!
//! Only subscriptions that keep no state of their own share (see `ws::shareable`): a member
//! joining late must hear exactly what a run of its own would let it hear. Others run in a group
//! of one, under a key no one else has.
//!
//! Each member has its own bounded queue, so a member that stops reading fills only its own
//! queue and is then disconnected as too slow; the group and its other members go on. A
//! socket's queues are bounded in bytes too, together ([`Backlog`]): a few large results
//! left unread disconnect it as surely as many small ones. A group
//! ends with its last member, or when its subscription ends (the members then see `complete`),
//! falls behind the event bus or fails (they are disconnected with the reason).
//!
//! No lock is held while another is taken: the map of groups and each group's members are
//! locked one at a time, and a group closed under its own lock is never joined again.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::protocol::Outgoing;
use crate::auth::Role;
use crate::context::subscriptions::{CLOSE_TOO_SLOW, FellBehind};
use crate::realtime::connections::SocketCloser;

/// Results a member may leave unread before it is disconnected. Members of one group share
/// each result's bytes; a socket's operations together hold at most
/// `MAX_OPERATIONS × MEMBER_BACKLOG` results.
const MEMBER_BACKLOG: usize = 1024;
/// WebSocket close code for a subscription that failed on the server.
const CLOSE_INTERNAL_ERROR: u16 = 1011;

/// Who runs a subscription and what it asks: everything its results depend on.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct GroupKey {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub session_id: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
    pub via_cookie: bool,
    pub query: String,
    pub operation_name: Option<String>,
    /// The variables and extensions as JSON text: equal text, equal request.
    pub variables: String,
    pub extensions: String,
    /// For a subscription that must run on its own: a number no other key has.
    pub exclusive: Option<u64>,
}

/// This node's shared subscriptions.
#[derive(Clone, Default)]
pub struct SharedSubscriptions {
    groups: Arc<Mutex<HashMap<Arc<GroupKey>, Arc<Group>>>>,
    next_exclusive: Arc<AtomicU64>,
}

#[derive(Default)]
struct Group {
    members: Mutex<Members>,
    /// Cancelled when the last member leaves.
    abandoned: CancellationToken,
}

#[derive(Default)]
struct Members {
    next_id: u64,
    by_id: HashMap<u64, Member>,
    /// Set once the group is over (its last member left, or its subscription ended): it takes
    /// no one new.
    closed: bool,
}

struct Member {
    results: mpsc::Sender<Outgoing>,
    /// Closes the member's socket when it falls too far behind.
    closer: Arc<SocketCloser>,
    /// The bytes its socket's subscriptions have queued and it has not read yet.
    backlog: Arc<Backlog>,
}

/// The bytes of results queued for one socket and not yet taken, across its subscriptions.
#[derive(Debug)]
pub struct Backlog {
    bytes: AtomicUsize,
    limit: usize,
}

impl Backlog {
    pub fn new(limit: usize) -> Self {
        Self {
            bytes: AtomicUsize::new(0),
            limit,
        }
    }

    /// Counts `size` more bytes; false (counting nothing) when they would pass the limit. A
    /// socket with nothing unread always takes one more result, however large: a reader that
    /// keeps up is never cut off for one big event.
    fn reserve(&self, size: usize) -> bool {
        self.bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                let total = queued.saturating_add(size);
                (queued == 0 || total <= self.limit).then_some(total)
            })
            .is_ok()
    }

    fn release(&self, size: usize) {
        let _ = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                Some(queued.saturating_sub(size))
            });
    }
}

impl Default for Backlog {
    fn default() -> Self {
        Self::new(usize::MAX)
    }
}

impl SharedSubscriptions {
    /// A value for [`GroupKey::exclusive`].
    pub fn exclusive(&self) -> u64 {
        self.next_exclusive.fetch_add(1, Ordering::Relaxed)
    }

    /// Joins the group for `key`, or starts it with `subscribe` (the subscription's result
    /// stream, which notes a fall behind the bus in `fell_behind`) if there is none.
    pub fn join(
        &self,
        key: GroupKey,
        socket: (Arc<SocketCloser>, Arc<Backlog>),
        subscribe: impl FnOnce() -> BoxStream<'static, async_graphql::Response>,
        fell_behind: Arc<FellBehind>,
    ) -> Membership {
        let key = Arc::new(key);
        let (closer, backlog) = socket;
        let (results, receiver) = mpsc::channel(MEMBER_BACKLOG);
        let mut member = Some(Member {
            results,
            closer,
            backlog: backlog.clone(),
        });
        loop {
            let existing = self.lock().get(&key).cloned();
            if let Some(group) = existing {
                let joined = group.lock().add(&mut member);
                if let Some(member_id) = joined {
                    return Membership::new(receiver, backlog, self, key, group, member_id);
                }
                // It is ending: out of the way, and start afresh.
                self.forget(&key, &group);
                continue;
            }
            let mut groups = self.lock();
            if groups.contains_key(&key) {
                continue; // another socket started it meanwhile
            }
            let group = Arc::new(Group::default());
            let founder = group.lock().add(&mut member);
            let member_id = founder.unwrap_or_default();
            groups.insert(key.clone(), group.clone());
            drop(groups);
            let task = GroupTask {
                hub: self.clone(),
                key: key.clone(),
                group: group.clone(),
                ending: None,
            };
            tokio::spawn(task.run(subscribe(), fell_behind));
            return Membership::new(receiver, backlog, self, key, group, member_id);
        }
    }

    /// How many groups run on this node.
    #[cfg(test)]
    fn group_count(&self) -> usize {
        self.lock().len()
    }

    /// How many groups run on this node, and how many members they have in all (for the
    /// metrics). The map's lock is let go before each group's is taken.
    pub fn counts(&self) -> (usize, usize) {
        let groups: Vec<Arc<Group>> = self.lock().values().cloned().collect();
        let members = groups.iter().map(|group| group.lock().by_id.len()).sum();
        (groups.len(), members)
    }

    fn leave(&self, key: &Arc<GroupKey>, group: &Arc<Group>, member_id: u64) {
        let last = {
            let mut members = group.lock();
            members.by_id.remove(&member_id);
            let last = members.by_id.is_empty() && !members.closed;
            members.closed |= last;
            last
        };
        if last {
            group.abandoned.cancel();
            self.forget(key, group);
        }
    }

    /// Removes `group` from the map, unless a newer group already took its key.
    fn forget(&self, key: &Arc<GroupKey>, group: &Arc<Group>) {
        let mut groups = self.lock();
        if groups.get(key).is_some_and(|g| Arc::ptr_eq(g, group)) {
            groups.remove(key);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<GroupKey>, Arc<Group>>> {
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Group {
    /// Queues `result` for every member; a member whose queue is full, or whose socket has too
    /// many bytes unread, is disconnected.
    fn deliver(&self, result: &Outgoing) {
        let mut cut_off = 0;
        let size = result.size();
        self.lock().by_id.retain(|_, member| {
            if !member.backlog.reserve(size) {
                cut_off += 1;
                member.closer.close(
                    CLOSE_TOO_SLOW,
                    format!(
                        "too slow: more than {} bytes of results unread; reconnect and refetch",
                        member.backlog.limit
                    ),
                );
                return false;
            }
            match member.results.try_send(result.clone()) {
                Ok(()) => true,
                Err(error) => {
                    member.backlog.release(size);
                    if let TrySendError::Full(_) = error {
                        cut_off += 1;
                        member.closer.close(
                            CLOSE_TOO_SLOW,
                            format!(
                                "too slow: {MEMBER_BACKLOG} events unread; reconnect and refetch"
                            ),
                        );
                    }
                    false
                }
            }
        });
        if cut_off > 0 {
            tracing::info!(cut_off, "disconnected subscribers that stopped reading");
        }
    }

    fn lock(&self) -> MutexGuard<'_, Members> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Members {
    /// Adds `member` (taking it) unless the group is closed.
    fn add(&mut self, member: &mut Option<Member>) -> Option<u64> {
        if self.closed {
            return None;
        }
        let id = self.next_id;
        self.by_id.insert(id, member.take()?);
        self.next_id += 1;
        Some(id)
    }
}

/// A group's task: runs the subscription once for all its members. However it ends (its
/// subscription ends or fails, or the task itself is dropped), its drop closes the group.
struct GroupTask {
    hub: SharedSubscriptions,
    key: Arc<GroupKey>,
    group: Arc<Group>,
    /// How the members' sockets are to close, when they are.
    ending: Option<(u16, String)>,
}

impl GroupTask {
    async fn run(
        mut self,
        results: BoxStream<'static, async_graphql::Response>,
        fell_behind: Arc<FellBehind>,
    ) {
        // A resolver that panics ends this group (its members are told), not the node's
        // ability to start the same subscription again.
        let mut results = AssertUnwindSafe(results).catch_unwind();
        self.ending = loop {
            let next = tokio::select! {
                biased;
                () = self.group.abandoned.cancelled() => return,
                () = fell_behind.noticed() => {
                    break fell_behind.reason().map(|reason| (CLOSE_TOO_SLOW, reason));
                }
                next = results.next() => next,
            };
            match next {
                Some(Ok(response)) => {
                    crate::metrics::graphql_errors(&response);
                    self.group.deliver(&Outgoing::from_response(&response));
                }
                Some(Err(_panic)) => {
                    tracing::error!("a shared subscription failed; closing its subscribers");
                    break Some((
                        CLOSE_INTERNAL_ERROR,
                        "the subscription failed on the server; reconnect".to_owned(),
                    ));
                }
                None => break None,
            }
        };
    }
}

impl Drop for GroupTask {
    fn drop(&mut self) {
        let members = {
            let mut members = self.group.lock();
            members.closed = true;
            std::mem::take(&mut members.by_id)
        };
        self.hub.forget(&self.key, &self.group);
        // Without an ending the members' queues just run dry (their sockets send `complete`).
        if let Some((code, reason)) = &self.ending {
            for member in members.values() {
                member.closer.close(*code, reason.clone());
            }
        }
    }
}

/// One socket's place in a group: the stream of its results. Dropping it leaves the group.
pub struct Membership {
    receiver: mpsc::Receiver<Outgoing>,
    backlog: Arc<Backlog>,
    hub: SharedSubscriptions,
    key: Arc<GroupKey>,
    group: Arc<Group>,
    member_id: u64,
}

impl Membership {
    fn new(
        receiver: mpsc::Receiver<Outgoing>,
        backlog: Arc<Backlog>,
        hub: &SharedSubscriptions,
        key: Arc<GroupKey>,
        group: Arc<Group>,
        member_id: u64,
    ) -> Self {
        Self {
            receiver,
            backlog,
            hub: hub.clone(),
            key,
            group,
            member_id,
        }
    }
}

impl Stream for Membership {
    type Item = Outgoing;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        let this = self.get_mut();
        let next = this.receiver.poll_recv(cx);
        if let Poll::Ready(Some(result)) = &next {
            this.backlog.release(result.size());
        }
        next
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(&self.key, &self.group, self.member_id);
        // What it leaves unread no longer counts against its socket.
        self.receiver.close();
        while let Ok(result) = self.receiver.try_recv() {
            self.backlog.release(result.size());
        }
    }
}

#[cfg(test)]
mod tests;
