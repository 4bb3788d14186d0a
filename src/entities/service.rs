//! What other domains may ask of entities: the one way in from outside it (ARCHITECTURE.md).

/// Removes revisions past their retention, keeping each entity's newest (the retention
/// sweeper).
pub use super::retention::prune_revisions;

/// The sixteen entity types, which other domains name when they point at an entity.
pub use super::types::EntityType;

/// Finding and locking an entity that another domain attaches something to (an asset, a note,
/// a roll, a world's universe), and the error that says it is not there.
pub use super::store::{Bin, find_live, lock, not_found};
