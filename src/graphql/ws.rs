//! `/graphql/ws` (alias `/api/ws`): subscriptions over graphql-transport-ws and the legacy
//! graphql-ws protocol, authenticated in `connection_init`.
//!
//! A socket lives as long as its credentials: it closes with 4401 when they expire (an access
//! token after its 15 minutes; reconnect with a refreshed one) or are revoked, and with 4403
//! when its user's access changes (role, tenant, membership). The server pings three times per
//! heartbeat period and drops a peer silent for a whole period; a subscriber that leaves one
//! message unread for the send timeout is disconnected as too slow (1008).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

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
use super::subscriptions::CLOSE_TOO_SLOW;
use crate::auth::Credentials;
use crate::auth::viewer::ClientInfo;
use crate::realtime::connections::{LiveConnection, Registration, SocketCloser};
use crate::realtime::{CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED};
use crate::state::AppState;
use chrono::Utc;

const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// How long a socket may stay open without a successful `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Small socket buffers: tungstenite's defaults cost ~125 KB per idle connection. Clients send
/// little (init, subscribe), so reads go in 1 KiB steps.
const READ_BUFFER: usize = 1024;
const WRITE_BUFFER: usize = 4 * 1024;

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
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
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

/// When the peer was last heard from (any frame, pongs included).
struct Heard {
    base: Instant,
    millis: AtomicU64,
}

impl Heard {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            millis: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let elapsed = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.millis.store(elapsed, Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        self.base
            .elapsed()
            .saturating_sub(Duration::from_millis(self.millis.load(Ordering::Relaxed)))
    }
}

