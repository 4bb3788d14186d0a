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
/// answer is the body Stripe gets back. Each delivery is counted in the metrics by how it
/// ended.
pub async fn receive(
    pool: &DbPool,
    billing: &BillingSettings,
    signature: Option<&HeaderValue>,
    body: &[u8],
) -> AppResult<Value> {
    match apply(pool, billing, signature, body).await {
        Ok(outcome) => {
            crate::metrics::stripe_webhook(outcome.label());
            Ok(outcome.body())
        }
        Err((label, error)) => {
            crate::metrics::stripe_webhook(label);
            Err(error)
        }
    }
}

/// [`receive`]'s work: the outcome, or the error with its label in the metrics.
async fn apply(
    pool: &DbPool,
    billing: &BillingSettings,
    signature: Option<&HeaderValue>,
    body: &[u8],
) -> Result<events::Outcome, (&'static str, AppError)> {
    let Some(secret) = billing
        .webhook_secret
        .as_deref()
        .filter(|secret| !secret.is_empty())
    else {
        tracing::warn!("a Stripe webhook arrived, but no webhook secret is configured");
        let error = AppError::bad_input("Stripe webhooks are not configured on this server");
        return Err(("not_configured", error));
    };
    let header = match signature {
        None => Err(SignatureError::MissingHeader),
        Some(value) => value.to_str().map_err(|_| SignatureError::Malformed),
    };
    header
        .and_then(|header| signature::verify(header, body, secret, chrono::Utc::now().timestamp()))
        .map_err(|error| {
            let error = AppError::bad_input(format!("invalid Stripe signature: {error}"));
            ("bad_signature", error)
        })?;

    let event = Event::parse(body).map_err(|error| {
        let error = AppError::bad_input(format!("not a valid Stripe event: {error}"));
        ("invalid_event", error)
    })?;
    let mut conn = pool
        .get()
        .await
        .map_err(|error| ("error", AppError::from(error)))?;
    let outcome = conn
        .transaction::<_, AppError, _>(async |conn| events::process(conn, billing, &event).await)
        .await
        .map_err(|error| ("error", error))?;
    tracing::info!(
        event_id = %event.id,
        event_type = %event.event_type,
        ?outcome,
        "Stripe event"
    );
    Ok(outcome)
}
