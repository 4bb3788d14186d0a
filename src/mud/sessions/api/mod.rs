//! The sessions and operations part of the GraphQL schema.

mod live;
pub mod operations;
pub mod players;
pub mod server;

pub use operations::{OperationsMutation, OperationsQuery};
pub use players::PlayersQuery;
pub use server::ServerMutation;
