//! Authentication and authorization: passwords, tokens, API keys, cookies and the `Viewer` every
//! request runs as.

pub mod cookies;
pub mod credentials;
pub mod password;
mod principal;
pub mod rate_window;
pub mod revocation;
pub mod roles;
pub mod signing_secret;
pub mod throttle;
pub mod tokens;
pub mod viewer;

pub use principal::{API_KEY_PREFIX, AuthService, Credentials};
pub use revocation::Revocation;
pub use roles::Role;
pub use viewer::Viewer;
