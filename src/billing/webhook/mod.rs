//! `POST /api/billing/webhook`: Stripe's events. The `Stripe-Signature` header is verified on
//! the raw body before anything is parsed (a bad, stale or missing one is a 400 and changes
//! nothing); then, in one transaction, the event id is recorded and the event applied, so a
//! replay changes nothing and answers `{"received": true, "duplicate": true}`.

pub mod events;
mod payload;
pub mod signature;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use diesel_async::AsyncConnection;
use serde_json::Value;

use self::payload::Event;
use self::signature::SignatureError;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const SIGNATURE_HEADER: &str = "stripe-signature";

pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let billing = &state.config.billing;
    let Some(secret) = billing
        .webhook_secret
        .as_deref()
        .filter(|secret| !secret.is_empty())
    else {
        tracing::warn!("a Stripe webhook arrived, but no webhook secret is configured");
        return Err(AppError::bad_input(
            "Stripe webhooks are not configured on this server",
        ));
    };
    let header = match headers.get(SIGNATURE_HEADER) {
        None => Err(SignatureError::MissingHeader),
        Some(value) => value.to_str().map_err(|_| SignatureError::Malformed),
    };
    header
        .and_then(|header| signature::verify(header, &body, secret, chrono::Utc::now().timestamp()))
        .map_err(|error| AppError::bad_input(format!("invalid Stripe signature: {error}")))?;

    let event = Event::parse(&body)
        .map_err(|error| AppError::bad_input(format!("not a valid Stripe event: {error}")))?;
    let mut conn = state.pool.get().await?;
    let outcome = conn
        .transaction::<_, AppError, _>(async |conn| events::process(conn, billing, &event).await)
        .await?;
    tracing::info!(
        event_id = %event.id,
        event_type = %event.event_type,
        ?outcome,
        "Stripe event"
    );
    Ok(Json(outcome.body()))
}
