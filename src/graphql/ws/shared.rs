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
use crate::graphql::subscriptions::{CLOSE_TOO_SLOW, FellBehind};
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
                Some(Ok(response)) => self.group.deliver(&Outgoing::from_response(&response)),
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
mod tests {
    use std::time::Duration;

    use futures_util::stream;
    use tokio::sync::mpsc::UnboundedSender;

    use super::*;

    fn key(variables: &str) -> GroupKey {
        GroupKey {
            tenant_id: Uuid::nil(),
            user_id: Uuid::nil(),
            role: Role::Player,
            session_id: None,
            api_key_id: None,
            via_cookie: false,
            query: "subscription { tick }".into(),
            operation_name: None,
            variables: variables.into(),
            extensions: "{}".into(),
            exclusive: None,
        }
    }

    /// A subscription whose results the test sends, counting how often it was started.
    fn upstream(
        starts: &Arc<std::sync::atomic::AtomicUsize>,
    ) -> (
        UnboundedSender<async_graphql::Response>,
        impl FnOnce() -> BoxStream<'static, async_graphql::Response> + use<>,
    ) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let starts = starts.clone();
        let subscribe = move || {
            starts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|r| (r, receiver))
            })
            .boxed()
        };
        (sender, subscribe)
    }

    fn tick(n: i32) -> async_graphql::Response {
        async_graphql::Response::new(async_graphql::value!({ "tick": n }))
    }

    async fn next_payload(member: &mut Membership) -> Option<String> {
        match tokio::time::timeout(Duration::from_secs(5), member.next())
            .await
            .expect("a result or the end within 5 s")
        {
            Some(Outgoing::Next(payload)) => Some(payload.to_string()),
            Some(other) => panic!("unexpected {other:?}"),
            None => None,
        }
    }

    #[tokio::test]
    async fn identical_subscribers_share_one_run_and_the_group_ends_with_its_last_member() {
        let hub = SharedSubscriptions::default();
        let starts = Arc::default();
        let (results, subscribe) = upstream(&starts);
        let mut first = hub.join(
            key("{}"),
            (Arc::default(), Arc::default()),
            subscribe,
            Arc::default(),
        );
        let (_unused, subscribe_again) = upstream(&starts);
        let mut second = hub.join(
            key("{}"),
            (Arc::default(), Arc::default()),
            subscribe_again,
            Arc::default(),
        );
        assert_eq!(hub.group_count(), 1);
        assert_eq!(starts.load(std::sync::atomic::Ordering::SeqCst), 1);

        results.send(tick(1)).expect("the group runs");
        assert_eq!(
            next_payload(&mut first).await.as_deref(),
            Some(r#"{"data":{"tick":1}}"#)
        );
        assert_eq!(
            next_payload(&mut second).await.as_deref(),
            Some(r#"{"data":{"tick":1}}"#)
        );

        // One leaving does not end the other's subscription.
        drop(first);
        results.send(tick(2)).expect("the group still runs");
        assert_eq!(
            next_payload(&mut second).await.as_deref(),
            Some(r#"{"data":{"tick":2}}"#)
        );
        assert_eq!(hub.group_count(), 1);

        // The last one leaving ends the group, and its task lets go of the subscription.
        drop(second);
        assert_eq!(hub.group_count(), 0);
        tokio::time::timeout(Duration::from_secs(5), results.closed())
            .await
            .expect("the group's task dropped its subscription");
    }

    #[tokio::test]
    async fn different_requests_run_apart() {
        let hub = SharedSubscriptions::default();
        let starts = Arc::default();
        let (a_results, subscribe_a) = upstream(&starts);
        let (b_results, subscribe_b) = upstream(&starts);
        let mut a = hub.join(
            key(r#"{"type":"A"}"#),
            (Arc::default(), Arc::default()),
            subscribe_a,
            Arc::default(),
        );
        let mut b = hub.join(
            key(r#"{"type":"B"}"#),
            (Arc::default(), Arc::default()),
            subscribe_b,
            Arc::default(),
        );
        assert_eq!(hub.group_count(), 2);
        b_results.send(tick(2)).expect("b runs");
        a_results.send(tick(1)).expect("a runs");
        assert_eq!(
            next_payload(&mut a).await.as_deref(),
            Some(r#"{"data":{"tick":1}}"#)
        );
        assert_eq!(
            next_payload(&mut b).await.as_deref(),
            Some(r#"{"data":{"tick":2}}"#)
        );
    }

    #[tokio::test]
    async fn an_ended_subscription_completes_its_members_and_a_fall_behind_closes_them() {
        let hub = SharedSubscriptions::default();
        let starts = Arc::default();
        let (results, subscribe) = upstream(&starts);
        let mut member = hub.join(
            key("{}"),
            (Arc::default(), Arc::default()),
            subscribe,
            Arc::default(),
        );
        drop(results);
        assert_eq!(next_payload(&mut member).await, None);
        assert_eq!(hub.group_count(), 0);

        let (results, subscribe) = upstream(&starts);
        let closer = Arc::new(SocketCloser::default());
        let fell_behind = Arc::new(FellBehind::default());
        let mut member = hub.join(
            key("{}"),
            (closer.clone(), Arc::default()),
            subscribe,
            fell_behind.clone(),
        );
        fell_behind.note("too slow: missed 9 events; reconnect and refetch".into());
        drop(results);
        assert_eq!(next_payload(&mut member).await, None);
        assert_eq!(
            closer.reason(),
            Some((
                CLOSE_TOO_SLOW,
                "too slow: missed 9 events; reconnect and refetch".into()
            ))
        );
    }

    #[tokio::test]
    async fn a_subscription_that_panics_closes_its_members_and_the_next_one_starts_afresh() {
        let hub = SharedSubscriptions::default();
        let closer = Arc::new(SocketCloser::default());
        let failing = || {
            stream::poll_fn(|_| -> Poll<Option<async_graphql::Response>> {
                panic!("a resolver bug")
            })
            .boxed()
        };
        let mut member = hub.join(
            key("{}"),
            (closer.clone(), Arc::default()),
            failing,
            Arc::default(),
        );
        assert_eq!(next_payload(&mut member).await, None);
        assert_eq!(
            closer.reason().map(|(code, _)| code),
            Some(CLOSE_INTERNAL_ERROR)
        );
        assert_eq!(hub.group_count(), 0);

        let starts = Arc::default();
        let (results, subscribe) = upstream(&starts);
        let mut next = hub.join(
            key("{}"),
            (Arc::default(), Arc::default()),
            subscribe,
            Arc::default(),
        );
        results.send(tick(1)).expect("a new group runs");
        assert_eq!(
            next_payload(&mut next).await.as_deref(),
            Some(r#"{"data":{"tick":1}}"#)
        );
    }

    #[tokio::test]
    async fn a_member_that_leaves_its_queue_full_is_cut_off_and_the_others_go_on() {
        let hub = SharedSubscriptions::default();
        let starts = Arc::default();
        let (results, subscribe) = upstream(&starts);
        let stalled_closer = Arc::new(SocketCloser::default());
        let mut stalled = hub.join(
            key("{}"),
            (stalled_closer.clone(), Arc::default()),
            subscribe,
            Arc::default(),
        );
        let (_unused, subscribe_again) = upstream(&starts);
        let mut reader = hub.join(
            key("{}"),
            (Arc::default(), Arc::default()),
            subscribe_again,
            Arc::default(),
        );
        for n in 0..=i32::try_from(MEMBER_BACKLOG).expect("small") {
            results.send(tick(n)).expect("the group runs");
            let expected = format!(r#"{{"data":{{"tick":{n}}}}}"#);
            assert_eq!(next_payload(&mut reader).await, Some(expected));
        }
        assert_eq!(
            stalled_closer.reason().map(|(code, _)| code),
            Some(CLOSE_TOO_SLOW)
        );
        // It keeps what was queued, then hears no more.
        let mut queued = 0;
        while next_payload(&mut stalled).await.is_some() {
            queued += 1;
        }
        assert_eq!(queued, MEMBER_BACKLOG);
    }

    #[tokio::test]
    async fn a_socket_with_too_many_bytes_unread_is_cut_off_and_reading_frees_them() {
        let hub = SharedSubscriptions::default();
        let starts = Arc::default();
        let (results, subscribe) = upstream(&starts);
        let one = Outgoing::from_response(&tick(1)).size();
        // Room for three results, across the socket's subscriptions.
        let backlog = Arc::new(Backlog::new(3 * one));
        let closer = Arc::new(SocketCloser::default());
        let mut reading = hub.join(
            key("{}"),
            (closer.clone(), backlog.clone()),
            subscribe,
            Arc::default(),
        );
        for n in 1..=5 {
            results.send(tick(n)).expect("the group runs");
            assert!(next_payload(&mut reading).await.is_some());
        }
        assert_eq!(closer.reason(), None);
        assert_eq!(backlog.bytes.load(Ordering::SeqCst), 0);

        let (other_results, subscribe_other) = upstream(&starts);
        let _unread = hub.join(
            key("{\"other\":1}"),
            (closer.clone(), backlog.clone()),
            subscribe_other,
            Arc::default(),
        );
        for n in 1..=3 {
            other_results.send(tick(n)).expect("the other group runs");
        }
        for _ in 0..500 {
            if backlog.bytes.load(Ordering::SeqCst) == 3 * one {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Its three unread results fill the socket's room: the next of either is refused.
        results.send(tick(9)).expect("the group runs");
        assert_eq!(next_payload(&mut reading).await, None);
        assert_eq!(closer.reason().map(|(code, _)| code), Some(CLOSE_TOO_SLOW));
        assert!(
            closer
                .reason()
                .is_some_and(|(_, reason)| reason.contains("bytes"))
        );
    }
}
