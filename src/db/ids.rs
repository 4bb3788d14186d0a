//! Row ids as GraphQL carries them.

use async_graphql::ID;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Parses an ID argument; a malformed one is BAD_USER_INPUT naming the argument.
pub fn parse_id(field: &'static str, id: &ID) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| AppError::bad_field(field, format!("`{}` is not a valid id", id.as_str())))
}
