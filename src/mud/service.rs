//! What other domains may ask of the MUD: the one way in from outside it (ARCHITECTURE.md).

/// Removes idle Ollama conversations and those of ended sessions (the retention sweeper).
pub use super::ollama::store::prune_conversations;
