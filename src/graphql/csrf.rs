//! Refuses mutations authenticated only by the session cookie unless they carry the CSRF header.
//! A cross-site page can make the browser send the cookie, but cannot read the token to send the
//! header (the token is returned only to same-origin code and bound to the session's JWT).
//!
//! The HTTP handler and the WebSocket call [`check`] on every document they parse.

use async_graphql::ErrorExtensions;
use async_graphql::ServerResult;
use async_graphql::parser::types::{ExecutableDocument, OperationType};

use crate::auth::viewer::RequestAuth;

/// Fails when `document` holds a mutation that `auth` may not send.
pub fn check(document: &ExecutableDocument, auth: Option<&RequestAuth>) -> ServerResult<()> {
    let may_mutate = auth.is_none_or(RequestAuth::may_mutate);
    let has_mutation = document
        .operations
        .iter()
        .any(|(_, op)| op.node.ty == OperationType::Mutation);
    if has_mutation && !may_mutate {
        let error = async_graphql::Error::new(
            "cookie-authenticated mutations need the X-CSRF-Token header (from the sign-in response)",
        )
        .extend_with(|_, ext| {
            ext.set("code", "FORBIDDEN");
            ext.set("reason", "csrf");
        });
        return Err(error.into_server_error(Default::default()));
    }
    Ok(())
}
