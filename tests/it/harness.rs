//! The test harness: one private PostgreSQL cluster per test run (started with loregraph's own
//! embedded-cluster code, or `TEST_DATABASE_URL`), a migrated template database, and for every
//! test its own database cloned from the template behind a real server on an ephemeral port.

use std::path::PathBuf;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::{SinkExt, StreamExt};
use loregraph::config::AppConfig;
use loregraph::db::embedded::{ClusterOptions, EmbeddedCluster};
use loregraph::db::{PoolOptions, build_pool, migrations};
use loregraph::state::AppState;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const TEST_SECRET: &[u8] = b"test-secret-for-loregraph-integration-tests";

struct SharedDatabase {
    /// Builds a connection string for one database.
    base: Base,
    template: String,
}

enum Base {
    /// Kept for the whole run; the cluster stops when the test process exits.
    Cluster(EmbeddedCluster),
    Url(String),
}

impl SharedDatabase {
    fn url(&self, database: &str) -> String {
        match &self.base {
            Base::Cluster(cluster) => cluster.connection_string(database),
            Base::Url(url) => replace_database(url, database),
        }
    }
}

fn replace_database(url: &str, database: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

static SHARED: OnceCell<SharedDatabase> = OnceCell::const_new();

/// A directory for this run's cluster; directories of earlier runs whose process is gone are
/// removed first.
fn cluster_dir() -> PathBuf {
    let root = std::env::temp_dir().join("loregraph-test-clusters");
    let _ = std::fs::create_dir_all(&root);
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            let alive = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u32>().ok())
                .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    root.join(std::process::id().to_string())
}

async fn shared() -> &'static SharedDatabase {
    SHARED
        .get_or_init(|| async {
            let template = format!("lg_template_{}", std::process::id());
            let base = match std::env::var("TEST_DATABASE_URL") {
                Ok(url) if !url.is_empty() => Base::Url(url),
                _ => {
                    let dir = cluster_dir();
                    let cluster = EmbeddedCluster::start(ClusterOptions {
                        dir: dir.join("postgres"),
                        bin_dir: std::env::var_os("LOREGRAPH_PG_BIN_DIR").map(PathBuf::from),
                        durable: false,
                        log_file: dir.join("postgres.log"),
                        // The statement-count tests read pg_stat_statements.
                        settings: vec![(
                            "shared_preload_libraries".into(),
                            "pg_stat_statements".into(),
                        )],
                    })
                    .await
                    .expect("start the test PostgreSQL cluster");
                    Base::Cluster(cluster)
                }
            };
            let shared = SharedDatabase {
                base,
                template: template.clone(),
            };
            let mut admin = AsyncPgConnection::establish(&shared.url("postgres"))
                .await
                .expect("connect to the test cluster");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {template}"))
                .execute(&mut admin)
                .await
                .expect("drop an old template");
            diesel::sql_query(format!("CREATE DATABASE {template}"))
                .execute(&mut admin)
                .await
                .expect("create the template database");
            migrations::run_pending(&shared.url(&template))
                .await
                .expect("migrate the template database");
            shared
        })
        .await
}

