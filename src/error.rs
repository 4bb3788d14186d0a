//! One error type for the whole server. It maps to a GraphQL error with `extensions.code` and to
//! an HTTP status with a `{"detail": ...}` body for the REST shims.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql converts every `Display`
//! type into a bare error without extensions, and keeping ours out of that blanket impl lets the
//! `From<AppError>` below attach the code, so `?` in a resolver always yields a coded error.

use async_graphql::ErrorExtensions as _;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub type AppResult<T> = Result<T, AppError>;

/// What refers to something that cannot go while it does (see [`AppError::InUse`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Referrer {
    /// What it is (`API_GROUP`, `CHARACTER`...).
    pub kind: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub enum AppError {
    Unauthenticated(String),
    Forbidden {
        message: String,
        reason: Option<&'static str>,
    },
    NotFound(String),
    BadInput {
        message: String,
        field: Option<&'static str>,
    },
    Conflict(String),
    /// A write that would break one of the tenant's rules (BAD_USER_INPUT, 422 on REST, with
    /// `extensions.rule` naming it: an assembly's `asm_zidx_002`).
    RuleBroken {
        rule: String,
        message: String,
    },
    /// Something still refers to what was to be deleted (CONFLICT, `extensions.referrers`
    /// naming them).
    InUse {
        message: String,
        referrers: Vec<Referrer>,
    },
    /// The tenant's tier lacks a feature (FORBIDDEN, reason "feature_gate").
    FeatureGate {
        feature: &'static str,
        /// The cheapest tier that has it.
        tier: &'static str,
    },
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    PayloadTooLarge(String),
    UnsupportedMediaType(String),
    /// A request that is well-formed but does not fit the shape asked for (a JSON body missing
    /// a field, or with one of the wrong type): BAD_USER_INPUT in GraphQL, 422 on REST, as
    /// seed 001's API answers validation failures.
    Unprocessable {
        message: String,
        field: Option<&'static str>,
    },
    /// A hash-only request (automatic persisted queries) whose document this server does not
    /// know: the client sends it again with its text. Apollo's message and code.
    PersistedQueryNotFound,
    /// Automatic persisted queries are turned off here: the client stops sending hashes.
    PersistedQueryNotSupported,
    /// The database (or another dependency) cannot be reached right now; retrying may succeed.
    Unavailable,
    /// A service we call (Stripe) failed, refused us or could not be reached; the message
    /// says which, and retrying may succeed.
    Upstream(String),
    /// Anything unexpected. The cause is logged, never shown to the client.
    Internal(std::sync::Arc<anyhow::Error>),
}

