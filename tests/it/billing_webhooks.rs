//! Stripe webhooks (`POST /api/billing/webhook`): events signed here with Stripe's real scheme
//! (HMAC-SHA256 of `"{t}.{body}"` keyed with the `whsec_` secret) move tenants between tiers,
//! credit BrainBits purchases and record invoices, each exactly once, and anything unsigned,
//! badly signed or stale is refused with nothing changed.
//!
//! The helpers at the top (`billing_server`, `deliver`, `subscription_event`, ...) are for any
//! test that needs a tenant on a tier.

use chrono::Utc;
use hmac::{Hmac, Mac};
use loregraph::billing::tiers::Tier;
use loregraph::config::AppConfig;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::harness::*;

pub const WEBHOOK_SECRET: &str = "whsec_test_secret";
/// The length of the billing periods the builders below write.
pub const PERIOD_SECS: i64 = 30 * 24 * 3600;

/// Stripe's billing settings for a test server: a key, the webhook secret and a price per tier.
pub fn configure_billing(c: &mut AppConfig) {
    c.billing.stripe_secret_key = Some("sk_test_x".into());
    c.billing.webhook_secret = Some(WEBHOOK_SECRET.into());
    c.billing.prices = vec![
        (Tier::Pro, "price_pro".into()),
        (Tier::Studio, "price_studio".into()),
    ];
}

/// A server with Stripe configured (see `configure_billing`).
pub async fn billing_server() -> TestServer {
    TestServer::start_with(configure_billing).await
}