/// A fresh database cloned from the migrated template; returns its connection string.
pub async fn fresh_database() -> String {
    let shared = shared().await;
    let name = format!("lg_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = AsyncPgConnection::establish(&shared.url("postgres"))
        .await
        .expect("connect to the test cluster");
    diesel::sql_query(format!(
        "CREATE DATABASE {name} TEMPLATE {}",
        shared.template
    ))
    .execute(&mut admin)
    .await
    .expect("clone the template database");
    shared.url(&name)
}

pub fn test_config() -> AppConfig {
    let mut config = AppConfig::with_secret(TEST_SECRET.to_vec());
    // Sweeps run when a test asks (`runRetentionSweep`), not at a moment of their own.
    config.retention.interval = Duration::from_secs(7 * 24 * 3600);
    // API keys are sealed with this (a server reads its key from the environment or its data
    // directory).
    config.llm.secrets_key = Some(*b"loregraph-tests-secrets-key-32b!");
    config
}

/// The real server on an ephemeral port, on its own database.
pub struct TestServer {
    pub base: String,
    /// Where this server stores asset bytes (removed with the server).
    pub assets_dir: std::path::PathBuf,
    _assets: tempfile::TempDir,
    pub database_url: String,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// For a server running as its own process (`spawn_binary_on`).
    child: Option<std::process::Child>,
    /// The node's id on the event bus (for an in-process server): its relay connection shows
    /// in `pg_stat_activity` as `loregraph-events <node id>`.
    pub node_id: Option<uuid::Uuid>,
    /// What a server running as its own process has written to stdout so far.
    pub stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Where `/metrics` is served apart from the API (`config.http.metrics_bind`), as
    /// `http://host:port`.
    pub metrics_base: Option<String>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut AppConfig)) -> Self {
        let database_url = fresh_database().await;
        Self::start_on(database_url, configure).await
    }

    /// A server on an existing database (several servers may share one).
    pub async fn start_on(database_url: String, configure: impl FnOnce(&mut AppConfig)) -> Self {
        Self::start_on_with_pool(database_url, 4, configure).await
    }

    /// A server whose pool holds `max_size` connections (for tests that race many requests).
    pub async fn start_with_pool(max_size: usize, configure: impl FnOnce(&mut AppConfig)) -> Self {
        Self::start_on_with_pool(fresh_database().await, max_size, configure).await
    }

    async fn start_on_with_pool(
        database_url: String,
        max_size: usize,
        configure: impl FnOnce(&mut AppConfig),
    ) -> Self {
        let assets = tempfile::tempdir().expect("a directory for assets");
        let mut config = test_config();
        config.assets.store = assets.path().to_string_lossy().into_owned();
        configure(&mut config);
        let pool = build_pool(
            &database_url,
            &PoolOptions {
                max_size,
                acquire_timeout: Duration::from_secs(if max_size > 4 { 20 } else { 2 }),
                ..PoolOptions::default()
            },
        )
        .expect("build the pool");
        let state = AppState::new(config, pool, &database_url).expect("application state");
        let node_id = Some(state.events.node_id());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        // Bound here, as the API's listener is, so that a `127.0.0.1:0` gets a known port.
        let metrics = loregraph::app::bind_metrics(&state.config.http)
            .await
            .expect("bind the metrics address");
        let metrics_base = metrics
            .as_ref()
            .map(|l| format!("http://{}", l.local_addr().expect("metrics addr")));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(loregraph::app::serve_with_metrics(
            listener, metrics, state, stopped,
        ));
        Self {
            base,
            assets_dir: assets.path().to_path_buf(),
            _assets: assets,
            database_url,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
            child: None,
            node_id,
            stdout: Default::default(),
            metrics_base,
        }
    }

    /// The real `loregraph` binary as a separate process on an existing database, signing
    /// tokens with the test secret (as every node of one deployment shares its secret).
    pub async fn spawn_binary_on(
        database_url: String,
        configure: impl FnOnce(&mut std::process::Command),
    ) -> Self {
        use std::io::BufRead;
        let assets = tempfile::tempdir().expect("a directory for assets");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_loregraph"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(assets.path())
            .env("DATABASE_URL", &database_url)
            .env(
                "LOREGRAPH_JWT_SECRET",
                std::str::from_utf8(TEST_SECRET).expect("utf-8"),
            )
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        configure(&mut command);
        let mut child = command.spawn().expect("start the loregraph binary");
        let stdout = child.stdout.take().expect("stdout");
        let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = written.clone();
        let base = tokio::task::spawn_blocking(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            let address = loop {
                let line = lines
                    .next()
                    .expect("the server exited before announcing its address")
                    .expect("read stdout");
                // A text line, or the JSON log's announcement (`"message":"… serving on …"`).
                if let Some(rest) = line.split("serving on ").nth(1) {
                    break rest.split('"').next().unwrap_or(rest).trim().to_owned();
                }
            };
            // Keep draining stdout so the server never blocks on a full pipe, keeping the
            // lines for tests that read the log.
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    keep.lock().expect("the log lines").push(line);
                }
            });
            address
        })
        .await
        .expect("read the address");
        Self {
            base,
            assets_dir: assets.path().to_path_buf(),
            _assets: assets,
            database_url,
            http: reqwest::Client::new(),
            stop: None,
            task: None,
            child: Some(child),
            node_id: None,
            stdout: written,
            metrics_base: None,
        }
    }

    /// Shuts the server down gracefully and waits until it has.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let status = tokio::task::spawn_blocking(move || child.wait())
                .await
                .expect("wait")
                .expect("the server process");
            assert!(status.success(), "the server process stopped with {status}");
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    /// The server's process id, for a server running as its own process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` on this server.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("send")
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.replacen("http", "ws", 1))
    }

    /// POSTs a GraphQL operation (with a bearer token when given) and returns status and body.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// A GraphQL operation's full response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post(token, query, variables).await.1
    }

    /// A GraphQL operation's `data`, failing the test on any error.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// `ok` as a signed-in account.
    pub async fn ok_as(&self, account: &Account, query: &str, variables: Value) -> Value {
        self.ok(Some(&account.token), query, variables).await
    }

    /// `gql` as a signed-in account.
    pub async fn gql_as(&self, account: &Account, query: &str, variables: Value) -> Value {
        self.gql(Some(&account.token), query, variables).await
    }

    /// Registers a user with a new tenant and returns the signed-in account.
    /// Runs `query` as `account`, asserting it fails with the error code `code`.
    pub async fn fails_as(&self, account: &Account, query: &str, variables: Value, code: &str) {
        let body = self.gql_as(account, query, variables).await;
        assert_eq!(error_code(&body), code, "{body}");
    }

    pub async fn register(&self, email: &str, tenant: &str) -> Account {
        let data = self
            .ok(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) {
                    accessToken refreshToken user { id } tenant { id } } }",
                json!({ "input": {
                    "email": email, "password": PASSWORD, "displayName": email, "tenantName": tenant
                }}),
            )
            .await;
        Account::from_payload(&data["register"])
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(
            None,
            "mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
                accessToken refreshToken role user { id } tenant { id } } }",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Invites `email` with `role` into the admin's tenant, registers it, and signs it in.
    pub async fn invite_member(&self, admin: &Account, email: &str, role: &str) -> Account {
        let data = self
            .ok(
                Some(&admin.token),
                "mutation($email: String!, $role: Role!) { createInvite(email: $email, role: $role) { token } }",
                json!({ "email": email, "role": role }),
            )
            .await;
        let token = data["createInvite"]["token"]
            .as_str()
            .expect("invite token")
            .to_owned();
        let data = self
            .ok(
                None,
                "mutation($token: String!) { registerWithInvite(token: $token, password: \"correct horse battery\", displayName: \"Member\") {
                    accessToken refreshToken user { id } tenant { id } } }",
                json!({ "token": token }),
            )
            .await;
        Account::from_payload(&data["registerWithInvite"])
    }

    /// A SUPERUSER made the one way there is (`loregraph admin create-superuser`), signed in.
    pub async fn superuser(&self, email: &str) -> Account {
        let pool = build_pool(&self.database_url, &PoolOptions::default()).expect("pool");
        loregraph::accounts::superuser::create_superuser(&pool, email, PASSWORD, "Root")
            .await
            .expect("create a superuser");
        let body = self.login(email, PASSWORD).await;
        assert_eq!(body["data"]["login"]["role"], "SUPERUSER", "{body}");
        Account::from_payload(&body["data"]["login"])
    }

    /// A direct database connection, for asserting what was stored.
    pub async fn db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.database_url)
            .await
            .expect("connect")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub const PASSWORD: &str = "a long enough password";

