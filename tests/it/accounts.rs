//! Signing up, signing in, tokens and their failure paths.

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::harness::*;

const ME: &str = "{ me { id email displayName role } tenant { id name } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_creates_an_admin_of_a_new_tenant() {
    let server = TestServer::start().await;
    let data = server
        .ok(
            None,
            "mutation { register(input: {email: \"  Ada@Example.COM \", password: \"correct horse\", displayName: \"Ada\", tenantName: \"Analytical Studio\"}) {
                tokenType expiresIn role user { email displayName role } tenant { name slug memberCount } accessToken } }",
            json!({}),
        )
        .await;
    let payload = &data["register"];
    assert_eq!(payload["tokenType"], "bearer");
    assert_eq!(payload["expiresIn"], 900);
    assert_eq!(payload["role"], "ADMIN");
    assert_eq!(payload["user"]["email"], "ada@example.com");
    assert_eq!(payload["user"]["role"], "ADMIN");
    assert_eq!(payload["tenant"]["name"], "Analytical Studio");
    assert_eq!(payload["tenant"]["memberCount"], 1);
    assert!(
        payload["tenant"]["slug"]
            .as_str()
            .unwrap()
            .starts_with("analytical-studio-")
    );

    let me = server
        .ok(payload["accessToken"].as_str(), ME, json!({}))
        .await;
    assert_eq!(me["me"]["email"], "ada@example.com");
    assert_eq!(me["tenant"]["name"], "Analytical Studio");

    // The password is stored as an argon2id hash, never as given.
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Text)]
        password_hash: String,
    }
    let mut db = server.db().await;
    let stored: Hash = diesel::sql_query("SELECT password_hash FROM users")
        .get_result(&mut db)
        .await
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_rejects_bad_input_and_duplicates() {
    let server = TestServer::start().await;
    let register = |email: &str, password: &str| json!({ "input": { "email": email, "password": password, "displayName": "X", "tenantName": "T" } });
    let query = "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }";

    let short = server
        .gql(None, query, register("x@example.com", "short"))
        .await;
    assert_eq!(error_code(&short), "BAD_USER_INPUT");
    assert_eq!(short["errors"][0]["extensions"]["field"], "password");

    let malformed = server
        .gql(
            None,
            query,
            register("not-an-email", "long enough password"),
        )
        .await;
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT");
    assert_eq!(malformed["errors"][0]["extensions"]["field"], "email");

    server
        .ok(
            None,
            query,
            register("x@example.com", "long enough password"),
        )
        .await;
    let duplicate = server
        .gql(None, query, register("X@Example.com", "another password"))
        .await;
    assert_eq!(error_code(&duplicate), "CONFLICT");

    // Nothing half-written: the failed duplicate left no second tenant behind.
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut db = server.db().await;
    let tenants: Count = diesel::sql_query("SELECT count(*) AS n FROM tenants")
        .get_result(&mut db)
        .await
        .unwrap();
    assert_eq!(tenants.n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_does_not_reveal_which_emails_exist() {
    let server = TestServer::start().await;
    server.register("known@example.com", "Known").await;

    let good = server.login("known@example.com", PASSWORD).await;
    assert!(good.get("errors").is_none(), "{good}");
    assert_eq!(good["data"]["login"]["role"], "ADMIN");

    let wrong_password = server.login("known@example.com", "not the password").await;
    let unknown_email = server.login("nobody@example.com", "not the password").await;
    assert_eq!(error_code(&wrong_password), "UNAUTHENTICATED");
    assert_eq!(error_code(&unknown_email), "UNAUTHENTICATED");
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown_email["errors"][0]["message"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_are_throttled() {
    let server =
        TestServer::start_with(|config| config.login_throttle.max_failures_per_account = 3).await;
    server.register("target@example.com", "Target").await;
    for _ in 0..3 {
        let failed = server.login("target@example.com", "guess").await;
        assert_eq!(error_code(&failed), "UNAUTHENTICATED");
    }
    let throttled = server.login("target@example.com", "guess").await;
    assert_eq!(error_code(&throttled), "RATE_LIMITED");
    assert!(
        throttled["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Even the right password waits out the window: throttling is not an oracle.
    let right = server.login("target@example.com", PASSWORD).await;
    assert_eq!(error_code(&right), "RATE_LIMITED");
    // Other accounts are unaffected.
    server.register("other@example.com", "Other").await;
    let other = server.login("other@example.com", PASSWORD).await;
    assert!(other.get("errors").is_none(), "{other}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let server = TestServer::start().await;
    let account = server.register("rotate@example.com", "Rotate").await;
    let refresh = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken user { email } } }";

    let first = server
        .ok(None, refresh, json!({ "t": account.refresh }))
        .await;
    let second_refresh = first["refreshToken"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let second_access = first["refreshToken"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second_refresh, account.refresh);
    assert_eq!(first["refreshToken"]["user"]["email"], "rotate@example.com");
    server.ok(Some(&second_access), ME, json!({})).await;

    // The first refresh token was used; presenting it again is treated as theft.
    let reused = server
        .gql(None, refresh, json!({ "t": account.refresh }))
        .await;
    assert_eq!(error_code(&reused), "UNAUTHENTICATED");
    // ...which revoked the whole session: the newer refresh token and access token die too.
    let newer = server
        .gql(None, refresh, json!({ "t": second_refresh }))
        .await;
    assert_eq!(error_code(&newer), "UNAUTHENTICATED");
    let (status, body) = server.post(Some(&second_access), ME, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    let garbage = server
        .gql(None, refresh, json!({ "t": "not-a-token" }))
        .await;
    assert_eq!(error_code(&garbage), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_session_and_its_tokens() {
    let server = TestServer::start().await;
    let account = server.register("bye@example.com", "Bye").await;
    let other_session =
        Account::from_payload(&server.login("bye@example.com", PASSWORD).await["data"]["login"]);

    let data = server
        .ok_as(&account, "mutation { logout }", json!({}))
        .await;
    assert_eq!(data["logout"], true);
    let (status, body) = server.post(Some(&account.token), ME, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let refreshed = server
        .gql(
            None,
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            json!({ "t": account.refresh }),
        )
        .await;
    assert_eq!(error_code(&refreshed), "UNAUTHENTICATED");

    // The other session lives on until a logout everywhere.
    server.ok_as(&other_session, ME, json!({})).await;
    server
        .ok_as(
            &other_session,
            "mutation { logout(everywhere: true) }",
            json!({}),
        )
        .await;
    let (status, _) = server.post(Some(&other_session.token), ME, json!({})).await;
    assert_eq!(status, 401);
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_garbled_and_forged_tokens_are_refused() {
    let server = TestServer::start().await;
    let account = server.register("jwt@example.com", "Jwt").await;
    let claims = claims_of(&account.token);
    assert_eq!(claims["kind"], "access");
    assert_eq!(claims["role"], "admin");

    // Re-signing the same claims with the server's key works: the test's forgery is faithful.
    let resigned = sign(&claims, TEST_SECRET);
    server.ok(Some(&resigned), ME, json!({})).await;

    let mut expired = claims.clone();
    expired["iat"] = json!(claims["iat"].as_i64().unwrap() - 7200);
    expired["exp"] = json!(claims["iat"].as_i64().unwrap() - 3600);
    let forged = sign(&claims, b"somebody else's secret");
    let garbled = format!("{}x", account.token);

    for (token, expect) in [
        (sign(&expired, TEST_SECRET), "expired"),
        (forged, "invalid"),
        (garbled, "invalid"),
        ("nonsense".to_owned(), "invalid"),
    ] {
        let (status, body) = server.post(Some(&token), ME, json!({})).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(expect),
            "{body}"
        );
    }

    // Anonymous requests to protected fields fail with UNAUTHENTICATED too.
    let anonymous = server.gql(None, ME, json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_signs_out_other_sessions() {
    let server = TestServer::start().await;
    let account = server.register("pw@example.com", "Pw").await;
    let other =
        Account::from_payload(&server.login("pw@example.com", PASSWORD).await["data"]["login"]);
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";

    let wrong = server
        .gql_as(
            &account,
            change,
            json!({ "c": "wrong", "n": "brand new password" }),
        )
        .await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "currentPassword");

    server
        .ok_as(
            &account,
            change,
            json!({ "c": PASSWORD, "n": "brand new password" }),
        )
        .await;
    server.ok_as(&account, ME, json!({})).await;
    let (status, _) = server.post(Some(&other.token), ME, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(
        error_code(&server.login("pw@example.com", PASSWORD).await),
        "UNAUTHENTICATED"
    );
    let fresh = server.login("pw@example.com", "brand new password").await;
    assert!(fresh.get("errors").is_none(), "{fresh}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_requests_are_answered_in_order() {
    let server = TestServer::start().await;
    let account = server.register("batch@example.com", "Batch").await;
    let response: Value = send_json(
        server
            .http
            .post(server.url("/graphql"))
            .bearer_auth(&account.token)
            .json(&json!([
                { "query": "{ me { email } }" },
                { "query": "{ tenant { name } }" }
            ])),
    )
    .await;
    assert_eq!(response[0]["data"]["me"]["email"], "batch@example.com");
    assert_eq!(response[1]["data"]["tenant"]["name"], "Batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_requests_follow_the_upload_spec() {
    let server = TestServer::start().await;
    let account = server.register("multi@example.com", "Multi").await;
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": "{ me { email } }", "variables": {} }).to_string(),
        )
        .text("map", "{}");
    let response: Value = send_json(
        server
            .http
            .post(server.url("/graphql"))
            .bearer_auth(&account.token)
            .multipart(form),
    )
    .await;
    assert_eq!(response["data"]["me"]["email"], "multi@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_with_an_api_key_ends_nothing() {
    let server = TestServer::start().await;
    let account = server.register("keyed@example.com", "Keyed").await;
    let key = server
        .ok_as(
            &account,
            "mutation { createApiKey(name: \"ci\") { key } }",
            json!({}),
        )
        .await["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = server
        .gql(Some(&key), "mutation { logout }", json!({}))
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    // Neither the key nor the account's sessions were touched.
    server.ok(Some(&key), ME, json!({})).await;
    server.ok_as(&account, ME, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_signs_into_or_switches_to_another_tenant() {
    let server = TestServer::start().await;
    let mine = server.register("mine@example.com", "Mine").await;
    let theirs = server.register("theirs@example.com", "Theirs").await;

    let login = server
        .gql(
            None,
            "mutation($t: ID) { login(email: \"mine@example.com\", password: \"a long enough password\", tenantId: $t) { accessToken } }",
            json!({ "t": theirs.tenant_id }),
        )
        .await;
    assert_eq!(error_code(&login), "FORBIDDEN", "{login}");

    let switch = server
        .gql_as(
            &mine,
            "mutation($t: ID!) { selectTenant(tenantId: $t) { accessToken } }",
            json!({ "t": theirs.tenant_id }),
        )
        .await;
    assert_eq!(error_code(&switch), "FORBIDDEN", "{switch}");
    // The session stayed where it was.
    let me = server.ok_as(&mine, ME, json!({})).await;
    assert_eq!(me["tenant"]["id"], mine.tenant_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_from_one_address_are_throttled_across_accounts() {
    let server =
        TestServer::start_with(|config| config.login_throttle.max_failures_per_address = 3).await;
    server.register("real@example.com", "Real").await;
    for victim in ["a@example.com", "b@example.com", "c@example.com"] {
        assert_eq!(
            error_code(&server.login(victim, "guess").await),
            "UNAUTHENTICATED"
        );
    }
    // A fourth account from the same address is refused before its password is even checked.
    let throttled = server.login("real@example.com", PASSWORD).await;
    assert_eq!(error_code(&throttled), "RATE_LIMITED");
}
