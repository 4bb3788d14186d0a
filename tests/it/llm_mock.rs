//! A scripted model provider for the LLM layer's tests: an HTTP server on an ephemeral port that
//! answers each request with the next reply of its script (the last one repeats), sends a
//! streamed body in the pieces and at the pace the script says, records every request, and
//! notices when a client hangs up in the middle of a body.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use tokio::sync::Notify;

/// One scripted answer.
#[derive(Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    /// The body, in pieces, each sent after its delay.
    pub pieces: Vec<(Duration, Vec<u8>)>,
    /// After the last piece, keep the body open (until the client hangs up) instead of ending.
    pub hang: bool,
}

impl Reply {
    /// A 200 streaming `body` cut into pieces of `piece_len` bytes (cuts land anywhere,
    /// mid-line and mid-character included).
    pub fn stream(content_type: &str, body: &str, piece_len: usize) -> Self {
        Self {
            status: StatusCode::OK,
            headers: vec![("content-type", content_type.to_owned())],
            pieces: body
                .as_bytes()
                .chunks(piece_len.max(1))
                .map(|piece| (Duration::ZERO, piece.to_vec()))
                .collect(),
            hang: false,
        }
    }

    /// A whole JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("status"),
            headers: vec![("content-type", "application/json".into())],
            pieces: vec![(Duration::ZERO, body.to_string().into_bytes())],
            hang: false,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Waits `delay` before the first piece.
    pub fn after(mut self, delay: Duration) -> Self {
        if let Some(first) = self.pieces.first_mut() {
            first.0 = delay;
        } else {
            self.pieces.push((delay, Vec::new()));
        }
        self
    }

    pub fn then_hang(mut self) -> Self {
        self.hang = true;
        self
    }
}

/// A request the provider received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone)]
pub struct MockProvider {
    script: Arc<Mutex<VecDeque<Reply>>>,
    received: Arc<Mutex<Vec<Received>>>,
    hung_up: Arc<AtomicBool>,
    hang_up: Arc<Notify>,
    pub url: String,
}

impl MockProvider {
    pub async fn start(script: Vec<Reply>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the mock provider");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let mock = Self {
            script: Arc::new(Mutex::new(script.into())),
            received: Arc::default(),
            hung_up: Arc::default(),
            hang_up: Arc::default(),
            url,
        };
        let app = Router::new().fallback(answer).with_state(mock.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        mock
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("received").clone()
    }

    /// Waits (up to 10 s) for a client to hang up in the middle of a body; whether one did.
    pub async fn client_hung_up(&self) -> bool {
        let noticed = self.hang_up.notified();
        if self.hung_up.load(Ordering::SeqCst) {
            return true;
        }
        tokio::time::timeout(Duration::from_secs(10), noticed)
            .await
            .is_ok()
            || self.hung_up.load(Ordering::SeqCst)
    }
}

/// Set when the body it travels with is dropped before it was sent to the end.
struct HangUpWatch {
    finished: bool,
    hung_up: Arc<AtomicBool>,
    hang_up: Arc<Notify>,
}

impl HangUpWatch {
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for HangUpWatch {
    fn drop(&mut self) {
        if !self.finished {
            self.hung_up.store(true, Ordering::SeqCst);
            self.hang_up.notify_waiters();
        }
    }
}

async fn answer(State(mock): State<MockProvider>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    mock.received.lock().expect("received").push(Received {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    });
    let reply = {
        let mut script = mock.script.lock().expect("script");
        if script.len() > 1 {
            script.pop_front()
        } else {
            script.front().cloned()
        }
    }
    .expect("the mock provider has a script");
    let watch = HangUpWatch {
        finished: false,
        hung_up: mock.hung_up.clone(),
        hang_up: mock.hang_up.clone(),
    };
    let pieces: VecDeque<(Duration, Vec<u8>)> = reply.pieces.into();
    let hang = reply.hang;
    let body =
        futures_util::stream::unfold((pieces, watch), move |(mut pieces, mut watch)| async move {
            match pieces.pop_front() {
                Some((delay, piece)) => {
                    tokio::time::sleep(delay).await;
                    Some((Ok::<_, std::io::Error>(Bytes::from(piece)), (pieces, watch)))
                }
                None if hang => {
                    std::future::pending::<()>().await;
                    None
                }
                None => {
                    watch.finish();
                    None
                }
            }
        });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = reply.status;
    for (name, value) in reply.headers {
        response
            .headers_mut()
            .insert(name, value.parse().expect("header value"));
    }
    response
}
