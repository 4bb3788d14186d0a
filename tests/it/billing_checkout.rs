//! Stripe Checkout and the customer portal against a fake Stripe speaking its real wire format
//! (form-encoded requests with bracketed keys, JSON objects back): the parameters the production
//! client sends, one customer per tenant (also under concurrency), `GET /api/billing/portal`,
//! roles, the TOKEN_PURCHASES gate, prices (public, cached), Stripe's refusals, and a server
//! without billing configured.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use diesel_async::RunQueryDsl;
use loregraph::billing::tiers::Tier;
use loregraph::config::{AppConfig, TokenBlock};
use serde_json::{Map, Value, json};

use crate::harness::*;

const SECRET: &str = "sk_test_x";
const RETURN_URL: &str = "https://app.loregraph.test/billing";
/// When the fake says its objects were created (2024-06-01T00:00:00Z).
const CREATED: i64 = 1_717_200_000;

const CHECKOUT: &str =
    "mutation($priceId: String!) { createCheckoutSession(priceId: $priceId) { url } }";
const PORTAL: &str = "mutation { createPortalSession { url } }";
const PURCHASE: &str = "mutation($blockId: String!) { purchaseTokens(blockId: $blockId) { url } }";
const PRICES: &str = "{ billingPrices { tier priceId unitAmount currency interval }
    tokenBlockPrices { blockId brainbits priceId unitAmount currency } }";

/// One request the fake received.
#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    path: String,
    /// The form-decoded body, in order (empty for a GET).
    form: Vec<(String, String)>,
    authorization: Option<String>,
}

