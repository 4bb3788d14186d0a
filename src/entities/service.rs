//! What other domains may ask of entities: the one way in from outside it (ARCHITECTURE.md).

/// Removes revisions past their retention, keeping each entity's newest (the retention
/// sweeper).
pub use super::retention::prune_revisions;
