//! The activity feed and the dashboard (seed 001's `/stats/dashboard`, `/activity/recent`,
//! `/activity/history`): who did what in a tenant, newest first — entities written, assets
//! uploaded and recycled, invites sent, accepted and revoked, BrainBits credited and spent,
//! notes written — and the tenant at a glance (counts, storage, this period's BrainBits, the
//! latest changes).
//!
//! The feed is a read over the tables that already record each action (`entity_revisions`,
//! `assets`, `invites`, `brainbits_ledger`, `notes`), one `UNION ALL` with a branch per kind
//! of action, rather than a table of its own. The sources are the truth: a separate feed
//! table would have to be written in step with every one of them, in their transactions, by
//! every path that writes them (imports, sync, the retention sweeper, webhooks), and would
//! drift the first time one forgot. The price is that the feed shows what the sources still
//! hold: a purged asset or a pruned revision drops out of it with its row. Each branch reads
//! its own index (`tenant_id`, time, id) and stops after a page, so a page costs the same
//! at any depth.
//!
//! - `model`: the kinds, verbs and sources of activity, the rows and the item;
//! - `store`: the one statement that reads a page of the feed;
//! - `service`: who may read which kinds, and the dashboard from the other domains' services;
//! - `api`: `activity` (a Relay connection) and `dashboardStatistics`.

pub mod api;
pub mod model;
pub mod service;
pub mod store;