impl AppError {
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
            reason: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// Bad input blamed on one field of the request (`extensions.field`).
    pub fn bad_field(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadInput {
            message: message.into(),
            field: Some(field),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadInput {
            message: message.into(),
            field: None,
        }
    }

    /// A request that does not fit its shape, blamed on one field when given (422 on REST).
    pub fn unfit(field: Option<&'static str>, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            message: message.into(),
            field,
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(std::sync::Arc::new(error.into()))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden { .. } | Self::FeatureGate { .. } => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadInput { .. } | Self::Unprocessable { .. } | Self::RuleBroken { .. } => {
                "BAD_USER_INPUT"
            }
            Self::Conflict(_) | Self::InUse { .. } => "CONFLICT",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Self::Unavailable | Self::Upstream(_) | Self::Internal(_) => "INTERNAL",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::FeatureGate { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadInput { .. }
            | Self::PersistedQueryNotFound
            | Self::PersistedQueryNotSupported => StatusCode::BAD_REQUEST,
            Self::Conflict(_) | Self::InUse { .. } => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } | Self::RuleBroken { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Unavailable | Self::Upstream(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The text a client sees. Internal causes are replaced by a generic sentence.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::PayloadTooLarge(m)
            | Self::UnsupportedMediaType(m)
            | Self::Upstream(m) => m.clone(),
            Self::Forbidden { message, .. }
            | Self::InUse { message, .. }
            | Self::BadInput { message, .. }
            | Self::Unprocessable { message, .. }
            | Self::RuleBroken { message, .. }
            | Self::RateLimited { message, .. } => message.clone(),
            Self::FeatureGate { feature, tier } => format!(
                "{feature} is not part of your plan; it comes with the {} tier and above",
                tier.to_uppercase()
            ),
            Self::PersistedQueryNotFound => "PersistedQueryNotFound".into(),
            Self::PersistedQueryNotSupported => "PersistedQueryNotSupported".into(),
            Self::Unavailable => "the database is unavailable; try again shortly".into(),
            Self::Internal(_) => "internal server error".into(),
        }
    }

    /// Logs what the client is not told. Called once, where the error leaves the server.
    /// Logs what the operator should hear about (internal causes, an unreachable database).
    pub fn log(&self) {
        match self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            Self::Unavailable => tracing::warn!("request failed: database unavailable"),
            _ => {}
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        error.log();
        async_graphql::Error::new(error.message()).extend_with(|_, ext| {
            ext.set("code", error.code());
            match &error {
                AppError::BadInput {
                    field: Some(field), ..
                }
                | AppError::Unprocessable {
                    field: Some(field), ..
                } => ext.set("field", *field),
                AppError::RuleBroken { rule, .. } => ext.set("rule", rule.as_str()),
                AppError::Forbidden {
                    reason: Some(reason),
                    ..
                } => ext.set("reason", *reason),
                AppError::FeatureGate { feature, tier } => {
                    ext.set("reason", "feature_gate");
                    ext.set("feature", *feature);
                    ext.set("requiredTier", tier.to_uppercase());
                }
                AppError::RateLimited {
                    retry_after_secs, ..
                } => ext.set("retryAfter", *retry_after_secs),
                AppError::Unavailable | AppError::Upstream(_) => ext.set("retryable", true),
                AppError::InUse { referrers, .. } => ext.set(
                    "referrers",
                    async_graphql::Value::from_json(serde_json::json!(referrers))
                        .unwrap_or_default(),
                ),
                _ => {}
            }
            // What went wrong on our side can be found in the log by the request's id.
            if error.status().is_server_error()
                && let Some(request_id) = crate::logging::current_request_id()
            {
                ext.set("requestId", request_id.as_ref());
            }
        })
    }
}

impl From<AppError> for async_graphql::ServerError {
    /// An error of the whole request (no field, no place in the document).
    fn from(error: AppError) -> Self {
        let error = async_graphql::Error::from(error);
        async_graphql::ServerError {
            message: error.message,
            source: error.source,
            locations: Vec::new(),
            path: Vec::new(),
            extensions: error.extensions,
        }
    }
}

/// A body refused as too large may not have been read to its end (or only for a few seconds),
/// and a server closes a connection with unread data. Saying `Connection: close` keeps the
/// client from sending its next request down that connection as it closes (which it would see
/// as a reset, not as an answer).
pub fn close_after_refused_body(status: StatusCode, response: &mut Response) {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (
            self.status(),
            axum::Json(serde_json::json!({ "detail": self.message() })),
        )
            .into_response();
        close_after_refused_body(self.status(), &mut response);
        if let Self::RateLimited {
            retry_after_secs, ..
        } = self
        {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
        response
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => Self::not_found("not found"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::conflict("a record with the same key already exists")
            }
            // A write that raced a delete of what it refers to, or a delete that raced a new
            // reference to what it deletes (the services check first; the key is the last word).
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Self::conflict(
                "it refers to something that was just deleted, or something now refers to it; \
                 reload and try again",
            ),
            // Two writes that locked the same rows in opposite orders: one of them loses and
            // may simply be tried again.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::conflict("the change collided with a concurrent one; try again")
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("deadlock detected") =>
            {
                Self::conflict("the change collided with a concurrent one; try again")
            }
            // Errors with no SQLSTATE (a dropped socket, a server gone away) arrive as these.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => Self::Unavailable,
            // Input PostgreSQL cannot take (a NUL in text, too much text to index) is the
            // caller's to fix, whatever path it came through.
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("invalid byte sequence")
                    || info
                        .message()
                        .contains("unsupported Unicode escape sequence") =>
            {
                Self::bad_input("text must not contain NUL characters")
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("too long for tsvector") =>
            {
                Self::bad_input("the text is too long to be indexed for search; shorten it")
            }
            other => Self::internal(other),
        }
    }
}

impl From<crate::db::PoolError> for AppError {
    fn from(error: crate::db::PoolError) -> Self {
        tracing::warn!(error = %error, "could not get a database connection");
        Self::Unavailable
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        Self::internal(error)
    }
}

impl AppError {
    /// An owned copy of an error shared between waiters (caches, DataLoaders).
    pub fn from_shared(error: &std::sync::Arc<AppError>) -> Self {
        (**error).clone()
    }
}
