//! Signing in with Google and Microsoft: the browser's trip through an OpenID provider with
//! PKCE, state and nonce; accounts linked only with their owner's consent; ID tokens from
//! Google's button checked for signature, issuer, audience and expiry.

use loregraph::config::{AppConfig, ProviderId, ProviderSettings};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestServer, count_rows, error_code};
use crate::oidc_mock::{CLIENT_ID, CLIENT_SECRET, Person, Provider, SigningKey};

fn with_provider(config: &mut AppConfig, id: ProviderId, provider: &Provider) {
    config.identity.providers.push(ProviderSettings {
        id,
        issuer: provider.issuer().to_owned(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    });
}

async fn server_with_google(google: &Provider) -> TestServer {
    TestServer::start_with(|config| with_provider(config, ProviderId::Google, google)).await
}

/// A browser: keeps its cookies, and shows every redirect instead of following it.
struct Browser {
    http: reqwest::Client,
}

impl Browser {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
        }
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("a response")
    }

    /// Signs in with a password (the web login), returning the CSRF token.
    async fn password_login(&self, server: &TestServer, email: &str) -> String {
        let response = self
            .http
            .post(server.url("/api/auth/web/login"))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .expect("web login");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["csrf_token"].as_str().expect("csrf").to_owned()
    }

    /// The web session's account and CSRF token, or the status when there is none.
    async fn session(&self, server: &TestServer) -> Result<Value, StatusCode> {
        let response = self.get(&server.url("/api/auth/web/session")).await;
        match response.status() {
            StatusCode::OK => Ok(response.json().await.expect("json")),
            status => Err(status),
        }
    }

    async fn graphql(&self, server: &TestServer, csrf: &str, query: &str) -> Value {
        self.http
            .post(server.url("/graphql"))
            .header("x-csrf-token", csrf)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("graphql")
            .json()
            .await
            .expect("json")
    }
}

fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::FOUND, "{response:?}");
    response.headers()[reqwest::header::LOCATION]
        .to_str()
        .expect("location")
        .to_owned()
}

