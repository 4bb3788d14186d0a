//! What the edges and other domains may ask of Drive.

pub use super::connection::{access_token, connect, disconnect};
pub use super::files::{Download, download};
