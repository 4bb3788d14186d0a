//! A small OpenID provider for the sign-in tests, on an ephemeral port, speaking the real wire
//! format: the discovery document, a JWKS of RSA keys the test made, an authorization endpoint
//! that "signs in" whichever person the test chose and redirects back with a code, and a token
//! endpoint that checks the client's secret, the redirect URI and the PKCE verifier before it
//! answers with an RS256 ID token carrying the flow's nonce.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "loregraph-test-client";
pub const CLIENT_SECRET: &str = "loregraph-test-secret";

/// Who signs in at the provider's page.
#[derive(Clone, Debug)]
pub struct Person {
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
}

impl Person {
    pub fn verified(subject: &str, email: &str) -> Self {
        Self {
            subject: subject.into(),
            email: email.into(),
            email_verified: true,
            name: format!("Person {subject}"),
        }
    }
}

pub struct SigningKey {
    pub kid: String,
    pair: KeyPair,
}

impl SigningKey {
    pub fn generate(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            pair: KeyPair::generate(KeySize::Rsa2048).expect("an RSA key"),
        }
    }

    fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// A JWT of `claims` with `header`, signed RS256 with this key.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid }),
            claims,
        )
    }
}

struct Grant {
    person: Person,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    scope: String,
}

#[derive(Default)]
pub struct Seen {
    /// Every authorization request's query.
    pub authorizations: Vec<HashMap<String, String>>,
    /// Every token request's form.
    pub token_requests: Vec<HashMap<String, String>>,
    /// How often the JWKS was fetched.
    pub jwks_fetches: usize,
    /// Tokens posted to the revocation endpoint.
    pub revoked: Vec<String>,
    /// Every access token issued, in order.
    pub access_tokens: Vec<String>,
}

struct Inner {
    issuer: String,
    keys: Mutex<Vec<Arc<SigningKey>>>,
    person: Mutex<Option<Person>>,
    /// When set, ID tokens from the token endpoint carry this nonce instead of the flow's.
    nonce_override: Mutex<Option<String>>,
    grants: Mutex<HashMap<String, Grant>>,
    /// Live refresh tokens and the scope they carry.
    refresh_tokens: Mutex<HashMap<String, String>>,
    seen: Mutex<Seen>,
}

#[derive(Clone)]
pub struct Provider(Arc<Inner>);

