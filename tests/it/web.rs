//! Seed 001's cookie-based web login, and CSRF protection of cookie-authenticated mutations.

use serde_json::{Value, json};

use crate::harness::*;

struct Browser {
    client: reqwest::Client,
    csrf: String,
    body: Value,
}

async fn web_login(server: &TestServer, email: &str) -> Browser {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let response = client
        .post(server.url("/api/auth/web/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("lg_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let body: Value = response.json().await.unwrap();
    Browser {
        client,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_login_sets_a_cookie_that_graphql_accepts() {
    let server = TestServer::start().await;
    let account = server.register("web@example.com", "Web Studio").await;
    let browser = web_login(&server, "web@example.com").await;

    // The seed's JSON shape.
    assert_eq!(browser.body["token_type"], "bearer");
    assert_eq!(browser.body["role"], "admin");
    assert_eq!(browser.body["user_id"], account.user_id.as_str());
    assert_eq!(browser.body["tenant_id"], account.tenant_id.as_str());
    assert!(browser.body["access_token"].as_str().unwrap().len() > 20);

    let session: Value = send_json(browser.client.get(server.url("/api/auth/web/session"))).await;
    assert_eq!(session["email"], "web@example.com");
    assert_eq!(session["tenant_name"], "Web Studio");
    assert_eq!(session["role"], "admin");

    // Queries work with the cookie alone.
    let query: Value = send_json(
        browser
            .client
            .post(server.url("/graphql"))
            .json(&json!({ "query": "{ me { email } }" })),
    )
    .await;
    assert_eq!(query["data"]["me"]["email"], "web@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_mutations_need_the_csrf_header() {
    let server = TestServer::start().await;
    server.register("csrf@example.com", "Csrf").await;
    let browser = web_login(&server, "csrf@example.com").await;
    let rename =
        json!({ "query": "mutation { updateTenant(input: {name: \"Hijacked\"}) { name } }" });

    // A cross-site form post carries the cookie but cannot know the token.
    let forged: Value = send_json(browser.client.post(server.url("/graphql")).json(&rename)).await;
    assert_eq!(error_code(&forged), "FORBIDDEN");
    assert_eq!(forged["errors"][0]["extensions"]["reason"], "csrf");
    let wrong: Value = send_json(
        browser
            .client
            .post(server.url("/graphql"))
            .header("x-csrf-token", "guessed")
            .json(&rename),
    )
    .await;
    assert_eq!(error_code(&wrong), "FORBIDDEN");

    let name: Value = send_json(
        browser
            .client
            .post(server.url("/graphql"))
            .json(&json!({ "query": "{ tenant { name } }" })),
    )
    .await;
    assert_eq!(
        name["data"]["tenant"]["name"], "Csrf",
        "the forged mutation changed nothing"
    );

    let allowed: Value = send_json(
        browser
            .client
            .post(server.url("/graphql"))
            .header("x-csrf-token", &browser.csrf)
            .json(&rename),
    )
    .await;
    assert_eq!(allowed["data"]["updateTenant"]["name"], "Hijacked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_tenant_and_logout_over_rest() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "First").await;
    // The owner also runs a second studio: invite them there from another admin's tenant.
    let other_admin = server.register("other@example.com", "Second").await;
    let invite = server
        .ok_as(
            &other_admin,
            "mutation { createInvite(email: \"owner@example.com\", role: WORLDBUILDER) { token } }",
            json!({}),
        )
        .await;
    server
        .ok_as(
            &owner,
            "mutation($t: String!) { acceptInvite(token: $t) { id } }",
            json!({ "t": invite["createInvite"]["token"] }),
        )
        .await;

    let browser = web_login(&server, "owner@example.com").await;
    let no_csrf = browser
        .client
        .post(server.url("/api/auth/web/select-tenant"))
        .json(&json!({ "tenant_id": other_admin.tenant_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let detail: Value = no_csrf.json().await.unwrap();
    assert!(detail["detail"].as_str().is_some());

    let switched: Value = send_json(
        browser
            .client
            .post(server.url("/api/auth/web/select-tenant"))
            .header("x-csrf-token", &browser.csrf)
            .json(&json!({ "tenant_id": other_admin.tenant_id })),
    )
    .await;
    assert_eq!(switched["tenant_id"], other_admin.tenant_id.as_str());
    assert_eq!(switched["role"], "worldbuilder");
    let session: Value = send_json(browser.client.get(server.url("/api/auth/web/session"))).await;
    assert_eq!(session["tenant_name"], "Second");

    let logout = browser
        .client
        .post(server.url("/api/auth/web/logout"))
        .header("x-csrf-token", switched["csrf_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    let after = browser
        .client
        .get(server.url("/api/auth/web/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_login_failures_use_the_seed_statuses() {
    let server = TestServer::start().await;
    server.register("rest@example.com", "Rest").await;
    let client = reqwest::Client::new();
    let wrong = client
        .post(server.url("/api/auth/web/login"))
        .json(&json!({ "email": "rest@example.com", "password": "nope nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["detail"], "invalid email or password");

    let malformed = client
        .post(server.url("/api/auth/web/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert!(body["detail"].as_str().is_some());

    // JSON that does not fit the request (a field missing, one of the wrong type) is a
    // validation failure: 422, as seed 001 answers it.
    for unfit in [
        json!({ "email": "rest@example.com" }),
        json!({ "email": "rest@example.com", "password": 12 }),
    ] {
        let response = client
            .post(server.url("/api/auth/web/login"))
            .json(&unfit)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{unfit}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("password")),
            "{body}"
        );
    }
}
