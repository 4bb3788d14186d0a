//! Shortcuts resolvers use to reach the request's viewer, loaders and connections.

use async_graphql::Context;

use super::loaders::Loaders;
use crate::auth::viewer::RequestAuth;
use crate::auth::{Role, Viewer};
use crate::db::Conn;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub trait ContextExt {
    fn app(&self) -> &AppState;
    fn auth(&self) -> &RequestAuth;
    fn loaders(&self) -> &Loaders;

    /// The signed-in viewer, or UNAUTHENTICATED.
    fn viewer(&self) -> AppResult<&Viewer> {
        self.auth().viewer()
    }

    /// The viewer if they hold at least `role`; UNAUTHENTICATED or FORBIDDEN otherwise.
    fn viewer_with(&self, role: Role) -> AppResult<&Viewer> {
        let viewer = self.viewer()?;
        viewer.require_role(role)?;
        Ok(viewer)
    }

    fn conn(&self) -> impl Future<Output = AppResult<Conn>> + Send;
}

impl ContextExt for Context<'_> {
    fn app(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }

    fn auth(&self) -> &RequestAuth {
        static ANONYMOUS: std::sync::LazyLock<RequestAuth> =
            std::sync::LazyLock::new(RequestAuth::default);
        self.data_opt::<RequestAuth>().unwrap_or(&ANONYMOUS)
    }

    fn loaders(&self) -> &Loaders {
        self.data_unchecked::<std::sync::Arc<Loaders>>()
    }

    async fn conn(&self) -> AppResult<Conn> {
        self.app().pool.get().await.map_err(AppError::from)
    }
}