impl Provider {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("addr"));
        let provider = Provider(Arc::new(Inner {
            issuer,
            keys: Mutex::new(vec![Arc::new(SigningKey::generate("key-1"))]),
            person: Mutex::new(None),
            nonce_override: Mutex::new(None),
            grants: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            seen: Mutex::new(Seen::default()),
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .with_state(provider.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        provider
    }

    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The person the next visit to the authorization page signs in.
    pub fn signs_in(&self, person: Person) {
        *self.0.person.lock().unwrap() = Some(person);
    }

    /// The person revokes every grant at the provider (their security settings): refresh
    /// tokens stop working.
    pub fn revoke_grants(&self) {
        self.0.refresh_tokens.lock().unwrap().clear();
    }

    /// ID tokens answer with `nonce` from now on, whatever the flow sent (a replayed token).
    pub fn answer_with_nonce(&self, nonce: &str) {
        *self.0.nonce_override.lock().unwrap() = Some(nonce.to_owned());
    }

    pub fn current_key(&self) -> Arc<SigningKey> {
        self.0.keys.lock().unwrap().last().cloned().expect("a key")
    }

    /// Publishes a new key beside the old ones; tokens are signed with it from now on.
    pub fn rotate_key(&self, kid: &str) -> Arc<SigningKey> {
        let key = Arc::new(SigningKey::generate(kid));
        self.0.keys.lock().unwrap().push(key.clone());
        key
    }

    pub fn seen<T>(&self, read: impl FnOnce(&Seen) -> T) -> T {
        read(&self.0.seen.lock().unwrap())
    }

    /// The claims of an ID token this provider would issue to `person` now.
    pub fn claims_for(&self, person: &Person, nonce: Option<&str>) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": self.0.issuer, "aud": CLIENT_ID, "sub": person.subject,
            "email": person.email, "email_verified": person.email_verified,
            "name": person.name, "iat": now, "exp": now + 600,
            "jti": uuid::Uuid::new_v4().simple().to_string(),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        claims
    }

    /// An ID token for `person`, as Google's sign-in button hands one to a page.
    pub fn id_token(&self, person: &Person) -> String {
        self.current_key().sign(&self.claims_for(person, None))
    }
}

async fn discovery(State(provider): State<Provider>) -> Response {
    let issuer = provider.issuer();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn jwks(State(provider): State<Provider>) -> Response {
    provider.0.seen.lock().unwrap().jwks_fetches += 1;
    let keys: Vec<Value> = provider
        .0
        .keys
        .lock()
        .unwrap()
        .iter()
        .map(|key| key.jwk())
        .collect();
    axum::Json(json!({ "keys": keys })).into_response()
}

async fn authorize(
    State(provider): State<Provider>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    provider
        .0
        .seen
        .lock()
        .unwrap()
        .authorizations
        .push(query.clone());
    let person = provider.0.person.lock().unwrap().clone();
    let (Some(person), Some(redirect_uri), Some(state)) = (
        person,
        query.get("redirect_uri").cloned(),
        query.get("state").cloned(),
    ) else {
        return (StatusCode::BAD_REQUEST, "nobody to sign in, or no redirect").into_response();
    };
    let ok = query.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && query.get("response_type").map(String::as_str) == Some("code")
        && query.get("code_challenge_method").map(String::as_str) == Some("S256");
    if !ok {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    provider.0.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            person,
            redirect_uri: redirect_uri.clone(),
            challenge: query.get("code_challenge").cloned().unwrap_or_default(),
            nonce: query.get("nonce").cloned(),
            scope: query.get("scope").cloned().unwrap_or_default(),
        },
    );
    let mut location = reqwest::Url::parse(&redirect_uri).expect("redirect uri");
    location
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &state);
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// RFC 7009: the token stops working; 200 whether or not it was known.
async fn revoke(
    State(provider): State<Provider>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Some(token) = form.get("token") {
        provider.0.refresh_tokens.lock().unwrap().remove(token);
        provider.0.seen.lock().unwrap().revoked.push(token.clone());
    }
    StatusCode::OK.into_response()
}

fn token_error(error: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": error, "error_description": "refused by the test provider" })),
    )
        .into_response()
}

async fn token(
    State(provider): State<Provider>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    provider
        .0
        .seen
        .lock()
        .unwrap()
        .token_requests
        .push(form.clone());
    // RFC 6749 2.3.1: the client authenticates with HTTP Basic (or in the form).
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let authenticated = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(basic.as_str())
        || (form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET));
    if !authenticated {
        return token_error("invalid_client");
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {}
        Some("refresh_token") => {
            let scope = form.get("refresh_token").and_then(|token| {
                provider
                    .0
                    .refresh_tokens
                    .lock()
                    .unwrap()
                    .get(token)
                    .cloned()
            });
            let Some(scope) = scope else {
                return token_error("invalid_grant");
            };
            let access = format!("access-{}", uuid::Uuid::new_v4().simple());
            provider
                .0
                .seen
                .lock()
                .unwrap()
                .access_tokens
                .push(access.clone());
            return axum::Json(json!({
                "access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": scope,
            }))
            .into_response();
        }
        _ => return token_error("unsupported_grant_type"),
    }
    let Some(grant) = form
        .get("code")
        .and_then(|code| provider.0.grants.lock().unwrap().remove(code))
    else {
        return token_error("invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge || form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return token_error("invalid_grant");
    }
    let nonce = provider
        .0
        .nonce_override
        .lock()
        .unwrap()
        .clone()
        .or(grant.nonce);
    let claims = provider.claims_for(&grant.person, nonce.as_deref());
    let id_token = provider.current_key().sign(&claims);
    let access = format!("access-{}", uuid::Uuid::new_v4().simple());
    let refresh = format!("refresh-{}", uuid::Uuid::new_v4().simple());
    provider
        .0
        .seen
        .lock()
        .unwrap()
        .access_tokens
        .push(access.clone());
    provider
        .0
        .refresh_tokens
        .lock()
        .unwrap()
        .insert(refresh.clone(), grant.scope.clone());
    axum::Json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": grant.scope,
        "id_token": id_token,
    }))
    .into_response()
}
