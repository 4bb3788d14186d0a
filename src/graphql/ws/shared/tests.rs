//! Groups of shared subscriptions: joining, leaving, ending, falling behind, panicking.

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
        stream::poll_fn(|_| -> Poll<Option<async_graphql::Response>> { panic!("a resolver bug") })
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