impl Recorded {
    /// The value of `key` in the form (`line_items[0][price]`, `metadata[tenant_id]`, ...).
    fn get(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The top-level `metadata[...]` entries as a JSON object.
    fn metadata(&self) -> Value {
        let mut map = Map::new();
        for (key, value) in &self.form {
            if let Some(name) = key
                .strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
            {
                map.insert(name.to_owned(), Value::String(value.clone()));
            }
        }
        Value::Object(map)
    }
}

/// A Stripe that knows three prices, creates customers, Checkout sessions and portal sessions,
/// refuses a Checkout for `price_gone`, and records every request.
#[derive(Clone, Default)]
pub(crate) struct FakeStripe {
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Checkout sessions paid (they cannot be expired any more).
    paid: Arc<Mutex<Vec<String>>>,
}

impl FakeStripe {
    /// Serves on an ephemeral port; returns the fake and its base URL.
    async fn start() -> (Self, String) {
        let fake = Self::default();
        let app = Router::new()
            .route("/v1/customers", post(create_customer))
            .route("/v1/checkout/sessions", post(create_checkout_session))
            .route(
                "/v1/checkout/sessions/{id}/expire",
                post(expire_checkout_session),
            )
            .route("/v1/checkout/sessions/{id}", get(retrieve_checkout_session))
            .route("/v1/billing_portal/sessions", post(create_portal_session))
            .route("/v1/prices/{id}", get(retrieve_price))
            .fallback(unknown)
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Stripe");
        let url = format!("http://{}/", listener.local_addr().expect("local addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (fake, url)
    }

    /// Records a request; returns it and how many requests to the same method and path
    /// there have been, this one included.
    fn record(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        form: Vec<(String, String)>,
    ) -> (Recorded, usize) {
        let recorded = Recorded {
            method: method.to_owned(),
            path: path.to_owned(),
            form,
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        let mut requests = self.requests.lock().expect("requests");
        requests.push(recorded.clone());
        let n = requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count();
        (recorded, n)
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("requests").clone()
    }

    /// The POSTs to `path` so far.
    fn posts(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .collect()
    }

    fn customers(&self) -> Vec<Recorded> {
        self.posts("/v1/customers")
    }

    fn checkouts(&self) -> Vec<Recorded> {
        self.posts("/v1/checkout/sessions")
    }

    /// Marks a session paid, as a customer paying on its page would.
    fn pay(&self, session_id: &str) {
        self.paid.lock().expect("paid").push(session_id.to_owned());
    }

    fn is_paid(&self, session_id: &str) -> bool {
        self.paid
            .lock()
            .expect("paid")
            .iter()
            .any(|id| id == session_id)
    }

    /// The sessions expired so far, by their paths.
    fn expirations(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/expire"))
            .map(|r| r.path)
            .collect()
    }

    fn portals(&self) -> Vec<Recorded> {
        self.posts("/v1/billing_portal/sessions")
    }
}

/// Stripe's error body.
fn stripe_error(status: StatusCode, code: &str, message: &str, param: Option<&str>) -> Response {
    let body = json!({ "error": {
        "code": code,
        "doc_url": format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")),
        "message": message,
        "param": param,
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_fake",
        "type": "invalid_request_error"
    }});
    (status, Json(body)).into_response()
}

async fn create_customer(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Json<Value> {
    let (request, n) = fake.record("POST", "/v1/customers", &headers, form);
    Json(json!({
        "id": format!("cus_test{n}"),
        "object": "customer",
        "address": null,
        "balance": 0,
        "created": CREATED,
        "currency": null,
        "default_source": null,
        "delinquent": false,
        "description": null,
        "discount": null,
        "email": request.get("email"),
        "invoice_prefix": format!("LG{n:04}"),
        "invoice_settings": {
            "custom_fields": null, "default_payment_method": null,
            "footer": null, "rendering_options": null
        },
        "livemode": false,
        "metadata": request.metadata(),
        "name": request.get("name"),
        "next_invoice_sequence": 1,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null
    }))
}

async fn create_checkout_session(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (request, n) = fake.record("POST", "/v1/checkout/sessions", &headers, form);
    let price = request.get("line_items[0][price]").unwrap_or("");
    if price == "price_gone" {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "resource_missing",
            "No such price: 'price_gone'",
            Some("line_items[0][price]"),
        );
    }
    let id = format!("cs_test_{n}");
    Json(session_json(&id, &request, "open")).into_response()
}

/// A Checkout session as Stripe answers with one: open for a day from now.
fn session_json(id: &str, request: &Recorded, status: &str) -> Value {
    json!({
        "id": id,
        "object": "checkout.session",
        "after_expiration": null,
        "allow_promotion_codes": null,
        "amount_subtotal": 1500,
        "amount_total": 1500,
        "automatic_tax": { "enabled": false, "liability": null, "status": null },
        "billing_address_collection": null,
        "cancel_url": request.get("cancel_url"),
        "client_reference_id": request.get("client_reference_id"),
        "client_secret": null,
        "consent": null,
        "consent_collection": null,
        "created": CREATED,
        "currency": "usd",
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {
            "after_submit": null, "shipping_address": null,
            "submit": null, "terms_of_service_acceptance": null
        },
        "customer": request.get("customer"),
        "customer_creation": null,
        "customer_details": null,
        "customer_email": null,
        "expires_at": chrono::Utc::now().timestamp() + 86_400,
        "invoice": null,
        "invoice_creation": null,
        "livemode": false,
        "locale": null,
        "metadata": request.metadata(),
        "mode": request.get("mode").unwrap_or("payment"),
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": null,
        "payment_method_configuration_details": null,
        "payment_method_options": null,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "recovered_from": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_details": null,
        "shipping_options": [],
        "status": status,
        "submit_type": null,
        "subscription": null,
        "success_url": request.get("success_url"),
        "total_details": null,
        "url": format!("https://checkout.stripe.test/c/pay/{id}")
    })
}

/// Expiring an open session: recorded, answered with the session, now expired.
async fn expire_checkout_session(
    State(fake): State<FakeStripe>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/checkout/sessions/{id}/expire");
    let (request, _) = fake.record("POST", &path, &headers, Vec::new());
    if fake.is_paid(&id) {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "checkout_session_unexpirable",
            "Only Checkout Sessions with a status of `open` can be expired.",
            None,
        );
    }
    Json(session_json(&id, &request, "expired")).into_response()
}

/// Reading a session: complete once paid, open before.
async fn retrieve_checkout_session(
    State(fake): State<FakeStripe>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/checkout/sessions/{id}");
    let (request, _) = fake.record("GET", &path, &headers, Vec::new());
    let status = if fake.is_paid(&id) {
        "complete"
    } else {
        "open"
    };
    Json(session_json(&id, &request, status)).into_response()
}

async fn create_portal_session(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Json<Value> {
    let (request, n) = fake.record("POST", "/v1/billing_portal/sessions", &headers, form);
    Json(json!({
        "id": format!("bps_{n}"),
        "object": "billing_portal.session",
        "configuration": "bpc_fake",
        "created": CREATED,
        "customer": request.get("customer"),
        "flow": null,
        "livemode": false,
        "locale": null,
        "on_behalf_of": null,
        "return_url": request.get("return_url"),
        "url": format!("https://billing.stripe.test/p/session/{n}")
    }))
}

async fn retrieve_price(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    fake.record("GET", &format!("/v1/prices/{id}"), &headers, Vec::new());
    let (amount, nickname, product, interval) = match id.as_str() {
        "price_pro" => (1500, "Pro monthly", "prod_pro", Some("month")),
        "price_studio" => (4900, "Studio monthly", "prod_studio", Some("month")),
        "price_tokens_small" => (500, "500 BrainBits", "prod_brainbits", None),
        _ => {
            return stripe_error(
                StatusCode::NOT_FOUND,
                "resource_missing",
                &format!("No such price: '{id}'"),
                Some("id"),
            );
        }
    };
    let kind = if interval.is_some() {
        "recurring"
    } else {
        "one_time"
    };
    let recurring = interval.map(|interval| {
        json!({
            "aggregate_usage": null, "interval": interval, "interval_count": 1,
            "trial_period_days": null, "usage_type": "licensed"
        })
    });
    Json(json!({
        "id": id,
        "object": "price",
        "active": true,
        "billing_scheme": "per_unit",
        "created": CREATED,
        "currency": "usd",
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": null,
        "metadata": {},
        "nickname": nickname,
        "product": product,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": null,
        "transform_quantity": null,
        "type": kind,
        "unit_amount": amount,
        "unit_amount_decimal": amount.to_string()
    }))
    .into_response()
}

async fn unknown(
    State(fake): State<FakeStripe>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(method.as_str(), uri.path(), &headers, Vec::new());
    stripe_error(
        StatusCode::NOT_FOUND,
        "resource_missing",
        &format!("Unrecognized request URL ({method}: {})", uri.path()),
        None,
    )
}

/// Billing pointed at the fake: PRO and STUDIO (STUDIO at `studio_price`) and one block of
/// 500 BrainBits.
fn configure(config: &mut AppConfig, fake_url: &str, studio_price: &str) {
    config.billing.stripe_secret_key = Some(SECRET.into());
    config.billing.api_base = fake_url.to_owned();
    config.billing.return_url = RETURN_URL.into();
    config.billing.prices = vec![
        (Tier::Pro, "price_pro".into()),
        (Tier::Studio, studio_price.into()),
    ];
    config.billing.token_blocks = vec![TokenBlock {
        id: "small".into(),
        brainbits: 500,
        price_id: "price_tokens_small".into(),
    }];
}

/// A fake Stripe and a loregraph server billing through it.
pub(crate) async fn billed_server() -> (FakeStripe, TestServer) {
    let (fake, url) = FakeStripe::start().await;
    let server =
        TestServer::start_with(move |config| configure(config, &url, "price_studio")).await;
    (fake, server)
}

async fn checkout(server: &TestServer, account: &Account, price_id: &str) -> String {
    let data = server
        .ok_as(account, CHECKOUT, json!({ "priceId": price_id }))
        .await;
    data["createCheckoutSession"]["url"]
        .as_str()
        .expect("url")
        .to_owned()
}

/// The Stripe customer stored for a tenant.
async fn stored_customer(server: &TestServer, tenant_id: &str) -> Option<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        stripe_customer_id: Option<String>,
    }
    let mut db = server.db().await;
    let rows: Vec<Row> =
        diesel::sql_query("SELECT stripe_customer_id FROM billing_accounts WHERE tenant_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(uuid(tenant_id))
            .load(&mut db)
            .await
            .expect("read the billing account");
    rows.into_iter()
        .next()
        .and_then(|row| row.stripe_customer_id)
}

/// Puts a tenant on PRO, as a paid subscription would.
async fn put_on_pro(server: &TestServer, tenant_id: &str) {
    let mut db = server.db().await;
    diesel::sql_query(
        "INSERT INTO billing_accounts (tenant_id, tier) VALUES ($1, 'pro')
         ON CONFLICT (tenant_id) DO UPDATE SET tier = 'pro'",
    )
    .bind::<diesel::sql_types::Uuid, _>(uuid(tenant_id))
    .execute(&mut db)
    .await
    .expect("put the tenant on PRO");
}

fn uuid(text: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(text).expect("uuid")
}

/// An HTTP client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or("<no error>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_sends_stripes_parameters_and_keeps_one_customer() {
    let (fake, server) = billed_server().await;
    let admin = server
        .register("owner@checkout.test", "Checkout Studio")
        .await;
    let tenant = admin.tenant_id.as_str();

    let url = checkout(&server, &admin, "price_pro").await;
    assert_eq!(url, "https://checkout.stripe.test/c/pay/cs_test_1");

    // The customer first: named after the tenant, with the admin's email and the tenant id.
    let customers = fake.customers();
    assert_eq!(customers.len(), 1, "{customers:?}");
    let customer = &customers[0];
    assert_eq!(customer.get("name"), Some("Checkout Studio"));
    assert_eq!(customer.get("email"), Some("owner@checkout.test"));
    assert_eq!(customer.get("metadata[tenant_id]"), Some(tenant));
    assert_eq!(
        customer.authorization.as_deref(),
        Some("Bearer sk_test_x"),
        "the secret key authenticates every call"
    );
    assert_eq!(
        stored_customer(&server, tenant).await.as_deref(),
        Some("cus_test1")
    );

    // Then the session, as Stripe's form encoding spells it.
    let checkouts = fake.checkouts();
    assert_eq!(checkouts.len(), 1, "{checkouts:?}");
    let session = &checkouts[0];
    assert_eq!(session.get("mode"), Some("subscription"));
    assert_eq!(session.get("line_items[0][price]"), Some("price_pro"));
    assert_eq!(session.get("line_items[0][quantity]"), Some("1"));
    assert_eq!(session.get("customer"), Some("cus_test1"));
    assert_eq!(session.get("client_reference_id"), Some(tenant));
    assert_eq!(
        session.metadata(),
        json!({ "tenant_id": tenant, "kind": "subscription", "price_id": "price_pro" })
    );
    assert_eq!(
        session.get("subscription_data[metadata][tenant_id]"),
        Some(tenant)
    );
    assert_eq!(
        session.get("success_url"),
        Some(
            "https://app.loregraph.test/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}"
        )
    );
    assert_eq!(
        session.get("cancel_url"),
        Some("https://app.loregraph.test/billing?checkout=cancelled")
    );
    assert_eq!(session.authorization.as_deref(), Some("Bearer sk_test_x"));

    // A second checkout reuses the customer.
    let url = checkout(&server, &admin, "price_studio").await;
    assert_eq!(url, "https://checkout.stripe.test/c/pay/cs_test_2");
    assert_eq!(fake.customers().len(), 1, "one customer per tenant");
    let second = &fake.checkouts()[1];
    assert_eq!(second.get("customer"), Some("cus_test1"));
    assert_eq!(second.get("line_items[0][price]"), Some("price_studio"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_opens_by_mutation_and_by_redirect() {
    let (fake, server) = billed_server().await;
    let admin = server.register("owner@portal.test", "Portal Studio").await;

    let data = server.ok_as(&admin, PORTAL, json!({})).await;
    assert_eq!(
        data["createPortalSession"]["url"],
        "https://billing.stripe.test/p/session/1"
    );
    assert_eq!(fake.customers().len(), 1, "the portal needs a customer");
    let portal = &fake.portals()[0];
    assert_eq!(portal.get("customer"), Some("cus_test1"));
    assert_eq!(portal.get("return_url"), Some(RETURN_URL));

    // The REST link, with a bearer token: 303 to the portal, not cached.
    let http = no_redirects();
    let response = http
        .get(server.url("/api/billing/portal"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "https://billing.stripe.test/p/session/2"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");

    // With the session cookie of a browser sign-in (a plain link: no CSRF header needed).
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = browser
        .post(server.url("/api/auth/web/login"))
        .json(&json!({ "email": "owner@portal.test", "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let response = browser
        .get(server.url("/api/billing/portal"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "https://billing.stripe.test/p/session/3"
    );
    assert!(
        fake.portals()
            .iter()
            .all(|p| p.get("customer") == Some("cus_test1"))
    );
    assert_eq!(fake.customers().len(), 1);

    // No credentials: 401; a PLAYER: 403; both with a detail and nothing sent to Stripe.
    let response = http
        .get(server.url("/api/billing/portal"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("json");
    assert!(body["detail"].is_string(), "{body}");
    let player = server
        .invite_member(&admin, "player@portal.test", "PLAYER")
        .await;
    let response = http
        .get(server.url("/api/billing/portal"))
        .bearer_auth(&player.token)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.expect("json");
    assert!(body["detail"].is_string(), "{body}");
    assert_eq!(fake.portals().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_pay_and_only_for_what_is_for_sale() {
    let (fake, server) = billed_server().await;
    let admin = server.register("owner@roles.test", "Roles Studio").await;
    let player = server
        .invite_member(&admin, "player@roles.test", "PLAYER")
        .await;
    let builder = server
        .invite_member(&admin, "builder@roles.test", "WORLDBUILDER")
        .await;

    for account in [&player, &builder] {
        server
            .fails_as(
                account,
                CHECKOUT,
                json!({ "priceId": "price_pro" }),
                "FORBIDDEN",
            )
            .await;
        server
            .fails_as(account, PORTAL, json!({}), "FORBIDDEN")
            .await;
        server
            .fails_as(
                account,
                PURCHASE,
                json!({ "blockId": "small" }),
                "FORBIDDEN",
            )
            .await;
    }
    let body = server
        .gql(None, CHECKOUT, json!({ "priceId": "price_pro" }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    // A price that is not a tier's (a token block's included) is refused before Stripe.
    for price in ["price_unknown", "price_tokens_small", ""] {
        let body = server
            .gql_as(&admin, CHECKOUT, json!({ "priceId": price }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "priceId",
            "{body}"
        );
    }
    assert!(
        fake.requests().is_empty(),
        "nothing reached Stripe: {:?}",
        fake.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_purchases_need_their_tier_and_carry_the_block() {
    let (fake, server) = billed_server().await;
    let admin = server.register("owner@tokens.test", "Tokens Studio").await;

    // A new tenant is on FREE, which has no TOKEN_PURCHASES.
    let body = server
        .gql_as(&admin, PURCHASE, json!({ "blockId": "small" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["reason"], "feature_gate", "{body}");
    assert_eq!(extensions["feature"], "TOKEN_PURCHASES", "{body}");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    put_on_pro(&server, &admin.tenant_id).await;
    let body = server
        .gql_as(&admin, PURCHASE, json!({ "blockId": "huge" }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "blockId",
        "{body}"
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());

    let data = server
        .ok_as(&admin, PURCHASE, json!({ "blockId": "small" }))
        .await;
    assert_eq!(
        data["purchaseTokens"]["url"],
        "https://checkout.stripe.test/c/pay/cs_test_1"
    );
    let session = &fake.checkouts()[0];
    let tenant = admin.tenant_id.as_str();
    assert_eq!(session.get("mode"), Some("payment"));
    assert_eq!(
        session.get("line_items[0][price]"),
        Some("price_tokens_small")
    );
    assert_eq!(session.get("line_items[0][quantity]"), Some("1"));
    assert_eq!(session.get("customer"), Some("cus_test1"));
    assert_eq!(session.get("client_reference_id"), Some(tenant));
    assert_eq!(
        session.metadata(),
        json!({
            "tenant_id": tenant, "kind": "tokens", "block_id": "small",
            "brainbits": "500", "user_id": admin.user_id
        })
    );
    assert_eq!(
        session.get("payment_intent_data[metadata][block_id]"),
        Some("small")
    );
    assert_eq!(
        session.get("payment_intent_data[metadata][tenant_id]"),
        Some(tenant)
    );
    assert_eq!(session.get("subscription_data[metadata][tenant_id]"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_are_public_and_read_from_stripe_once() {
    let (fake, server) = billed_server().await;

    let data = server.ok(None, PRICES, json!({})).await;
    assert_eq!(
        data["billingPrices"],
        json!([
            { "tier": "PRO", "priceId": "price_pro", "unitAmount": 1500, "currency": "usd", "interval": "month" },
            { "tier": "STUDIO", "priceId": "price_studio", "unitAmount": 4900, "currency": "usd", "interval": "month" }
        ])
    );
    assert_eq!(
        data["tokenBlockPrices"],
        json!([
            { "blockId": "small", "brainbits": 500, "priceId": "price_tokens_small", "unitAmount": 500, "currency": "usd" }
        ])
    );
    let reads = |fake: &FakeStripe| {
        let mut paths: Vec<String> = fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET")
            .map(|r| r.path)
            .collect();
        paths.sort();
        paths
    };
    assert_eq!(
        reads(&fake),
        [
            "/v1/prices/price_pro",
            "/v1/prices/price_studio",
            "/v1/prices/price_tokens_small"
        ]
    );

    // Asked again (by anyone), the prices come from the cache.
    let again = server.ok(None, PRICES, json!({})).await;
    assert_eq!(again, data);
    assert_eq!(reads(&fake).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_gets_its_own_customer() {
    let (fake, server) = billed_server().await;
    let first = server.register("owner@first.test", "First Studio").await;
    let second = server.register("owner@second.test", "Second Studio").await;

    checkout(&server, &first, "price_pro").await;
    checkout(&server, &second, "price_pro").await;
    let data = server.ok_as(&second, PORTAL, json!({})).await;
    assert!(data["createPortalSession"]["url"].is_string());

    let customers = fake.customers();
    assert_eq!(customers.len(), 2, "{customers:?}");
    assert_eq!(
        customers[0].get("metadata[tenant_id]"),
        Some(first.tenant_id.as_str())
    );
    assert_eq!(customers[0].get("name"), Some("First Studio"));
    assert_eq!(
        customers[1].get("metadata[tenant_id]"),
        Some(second.tenant_id.as_str())
    );
    assert_eq!(customers[1].get("name"), Some("Second Studio"));

    let checkouts = fake.checkouts();
    assert_eq!(checkouts[0].get("customer"), Some("cus_test1"));
    assert_eq!(
        checkouts[0].get("client_reference_id"),
        Some(first.tenant_id.as_str())
    );
    assert_eq!(checkouts[1].get("customer"), Some("cus_test2"));
    assert_eq!(
        checkouts[1].get("client_reference_id"),
        Some(second.tenant_id.as_str())
    );
    assert_eq!(fake.portals()[0].get("customer"), Some("cus_test2"));
    assert_eq!(
        stored_customer(&server, &first.tenant_id).await.as_deref(),
        Some("cus_test1")
    );
    assert_eq!(
        stored_customer(&server, &second.tenant_id).await.as_deref(),
        Some("cus_test2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_first_payments_make_one_customer() {
    let (fake, server) = billed_server().await;
    let admin = server.register("owner@race.test", "Race Studio").await;
    let (a, b, c) = tokio::join!(
        server.gql_as(&admin, PORTAL, json!({})),
        server.gql_as(&admin, CHECKOUT, json!({ "priceId": "price_pro" })),
        server.gql_as(&admin, PORTAL, json!({})),
    );
    for body in [&a, &b, &c] {
        assert!(body.get("errors").is_none(), "{body}");
    }
    assert_eq!(fake.customers().len(), 1, "{:?}", fake.customers());
    assert!(
        fake.portals()
            .iter()
            .chain(fake.checkouts().iter())
            .all(|r| r.get("customer") == Some("cus_test1"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_stripe_refuses_is_told_without_the_key() {
    let (fake, url) = FakeStripe::start().await;
    let server = TestServer::start_with(move |config| configure(config, &url, "price_gone")).await;
    let admin = server
        .register("owner@refused.test", "Refused Studio")
        .await;

    let body = server
        .gql_as(&admin, CHECKOUT, json!({ "priceId": "price_gone" }))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert!(
        message(&body).contains("No such price: 'price_gone'"),
        "{body}"
    );
    assert!(!body.to_string().contains(SECRET), "{body}");
    assert_eq!(fake.checkouts().len(), 1);

    // A price Stripe does not know is listed without an amount; the others still show theirs.
    let data = server.ok(None, PRICES, json!({})).await;
    assert_eq!(data["billingPrices"][0]["unitAmount"], 1500);
    assert_eq!(
        data["billingPrices"][1],
        json!({ "tier": "STUDIO", "priceId": "price_gone", "unitAmount": null, "currency": null, "interval": null })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_billing_configured_payments_say_so_and_the_rest_works() {
    let server = TestServer::start().await;
    let admin = server.register("owner@free.test", "Self Hosted").await;

    for (query, variables) in [
        (CHECKOUT, json!({ "priceId": "price_pro" })),
        (PORTAL, json!({})),
        (PURCHASE, json!({ "blockId": "small" })),
    ] {
        let body = server.gql_as(&admin, query, variables).await;
        assert!(message(&body).contains("not configured"), "{query}: {body}");
        assert_ne!(error_code(&body), "INTERNAL", "{body}");
    }
    let body = server.gql(None, PRICES, json!({})).await;
    assert!(message(&body).contains("not configured"), "{body}");

    let response = server
        .http
        .get(server.url("/api/billing/portal"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("send");
    let status = response.status();
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{status}"
    );
    let body: Value = response.json().await.expect("json");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not configured")),
        "{body}"
    );

    // Everything else answers as usual.
    let data = server.ok_as(&admin, "{ me { email } }", json!({})).await;
    assert_eq!(data["me"]["email"], "owner@free.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_checkouts_open_one_session_and_another_price_replaces_it() {
    let (fake, server) = billed_server().await;
    let admin = server.register("owner@twice.test", "Twice Studio").await;
    // "Subscribe" clicked three times at once (from two tabs and a double click).
    let (a, b, c) = tokio::join!(
        checkout(&server, &admin, "price_pro"),
        checkout(&server, &admin, "price_pro"),
        checkout(&server, &admin, "price_pro"),
    );
    assert_eq!(fake.checkouts().len(), 1, "{:?}", fake.checkouts());
    assert!(a == b && b == c, "{a} {b} {c}");

    // Another tier: the open page is expired at Stripe (no second subscription can come of
    // it) and a new one opened.
    let studio = checkout(&server, &admin, "price_studio").await;
    assert_ne!(studio, a);
    assert_eq!(fake.checkouts().len(), 2);
    assert_eq!(
        fake.expirations(),
        vec!["/v1/checkout/sessions/cs_test_1/expire".to_owned()]
    );
    assert_eq!(checkout(&server, &admin, "price_studio").await, studio);

    // Token purchases: one open page per member and block, apart from the subscription's.
    put_on_pro(&server, &admin.tenant_id).await;
    let purchase = || async {
        let data = server
            .ok_as(&admin, PURCHASE, json!({ "blockId": "small" }))
            .await;
        data["purchaseTokens"]["url"]
            .as_str()
            .expect("url")
            .to_owned()
    };
    let (mine, again) = tokio::join!(purchase(), purchase());
    assert_eq!(mine, again);
    assert_ne!(mine, studio);
    assert_eq!(fake.checkouts().len(), 3);

    // Another tenant's admin, and a member below ADMIN, open nothing of this tenant's.
    let outsider = server.register("owner@elsewhere.test", "Elsewhere").await;
    assert_ne!(checkout(&server, &outsider, "price_pro").await, a);
    let player = server
        .invite_member(&admin, "player@twice.test", "PLAYER")
        .await;
    server
        .fails_as(
            &player,
            CHECKOUT,
            json!({ "priceId": "price_pro" }),
            "FORBIDDEN",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripe_that_cannot_be_reached_is_a_retryable_internal_error() {
    // A port nothing listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let server =
        TestServer::start_with(move |config| configure(config, &url, "price_studio")).await;
    let admin = server.register("owner@down.test", "Down Studio").await;
    let body = server
        .gql_as(&admin, CHECKOUT, json!({ "priceId": "price_pro" }))
        .await;
    assert_eq!(error_code(&body), "INTERNAL", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryable"], true, "{body}");
    assert!(message(&body).contains("Stripe"), "{body}");
    assert!(!body.to_string().contains(SECRET), "{body}");
    // A failure on the server's side names the request, to find it in the log.
    let answer = server
        .http
        .post(server.url("/graphql"))
        .bearer_auth(&admin.token)
        .header("x-request-id", "stripe-down-1")
        .json(&json!({ "query": CHECKOUT, "variables": { "priceId": "price_pro" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "stripe-down-1");
    let body: Value = answer.json().await.unwrap();
    assert_eq!(error_code(&body), "INTERNAL", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"], "stripe-down-1",
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_near_its_expiry_or_just_paid_is_not_handed_out_again() {
    let (fake, server) = billed_server().await;
    let admin = server.register("owner@late.test", "Late Studio").await;
    let first = checkout(&server, &admin, "price_pro").await;

    // Five minutes left is too little to pay: it is expired at Stripe and replaced.
    {
        use diesel_async::RunQueryDsl;
        let mut db = server.db().await;
        diesel::sql_query("UPDATE billing_checkouts SET expires_at = now() + interval '5 minutes'")
            .execute(&mut db)
            .await
            .unwrap();
    }
    let second = checkout(&server, &admin, "price_pro").await;
    assert_ne!(first, second);
    assert_eq!(
        fake.expirations(),
        vec!["/v1/checkout/sessions/cs_test_1/expire".to_owned()]
    );

    // Paid just now (its webhook not in yet): another tier's page would make a second
    // subscription, so it is refused until the payment applies.
    fake.pay("cs_test_2");
    let body = server
        .gql_as(&admin, CHECKOUT, json!({ "priceId": "price_studio" }))
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert!(message(&body).contains("just paid"), "{body}");
    assert_eq!(fake.checkouts().len(), 2);
}