#[derive(Clone, Debug)]
pub struct Account {
    pub token: String,
    pub refresh: String,
    pub user_id: String,
    pub tenant_id: String,
}

impl Account {
    pub fn from_payload(payload: &Value) -> Self {
        Self {
            token: payload["accessToken"]
                .as_str()
                .expect("accessToken")
                .to_owned(),
            refresh: payload["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .to_owned(),
            user_id: payload["user"]["id"].as_str().expect("user id").to_owned(),
            tenant_id: payload["tenant"]["id"]
                .as_str()
                .expect("tenant id")
                .to_owned(),
        }
    }
}

/// What a `SELECT count(*) AS n ...` counts.
pub async fn count_rows(db: &mut AsyncPgConnection, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<Count>(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<no error>")
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a GraphQL WebSocket speaking `protocol` ("graphql-transport-ws" or "graphql-ws").
pub async fn ws_connect(url: &str, protocol: &str) -> Socket {
    let mut request = url.into_client_request().expect("ws request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().expect("header"));
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("ws connect");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(protocol)
    );
    socket
}

pub async fn ws_send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("ws send");
}

/// The next text message as JSON, or the close frame's code, within 10 s.
pub async fn ws_next(socket: &mut Socket) -> Result<Value, u16> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a WebSocket message within 10 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).expect("json message");
                // Keep-alives of the legacy protocol are noise here.
                if value["type"] == "ka" {
                    continue;
                }
                return Ok(value);
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map(|f| u16::from(f.code)).unwrap_or(1005));
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(1006),
        }
    }
}

