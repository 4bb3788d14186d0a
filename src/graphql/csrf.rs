//! Refuses mutations authenticated only by the session cookie unless they carry the CSRF header.
//! A cross-site page can make the browser send the cookie, but cannot read the token to send the
//! header (the token is returned only to same-origin code and bound to the session's JWT).
//!
//! The HTTP handler calls [`check`] on the document it parsed; WebSocket operations reach the
//! schema directly, so their schema runs the same check as the [`CsrfGuard`] extension.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{ErrorExtensions, ServerError, ServerResult, Variables};

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

/// [`check`] as a schema extension, for operations that do not come through the HTTP handler.
pub struct CsrfGuard;

impl ExtensionFactory for CsrfGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CsrfGuardExtension)
    }
}

struct CsrfGuardExtension;

#[async_trait::async_trait]
impl Extension for CsrfGuardExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> Result<ExecutableDocument, ServerError> {
        let document = next.run(ctx, query, variables).await?;
        check(&document, ctx.data_opt::<RequestAuth>())?;
        Ok(document)
    }
}
