//! Stripe's events (`POST /api/billing/webhook`, served by `http::stripe_webhook`). The
//! `Stripe-Signature` header is verified on the raw body before anything is parsed (a bad,
//! stale or missing one is a 400 and changes nothing); then, in one transaction, the event id is recorded and the event applied, so a
//! replay changes nothing and answers `{"received": true, "duplicate": true}`.

pub mod events;
mod payload;
pub mod signature;

use axum::http::HeaderValue;
use diesel_async::AsyncConnection;
use serde_json::Value;

use self::payload::Event;
use self::signature::SignatureError;
use crate::config::BillingSettings;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};

pub const SIGNATURE_HEADER: &str = "stripe-signature";

/// Verifies and applies one delivery (`signature` is its `Stripe-Signature` header); the
/// answer is the body Stripe gets back.
pub async fn receive(
    pool: &DbPool,
    billing: &BillingSettings,
    signature: Option<&HeaderValue>,
    body: &[u8],
) -> AppResult<Value> {
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
    let header = match signature {
        None => Err(SignatureError::MissingHeader),
        Some(value) => value.to_str().map_err(|_| SignatureError::Malformed),
    };
    header
        .and_then(|header| signature::verify(header, body, secret, chrono::Utc::now().timestamp()))
        .map_err(|error| AppError::bad_input(format!("invalid Stripe signature: {error}")))?;

    let event = Event::parse(body)
        .map_err(|error| AppError::bad_input(format!("not a valid Stripe event: {error}")))?;
    let mut conn = pool.get().await?;
    let outcome = conn
        .transaction::<_, AppError, _>(async |conn| events::process(conn, billing, &event).await)
        .await?;
    tracing::info!(
        event_id = %event.id,
        event_type = %event.event_type,
        ?outcome,
        "Stripe event"
    );
    Ok(outcome.body())
}