/// The hex `v1` signature Stripe computes: HMAC-SHA256 of `"{timestamp}.{payload}"`.
pub fn signature_hex(secret: &str, payload: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A whole `Stripe-Signature` header value: `t=<timestamp>,v1=<hex>`.
pub fn stripe_signature(secret: &str, payload: &str, timestamp: i64) -> String {
    format!(
        "t={timestamp},v1={}",
        signature_hex(secret, payload, timestamp)
    )
}

pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// POSTs `payload` as it is, with `signature` as the `Stripe-Signature` header when given.
pub async fn post_webhook(
    server: &TestServer,
    payload: &str,
    signature: Option<&str>,
) -> (u16, Value) {
    let mut request = server
        .http
        .post(server.url("/api/billing/webhook"))
        .header("content-type", "application/json")
        .body(payload.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// Delivers `event` as Stripe does: signed with `WEBHOOK_SECRET` at the current time.
pub async fn deliver(server: &TestServer, event: &Value) -> (u16, Value) {
    let payload = event.to_string();
    let signature = stripe_signature(WEBHOOK_SECRET, &payload, now());
    post_webhook(server, &payload, Some(&signature)).await
}

/// `deliver`, asserting a 200 and returning the body.
pub async fn deliver_ok(server: &TestServer, event: &Value) -> Value {
    let (status, body) = deliver(server, event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["received"], true, "{body}");
    body
}

/// The Stripe customer the builders use for a tenant.
pub fn customer_of(tenant_id: &str) -> String {
    format!("cus_{}", tenant_id.replace('-', ""))
}

/// An event envelope as Stripe sends it.
pub fn stripe_event(id: &str, event_type: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": event_type,
        "data": { "object": object }
    })
}

/// A `customer.subscription.<kind>` event (`kind`: created, updated, deleted; or a whole event
/// type) for the tenant's subscription on `price`, created at `created` (unix seconds), with a
/// period from `created` to `created + PERIOD_SECS`.
pub fn subscription_event(
    id: &str,
    kind: &str,
    tenant_id: &str,
    price: &str,
    status: &str,
    created: i64,
) -> Value {
    let event_type = if kind.contains('.') {
        kind.to_owned()
    } else {
        format!("customer.subscription.{kind}")
    };
    let key = tenant_id.replace('-', "");
    stripe_event(
        id,
        &event_type,
        created,
        json!({
            "id": format!("sub_{key}"),
            "object": "subscription",
            "customer": customer_of(tenant_id),
            "status": status,
            "cancel_at_period_end": false,
            "canceled_at": null,
            "current_period_start": created,
            "current_period_end": created + PERIOD_SECS,
            "items": {
                "object": "list",
                "data": [{
                    "id": format!("si_{key}"),
                    "object": "subscription_item",
                    "price": {
                        "id": price,
                        "object": "price",
                        "currency": "usd",
                        "unit_amount": 1900,
                        "recurring": { "interval": "month", "interval_count": 1 }
                    },
                    "quantity": 1
                }],
                "has_more": false
            },
            "livemode": false,
            "metadata": { "tenant_id": tenant_id }
        }),
    )
}

/// A completed, paid checkout session buying `brainbits` tokens for the tenant.
pub fn token_checkout_event(
    id: &str,
    session_id: &str,
    tenant_id: &str,
    user_id: &str,
    brainbits: i64,
) -> Value {
    stripe_event(
        id,
        "checkout.session.completed",
        now(),
        json!({
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            "customer": null,
            "client_reference_id": tenant_id,
            "subscription": null,
            "amount_total": 500,
            "currency": "usd",
            "metadata": {
                "tenant_id": tenant_id,
                "kind": "tokens",
                "block_id": "block_500",
                "brainbits": brainbits.to_string(),
                "user_id": user_id
            }
        }),
    )
}

/// An `invoice.paid` or `invoice.payment_failed` event.
pub fn invoice_event(
    id: &str,
    event_type: &str,
    invoice_id: &str,
    customer: &str,
    status: &str,
    amount_due: i64,
    amount_paid: i64,
) -> Value {
    let created = now() - 60;
    stripe_event(
        id,
        event_type,
        created,
        json!({
            "id": invoice_id,
            "object": "invoice",
            "customer": customer,
            "status": status,
            "currency": "usd",
            "amount_due": amount_due,
            "amount_paid": amount_paid,
            "amount_remaining": amount_due - amount_paid,
            "hosted_invoice_url": format!("https://invoice.stripe.com/i/{invoice_id}"),
            "period_start": created - PERIOD_SECS,
            "period_end": created,
            "created": created,
            "subscription_details": { "metadata": {} },
            "metadata": {}
        }),
    )
}

const SUBSCRIPTION: &str = "{ subscription { tier status currentPeriodEnd cancelAtPeriodEnd } }";

async fn subscription(server: &TestServer, account: &Account) -> Value {
    server.ok_as(account, SUBSCRIPTION, json!({})).await["subscription"].clone()
}

async fn tier(server: &TestServer, account: &Account) -> String {
    let subscription = subscription(server, account).await;
    subscription["tier"]
        .as_str()
        .unwrap_or_else(|| panic!("a tier: {subscription}"))
        .to_owned()
}

async fn balance(server: &TestServer, account: &Account) -> i64 {
    let data = server
        .ok_as(account, "{ brainbitsBalance { balance } }", json!({}))
        .await;
    data["brainbitsBalance"]["balance"]
        .as_i64()
        .unwrap_or_else(|| panic!("a balance: {data}"))
}

async fn purchases(server: &TestServer, account: &Account) -> Value {
    server
        .ok_as(
            account,
            "{ purchaseHistory { total purchases { amount reason } } }",
            json!({}),
        )
        .await["purchaseHistory"]
        .clone()
}

async fn invoices(server: &TestServer, account: &Account) -> Value {
    server
        .ok_as(
            account,
            "{ invoices { total invoices { id status amountPaid currency } } }",
            json!({}),
        )
        .await["invoices"]
        .clone()
}

fn invoice<'a>(page: &'a Value, id: &str) -> &'a Value {
    page["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("invoice {id} in {page}"))
}

fn unix(datetime: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(datetime.as_str().expect("a DateTime"))
        .expect("RFC 3339")
        .timestamp()
}

