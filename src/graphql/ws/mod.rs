//! `/graphql/ws` (alias `/api/ws`): subscriptions over graphql-transport-ws and the legacy
//! graphql-ws protocol, authenticated in `connection_init`.
//!
//! A socket lives as long as its credentials: it closes with 4401 when they expire (an access
//! token after its 15 minutes; reconnect with a refreshed one) or are revoked, and with 4403
//! when its user's access changes (role, tenant, membership). The server pings three times per
//! heartbeat period and drops a peer silent for a whole period; a subscriber that leaves one
//! message unread for the send timeout, or lets its shared subscription's queue fill, is
//! disconnected as too slow (1008).

mod frames;
mod operations;
mod protocol;
mod shared;
mod sharing;

use shared::Backlog;
pub use shared::SharedSubscriptions;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::Data;
use async_graphql::http::WebSocketProtocols;
use async_graphql::parser::types::OperationType;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};

use self::frames::{close_frame, send, until};
use self::operations::{Operations, observed};
use self::protocol::{ClientMessage, Outgoing, Wire};
use self::sharing::{group_key, shareable};
use super::csrf;
use super::handler::client_info;
use super::operation;
use super::persisted::AfterParse;
use crate::auth::Credentials;
use crate::auth::viewer::{ClientInfo, RequestAuth};
use crate::context::Loaders;
use crate::context::subscriptions::FellBehind;
use crate::realtime::connections::{LiveConnection, Registration, SocketCloser};
use crate::realtime::{CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED};
use crate::state::AppState;