/// The session cookie (`name=value`) of a browser sign-in as `email` (password [`PASSWORD`]).
pub async fn session_cookie(server: &TestServer, email: &str) -> String {
    let login = server
        .http
        .post(server.url("/api/auth/web/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("web login");
    let set_cookie = login.headers()["set-cookie"]
        .to_str()
        .expect("a cookie")
        .to_owned();
    set_cookie.split(';').next().expect("name=value").to_owned()
}

/// A graphql-transport-ws socket with the session cookie on its upgrade request, from a page
/// of `origin`.
pub async fn connect_with_cookie(server: &TestServer, cookie: &str, origin: &str) -> Socket {
    let mut request = server
        .ws_url("/graphql/ws")
        .into_client_request()
        .expect("ws request");
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    headers.insert("cookie", cookie.parse().expect("header"));
    headers.insert("origin", origin.parse().expect("header"));
    tokio_tungstenite::connect_async(request)
        .await
        .expect("ws connect")
        .0
}

/// Opens a socket on `path` and completes `connection_init` with `token` as a bearer credential.
pub async fn connect_acked(server: &TestServer, path: &str, protocol: &str, token: &str) -> Socket {
    let mut socket = ws_connect(&server.ws_url(path), protocol).await;
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    assert_eq!(
        ws_next(&mut socket).await,
        Ok(json!({ "type": "connection_ack" }))
    );
    socket
}

/// A graphql-transport-ws socket on `/graphql/ws`, acknowledged after a `connection_init`
/// carrying `credential` (an access token or an API key) as a bearer token.
pub async fn connect_as(server: &TestServer, credential: &str) -> Socket {
    connect_acked(server, "/graphql/ws", "graphql-transport-ws", credential).await
}

/// A graphql-transport-ws socket signed in as `account`, subscribed to `query` as operation
/// "1". It waits a moment for the server to register the subscription before the test
/// triggers anything (ordering only, not a timing assertion).
pub async fn subscribe_as(
    server: &TestServer,
    account: &Account,
    query: &str,
    variables: Value,
) -> Socket {
    let mut socket = connect_as(server, &account.token).await;
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    socket
}

/// The `field` of the next event's data, checking the message is an event without errors.
pub async fn next_data(socket: &mut Socket, field: &str) -> Value {
    let message = ws_next(socket).await.expect("an event");
    assert_eq!(message["type"], "next", "{message}");
    assert!(message["payload"]["errors"].is_null(), "{message}");
    message["payload"]["data"][field].clone()
}

/// Sends a request and reads its JSON body.
pub async fn send_json(request: reqwest::RequestBuilder) -> Value {
    request
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json body")
}
