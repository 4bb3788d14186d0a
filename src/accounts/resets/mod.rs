//! Password resets: a single-use, expiring link mailed to the account's address
//! (`forgotPassword`), and the new password it lets its holder set (`resetPassword`), which
//! ends every session of the account.

pub mod service;
pub mod store;