const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_BAD_MESSAGE: u16 = 4400;
const CLOSE_INIT_TIMEOUT: u16 = 4408;
const CLOSE_DUPLICATE_ID: u16 = 4409;
const CLOSE_REPEATED_INIT: u16 = 4429;
/// How long a socket may stay open without a successful `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Operations one socket may run at once: each holds a queue and a place in a group.
const MAX_OPERATIONS: usize = 50;
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
    let max_unread_bytes = state.config.realtime.max_unread_bytes;
    upgrade
        // The protocol we speak, not the first of ours the client also lists.
        .protocols([protocol.sec_websocket_protocol()])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(256 * 1024)
        .on_upgrade(move |socket| {
            let connection = Connection {
                state,
                wire: Wire(protocol),
                upgrade_credentials,
                client,
                closer: Arc::default(),
                backlog: Arc::new(Backlog::new(max_unread_bytes)),
                session: None,
            };
            tracker.track_future(connection.serve(socket))
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

/// How a socket ends: with a close frame (after a last message, for the legacy protocol's
/// `connection_error`), or (the peer is gone) without one.
enum Ending {
    Close {
        code: u16,
        reason: String,
        farewell: Option<String>,
    },
    Gone,
}

impl Ending {
    fn close(code: u16, reason: impl Into<String>) -> Self {
        Ending::Close {
            code,
            reason: reason.into(),
            farewell: None,
        }
    }
}

/// What the socket does next.
enum Step {
    Send(String),
    /// Several messages in a row (a refusal in the legacy protocol: `data`, then `complete`).
    SendAll(Vec<String>),
    /// The heartbeat: a ping frame.
    Ping,
    Nothing,
    End(Ending),
}

/// An authenticated socket's standing: who it runs as, and the data its operations see.
struct Session {
    auth: RequestAuth,
    connection: Arc<LiveConnection>,
    data: Arc<Data>,
    /// Registered with this node's live connections (and presence) until the socket ends.
    _registration: Registration,
}

/// One socket from upgrade to close.
struct Connection {
    state: AppState,
    wire: Wire,
    upgrade_credentials: Credentials,
    client: ClientInfo,
    closer: Arc<SocketCloser>,
    /// The bytes of results queued for this socket and not yet sent.
    backlog: Arc<Backlog>,
    /// Set by a successful `connection_init`.
    session: Option<Session>,
}

impl Connection {
    async fn serve(mut self, socket: WebSocket) {
        let settings = self.state.config.realtime.clone();
        let (mut sink, mut incoming) = socket.split();
        // Kept apart from `self`: result streams are Send but not Sync.
        let mut operations = Operations::default();
        // When the peer was last heard from (any frame, pongs included).
        let mut last_heard = Instant::now();
        let ping_every = settings.heartbeat_timeout / 3;
        let mut pings =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let closer = self.closer.clone();
        let close_requested = closer.requested();
        tokio::pin!(close_requested);
        // Made once: every socket waits on the same token, and a fresh wait per message would
        // take that token's lock twice per message on every socket.
        let shutdown = self.state.shutdown.clone().cancelled_owned();
        tokio::pin!(shutdown);
        // A socket must authenticate soon after it opens (graphql-transport-ws: 4408).
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(init_deadline);
        // Set once connection_init succeeds (and the credentials expire at all).
        let mut expiry: Option<Pin<Box<tokio::time::Sleep>>> = None;
        let ending = loop {
            if expiry.is_none()
                && let Some(expires_at) = self.session.as_ref().and_then(|s| s.auth.expires_at)
            {
                let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
                expiry = Some(Box::pin(tokio::time::sleep(left)));
            }
            let step = tokio::select! {
                biased;
                () = &mut close_requested => {
                    let (code, reason) = closer.reason().unwrap_or((1000, "closed".into()));
                    Step::End(Ending::close(code, reason))
                }
                () = &mut shutdown => {
                    Step::End(Ending::close(CLOSE_GOING_AWAY, "server shutting down"))
                }
                () = &mut init_deadline, if self.session.is_none() => Step::End(Ending::close(
                    CLOSE_INIT_TIMEOUT,
                    "Connection initialisation timeout",
                )),
                () = until(expiry.as_mut()) => Step::End(Ending::close(
                    CLOSE_UNAUTHORIZED,
                    "Unauthorized: the credentials expired; reconnect with fresh ones",
                )),
                _ = pings.tick() => {
                    if last_heard.elapsed() > settings.heartbeat_timeout {
                        tracing::debug!("a WebSocket peer stopped answering; dropping it");
                        Step::End(Ending::Gone)
                    } else {
                        Step::Ping
                    }
                }
                message = incoming.next() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(Message::Text(text))) => {
                            self.receive(&mut operations, text.as_bytes()).await
                        }
                        Some(Ok(Message::Binary(bytes))) => {
                            self.receive(&mut operations, &bytes).await
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Step::Nothing,
                        // The client closed (or its stream broke): answer its close.
                        Some(Ok(Message::Close(_)) | Err(_)) | None => {
                            Step::End(Ending::close(1000, "bye"))
                        }
                    }
                }
                tagged = operations.next() => {
                    let ended = match tagged.result {
                        Some(result) => {
                            let (message, ends) = self.wire.result(&tagged.tag.id_json, &result);
                            if ends {
                                operations.finish(&tagged.tag);
                            }
                            Some(message)
                        }
                        None => operations.finish(&tagged.tag)
                            .then(|| self.wire.complete(&tagged.tag.id_json)),
                    };
                    ended.map_or(Step::Nothing, Step::Send)
                }
            };
            let timeout = settings.send_timeout;
            let sent = match step {
                Step::Nothing => continue,
                Step::End(ending) => break ending,
                Step::Ping => send(&mut sink, Message::Ping(Default::default()), timeout).await,
                Step::Send(text) => send(&mut sink, Message::Text(text.into()), timeout).await,
                Step::SendAll(texts) => {
                    let mut sent = Ok(());
                    for text in texts {
                        sent = send(&mut sink, Message::Text(text.into()), timeout).await;
                        if sent.is_err() {
                            break;
                        }
                    }
                    sent
                }
            };
            if let Err(ending) = sent {
                break ending;
            }
        };
        // Operations (and their places in shared subscriptions) end before the goodbye.
        drop(operations);
        drop(self);
        if let Ending::Close {
            code,
            reason,
            farewell,
        } = ending
        {
            // Bounded: a peer that does not read never takes the close frame either.
            let goodbye = async {
                if let Some(text) = farewell {
                    let _ = sink.send(Message::Text(text.into())).await;
                }
                let _ = sink.send(close_frame(code, &reason)).await;
                let _ = sink.close().await;
            };
            let _ = tokio::time::timeout(settings.send_timeout, goodbye).await;
        }
    }

    /// Handles one client message.
    async fn receive(&mut self, operations: &mut Operations, bytes: &[u8]) -> Step {
        let message = match serde_json::from_slice::<ClientMessage>(bytes) {
            Ok(message) => message,
            Err(error) => {
                return Step::End(Ending::close(
                    CLOSE_BAD_MESSAGE,
                    format!("Invalid message received: {error}"),
                ));
            }
        };
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.session.is_some() {
                    return Step::End(Ending::close(
                        CLOSE_REPEATED_INIT,
                        "Too many initialisation requests",
                    ));
                }
                match self.authenticate(payload.unwrap_or_default()).await {
                    Ok(session) => {
                        self.session = Some(session);
                        Step::Send(self.wire.connection_ack())
                    }
                    Err((code, reason)) => Step::End(Ending::Close {
                        farewell: self.wire.connection_error(&reason),
                        code,
                        reason,
                    }),
                }
            }
            ClientMessage::Subscribe { id, payload } => self.start(operations, id, *payload).await,
            ClientMessage::Complete { id } => {
                if operations.stop(&id) && self.wire.confirms_stop() {
                    let id_json = serde_json::Value::String(id).to_string();
                    return Step::Send(self.wire.complete(&id_json));
                }
                Step::Nothing
            }
            ClientMessage::ConnectionTerminate => Step::End(Ending::close(1000, "bye")),
            ClientMessage::Ping { payload } => Step::Send(self.wire.pong(payload)),
            ClientMessage::Pong { .. } => Step::Nothing,
        }
    }

    /// Checks the credentials of `connection_init` (or, when it carries none, of the upgrade
    /// request) and registers the socket as its viewer's live connection.
    async fn authenticate(&self, payload: serde_json::Value) -> Result<Session, (u16, String)> {
        let state = &self.state;
        let credentials = match Credentials::from_init_payload(&payload) {
            Credentials::None => self.upgrade_credentials.clone(),
            presented => presented,
        };
        let revocations_before = state.live.revocations_seen();
        let auth = state
            .auth
            .authenticate(credentials.clone(), self.client.clone())
            .await
            .map_err(|error| (CLOSE_FORBIDDEN, format!("Forbidden: {}", error.message())))?;
        let Some(viewer) = auth.viewer.clone() else {
            if auth.tenantless.is_some() {
                return Err((
                    CLOSE_FORBIDDEN,
                    "Forbidden: you belong to no tenant yet; subscriptions need one".into(),
                ));
            }
            return Err((
                CLOSE_UNAUTHORIZED,
                "Unauthorized: send {\"authorization\": \"Bearer <token>\"} in connection_init"
                    .into(),
            ));
        };
        let connection = Arc::new(LiveConnection {
            viewer,
            credentials,
            client: self.client.clone(),
            expires_at: auth.expires_at,
            closer: self.closer.clone(),
        });
        let registration = state
            .live
            .register(connection.clone(), &state.presence)
            .await;
        if state.live.revocations_seen() != revocations_before {
            // A revocation was handled between the check and the registration, so it did not
            // see this socket: check again (closing it if need be).
            crate::realtime::recheck(&state.auth, &connection).await;
        }
        let mut data = Data::default();
        data.insert(Arc::new(Loaders::uncached(
            &state.pool,
            Some(connection.viewer.tenant_id),
        )));
        data.insert(auth.clone());
        Ok(Session {
            auth,
            connection,
            data: Arc::new(data),
            _registration: registration,
        })
    }

    /// Starts operation `id`: a subscription joins the group of its identical subscriptions, a
    /// query or mutation runs once.
    async fn start(
        &self,
        operations: &mut Operations,
        id: String,
        mut request: async_graphql::Request,
    ) -> Step {
        let Some(session) = &self.session else {
            return Step::End(Ending::close(CLOSE_UNAUTHORIZED, "Unauthorized"));
        };
        if operations.is_running(&id) {
            return Step::End(Ending::close(
                CLOSE_DUPLICATE_ID,
                format!("Subscriber for {id} already exists"),
            ));
        }
        if operations.len() >= MAX_OPERATIONS {
            let message = format!("at most {MAX_OPERATIONS} operations may run on one socket");
            let error = async_graphql::ServerError::new(message, None);
            return self.refuse(id, error);
        }
        let persisted = match self.state.persisted.resolve(&mut request).await {
            Ok(persisted) => persisted,
            Err(error) => return self.refuse(id, error),
        };
        let parsed = match self.state.documents.parse(&request.query).await {
            Ok(parsed) => parsed,
            Err(error) => return self.refuse(id, error),
        };
        if let AfterParse::Register(hash) = persisted {
            self.state.persisted.register(hash, &request.query).await;
        }
        if let Err(error) = csrf::check(&parsed.document, Some(&session.auth)) {
            return self.refuse(id, error);
        }
        let found = operation(&parsed.document, request.operation_name.as_deref());
        let kind = found.map(|(_, operation)| operation.ty);
        let name = found.and_then(|(name, _)| name).map(str::to_owned);
        // None: not a subscription. Some(shareable) otherwise.
        let subscription = found
            .map(|(_, operation)| operation)
            .filter(|operation| operation.ty == OperationType::Subscription)
            .map(shareable);
        parsed.attach_to(&mut request);
        let schema = self.state.schema.clone();
        let data = session.data.clone();
        let results: BoxStream<'static, Outgoing> = if let Some(shareable) = subscription {
            crate::metrics::graphql_subscription_started(name.as_deref());
            let hub = &self.state.subscriptions;
            let key = group_key(
                &session.connection.viewer,
                session.auth.via_cookie,
                &request,
                shareable,
                || hub.exclusive(),
            );
            let fell_behind = Arc::new(FellBehind::default());
            let noted = fell_behind.clone();
            let subscribe = move || {
                schema
                    .execute_stream_with_session_data(request.data(noted), data)
                    .boxed()
            };
            self.state
                .subscriptions
                .join(
                    key,
                    (self.closer.clone(), self.backlog.clone()),
                    subscribe,
                    fell_behind,
                )
                .boxed()
        } else {
            let results = schema.execute_stream_with_session_data(request, data);
            observed(results, name, kind)
        };
        operations.start(id, results);
        Step::Nothing
    }

    /// Answers operation `id` with `error` alone, as an operation that failed before it ran
    /// (and never ran: it takes no place among the socket's operations).
    fn refuse(&self, id: String, error: async_graphql::ServerError) -> Step {
        let response = async_graphql::Response::from_errors(vec![error]);
        // Counted without its name: the document never said it has one.
        crate::metrics::graphql_operation(None, None, &response);
        let failed = Outgoing::from_response(&response);
        let id_json = serde_json::Value::String(id).to_string();
        Step::SendAll(self.wire.failure(&id_json, &failed))
    }
}