/// From the server's sign-in link to the provider's page; the URL the provider sends the
/// browser back to.
async fn to_provider_and_back(browser: &Browser, start: &str) -> String {
    let to_provider = location(&browser.get(start).await);
    location(&browser.get(&to_provider).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_google_walks_the_browser_through_pkce_and_lands_signed_in() {
    let google = Provider::start().await;
    let server = server_with_google(&google).await;

    // The sign-in buttons: REST and GraphQL list the configured providers only.
    let listed: Value = server
        .get("/api/auth/oauth/providers")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        listed,
        json!({ "providers": [{ "id": "google", "name": "Google", "url": "/api/auth/oauth/google" }] })
    );
    let data = server
        .ok(
            None,
            "{ signInProviders { provider name signInPath } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["signInProviders"],
        json!([{ "provider": "GOOGLE", "name": "Google", "signInPath": "/api/auth/oauth/google" }])
    );
    let microsoft = server.get("/api/auth/oauth/microsoft").await;
    assert_eq!(microsoft.status(), StatusCode::NOT_FOUND);

    // A newcomer signs in: the provider sees a PKCE challenge, a state and a nonce.
    google.signs_in(Person::verified("g-100", "newcomer@example.com"));
    let browser = Browser::new();
    let callback = to_provider_and_back(
        &browser,
        &server.url("/api/auth/oauth/google?returnTo=/welcome"),
    )
    .await;
    let authorization = google.seen(|seen| seen.authorizations[0].clone());
    assert_eq!(authorization["code_challenge_method"], "S256");
    assert!(authorization["code_challenge"].len() >= 43);
    assert!(authorization["nonce"].len() >= 20);
    assert_eq!(
        authorization["redirect_uri"],
        server.url("/api/auth/oauth/google/callback")
    );
    assert!(authorization["scope"].contains("openid"));
    let landed = browser.get(&callback).await;
    assert_eq!(location(&landed), "/welcome");
    let exchange = google.seen(|seen| seen.token_requests[0].clone());
    assert!(
        exchange["code_verifier"].len() >= 43,
        "the code was traded with its verifier"
    );

    // The browser holds a web session of a new account, with its CSRF token.
    let session = browser.session(&server).await.expect("a session");
    assert_eq!(session["email"], "newcomer@example.com");
    assert_eq!(session["role"], "admin");
    let csrf = session["csrf_token"].as_str().expect("csrf").to_owned();
    let me = browser
        .graphql(
            &server,
            &csrf,
            "{ me { email displayName } linkedIdentities { provider email emailVerified } }",
        )
        .await;
    assert_eq!(me["data"]["me"]["displayName"], "Person g-100", "{me}");
    assert_eq!(
        me["data"]["linkedIdentities"],
        json!([{ "provider": "GOOGLE", "email": "newcomer@example.com", "emailVerified": true }])
    );

    // The same link a second time finds nothing: a state works once.
    let replayed = Browser::new().get(&callback).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);

    // Signing in again lands in the same account, not a second one.
    let again = Browser::new();
    let callback = to_provider_and_back(&again, &server.url("/api/auth/oauth/google")).await;
    assert_eq!(location(&again.get(&callback).await), "/");
    assert_eq!(
        again.session(&server).await.expect("a session")["user_id"],
        session["user_id"]
    );
    let mut db = server.db().await;
    assert_eq!(
        count_rows(
            &mut db,
            "SELECT count(*) AS n FROM users WHERE email = 'newcomer@example.com'"
        )
        .await,
        1
    );
    // An open redirect is refused before the browser leaves.
    let open = browser
        .get(&server.url("/api/auth/oauth/google?returnTo=https://evil.example/"))
        .await;
    assert_eq!(open.status(), StatusCode::BAD_REQUEST);
    for sneaky in [
        "//evil.example/",
        "/.//evil.example",
        "/..//evil.example",
        "/%2e//evil.example",
        "/\\evil.example",
    ] {
        let refused = browser
            .get(&server.url(&format!(
                "/api/auth/oauth/google?returnTo={}",
                urlencode(sneaky)
            )))
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{sneaky}");
    }
    // A second sign-in started in another tab does not break the first.
    google.signs_in(Person::verified("g-100", "newcomer@example.com"));
    let tabs = Browser::new();
    let first = location(
        &tabs
            .get(&server.url("/api/auth/oauth/google?returnTo=/one"))
            .await,
    );
    let second = location(
        &tabs
            .get(&server.url("/api/auth/oauth/google?returnTo=/two"))
            .await,
    );
    let first_back = location(&tabs.get(&first).await);
    let second_back = location(&tabs.get(&second).await);
    assert_eq!(location(&tabs.get(&second_back).await), "/two");
    assert_eq!(location(&tabs.get(&first_back).await), "/one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_carried_to_another_browser_signs_nobody_in() {
    let google = Provider::start().await;
    let server = server_with_google(&google).await;
    google.signs_in(Person::verified("g-200", "victim@example.com"));

    // An attacker starts a flow and hands the callback link to someone else's browser.
    let attacker = Browser::new();
    let callback = to_provider_and_back(&attacker, &server.url("/api/auth/oauth/google")).await;
    let victim = Browser::new();
    let landed = victim.get(&callback).await;
    assert_eq!(location(&landed), "/?oauth_error=wrong_browser");
    assert!(
        landed
            .headers()
            .get("set-cookie")
            .is_none_or(|c| { !c.to_str().unwrap_or_default().starts_with("lg_session=") })
    );
    assert_eq!(
        victim.session(&server).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    // The flow was used up by that attempt: the attacker's own browser cannot finish it either.
    assert_eq!(
        attacker.get(&callback).await.status(),
        StatusCode::BAD_REQUEST
    );
    // No account came of it, and the code was never traded.
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM users").await,
        0
    );
    assert_eq!(google.seen(|seen| seen.token_requests.len()), 0);

    // An ID token that does not carry this flow's nonce (one replayed from another sign-in)
    // is not believed.
    google.answer_with_nonce("a-nonce-from-another-flow");
    let replay = Browser::new();
    let callback = to_provider_and_back(&replay, &server.url("/api/auth/oauth/google")).await;
    assert_eq!(
        location(&replay.get(&callback).await),
        "/?oauth_error=unauthenticated"
    );
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM users").await,
        0
    );

    // A made-up state is refused outright.
    let forged = Browser::new()
        .get(&server.url("/api/auth/oauth/google/callback?code=x&state=made-up"))
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);

    // The person declining at the provider lands back with the reason.
    let declined = Browser::new();
    let to_provider = location(
        &declined
            .get(&server.url("/api/auth/oauth/google?returnTo=/in"))
            .await,
    );
    let state = reqwest::Url::parse(&to_provider)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state");
    let back = declined
        .get(&server.url(&format!(
            "/api/auth/oauth/google/callback?error=access_denied&state={state}"
        )))
        .await;
    assert_eq!(location(&back), "/in?oauth_error=access_denied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_email_is_linked_only_by_its_signed_in_owner() {
    let google = Provider::start().await;
    let server = server_with_google(&google).await;
    let alice = server.register("alice@example.com", "Alice's studio").await;
    server.register("bob@example.com", "Bob's studio").await;
    let alices_google = Person::verified("g-alice", "alice@example.com");

    // Google vouches for alice's address, but that alone never joins her account.
    google.signs_in(alices_google.clone());
    let stranger = Browser::new();
    let callback = to_provider_and_back(&stranger, &server.url("/api/auth/oauth/google")).await;
    assert_eq!(
        location(&stranger.get(&callback).await),
        "/?oauth_error=link_required"
    );
    assert_eq!(
        stranger.session(&server).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let mut db = server.db().await;
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM user_identities").await,
        0
    );

    // An address Google does not vouch for makes no account either.
    google.signs_in(Person {
        email_verified: false,
        ..Person::verified("g-unverified", "someone@example.com")
    });
    let callback = to_provider_and_back(&stranger, &server.url("/api/auth/oauth/google")).await;
    assert_eq!(
        location(&stranger.get(&callback).await),
        "/?oauth_error=email_unverified"
    );

    // Alice, signed in, links her Google account herself.
    let browser = Browser::new();
    let csrf = browser.password_login(&server, "alice@example.com").await;
    let begun = browser
        .graphql(
            &server,
            &csrf,
            "mutation { beginIdentityLink(provider: GOOGLE, returnTo: \"/settings\") }",
        )
        .await;
    let url = begun["data"]["beginIdentityLink"]
        .as_str()
        .expect("a URL")
        .to_owned();
    google.signs_in(alices_google.clone());
    let callback = location(&browser.get(&url).await);
    assert_eq!(
        location(&browser.get(&callback).await),
        "/settings?linked=google"
    );

    // Now Google signs her in, in any browser.
    let elsewhere = Browser::new();
    let callback = to_provider_and_back(&elsewhere, &server.url("/api/auth/oauth/google")).await;
    assert_eq!(location(&elsewhere.get(&callback).await), "/");
    assert_eq!(
        elsewhere.session(&server).await.expect("a session")["user_id"],
        json!(alice.user_id)
    );

    // Bob cannot take her Google identity into his account.
    let bobs = Browser::new();
    let csrf = bobs.password_login(&server, "bob@example.com").await;
    let begun = bobs
        .graphql(
            &server,
            &csrf,
            "mutation { beginIdentityLink(provider: GOOGLE) }",
        )
        .await;
    let url = begun["data"]["beginIdentityLink"]
        .as_str()
        .expect("a URL")
        .to_owned();
    let callback = location(&bobs.get(&url).await);
    assert_eq!(
        location(&bobs.get(&callback).await),
        "/?oauth_error=conflict"
    );

    // A link flow begun by Bob and finished in a browser signed in as someone else (or as
    // nobody) links nothing.
    let begun = bobs
        .graphql(
            &server,
            &csrf,
            "mutation { beginIdentityLink(provider: GOOGLE) }",
        )
        .await;
    let url = begun["data"]["beginIdentityLink"]
        .as_str()
        .expect("a URL")
        .to_owned();
    google.signs_in(Person::verified("g-bob", "bob@gmail.example"));
    let callback = location(&bobs.get(&url).await);
    let other = Browser::new();
    assert_eq!(
        location(&other.get(&callback).await),
        "/?oauth_error=wrong_browser"
    );
    assert_eq!(
        count_rows(&mut db, "SELECT count(*) AS n FROM user_identities").await,
        1,
        "only alice's link"
    );

    // Linking needs a session: an API key or no credentials cannot begin one.
    let body = server
        .gql(
            None,
            "mutation { beginIdentityLink(provider: GOOGLE) }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let key = server
        .ok(
            Some(&alice.token),
            "mutation { createApiKey(name: \"ci\") { key } }",
            json!({}),
        )
        .await;
    let key = key["createApiKey"]["key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let body = server
        .gql(
            Some(&key),
            "mutation { beginIdentityLink(provider: GOOGLE) }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlinking_never_leaves_an_account_without_a_way_in() {
    let google = Provider::start().await;
    let server = server_with_google(&google).await;

    // An account made by Google sign-in has no password: its one identity stays.
    google.signs_in(Person::verified("g-300", "only-google@example.com"));
    let browser = Browser::new();
    let callback = to_provider_and_back(&browser, &server.url("/api/auth/oauth/google")).await;
    browser.get(&callback).await;
    let csrf = browser.session(&server).await.expect("session")["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_owned();
    let listed = browser
        .graphql(&server, &csrf, "{ linkedIdentities { id } }")
        .await;
    let only = listed["data"]["linkedIdentities"][0]["id"]
        .as_str()
        .expect("an identity")
        .to_owned();
    let refused = browser
        .graphql(
            &server,
            &csrf,
            &format!("mutation {{ unlinkIdentity(id: \"{only}\") }}"),
        )
        .await;
    assert_eq!(error_code(&refused), "CONFLICT", "{refused}");

    // A password account unlinks freely; nobody else can unlink it.
    server.register("carol@example.com", "Carol's studio").await;
    let carols = Browser::new();
    let csrf = carols.password_login(&server, "carol@example.com").await;
    let begun = carols
        .graphql(
            &server,
            &csrf,
            "mutation { beginIdentityLink(provider: GOOGLE) }",
        )
        .await;
    let url = begun["data"]["beginIdentityLink"]
        .as_str()
        .expect("URL")
        .to_owned();
    google.signs_in(Person::verified("g-carol", "carol@example.com"));
    let callback = location(&carols.get(&url).await);
    assert_eq!(location(&carols.get(&callback).await), "/?linked=google");
    let listed = carols
        .graphql(&server, &csrf, "{ linkedIdentities { id } }")
        .await;
    let carols_link = listed["data"]["linkedIdentities"][0]["id"]
        .as_str()
        .expect("carol's identity")
        .to_owned();
    let outsider = server.register("dave@example.com", "Dave's studio").await;
    server
        .fails_as(
            &outsider,
            "mutation($id: ID!) { unlinkIdentity(id: $id) }",
            json!({ "id": carols_link }),
            "NOT_FOUND",
        )
        .await;
    let body = carols
        .graphql(
            &server,
            &csrf,
            &format!("mutation {{ unlinkIdentity(id: \"{carols_link}\") }}"),
        )
        .await;
    assert_eq!(body["data"]["unlinkIdentity"], true, "{body}");
    let listed = carols
        .graphql(&server, &csrf, "{ linkedIdentities { id } }")
        .await;
    assert_eq!(listed["data"]["linkedIdentities"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_id_tokens_are_believed_only_when_google_signed_them_for_us() {
    let google = Provider::start().await;
    let server = server_with_google(&google).await;
    let person = Person::verified("g-400", "button@example.com");

    // Google's button hands the page a token; the web endpoint sets the session cookie.
    let response = server
        .http
        .post(server.url("/api/auth/web/google-sso"))
        .json(&json!({ "credential": google.id_token(&person) }))
        .send()
        .await
        .expect("google-sso");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .starts_with("lg_session=")
    );
    let body: Value = response.json().await.expect("json");
    assert!(body["csrf_token"].is_string());

    // GraphQL's loginWithGoogle signs in to the same account.
    let login =
        "mutation($t: String!) { loginWithGoogle(idToken: $t) { accessToken user { email } } }";
    let token = google.id_token(&person);
    let data = server.ok(None, login, json!({ "t": token })).await;
    assert_eq!(
        data["loginWithGoogle"]["user"]["email"],
        "button@example.com"
    );
    // Once per token: a token that leaked opens nothing more.
    let replayed = server.gql(None, login, json!({ "t": token })).await;
    assert_eq!(error_code(&replayed), "UNAUTHENTICATED", "{replayed}");

    let refused = async |token: String| {
        let body = server.gql(None, login, json!({ "t": token })).await;
        error_code(&body).to_owned()
    };
    let key = google.current_key();
    let claims = google.claims_for(&person, None);
    // Signed by a key that is not Google's, under Google's key id.
    let impostor = SigningKey::generate(&key.kid);
    assert_eq!(refused(impostor.sign(&claims)).await, "UNAUTHENTICATED");
    // Expired.
    let mut expired = claims.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    assert_eq!(refused(key.sign(&expired)).await, "UNAUTHENTICATED");
    // For another application.
    let mut elsewhere = claims.clone();
    elsewhere["aud"] = json!("someone-elses-client");
    assert_eq!(refused(key.sign(&elsewhere)).await, "UNAUTHENTICATED");
    // From another issuer.
    let mut foreign = claims.clone();
    foreign["iss"] = json!("https://evil.example");
    assert_eq!(refused(key.sign(&foreign)).await, "UNAUTHENTICATED");
    // Unsigned, or signed with a shared secret.
    let unsigned = format!(
        "{}.{}.",
        base64_url(&json!({ "alg": "none", "kid": key.kid })),
        base64_url(&claims)
    );
    assert_eq!(refused(unsigned).await, "UNAUTHENTICATED");
    let symmetric = key.sign_with_header(&json!({ "alg": "HS256", "kid": key.kid }), &claims);
    assert_eq!(refused(symmetric).await, "UNAUTHENTICATED");
    assert_eq!(refused("not a token".into()).await, "UNAUTHENTICATED");
    // A newcomer whose address Google does not vouch for.
    let unverified = Person {
        email_verified: false,
        ..Person::verified("g-401", "unverified@example.com")
    };
    let body = server
        .gql(None, login, json!({ "t": google.id_token(&unverified) }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Google rotates its keys: a token under the new key makes the server fetch the set again.
    let fetched_before = google.seen(|seen| seen.jwks_fetches);
    google.rotate_key("key-2");
    let data = server
        .ok(None, login, json!({ "t": google.id_token(&person) }))
        .await;
    assert_eq!(
        data["loginWithGoogle"]["user"]["email"],
        "button@example.com"
    );
    assert_eq!(google.seen(|seen| seen.jwks_fetches), fetched_before + 1);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn base64_url(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_signs_in_beside_google_and_each_identity_is_its_own() {
    let google = Provider::start().await;
    let microsoft = Provider::start().await;
    let server = TestServer::start_with(|config| {
        with_provider(config, ProviderId::Google, &google);
        with_provider(config, ProviderId::Microsoft, &microsoft);
    })
    .await;
    let data = server
        .ok(None, "{ signInProviders { provider } }", json!({}))
        .await;
    assert_eq!(
        data["signInProviders"],
        json!([{ "provider": "GOOGLE" }, { "provider": "MICROSOFT" }])
    );
    // The same subject at two providers is two different people.
    google.signs_in(Person::verified("same-subject", "g-person@example.com"));
    microsoft.signs_in(Person::verified("same-subject", "m-person@example.com"));
    let browser = Browser::new();
    let callback = to_provider_and_back(&browser, &server.url("/api/auth/oauth/microsoft")).await;
    assert_eq!(location(&browser.get(&callback).await), "/");
    assert_eq!(
        browser.session(&server).await.expect("session")["email"],
        "m-person@example.com"
    );
    let other = Browser::new();
    let callback = to_provider_and_back(&other, &server.url("/api/auth/oauth/google")).await;
    assert_eq!(location(&other.get(&callback).await), "/");
    assert_eq!(
        other.session(&server).await.expect("session")["email"],
        "g-person@example.com"
    );
    // A Microsoft code is not accepted at Google's callback.
    let browser = Browser::new();
    let to_provider = location(&browser.get(&server.url("/api/auth/oauth/microsoft")).await);
    let back = location(&browser.get(&to_provider).await);
    let crossed = back.replace("/oauth/microsoft/callback", "/oauth/google/callback");
    assert_eq!(
        browser.get(&crossed).await.status(),
        StatusCode::BAD_REQUEST
    );
}
