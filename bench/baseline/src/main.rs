//! A plain axum server answering every request with a small JSON body: what the HTTP stack alone
//! costs on this machine, for loregraph's numbers to be read against.

use axum::Router;
use axum::routing::any;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8299);
    let app = Router::new().route(
        "/",
        any(|| async { ([("content-type", "application/json")], "{\"ok\":true}") }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
