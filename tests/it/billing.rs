//! BrainBits and the plan: a balance that never goes negative however many requests race,
//! allowances credited per billing period, BYOK and on-device calls never debited, every debit
//! streamed, quotas for members and the team, feature gates that name the feature and the
//! tier, a server without billing that gates nothing — and other tenants kept out of all of it.

use serde_json::{Value, json};

use crate::billing_webhooks::{
    PERIOD_SECS, billing_server, configure_billing, deliver_ok, now, subscription_event,
};
use crate::harness::*;

const CONSUME: &str = "mutation($amount: Int!, $operation: String!, $provider: String!,
    $keySource: KeySource = STUDIO) {
    consumeBrainbits(amount: $amount, operation: $operation, provider: $provider,
        keySource: $keySource) { charged exempt message balance entryId } }";
const BALANCE: &str = "{ brainbitsBalance { balance tier periodAllowance periodStart periodEnd } }";
const USAGE: &str = "{ usage { used teamQuota yourUsed yourQuota balance periodAllowance } }";
const HISTORY: &str = "query($group: UsageGrouping!) {
    usageHistory(groupBy: $group) { key amount operations } }";
const FEATURES: &str = "{ features { tier features allEnabled } }";
const TEAM_QUOTA: &str = "mutation($quota: Int) { updateTeamQuota(quota: $quota) { teamQuota } }";
const USER_QUOTA: &str = "mutation($user: ID!, $quota: Int) {
    updateUserQuota(userId: $user, quota: $quota) { used quota user { id } } }";
const TEAM: &str = "{ teamMembersBilling { total members { used quota user { id } } } }";
const DEDUCTED: &str =
    "subscription { brainbitsDeducted { amount balance operation provider userId } }";
const CREATE_KEY: &str = "mutation { createApiKey(name: \"ci\") { key } }";

fn consume(amount: i64, provider: &str) -> Value {
    json!({ "amount": amount, "operation": "generate", "provider": provider })
}

async fn balance(server: &TestServer, account: &Account) -> i64 {
    server.ok_as(account, BALANCE, json!({})).await["brainbitsBalance"]["balance"]
        .as_i64()
        .expect("a balance")
}

/// Puts the tenant on `price`'s tier with a subscription whose period began `created`.
async fn subscribe(server: &TestServer, account: &Account, event: &str, price: &str, created: i64) {
    deliver_ok(
        server,
        &subscription_event(
            event,
            "updated",
            &account.tenant_id,
            price,
            "active",
            created,
        ),
    )
    .await;
}

