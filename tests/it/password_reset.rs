//! Forgotten passwords: one answer for every address, a single-use expiring link mailed over
//! SMTP, a reset that ends every session, and limits per address and per account.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestServer, count_rows, error_code};
use crate::smtp_mock::{Mail, Relay};

const FORGOT: &str = "mutation($email: String!) { forgotPassword(email: $email) }";
const RESET: &str = "mutation($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }";
const NEW_PASSWORD: &str = "a brand new passphrase";

async fn server_with_relay(relay: &Relay) -> TestServer {
    let url = relay.url.clone();
    TestServer::start_with(move |config| {
        config.identity.smtp_url = Some(url);
        config.identity.mail_from = "Loregraph <accounts@loregraph.test>".into();
        config.identity.reset_page_url = Some("https://app.loregraph.test/reset".into());
    })
    .await
}

/// The token of the reset link in a mail.
fn token_in(mail: &Mail) -> String {
    let text = mail.text();
    let at = text
        .find("https://app.loregraph.test/reset?token=")
        .expect("a reset link in the mail");
    text[at..]
        .split_once("token=")
        .expect("token")
        .1
        .split_whitespace()
        .next()
        .expect("a token")
        .to_owned()
}

/// Waits until the account's window counted `hits` requests (its task ran that far).
async fn wait_for_account_hits(server: &TestServer, user_id: &str, hits: i64) {
    let mut db = server.db().await;
    let sql = format!(
        "SELECT coalesce(max(hits), 0)::int8 AS n FROM rate_windows WHERE key = 'reset:account:{user_id}'"
    );
    for _ in 0..200 {
        if count_rows(&mut db, &sql).await >= hits {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the account's reset window never reached {hits}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailed_link_resets_the_password_once_and_ends_every_session() {
    let relay = Relay::start().await;
    let server = server_with_relay(&relay).await;
    let account = server.register("forgetful@example.com", "Studio").await;
    let key = server
        .ok(
            Some(&account.token),
            "mutation { createApiKey(name: \"ci\") { key } }",
            json!({}),
        )
        .await["createApiKey"]["key"]
        .as_str()
        .expect("a key")
        .to_owned();

    // An unknown address and a known one get the very same answer.
    let unknown = server
        .gql(None, FORGOT, json!({ "email": "nobody@example.com" }))
        .await;
    let known = server
        .gql(None, FORGOT, json!({ "email": "Forgetful@Example.com" }))
        .await;
    assert_eq!(unknown, known);
    assert_eq!(known, json!({ "data": { "forgotPassword": true } }));

    let mails = relay.wait_for(1).await;
    wait_for_account_hits(&server, &account.user_id, 1).await;
    assert!(
        mails
            .iter()
            .all(|mail| mail.to == ["forgetful@example.com"]),
        "{mails:?}"
    );
    let mail = &mails[0];
    assert!(mail.from.contains("accounts@loregraph.test"));
    assert!(mail.data.contains("Subject: Reset your loregraph password"));
    let token = token_in(mail);
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM password_resets").await,
        1,
        "a link for the known address only"
    );
    // Only a hash of the token is stored.
    assert_eq!(
        count_rows(
            &mut db,
            &format!("SELECT count(*) AS n FROM password_resets WHERE encode(token_hash, 'escape') LIKE '%{token}%'")
        )
        .await,
        0
    );

    // Someone else's Google identity is linked to the account (an attacker who held it).
    use diesel_async::RunQueryDsl;
    diesel::sql_query(format!(
        "INSERT INTO user_identities (id, user_id, provider, subject, email, email_verified) \
         VALUES (gen_random_uuid(), '{}', 'google', 'intruder', 'intruder@example.com', true)",
        account.user_id
    ))
    .execute(&mut db)
    .await
    .expect("an identity");
    // A second link is asked for; the first stops working once the second is used.
    server
        .ok(None, FORGOT, json!({ "email": "forgetful@example.com" }))
        .await;
    let second = token_in(&relay.wait_for(2).await[1]);
    assert_ne!(second, token);
    let first = token;
    let token = second;

    // The link sets a new password; the old sessions and keys end at once, and the linked
    // identity no longer signs in.
    let data = server
        .ok(
            None,
            RESET,
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(data["resetPassword"], true);
    let body = server
        .gql(Some(&account.token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let refreshed = server
        .gql(
            None,
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            json!({ "t": account.refresh }),
        )
        .await;
    assert_eq!(error_code(&refreshed), "UNAUTHENTICATED");
    let old = server.login("forgetful@example.com", PASSWORD).await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED");
    let new = server.login("forgetful@example.com", NEW_PASSWORD).await;
    assert!(new["data"]["login"]["accessToken"].is_string(), "{new}");
    let body = server.gql(Some(&key), "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM user_identities").await,
        0
    );
    let retired = server
        .gql(
            None,
            RESET,
            json!({ "token": first, "password": "yet another password" }),
        )
        .await;
    assert_eq!(error_code(&retired), "BAD_USER_INPUT", "{retired}");

    // Twice is once too many.
    let again = server
        .gql(
            None,
            RESET,
            json!({ "token": token, "password": "yet another password" }),
        )
        .await;
    assert_eq!(error_code(&again), "BAD_USER_INPUT");
    assert_eq!(again["errors"][0]["extensions"]["field"], "token");
    // A made-up token, and a too-short password, are refused without touching anything.
    let made_up = server
        .gql(
            None,
            RESET,
            json!({ "token": "made-up", "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&made_up), "BAD_USER_INPUT");
    let short = server
        .gql(None, RESET, json!({ "token": token, "password": "short" }))
        .await;
    assert_eq!(short["errors"][0]["extensions"]["field"], "newPassword");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_refused_and_the_rest_api_answers_alike() {
    let relay = Relay::start().await;
    let server = server_with_relay(&relay).await;
    let account = server.register("late@example.com", "Studio").await;

    // Seed 001's REST face answers every address alike too.
    let forgot = async |email: &str| {
        let response = server
            .http
            .post(server.url("/api/auth/forgot-password"))
            .json(&json!({ "email": email }))
            .send()
            .await
            .expect("forgot-password");
        (
            response.status(),
            response.json::<Value>().await.expect("json"),
        )
    };
    let known = forgot("late@example.com").await;
    assert_eq!(known, forgot("stranger@example.com").await);
    assert_eq!(known.0, StatusCode::OK);
    let token = token_in(&relay.wait_for(1).await[0]);

    // The link expired before it was used.
    let mut db = server.db().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .execute(&mut db)
        .await
        .expect("expire the link");
    let response = server
        .http
        .post(server.url("/api/auth/reset-password"))
        .json(&json!({ "token": token, "new_password": NEW_PASSWORD }))
        .send()
        .await
        .expect("reset-password");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The password is what it was, and the session still works.
    assert!(server.login("late@example.com", PASSWORD).await["data"]["login"].is_object());
    server
        .ok(Some(&account.token), "{ me { id } }", json!({}))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mails_are_limited_per_address_and_per_account() {
    let relay = Relay::start().await;
    let url = relay.url.clone();
    let server = TestServer::start_with(move |config| {
        config.identity.smtp_url = Some(url);
        config.identity.reset_page_url = Some("https://app.loregraph.test/reset".into());
        config.identity.resets_per_account_per_hour = 1;
        config.identity.resets_per_address_per_hour = 3;
    })
    .await;
    let account = server.register("popular@example.com", "Studio").await;

    // The account gets one mail an hour however often it is asked for (silently: a refusal
    // would tell a stranger the account exists).
    for _ in 0..2 {
        let data = server
            .ok(None, FORGOT, json!({ "email": "popular@example.com" }))
            .await;
        assert_eq!(data["forgotPassword"], true);
    }
    relay.wait_for(1).await;
    wait_for_account_hits(&server, &account.user_id, 2).await;
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM password_resets").await,
        1
    );
    assert_eq!(relay.mails().len(), 1);

    // The address asked three times an hour; the fourth is refused whatever the address.
    server
        .ok(None, FORGOT, json!({ "email": "other@example.com" }))
        .await;
    let body = server
        .gql(None, FORGOT, json!({ "email": "another@example.com" }))
        .await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_never_points_at_the_host_a_request_names() {
    // No public address configured: the server cannot know where its web pages are, and the
    // request's Host is whatever the asker wrote.
    let relay = Relay::start().await;
    let url = relay.url.clone();
    let server = TestServer::start_with(move |config| {
        config.identity.smtp_url = Some(url);
    })
    .await;
    server.register("target@example.com", "Studio").await;
    let response = server
        .http
        .post(server.url("/api/auth/forgot-password"))
        .header("host", "evil.example")
        .json(&json!({ "email": "target@example.com" }))
        .send()
        .await
        .expect("forgot-password");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("LOREGRAPH_PUBLIC_URL")),
        "{body}"
    );
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM password_resets").await,
        0
    );
}
