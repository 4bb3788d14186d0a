//! The GraphiQL playground, served whole by this server: its page at `GET /graphql` and its
//! scripts and styles under `/graphql/assets/` (pinned versions kept in `static/graphiql/`,
//! built into the binary), so it works on a machine with no network. Queries and mutations go
//! to `/graphql`; subscriptions to `/graphql/ws` over graphql-ws, and the headers pane's values
//! (an `Authorization` header) reach the socket's `connection_init` as its payload.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::WS_PATH;

/// One file the page loads. Each name carries its version, so a browser may keep it for good.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// A file of `static/graphiql/`, embedded.
macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../../static/graphiql/", $name)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("react-18.3.1.min.js", "text/javascript; charset=utf-8"),
    asset!("react-dom-18.3.1.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql-3.9.0.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql-3.9.0.min.css", "text/css; charset=utf-8"),
];

/// The playground's page.
pub async fn page() -> Html<String> {
    Html(PAGE.replace("{WS_PATH}", WS_PATH))
}

/// A file of the playground, or 404.
pub async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>loregraph · GraphiQL</title>
    <style>
      body { height: 100%; margin: 0; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
    <link rel="stylesheet" href="/graphql/assets/graphiql-3.9.0.min.css">
    <script src="/graphql/assets/react-18.3.1.min.js"></script>
    <script src="/graphql/assets/react-dom-18.3.1.min.js"></script>
    <script src="/graphql/assets/graphiql-3.9.0.min.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script>
      const endpoint = new URL('/graphql', window.location.href);
      const socket = new URL('{WS_PATH}', window.location.href);
      socket.protocol = socket.protocol === 'https:' ? 'wss:' : 'ws:';
      // The headers pane's values go with every request and, for a subscription, as the
      // socket's connection_init payload: {"Authorization": "Bearer <token>"} works for both.
      const fetcher = GraphiQL.createFetcher({
        url: endpoint.toString(),
        subscriptionUrl: socket.toString(),
        fetch: (url, options = {}) => fetch(url, { ...options, credentials: 'same-origin' }),
      });
      ReactDOM.createRoot(document.getElementById('graphiql')).render(
        React.createElement(GraphiQL, {
          fetcher,
          defaultEditorToolsVisibility: true,
          shouldPersistHeaders: true,
        })
      );
    </script>
  </body>
</html>
"#;
