//! `POST /api/billing/webhook`: Stripe's deliveries, handed to billing with their signature.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::Value;

use crate::billing::webhook::{SIGNATURE_HEADER, receive};
use crate::error::AppResult;
use crate::state::AppState;

pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let signature = headers.get(SIGNATURE_HEADER);
    let answer = receive(&state.pool, &state.config.billing, signature, &body).await?;
    Ok(Json(answer))
}
