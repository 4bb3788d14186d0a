//! How long what the server keeps for a while is kept.

use std::time::Duration;

use clap::Args;

/// How long what the server keeps for a while is kept; the sweeper (`retention`) removes the
/// rest, a bounded batch of each kind per run.
#[derive(Clone, Debug)]
pub struct RetentionSettings {
    /// How often a node sweeps (one node at a time: the others skip while it does).
    pub interval: Duration,
    /// Most rows (or stored objects) of each kind one run removes.
    pub batch: i64,
    /// Finished asset jobs (done or failed) are kept this long after they finished.
    pub asset_jobs: Duration,
    /// Stored image bytes no asset row refers to (a deleted tenant's, or an upload whose
    /// transaction failed) are removed once they are this old.
    pub orphaned_bytes: Duration,
    /// Ollama conversations untouched this long are removed (those of ended sessions and
    /// revoked keys at once).
    pub ollama_conversations: Duration,
    /// Stripe event ids (kept so a redelivery changes nothing) are kept this long; Stripe
    /// redelivers for three days.
    pub stripe_events: Duration,
    /// Entity revisions older than this are removed, except each entity's newest
    /// `revisions_kept`. Zero keeps every revision.
    pub revisions: Duration,
    pub revisions_kept: i64,
    /// Events are kept in the event log this long: how far back a relay that was cut off, or
    /// a subscriber resuming with `since`, can catch up.
    pub event_log: Duration,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        Self {
            interval: Duration::from_secs(600),
            batch: 1_000,
            asset_jobs: Duration::from_secs(7 * DAY),
            orphaned_bytes: Duration::from_secs(DAY),
            ollama_conversations: Duration::from_secs(30 * DAY),
            stripe_events: Duration::from_secs(90 * DAY),
            revisions: Duration::from_secs(365 * DAY),
            revisions_kept: 50,
            event_log: Duration::from_secs(3600),
        }
    }
}

/// The command line's (and environment's) part of the retention section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Retention")]
pub struct RetentionArgs {
    /// Seconds between retention sweeps (one node sweeps at a time).
    #[arg(long, env = "LOREGRAPH_RETENTION_INTERVAL", default_value_t = 600)]
    pub retention_interval: u64,
    /// Days finished asset jobs are kept.
    #[arg(long, env = "LOREGRAPH_RETAIN_ASSET_JOBS_DAYS", default_value_t = 7)]
    pub retain_asset_jobs_days: u64,
    /// Hours stored image bytes that no asset uses are kept before they are removed.
    #[arg(
        long,
        env = "LOREGRAPH_RETAIN_ORPHANED_BYTES_HOURS",
        default_value_t = 24
    )]
    pub retain_orphaned_bytes_hours: u64,
    /// Days an idle Ollama conversation is kept (those of ended sessions go at once).
    #[arg(long, env = "LOREGRAPH_RETAIN_OLLAMA_DAYS", default_value_t = 30)]
    pub retain_ollama_days: u64,
    /// Days Stripe event ids are kept (at least 3: Stripe redelivers for three).
    #[arg(
        long,
        env = "LOREGRAPH_RETAIN_STRIPE_EVENTS_DAYS",
        default_value_t = 90
    )]
    pub retain_stripe_events_days: u64,
    /// Days entity revisions are kept beyond each entity's newest (0 keeps them all).
    #[arg(long, env = "LOREGRAPH_RETAIN_REVISIONS_DAYS", default_value_t = 365)]
    pub retain_revisions_days: u64,
    /// Revisions of each entity always kept, however old (at least 1).
    #[arg(long, env = "LOREGRAPH_RETAIN_REVISIONS_KEPT", default_value_t = 50)]
    pub retain_revisions_kept: i64,
    /// Minutes events are kept in the event log, for relays and subscribers catching up (at
    /// least 1).
    #[arg(long, env = "LOREGRAPH_RETAIN_EVENT_LOG_MINUTES", default_value_t = 60)]
    pub retain_event_log_minutes: u64,
}

impl RetentionArgs {
    pub fn settings(self) -> RetentionSettings {
        let days = |n: u64| Duration::from_secs(n.saturating_mul(24 * 3600));
        RetentionSettings {
            interval: Duration::from_secs(self.retention_interval.max(1)),
            asset_jobs: days(self.retain_asset_jobs_days),
            orphaned_bytes: Duration::from_secs(
                self.retain_orphaned_bytes_hours.saturating_mul(3600),
            ),
            ollama_conversations: days(self.retain_ollama_days),
            // Stripe redelivers an event for three days: its id is kept at least that long.
            stripe_events: days(self.retain_stripe_events_days.max(3)),
            revisions: days(self.retain_revisions_days),
            revisions_kept: self.retain_revisions_kept.max(1),
            event_log: Duration::from_secs(self.retain_event_log_minutes.max(1).saturating_mul(60)),
            ..RetentionSettings::default()
        }
    }
}
