//! Live connections: heartbeats, slow subscribers, the event relay between nodes.

use std::time::Duration;

use clap::Args;

/// Live connections.
#[derive(Clone, Debug)]
pub struct RealtimeSettings {
    /// A socket that has answered nothing (not even a ping) for this long is dropped, and its
    /// user goes offline; a node silent for this long is taken for dead. Pings go out three
    /// times per period.
    pub heartbeat_timeout: Duration,
    /// How long one message may wait for a subscriber to read before it is disconnected as too
    /// slow.
    pub send_timeout: Duration,
    /// Bytes of results one socket may leave unread, across its subscriptions, before it is
    /// disconnected as too slow.
    pub max_unread_bytes: usize,
    /// The pause before the event relay first tries to reconnect after losing its connection
    /// (it doubles, up to 5 s, while attempts fail).
    pub relay_retry: Duration,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            heartbeat_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
            max_unread_bytes: 16 * 1024 * 1024,
            relay_retry: Duration::from_millis(100),
        }
    }
}

/// The command line's (and environment's) part of the realtime section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Realtime")]
pub struct RealtimeArgs {
    /// Seconds a WebSocket peer may stay silent (pings go out three times per period) before
    /// it is dropped and its user goes offline; also how long a silent node counts as alive.
    #[arg(long, env = "LOREGRAPH_HEARTBEAT_TIMEOUT", default_value_t = 30)]
    pub heartbeat_timeout: u64,
    /// Seconds one message may wait for a WebSocket subscriber to read it before the subscriber
    /// is disconnected as too slow.
    #[arg(long, env = "LOREGRAPH_WS_SEND_TIMEOUT", default_value_t = 10)]
    pub ws_send_timeout: u64,
    /// Bytes of results one WebSocket may leave unread, across its subscriptions, before it is
    /// disconnected as too slow.
    #[arg(long, env = "LOREGRAPH_WS_MAX_UNREAD_BYTES", default_value_t = RealtimeSettings::default().max_unread_bytes)]
    pub ws_max_unread_bytes: usize,
    /// Milliseconds the event relay waits before its first attempt to reconnect (doubling up to
    /// 5 s while attempts fail).
    #[arg(long, env = "LOREGRAPH_EVENT_RELAY_RETRY_MS", default_value_t = 100)]
    pub event_relay_retry_ms: u64,
}

impl RealtimeArgs {
    pub fn settings(self) -> RealtimeSettings {
        RealtimeSettings {
            heartbeat_timeout: Duration::from_secs(self.heartbeat_timeout.max(1)),
            send_timeout: Duration::from_secs(self.ws_send_timeout.max(1)),
            max_unread_bytes: self.ws_max_unread_bytes.max(64 * 1024),
            relay_retry: Duration::from_millis(self.event_relay_retry_ms.max(1)),
        }
    }
}