fn lowercase(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_events_move_the_tenant_between_tiers_once_and_in_order() {
    let server = billing_server().await;
    let owner = server.register("owner@studio.test", "Studio").await;
    let tenant = owner.tenant_id.as_str();
    let t0 = now() - 3600;

    // The studio subscribes to Pro.
    let created = subscription_event("evt_sub_1", "created", tenant, "price_pro", "active", t0);
    let body = deliver_ok(&server, &created).await;
    assert!(
        body["duplicate"].is_null() && body["ignored"].is_null(),
        "{body}"
    );
    let pro = subscription(&server, &owner).await;
    assert_eq!(pro["tier"], "PRO", "{pro}");
    assert_eq!(lowercase(&pro["status"]), "active", "{pro}");
    assert_eq!(unix(&pro["currentPeriodEnd"]), t0 + PERIOD_SECS, "{pro}");
    assert_eq!(pro["cancelAtPeriodEnd"], false, "{pro}");

    // Stripe retries the same event: acknowledged as a duplicate, nothing changes.
    let body = deliver_ok(&server, &created).await;
    assert_eq!(body["duplicate"], true, "{body}");
    assert_eq!(subscription(&server, &owner).await, pro);

    // An upgrade to Studio, in the shape of newer API versions (the period on the item only).
    let mut upgrade = subscription_event(
        "evt_sub_2",
        "updated",
        tenant,
        "price_studio",
        "active",
        t0 + 100,
    );
    let object = &mut upgrade["data"]["object"];
    object
        .as_object_mut()
        .unwrap()
        .remove("current_period_start");
    object.as_object_mut().unwrap().remove("current_period_end");
    object["items"]["data"][0]["current_period_start"] = json!(t0 + 100);
    object["items"]["data"][0]["current_period_end"] = json!(t0 + 100 + 2 * PERIOD_SECS);
    deliver_ok(&server, &upgrade).await;
    let studio = subscription(&server, &owner).await;
    assert_eq!(studio["tier"], "STUDIO", "{studio}");
    assert_eq!(
        unix(&studio["currentPeriodEnd"]),
        t0 + 100 + 2 * PERIOD_SECS,
        "{studio}"
    );

    // An older update (created before the upgrade) arrives late: it is recorded, but the
    // tenant stays on Studio.
    let late = subscription_event(
        "evt_sub_3",
        "updated",
        tenant,
        "price_pro",
        "active",
        t0 + 50,
    );
    deliver_ok(&server, &late).await;
    assert_eq!(subscription(&server, &owner).await, studio);

    // The customer schedules the cancellation, then the subscription ends.
    let mut cancelling = subscription_event(
        "evt_sub_4",
        "updated",
        tenant,
        "price_studio",
        "active",
        t0 + 200,
    );
    cancelling["data"]["object"]["cancel_at_period_end"] = json!(true);
    deliver_ok(&server, &cancelling).await;
    let scheduled = subscription(&server, &owner).await;
    assert_eq!(scheduled["tier"], "STUDIO", "{scheduled}");
    assert_eq!(scheduled["cancelAtPeriodEnd"], true, "{scheduled}");

    let deleted = subscription_event(
        "evt_sub_5",
        "deleted",
        tenant,
        "price_studio",
        "canceled",
        t0 + 300,
    );
    deliver_ok(&server, &deleted).await;
    let free = subscription(&server, &owner).await;
    assert_eq!(free["tier"], "FREE", "{free}");
    assert_eq!(lowercase(&free["status"]), "canceled", "{free}");

    // Replaying any earlier event now changes nothing.
    for event in [&created, &upgrade, &cancelling] {
        let body = deliver_ok(&server, event).await;
        assert_eq!(body["duplicate"], true, "{body}");
    }
    assert_eq!(tier(&server, &owner).await, "FREE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_badly_signed_or_stale_deliveries_are_refused_and_change_nothing() {
    let server = billing_server().await;
    let owner = server.register("owner@signed.test", "Signed").await;
    let tenant = owner.tenant_id.as_str();
    let t0 = now() - 3600;
    deliver_ok(
        &server,
        &subscription_event("evt_pro", "created", tenant, "price_pro", "active", t0),
    )
    .await;
    let before = subscription(&server, &owner).await;
    assert_eq!(before["tier"], "PRO", "{before}");

    // Someone tries to upgrade the studio for free.
    let upgrade = subscription_event(
        "evt_upgrade",
        "updated",
        tenant,
        "price_studio",
        "active",
        t0 + 100,
    )
    .to_string();
    let now = now();
    let signed_elsewhere = upgrade.replace("price_studio", "price_pro");
    let attempts: Vec<(&str, String, Option<String>)> = vec![
        (
            "another secret",
            upgrade.clone(),
            Some(stripe_signature("whsec_not_ours", &upgrade, now)),
        ),
        (
            "a signature over another body",
            upgrade.clone(),
            Some(stripe_signature(WEBHOOK_SECRET, &signed_elsewhere, now)),
        ),
        (
            "stale by 301 s",
            upgrade.clone(),
            Some(stripe_signature(WEBHOOK_SECRET, &upgrade, now - 301)),
        ),
        // The exact edges (300 s in, 301 s out) are unit tests of the verifier; over HTTP the
        // server's clock moves on while the attempts run, so the future one keeps a margin.
        (
            "six minutes in the future",
            upgrade.clone(),
            Some(stripe_signature(WEBHOOK_SECRET, &upgrade, now + 360)),
        ),
        (
            "a timestamp that is not the signed one",
            upgrade.clone(),
            Some(format!(
                "t={},v1={}",
                now - 1,
                signature_hex(WEBHOOK_SECRET, &upgrade, now)
            )),
        ),
        ("no header", upgrade.clone(), None),
        ("a garbage header", upgrade.clone(), Some("garbage".into())),
        (
            "a header without a timestamp",
            upgrade.clone(),
            Some(format!(
                "v1={}",
                signature_hex(WEBHOOK_SECRET, &upgrade, now)
            )),
        ),
        (
            "only the v0 scheme",
            upgrade.clone(),
            Some(format!(
                "t={now},v0={}",
                signature_hex(WEBHOOK_SECRET, &upgrade, now)
            )),
        ),
        (
            "a non-hex signature",
            upgrade.clone(),
            Some(format!("t={now},v1=not-hex")),
        ),
    ];
    for (what, payload, signature) in attempts {
        let (status, body) = post_webhook(&server, &payload, signature.as_deref()).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(body["detail"].is_string(), "{what}: {body}");
        assert_eq!(subscription(&server, &owner).await, before, "{what}");
    }

    // A valid signature on something that is not an event is refused after the check.
    for payload in ["not json", r#"{"id":"evt_x","type":"invoice.paid"}"#] {
        let (status, body) = post_webhook(
            &server,
            payload,
            Some(&stripe_signature(WEBHOOK_SECRET, payload, now)),
        )
        .await;
        assert_eq!(status, 400, "{payload}: {body}");
        assert!(body["detail"].is_string(), "{body}");
    }
    assert_eq!(subscription(&server, &owner).await, before);

    // Nothing was recorded: the genuine delivery of the same event id still applies. It comes
    // while Stripe rolls the secret: an old signature, then the good one, and a v0 to ignore.
    let header = format!(
        "t={now},v0={},v1={},v1={}",
        signature_hex(WEBHOOK_SECRET, &upgrade, now),
        signature_hex("whsec_previous_secret", &upgrade, now),
        signature_hex(WEBHOOK_SECRET, &upgrade, now),
    );
    let (status, body) = post_webhook(&server, &upgrade, Some(&header)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["duplicate"].is_null(), "{body}");
    assert_eq!(tier(&server, &owner).await, "STUDIO");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_webhook_secret_every_delivery_is_refused() {
    let server = TestServer::start_with(|c| {
        configure_billing(c);
        c.billing.webhook_secret = None;
    })
    .await;
    let owner = server.register("owner@unset.test", "Unset").await;
    let before = subscription(&server, &owner).await;
    let event = subscription_event(
        "evt_unset",
        "created",
        &owner.tenant_id,
        "price_pro",
        "active",
        now(),
    );
    let (status, body) = deliver(&server, &event).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].is_string(), "{body}");
    assert_eq!(subscription(&server, &owner).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_purchase_is_credited_exactly_once() {
    let server = billing_server().await;
    let owner = server.register("owner@tokens.test", "Tokens").await;
    let tenant = owner.tenant_id.as_str();
    let start = balance(&server, &owner).await;

    // The page the purchase was made on was open; once paid it is not handed out again.
    let open_pages =
        "SELECT count(*) AS n FROM billing_checkouts WHERE stripe_session_id = 'cs_test_1'";
    {
        use diesel_async::RunQueryDsl;
        let mut db = server.db().await;
        diesel::sql_query(format!(
            "INSERT INTO billing_checkouts (tenant_id, purpose, price_id, stripe_session_id, url, expires_at)
             VALUES ('{tenant}', 'tokens:small:{}', 'price_tokens_small', 'cs_test_1', 'https://pay', now() + interval '1 day')",
            owner.user_id
        ))
        .execute(&mut db)
        .await
        .unwrap();
    }
    assert_eq!(count_rows(&mut server.db().await, open_pages).await, 1);
    let purchase = token_checkout_event("evt_cs_1", "cs_test_1", tenant, &owner.user_id, 500);
    deliver_ok(&server, &purchase).await;
    assert_eq!(balance(&server, &owner).await, start + 500);
    assert_eq!(count_rows(&mut server.db().await, open_pages).await, 0);
    let history = purchases(&server, &owner).await;
    assert_eq!(history["total"], 1, "{history}");
    assert_eq!(history["purchases"][0]["amount"], 500, "{history}");
    assert!(history["purchases"][0]["reason"].is_string(), "{history}");

    // The same event again, and another event for the same checkout session.
    let body = deliver_ok(&server, &purchase).await;
    assert_eq!(body["duplicate"], true, "{body}");
    let mut async_success = purchase.clone();
    async_success["id"] = json!("evt_cs_1_again");
    async_success["type"] = json!("checkout.session.async_payment_succeeded");
    deliver_ok(&server, &async_success).await;
    assert_eq!(balance(&server, &owner).await, start + 500);
    assert_eq!(purchases(&server, &owner).await["total"], 1);

    // A session that is not paid yet credits nothing.
    let mut unpaid = token_checkout_event("evt_cs_2", "cs_test_2", tenant, &owner.user_id, 300);
    unpaid["data"]["object"]["payment_status"] = json!("unpaid");
    let body = deliver_ok(&server, &unpaid).await;
    assert_eq!(body["ignored"], true, "{body}");
    assert_eq!(balance(&server, &owner).await, start + 500);
}

/// Why the server recorded event `id` as rejected, if it did.
async fn rejection_of(server: &TestServer, id: &str) -> Option<String> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Recorded {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        rejection: Option<String>,
    }
    let mut db = server.db().await;
    let recorded: Recorded = diesel::sql_query("SELECT rejection FROM stripe_events WHERE id = $1")
        .bind::<diesel::sql_types::Text, _>(id)
        .get_result(&mut db)
        .await
        .expect("the event is recorded");
    recorded.rejection
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_out_of_range_are_acknowledged_rejections_never_server_errors() {
    let server = billing_server().await;
    let owner = server.register("owner@range.test", "Range").await;
    let tenant = owner.tenant_id.as_str();
    let start = balance(&server, &owner).await;

    // A signed purchase whose amount would overflow the ledger: acknowledged, recorded with
    // its reason, and nothing credited. Its replay is a duplicate (Stripe stops retrying).
    let overflow = token_checkout_event("evt_huge", "cs_huge", tenant, &owner.user_id, i64::MAX);
    let body = deliver_ok(&server, &overflow).await;
    assert!(
        body["rejected"]
            .as_str()
            .is_some_and(|r| r.contains("cs_huge")),
        "{body}"
    );
    assert!(rejection_of(&server, "evt_huge").await.is_some());
    assert_eq!(deliver_ok(&server, &overflow).await["duplicate"], true);
    assert_eq!(balance(&server, &owner).await, start);

    // Amounts that are no number at all, or past every integer type, or not positive.
    for (id, amount) in [
        ("evt_big", json!("99999999999999999999999")),
        ("evt_neg", json!("-5")),
        ("evt_text", json!("lots")),
    ] {
        let mut event = token_checkout_event(id, &format!("cs_{id}"), tenant, &owner.user_id, 1);
        event["data"]["object"]["metadata"]["brainbits"] = amount;
        let body = deliver_ok(&server, &event).await;
        assert!(body["rejected"].is_string(), "{id}: {body}");
        assert!(rejection_of(&server, id).await.is_some(), "{id}");
    }
    assert_eq!(balance(&server, &owner).await, start);

    // A balance filled to the ledger's ceiling takes no more.
    let ceiling = 1_000_000_000_000_000 - start;
    let fill = token_checkout_event("evt_fill", "cs_fill", tenant, &owner.user_id, ceiling);
    assert!(deliver_ok(&server, &fill).await["rejected"].is_null());
    assert_eq!(balance(&server, &owner).await, 1_000_000_000_000_000);
    let more = token_checkout_event("evt_more", "cs_more", tenant, &owner.user_id, 1);
    let body = deliver_ok(&server, &more).await;
    assert!(body["rejected"].is_string(), "{body}");
    assert_eq!(balance(&server, &owner).await, 1_000_000_000_000_000);

    // An invoice whose amounts no integer holds cannot be read: acknowledged, recorded.
    let customer = customer_of(tenant);
    let mut invoice = invoice_event(
        "evt_inv_huge",
        "invoice.paid",
        "in_huge",
        &customer,
        "paid",
        1,
        1,
    );
    invoice["data"]["object"]["amount_due"] = json!(1e30);
    let body = deliver_ok(&server, &invoice).await;
    assert!(body["rejected"].is_string(), "{body}");
    assert!(rejection_of(&server, "evt_inv_huge").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_are_recorded_for_the_customer_s_tenant() {
    let server = billing_server().await;
    let owner = server.register("owner@invoices.test", "Invoices").await;
    let tenant = owner.tenant_id.as_str();
    let customer = customer_of(tenant);

    // The subscription checkout ties the Stripe customer to the tenant (named only in
    // client_reference_id, as a checkout session created by the server does).
    let checkout = stripe_event(
        "evt_checkout_sub",
        "checkout.session.completed",
        now() - 120,
        json!({
            "id": "cs_sub_1",
            "object": "checkout.session",
            "mode": "subscription",
            "status": "complete",
            "payment_status": "paid",
            "customer": customer,
            "client_reference_id": tenant,
            "subscription": "sub_1",
            "metadata": {}
        }),
    );
    let body = deliver_ok(&server, &checkout).await;
    assert!(body["ignored"].is_null(), "{body}");

    deliver_ok(
        &server,
        &invoice_event(
            "evt_inv_1",
            "invoice.paid",
            "in_paid_1",
            &customer,
            "paid",
            1900,
            1900,
        ),
    )
    .await;
    let page = invoices(&server, &owner).await;
    let paid = invoice(&page, "in_paid_1");
    assert_eq!(lowercase(&paid["status"]), "paid", "{page}");
    assert_eq!(paid["amountPaid"], 1900, "{page}");
    assert_eq!(lowercase(&paid["currency"]), "usd", "{page}");

    deliver_ok(
        &server,
        &invoice_event(
            "evt_inv_2",
            "invoice.payment_failed",
            "in_failed_2",
            &customer,
            "open",
            1900,
            0,
        ),
    )
    .await;
    let page = invoices(&server, &owner).await;
    assert_eq!(page["total"], 2, "{page}");
    let failed = invoice(&page, "in_failed_2");
    assert_eq!(lowercase(&failed["status"]), "open", "{page}");
    assert_eq!(failed["amountPaid"], 0, "{page}");
    assert_eq!(
        lowercase(&invoice(&page, "in_paid_1")["status"]),
        "paid",
        "{page}"
    );

    // An invoice of a customer Stripe knows but we do not, named by the newer API's
    // parent.subscription_details metadata, still finds its tenant.
    let mut by_metadata = invoice_event(
        "evt_inv_3",
        "invoice.paid",
        "in_paid_3",
        "cus_unknown_elsewhere",
        "paid",
        4900,
        4900,
    );
    by_metadata["data"]["object"]["parent"] = json!({
        "type": "subscription_details",
        "subscription_details": { "metadata": { "tenant_id": tenant }, "subscription": "sub_1" }
    });
    deliver_ok(&server, &by_metadata).await;
    let page = invoices(&server, &owner).await;
    assert_eq!(page["total"], 3, "{page}");
    assert_eq!(invoice(&page, "in_paid_3")["amountPaid"], 4900, "{page}");

    // An invoice for nobody we know is acknowledged and ignored.
    let body = deliver_ok(
        &server,
        &invoice_event(
            "evt_inv_4",
            "invoice.paid",
            "in_nobody_4",
            "cus_nobody",
            "paid",
            100,
            100,
        ),
    )
    .await;
    assert_eq!(body["ignored"], true, "{body}");
    assert_eq!(invoices(&server, &owner).await["total"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_events_are_ignored_and_other_tenants_events_never_touch_this_one() {
    let server = billing_server().await;
    let alice = server.register("alice@a.test", "Studio A").await;
    let bob = server.register("bob@b.test", "Studio B").await;
    let alice_balance = balance(&server, &alice).await;
    let alice_subscription = subscription(&server, &alice).await;
    let bob_balance = balance(&server, &bob).await;

    // An event type loregraph does not handle: acknowledged, ignored, and recorded.
    let unknown = stripe_event(
        "evt_unknown_1",
        "customer.created",
        now(),
        json!({ "id": "cus_new", "object": "customer", "email": "x@y.test" }),
    );
    let body = deliver_ok(&server, &unknown).await;
    assert_eq!(body["ignored"], true, "{body}");
    let body = deliver_ok(&server, &unknown).await;
    assert_eq!(body["duplicate"], true, "{body}");

    // Bob's studio buys tokens: Bob's balance grows, Alice's does not.
    deliver_ok(
        &server,
        &token_checkout_event("evt_b_tokens", "cs_b_1", &bob.tenant_id, &bob.user_id, 700),
    )
    .await;
    assert_eq!(balance(&server, &bob).await, bob_balance + 700);
    assert_eq!(balance(&server, &alice).await, alice_balance);
    assert_eq!(purchases(&server, &alice).await["total"], 0);

    // Bob's studio goes Pro; Alice's subscription is untouched.
    deliver_ok(
        &server,
        &subscription_event(
            "evt_b_pro",
            "created",
            &bob.tenant_id,
            "price_pro",
            "active",
            now(),
        ),
    )
    .await;
    assert_eq!(tier(&server, &bob).await, "PRO");
    assert_eq!(subscription(&server, &alice).await, alice_subscription);

    // Bob's user id in Alice's purchase is not taken as its actor, and the purchase is hers
    // alone.
    deliver_ok(
        &server,
        &token_checkout_event("evt_a_tokens", "cs_a_1", &alice.tenant_id, &bob.user_id, 50),
    )
    .await;
    assert_eq!(balance(&server, &alice).await, alice_balance + 50);
    assert_eq!(purchases(&server, &bob).await["total"], 1);

    // A tenant id that names no tenant is acknowledged and ignored, not an error.
    let nobody = "00000000-0000-4000-8000-000000000001";
    for event in [
        token_checkout_event("evt_nobody_1", "cs_nobody", nobody, &alice.user_id, 999),
        subscription_event(
            "evt_nobody_2",
            "created",
            nobody,
            "price_studio",
            "active",
            now(),
        ),
    ] {
        let body = deliver_ok(&server, &event).await;
        assert_eq!(body["ignored"], true, "{body}");
    }
    assert_eq!(balance(&server, &alice).await, alice_balance + 50);
    assert_eq!(tier(&server, &bob).await, "PRO");
}
