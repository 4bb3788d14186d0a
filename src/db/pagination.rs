//! Bounded offset pagination shared by every list.

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i32 = 50;
pub const MAX_LIMIT: i32 = 200;

#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub offset: i64,
    pub limit: i64,
}

impl PageRequest {
    /// Defaults to 50; a limit above 200 or a negative value is BAD_USER_INPUT.
    pub fn new(offset: Option<i32>, limit: Option<i32>) -> AppResult<Self> {
        let offset = offset.unwrap_or(0);
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if offset < 0 {
            return Err(AppError::bad_field("offset", "offset must not be negative"));
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::bad_field(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(Self {
            offset: offset.into(),
            limit: limit.into(),
        })
    }
}
