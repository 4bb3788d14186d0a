use async_graphql::{Context, Object};

use super::SystemHealth;
use crate::context::ContextExt;

#[derive(Default)]
pub struct HealthQuery;

#[Object]
impl HealthQuery {
    /// The health of the server and its dependencies (public).
    async fn system_health(&self, ctx: &Context<'_>) -> SystemHealth {
        super::check(ctx.platform()).await
    }
}

/// How severe a log line is.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something may be wrong.
    Warn,
    /// What the server did.
    Info,
    /// Detail for finding a fault.
    Debug,
}

impl LogLevel {
    fn of(level: tracing::Level) -> Self {
        match level {
            tracing::Level::ERROR => Self::Error,
            tracing::Level::WARN => Self::Warn,
            tracing::Level::INFO => Self::Info,
            _ => Self::Debug,
        }
    }

    fn level(self) -> tracing::Level {
        match self {
            Self::Error => tracing::Level::ERROR,
            Self::Warn => tracing::Level::WARN,
            Self::Info => tracing::Level::INFO,
            Self::Debug => tracing::Level::DEBUG,
        }
    }
}

/// Where a log line came from.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum LogSource {
    /// The server itself.
    Server,
    /// A browser, through `POST /api/logs/frontend`.
    Frontend,
}

/// One of the server's recent log lines.
#[derive(async_graphql::SimpleObject)]
pub struct ServiceLogLine {
    /// When it was logged.
    pub at: chrono::DateTime<chrono::Utc>,
    /// How severe it is.
    pub level: LogLevel,
    /// Where it came from.
    pub source: LogSource,
    /// The module that logged it (the page, for a browser's line).
    pub target: String,
    /// What it says (at most 2,000 characters; control characters replaced).
    pub message: String,
    /// The request it belongs to, if any.
    pub request_id: Option<String>,
}

#[derive(Default)]
pub struct ServiceLogQuery;

#[Object]
impl ServiceLogQuery {
    /// This server process's recent log lines, oldest first (SUPERUSER): its own and those
    /// browsers reported, from an in-memory ring of 2,000 lines; no file paths.
    async fn service_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "LogLevel::Info",
            desc = "The least severe level to show."
        )]
        level: LogLevel,
        #[graphql(desc = "Only lines logged after this.")] since: Option<
            chrono::DateTime<chrono::Utc>,
        >,
        #[graphql(desc = "Only lines from here.")] source: Option<LogSource>,
        #[graphql(default = 200, desc = "At most this many (newest), 1 to 2,000.")] limit: i32,
    ) -> crate::error::AppResult<Vec<ServiceLogLine>> {
        ctx.viewer_with(crate::auth::Role::Superuser)?;
        if !(1..=2_000).contains(&limit) {
            return Err(crate::error::AppError::bad_field(
                "limit",
                "limit must be between 1 and 2,000",
            ));
        }
        use crate::logging::ring::{self, Source};
        let source = source.map(|source| match source {
            LogSource::Server => Source::Server,
            LogSource::Frontend => Source::Frontend,
        });
        Ok(ring::recent(level.level(), source, since, limit as usize)
            .into_iter()
            .map(|line| ServiceLogLine {
                at: line.at,
                level: LogLevel::of(line.level),
                source: match line.source {
                    Source::Server => LogSource::Server,
                    Source::Frontend => LogSource::Frontend,
                },
                target: line.target,
                message: line.message,
                request_id: line.request_id,
            })
            .collect())
    }
}