fn refusal_reason(body: &Value) -> &str {
    body["errors"][0]["extensions"]["reason"]
        .as_str()
        .unwrap_or("<no reason>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_racing_debits_of_one_take_exactly_the_hundred_there_are() {
    let server = TestServer::start_with_pool(16, configure_billing).await;
    let owner = server.register("owner@race.test", "Race").await;
    // A free tenant starts its month with 100 BrainBits.
    assert_eq!(balance(&server, &owner).await, 100);

    let calls = (0..200).map(|_| server.gql_as(&owner, CONSUME, consume(1, "openai")));
    let bodies = futures_util::future::join_all(calls).await;
    let taken = bodies.iter().filter(|b| b["errors"].is_null()).count();
    assert_eq!(taken, 100);
    for refused in bodies.iter().filter(|b| !b["errors"].is_null()) {
        assert_eq!(error_code(refused), "FORBIDDEN", "{refused}");
        assert_eq!(refusal_reason(refused), "insufficient_brainbits");
    }
    assert_eq!(balance(&server, &owner).await, 0);
    // The ledger agrees: its entries sum to the balance and no entry ever left it negative.
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        total: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        lowest: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        debits: i64,
    }
    let mut db = server.db().await;
    let check: Check = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT sum(amount)::bigint AS total, min(balance_after) AS lowest,
                    count(*) FILTER (WHERE kind = 'consumption') AS debits
             FROM brainbits_ledger",
        ),
        &mut db,
    )
    .await
    .expect("the ledger");
    assert_eq!((check.total, check.lowest, check.debits), (0, 0, 100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_keys_and_on_device_models_are_free_and_every_debit_is_streamed() {
    let server = billing_server().await;
    let owner = server.register("owner@stream.test", "Stream").await;
    let player = server
        .invite_member(&owner, "player@stream.test", "PLAYER")
        .await;
    let outsider = server.register("owner@other.test", "Other").await;
    let mut watching = subscribe_as(&server, &owner, DEDUCTED, json!({})).await;
    let mut outsider_watching = subscribe_as(&server, &outsider, DEDUCTED, json!({})).await;

    let paid =
        server.ok_as(&player, CONSUME, consume(5, "openai")).await["consumeBrainbits"].clone();
    assert_eq!(
        (paid["charged"].as_i64(), paid["exempt"].as_bool()),
        (Some(5), Some(false))
    );
    assert_eq!(paid["balance"], 95);
    let event = next_data(&mut watching, "brainbitsDeducted").await;
    assert_eq!(event["amount"], 5);
    assert_eq!(event["balance"], 95);
    assert_eq!(event["provider"], "openai");
    assert_eq!(event["userId"], player.user_id.as_str());

    // Their own key, or a model on their own machine: nothing is taken.
    let mut byok = consume(50, "openai");
    byok["keySource"] = json!("BYOK");
    let own_key = server.ok_as(&player, CONSUME, byok).await["consumeBrainbits"].clone();
    assert_eq!(
        (own_key["charged"].as_i64(), own_key["exempt"].as_bool()),
        (Some(0), Some(true))
    );
    let local =
        server.ok_as(&player, CONSUME, consume(50, "Ollama")).await["consumeBrainbits"].clone();
    assert_eq!(local["exempt"], true);
    assert_eq!(balance(&server, &owner).await, 95);

    // The next streamed debit is the next real one; the other tenant saw none of ours.
    server.ok_as(&owner, CONSUME, consume(2, "anthropic")).await;
    assert_eq!(
        next_data(&mut watching, "brainbitsDeducted").await["amount"],
        2
    );
    server.ok_as(&outsider, CONSUME, consume(7, "openai")).await;
    assert_eq!(
        next_data(&mut outsider_watching, "brainbitsDeducted").await["amount"],
        7
    );
    assert_eq!(balance(&server, &owner).await, 93);
    assert_eq!(balance(&server, &outsider).await, 93);

    let usage = server.ok_as(&player, USAGE, json!({})).await["usage"].clone();
    assert_eq!(
        (usage["used"].as_i64(), usage["yourUsed"].as_i64()),
        (Some(7), Some(5))
    );
    let by_operation = server
        .ok_as(&owner, HISTORY, json!({ "group": "OPERATION" }))
        .await["usageHistory"]
        .clone();
    assert_eq!(
        by_operation,
        json!([{ "key": "generate", "amount": 7, "operations": 2 }])
    );
    let by_user = server
        .ok_as(&owner, HISTORY, json!({ "group": "USER" }))
        .await["usageHistory"]
        .clone();
    assert_eq!(by_user[0]["key"], player.user_id.as_str());
    assert_eq!(by_user[0]["amount"], 5);
    server
        .fails_as(&player, HISTORY, json!({ "group": "USER" }), "FORBIDDEN")
        .await;
    let by_day = server
        .ok_as(&player, HISTORY, json!({ "group": "DAY" }))
        .await["usageHistory"]
        .clone();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        by_day,
        json!([{ "key": today, "amount": 7, "operations": 2 }])
    );

    // Bad amounts and labels are refused before anything is taken.
    for bad in [
        consume(0, "openai"),
        consume(2_000_000, "openai"),
        consume(1, "  "),
    ] {
        server
            .fails_as(&player, CONSUME, bad, "BAD_USER_INPUT")
            .await;
    }
    assert_eq!(balance(&server, &owner).await, 93);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowances_follow_the_tier_and_are_credited_once_per_period() {
    let server = billing_server().await;
    let owner = server.register("owner@tiers.test", "Tiers").await;
    assert_eq!(balance(&server, &owner).await, 100);
    assert_eq!(
        balance(&server, &owner).await,
        100,
        "reading twice credits once"
    );

    // Pro from ten minutes ago: its period begins, and its 2,000 arrive once.
    let start = now() - 600;
    subscribe(&server, &owner, "evt_pro", "price_pro", start).await;
    let pro = server.ok_as(&owner, BALANCE, json!({})).await["brainbitsBalance"].clone();
    assert_eq!(pro["tier"], "PRO");
    assert_eq!(pro["balance"], 2_100);
    assert_eq!(pro["periodAllowance"], 2_000);
    assert_eq!(balance(&server, &owner).await, 2_100);
    // The subscription renews: a new period, a new allowance.
    subscribe(&server, &owner, "evt_renewal", "price_pro", start + 300).await;
    assert_eq!(balance(&server, &owner).await, 4_100);
    let period_end =
        server.ok_as(&owner, BALANCE, json!({})).await["brainbitsBalance"]["periodEnd"].clone();
    let expected_end =
        chrono::DateTime::from_timestamp(start + 300 + PERIOD_SECS, 0).expect("a time");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(period_end.as_str().expect("periodEnd"))
            .expect("RFC 3339"),
        expected_end
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_cap_members_and_the_team_and_only_studio_sets_them() {
    let server = billing_server().await;
    let owner = server.register("owner@quota.test", "Quota").await;
    let player = server
        .invite_member(&owner, "player@quota.test", "PLAYER")
        .await;
    let outsider = server.register("owner@elsewhere.test", "Elsewhere").await;

    // Quotas are a STUDIO feature: the refusal names it and the tier that has it.
    let gated = server
        .gql_as(&owner, TEAM_QUOTA, json!({ "quota": 10 }))
        .await;
    assert_eq!(error_code(&gated), "FORBIDDEN");
    assert_eq!(refusal_reason(&gated), "feature_gate");
    assert_eq!(gated["errors"][0]["extensions"]["feature"], "TEAM_QUOTAS");
    assert_eq!(gated["errors"][0]["extensions"]["requiredTier"], "STUDIO");

    subscribe(&server, &owner, "evt_studio", "price_studio", now() - 60).await;
    subscribe(
        &server,
        &outsider,
        "evt_studio_b",
        "price_studio",
        now() - 60,
    )
    .await;
    let vars = |quota: Option<i64>| json!({ "user": player.user_id, "quota": quota });
    server
        .fails_as(&player, USER_QUOTA, vars(Some(10)), "FORBIDDEN")
        .await;
    server
        .fails_as(&owner, USER_QUOTA, vars(Some(-1)), "BAD_USER_INPUT")
        .await;
    // Another tenant's admin cannot cap our member.
    server
        .fails_as(&outsider, USER_QUOTA, vars(Some(1)), "NOT_FOUND")
        .await;
    let set = server.ok_as(&owner, USER_QUOTA, vars(Some(10))).await["updateUserQuota"].clone();
    assert_eq!(set["quota"], 10);

    server.ok_as(&player, CONSUME, consume(8, "openai")).await;
    let over = server.gql_as(&player, CONSUME, consume(3, "openai")).await;
    assert_eq!(refusal_reason(&over), "quota_exceeded", "{over}");
    server.ok_as(&player, CONSUME, consume(2, "openai")).await;

    // The team's cap counts everyone's consumption in the period.
    server
        .ok_as(&owner, TEAM_QUOTA, json!({ "quota": 15 }))
        .await;
    let team_over = server.gql_as(&owner, CONSUME, consume(6, "openai")).await;
    assert_eq!(refusal_reason(&team_over), "quota_exceeded", "{team_over}");
    server.ok_as(&owner, CONSUME, consume(5, "openai")).await;
    let usage = server.ok_as(&player, USAGE, json!({})).await["usage"].clone();
    assert_eq!(usage["used"], 15);
    assert_eq!(usage["teamQuota"], 15);
    assert_eq!(
        (usage["yourUsed"].as_i64(), usage["yourQuota"].as_i64()),
        (Some(10), Some(10))
    );

    let team = server.ok_as(&owner, TEAM, json!({})).await["teamMembersBilling"].clone();
    assert_eq!(team["total"], 2);
    let team = team["members"].clone();
    let row = team
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user"]["id"] == player.user_id.as_str())
        .expect("the player")
        .clone();
    assert_eq!(
        (row["used"].as_i64(), row["quota"].as_i64()),
        (Some(10), Some(10))
    );
    server.fails_as(&player, TEAM, json!({}), "FORBIDDEN").await;

    // Lifting the caps lets consumption continue; the other tenant's ledger never moved.
    server
        .ok_as(&owner, TEAM_QUOTA, json!({ "quota": null }))
        .await;
    server.ok_as(&owner, USER_QUOTA, vars(None)).await;
    server.ok_as(&player, CONSUME, consume(3, "openai")).await;
    let theirs = server.ok_as(&outsider, USAGE, json!({})).await["usage"].clone();
    assert_eq!(theirs["used"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_gates_follow_the_tier_and_a_server_without_billing_gates_nothing() {
    let server = billing_server().await;
    let owner = server.register("owner@gates.test", "Gates").await;
    let free = server.ok_as(&owner, FEATURES, json!({})).await["features"].clone();
    assert_eq!(
        free,
        json!({ "tier": "FREE", "features": [], "allEnabled": false })
    );
    let refused = server.gql_as(&owner, CREATE_KEY, json!({})).await;
    assert_eq!(refusal_reason(&refused), "feature_gate");
    assert_eq!(refused["errors"][0]["extensions"]["feature"], "API_KEYS");
    assert_eq!(refused["errors"][0]["extensions"]["requiredTier"], "PRO");

    // The tiers are public.
    let tiers = server
        .ok(
            None,
            "{ tiers { tier monthlyBrainbits features priceId } }",
            json!({}),
        )
        .await["tiers"]
        .clone();
    assert_eq!(tiers[1]["tier"], "PRO");
    assert_eq!(tiers[1]["priceId"], "price_pro");
    assert_eq!(tiers[2]["features"].as_array().map(Vec::len), Some(4));

    subscribe(&server, &owner, "evt_pro", "price_pro", now() - 60).await;
    let pro = server.ok_as(&owner, FEATURES, json!({})).await["features"].clone();
    assert_eq!(pro["features"], json!(["API_KEYS", "TOKEN_PURCHASES"]));
    server.ok_as(&owner, CREATE_KEY, json!({})).await;
    // A subscription that ends takes the features with it.
    deliver_ok(
        &server,
        &subscription_event(
            "evt_end",
            "deleted",
            &owner.tenant_id,
            "price_pro",
            "canceled",
            now(),
        ),
    )
    .await;
    let refused = server.gql_as(&owner, CREATE_KEY, json!({})).await;
    assert_eq!(refusal_reason(&refused), "feature_gate");

    // Without billing configured, every feature is on and billing says why.
    let plain = TestServer::start().await;
    let owner = plain.register("owner@plain.test", "Plain").await;
    plain.ok_as(&owner, CREATE_KEY, json!({})).await;
    let features = plain.ok_as(&owner, FEATURES, json!({})).await["features"].clone();
    assert_eq!(features["allEnabled"], true);
    let status = plain
        .ok_as(
            &owner,
            "{ billingStatus { configured message } }",
            json!({}),
        )
        .await["billingStatus"]
        .clone();
    assert_eq!(status["configured"], false);
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("not configured"))
    );
    // A self-hosted server meters nothing.
    let unmetered =
        plain.ok_as(&owner, CONSUME, consume(500, "openai")).await["consumeBrainbits"].clone();
    assert_eq!(
        (unmetered["exempt"].as_bool(), unmetered["charged"].as_i64()),
        (Some(true), Some(0))
    );
    assert_eq!(balance(&plain, &owner).await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_same_second_foreign_or_mismatched_stripe_events_cannot_mislead_the_ledger() {
    let server = billing_server().await;
    let owner = server.register("owner@stripe.test", "Stripe").await;
    let other = server.register("owner@bystander.test", "Bystander").await;
    // A subscription whose period ended before its renewal event arrived: its allowance is
    // credited once, and no calendar-month allowance slips in while the renewal is late.
    let ended = now() - PERIOD_SECS - 100;
    subscribe(&server, &owner, "evt_old", "price_pro", ended).await;
    assert_eq!(balance(&server, &owner).await, 2_000);
    assert_eq!(balance(&server, &owner).await, 2_000);
    subscribe(
        &server,
        &owner,
        "evt_renewed",
        "price_pro",
        ended + PERIOD_SECS,
    )
    .await;
    assert_eq!(balance(&server, &owner).await, 4_000);

    // An upgrade within the period credits the difference to the larger allowance.
    let mut upgrade = subscription_event(
        "evt_upgrade",
        "updated",
        &owner.tenant_id,
        "price_studio",
        "active",
        ended + PERIOD_SECS + 50,
    );
    upgrade["data"]["object"]["current_period_start"] = json!(ended + PERIOD_SECS);
    upgrade["data"]["object"]["current_period_end"] = json!(ended + 2 * PERIOD_SECS);
    deliver_ok(&server, &upgrade).await;
    assert_eq!(balance(&server, &owner).await, 12_000);

    // Two events of the same second delivered backwards: `updated` still wins over `created`.
    let second = now();
    let updated = subscription_event(
        "evt_same_2",
        "updated",
        &owner.tenant_id,
        "price_pro",
        "active",
        second,
    );
    let created = subscription_event(
        "evt_same_1",
        "created",
        &owner.tenant_id,
        "price_pro",
        "incomplete",
        second,
    );
    deliver_ok(&server, &updated).await;
    deliver_ok(&server, &created).await;
    let subscription = server
        .ok_as(&owner, "{ subscription { tier status } }", json!({}))
        .await["subscription"]
        .clone();
    assert_eq!(subscription, json!({ "tier": "PRO", "status": "active" }));

    // The end of some other subscription does not end the running one.
    let mut foreign = subscription_event(
        "evt_foreign",
        "deleted",
        &owner.tenant_id,
        "price_pro",
        "canceled",
        second + 1,
    );
    foreign["data"]["object"]["id"] = json!("sub_some_other");
    deliver_ok(&server, &foreign).await;
    let tier = server
        .ok_as(&owner, "{ subscription { tier } }", json!({}))
        .await["subscription"]["tier"]
        .clone();
    assert_eq!(tier, "PRO");

    // A purchase whose customer is this tenant's but whose metadata names another tenant is
    // trusted for neither.
    let before = (
        balance(&server, &owner).await,
        balance(&server, &other).await,
    );
    let mut mismatched = crate::billing_webhooks::token_checkout_event(
        "evt_mismatch",
        "cs_mismatch",
        &other.tenant_id,
        &other.user_id,
        500,
    );
    mismatched["data"]["object"]["customer"] =
        json!(crate::billing_webhooks::customer_of(&owner.tenant_id));
    deliver_ok(&server, &mismatched).await;
    let after = (
        balance(&server, &owner).await,
        balance(&server, &other).await,
    );
    assert_eq!(before, after);

    // A paid invoice stays paid when a failure event for it arrives late.
    let customer = crate::billing_webhooks::customer_of(&owner.tenant_id);
    let invoice = |id: &str, kind: &str, status: &str, paid: i64| {
        crate::billing_webhooks::invoice_event(id, kind, "in_late", &customer, status, 1900, paid)
    };
    deliver_ok(&server, &invoice("evt_paid", "invoice.paid", "paid", 1900)).await;
    deliver_ok(
        &server,
        &invoice("evt_failed", "invoice.payment_failed", "open", 0),
    )
    .await;
    let invoices = server
        .ok_as(
            &owner,
            "{ invoices { invoices { id status amountPaid } } }",
            json!({}),
        )
        .await["invoices"]["invoices"]
        .clone();
    assert_eq!(
        invoices,
        json!([{ "id": "in_late", "status": "paid", "amountPaid": 1900 }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_subscription_checkout_activates_its_tier_and_the_subscription_takes_over() {
    let server = billing_server().await;
    let owner = server.register("owner@checkout.test", "Checkout").await;
    assert_eq!(balance(&server, &owner).await, 100);
    let completed = |id: &str, created: i64| {
        crate::billing_webhooks::stripe_event(
            id,
            "checkout.session.completed",
            created,
            json!({
                "id": "cs_subscription",
                "object": "checkout.session",
                "mode": "subscription",
                "status": "complete",
                "payment_status": "paid",
                "customer": crate::billing_webhooks::customer_of(&owner.tenant_id),
                "client_reference_id": owner.tenant_id,
                "subscription": "sub_new",
                "metadata": { "tenant_id": owner.tenant_id, "kind": "subscription",
                              "price_id": "price_pro" }
            }),
        )
    };
    deliver_ok(&server, &completed("evt_checkout", now() - 30)).await;
    let subscription = server
        .ok_as(&owner, "{ subscription { tier status } }", json!({}))
        .await["subscription"]
        .clone();
    assert_eq!(subscription, json!({ "tier": "PRO", "status": "active" }));
    // The features come at once; the allowance waits for the subscription's period.
    server.ok_as(&owner, CREATE_KEY, json!({})).await;
    assert_eq!(balance(&server, &owner).await, 100);

    let mut created = subscription_event(
        "evt_sub_created",
        "created",
        &owner.tenant_id,
        "price_pro",
        "active",
        now() - 20,
    );
    created["data"]["object"]["id"] = json!("sub_new");
    deliver_ok(&server, &created).await;
    assert_eq!(balance(&server, &owner).await, 2_100);
    // The same checkout told again later changes nothing the subscription has said since.
    deliver_ok(&server, &completed("evt_checkout_again", now())).await;
    let subscription = server
        .ok_as(
            &owner,
            "{ subscription { tier currentPeriodEnd } }",
            json!({}),
        )
        .await["subscription"]
        .clone();
    assert_eq!(subscription["tier"], "PRO");
    assert!(
        !subscription["currentPeriodEnd"].is_null(),
        "{subscription}"
    );
    assert_eq!(balance(&server, &owner).await, 2_100);
}
