//! `/graphql/ws` (alias `/api/ws`): subscriptions over graphql-transport-ws and the legacy
//! graphql-ws protocol, authenticated in `connection_init`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphQLWebSocket, WebSocketProtocols, WsMessage,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};

use super::handler::client_info;
use super::loaders::Loaders;
use crate::auth::Credentials;
use crate::auth::viewer::ClientInfo;
use crate::state::AppState;

/// graphql-ws close codes for a rejected `connection_init`.
const CLOSE_UNAUTHORIZED: u16 = 4401;
const CLOSE_FORBIDDEN: u16 = 4403;
const CLOSE_GOING_AWAY: u16 = 1001;
/// Small socket buffers: tungstenite's defaults cost ~125 KB per idle connection.
const SOCKET_BUFFER: usize = 4 * 1024;

pub async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "use the graphql-transport-ws or graphql-ws subprotocol",
        )
            .into_response();
    };
    // Credentials on the upgrade request itself (API key header, or the cookie from a same-origin
    // page) are used when connection_init carries none.
    let upgrade_credentials = match Credentials::from_headers(&headers) {
        Credentials::Cookie { .. } if !same_origin(&headers) => Credentials::None,
        other => other,
    };
    let client = client_info(&headers, Some(peer));
    let tracker = state.connections.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .max_message_size(256 * 1024)
        .on_upgrade(move |socket| {
            tracker.track_future(serve(socket, state, protocol, upgrade_credentials, client))
        })
}

/// Cross-site WebSocket hijacking guard: a browser sends cookies on cross-site upgrades too, so
/// the cookie counts only when the page's origin is this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host),
        _ => false,
    }
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    protocol: WebSocketProtocols,
    upgrade_credentials: Credentials,
    client: ClientInfo,
) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_until(state.shutdown.clone().cancelled_owned())
        .take_while(|message| {
            future::ready(matches!(message, Ok(m) if !matches!(m, Message::Close(_))))
        })
        .filter_map(|message| {
            future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });

    // Why init failed, so the close frame carries the protocol's code rather than a generic one.
    let rejection: Arc<Mutex<Option<(u16, String)>>> = Arc::default();
    let on_init = {
        let state = state.clone();
        let rejection = rejection.clone();
        move |payload: serde_json::Value| async move {
            let credentials = match Credentials::from_init_payload(&payload) {
                Credentials::None => upgrade_credentials,
                presented => presented,
            };
            let reject = |code: u16, message: String| {
                *rejection.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((code, message.clone()));
                Err(async_graphql::Error::new(message))
            };
            match state.auth.authenticate(credentials, client).await {
                Ok(auth) => match &auth.viewer {
                    Some(viewer) => {
                        let mut data = Data::default();
                        data.insert(Arc::new(Loaders::uncached(
                            &state.pool,
                            Some(viewer.tenant_id),
                        )));
                        data.insert(auth);
                        Ok(data)
                    }
                    None => reject(
                        CLOSE_UNAUTHORIZED,
                        "Unauthorized: send {\"authorization\": \"Bearer <token>\"} in connection_init".into(),
                    ),
                },
                Err(error) => reject(CLOSE_FORBIDDEN, format!("Forbidden: {}", error.message())),
            }
        }
    };
    let mut connection_data = Data::default();
    connection_data.insert(state.clone());
    let mut messages = std::pin::pin!(
        GraphQLWebSocket::new(state.ws_schema.clone(), input, protocol)
            .connection_data(connection_data)
            .on_connection_init(on_init)
            .keepalive_timeout(Duration::from_secs(60))
    );

    let mut closed = false;
    while let Some(message) = messages.next().await {
        let outgoing = match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => {
                closed = true;
                let (code, reason) = rejection
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .unwrap_or((code, reason));
                close_frame(code, &reason)
            }
        };
        if sink.send(outgoing).await.is_err() {
            return;
        }
    }
    if !closed {
        let pending = rejection.lock().unwrap_or_else(|p| p.into_inner()).take();
        let frame = match pending {
            Some((code, reason)) => close_frame(code, &reason),
            None if state.shutdown.is_cancelled() => {
                close_frame(CLOSE_GOING_AWAY, "server shutting down")
            }
            None => close_frame(1000, "bye"),
        };
        let _ = sink.send(frame).await;
    }
    let _ = sink.close().await;
}

fn close_frame(code: u16, reason: &str) -> Message {
    // Close reasons are limited to 123 bytes.
    let mut reason = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