/// How a socket ends: with a close frame, or (the peer is gone) without one.
enum Ending {
    Close(u16, String),
    Gone,
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    protocol: WebSocketProtocols,
    upgrade_credentials: Credentials,
    client: ClientInfo,
) {
    let settings = state.config.realtime.clone();
    let cookie_upgrade = matches!(upgrade_credentials, Credentials::Cookie { .. });
    let (mut sink, stream) = socket.split();
    let heard = Arc::new(Heard::new());
    let input = {
        let heard = heard.clone();
        stream
            .take_until(state.shutdown.clone().cancelled_owned())
            .take_while(|message| {
                future::ready(matches!(message, Ok(m) if !matches!(m, Message::Close(_))))
            })
            .filter_map(move |message| {
                heard.touch();
                future::ready(match message {
                    Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                    Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                    _ => None,
                })
            })
    };

    let closer = Arc::new(SocketCloser::default());
    // Filled once connection_init succeeds; dropped (unregistering) when this function returns.
    let registration: Arc<OnceLock<Registration>> = Arc::default();
    let on_init = {
        let state = state.clone();
        let closer = closer.clone();
        let registration = registration.clone();
        move |payload: serde_json::Value| async move {
            let credentials = match Credentials::from_init_payload(&payload) {
                Credentials::None => upgrade_credentials,
                presented => presented,
            };
            let reject = |code: u16, message: String| {
                closer.note(code, message.clone());
                Err(async_graphql::Error::new(message))
            };
            let revocations_before = state.live.revocations_seen();
            let auth = match state
                .auth
                .authenticate(credentials.clone(), client.clone())
                .await
            {
                Ok(auth) => auth,
                Err(error) => {
                    return reject(CLOSE_FORBIDDEN, format!("Forbidden: {}", error.message()));
                }
            };
            let Some(viewer) = auth.viewer.clone() else {
                return reject(
                    CLOSE_UNAUTHORIZED,
                    "Unauthorized: send {\"authorization\": \"Bearer <token>\"} in connection_init"
                        .into(),
                );
            };
            let connection = Arc::new(LiveConnection {
                viewer,
                credentials,
                client,
                expires_at: auth.expires_at,
                closer,
            });
            let registered = state
                .live
                .register(connection.clone(), &state.presence)
                .await;
            let _ = registration.set(registered);
            if state.live.revocations_seen() != revocations_before {
                // A revocation was handled between the check and the registration, so it did
                // not see this socket: check again (closing it if need be).
                crate::realtime::recheck(&state, &connection).await;
            }
            let mut data = Data::default();
            data.insert(Arc::new(Loaders::uncached(
                &state.pool,
                Some(connection.viewer.tenant_id),
            )));
            data.insert(auth);
            data.insert(connection);
            Ok(data)
        }
    };
    let mut connection_data = Data::default();
    connection_data.insert(state.clone());
    // Operations over a cookie-authenticated socket go through the CSRF guard; the guard's
    // extension costs every resolved field a detour, so other sockets do without it.
    let schema = if cookie_upgrade {
        state.ws_schema.clone()
    } else {
        state.schema.clone()
    };
    let mut messages = std::pin::pin!(
        GraphQLWebSocket::new(schema, input, protocol)
            .connection_data(connection_data)
            .on_connection_init(on_init)
    );

    let ping_every = settings.heartbeat_timeout / 3;
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let close_requested = closer.requested();
    tokio::pin!(close_requested);
    // A socket must authenticate soon after it opens (graphql-transport-ws: 4408).
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(init_deadline);
    // Set once connection_init succeeds (and the credentials expire at all).
    let mut expiry: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let ending = loop {
        if expiry.is_none()
            && let Some(expires_at) = registration.get().and_then(|r| r.connection().expires_at)
        {
            let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
            expiry = Some(Box::pin(tokio::time::sleep(left)));
        }
        let outgoing = tokio::select! {
            biased;
            () = &mut close_requested => {
                let (code, reason) = closer.reason().unwrap_or((1000, "closed".into()));
                break Ending::Close(code, reason);
            }
            () = &mut init_deadline, if registration.get().is_none() => break Ending::Close(
                CLOSE_INIT_TIMEOUT,
                "Connection initialisation timeout".into(),
            ),
            () = until(expiry.as_mut()) => break Ending::Close(
                CLOSE_UNAUTHORIZED,
                "Unauthorized: the credentials expired; reconnect with fresh ones".into(),
            ),
            _ = pings.tick() => {
                if heard.silent_for() > settings.heartbeat_timeout {
                    tracing::debug!("a WebSocket peer stopped answering; dropping it");
                    break Ending::Gone;
                }
                Message::Ping(Default::default())
            }
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                // The protocol layer ends the socket (a rejected or repeated init, a bad message).
                Some(WsMessage::Close(code, reason)) => {
                    let (code, reason) = closer.reason().unwrap_or((code, reason));
                    break Ending::Close(code, reason);
                }
                None if state.shutdown.is_cancelled() => {
                    break Ending::Close(CLOSE_GOING_AWAY, "server shutting down".into())
                }
                // A rejected init over the legacy protocol ends the stream: say why.
                None => {
                    let (code, reason) = closer.reason().unwrap_or((1000, "bye".into()));
                    break Ending::Close(code, reason);
                }
            },
        };
        // A reading peer takes the message at once; only a send that has to wait is timed (a
        // timer per message would cost every delivery a trip through the timer wheel).
        let mut send = sink.send(outgoing);
        let sent = match futures_util::poll!(&mut send) {
            Poll::Ready(result) => Ok(result),
            Poll::Pending => tokio::time::timeout(settings.send_timeout, send).await,
        };
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break Ending::Gone,
            Err(_) => {
                tracing::info!("disconnecting a subscriber that stopped reading");
                break Ending::Close(
                    CLOSE_TOO_SLOW,
                    "too slow: the client stopped reading its messages".into(),
                );
            }
        }
    };
    if let Ending::Close(code, reason) = ending {
        // Bounded: a peer that does not read never takes the close frame either.
        let goodbye = async {
            let _ = sink.send(close_frame(code, &reason)).await;
            let _ = sink.close().await;
        };
        let _ = tokio::time::timeout(settings.send_timeout, goodbye).await;
    }
}

/// Resolves when `deadline` does, or never without one.
async fn until(deadline: Option<&mut Pin<Box<tokio::time::Sleep>>>) {
    match deadline {
        Some(deadline) => deadline.await,
        None => future::pending().await,
    }
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
