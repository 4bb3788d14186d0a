//! The beta program as the operators run it: a code made by a SUPERUSER, checked by anyone,
//! registering a studio into the beta (and a bad code creating nothing), the beta's tier
//! opening its features, codes used up, revoked and extended; feedback and the waitlist — and
//! the walls: ADMINs are not operators, members see only their own feedback.

use serde_json::{Value, json};

use crate::billing_webhooks::billing_server;
use crate::harness::*;

const CREATE_CODE: &str = "mutation($input: BetaCodeInput!) { createBetaCode(input: $input) {
    code betaCode { id hint tier betaDays maxUses uses open } } }";
const VALIDATE: &str =
    "query($code: String!) { validateBetaCode(code: $code) { valid tier betaDays } }";
const REGISTER: &str = "mutation($input: RegisterInput!, $code: String!) {
    registerWithBetaCode(input: $input, code: $code) { accessToken refreshToken user { id } tenant { id } } }";
const ENROLLMENT: &str = "{ betaEnrollment { tier active endsAt } }";

fn registration(email: &str) -> Value {
    json!({ "email": email, "password": PASSWORD, "displayName": "Beta", "tenantName": "Beta Studio" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_beta_code_registers_a_studio_into_the_beta_and_opens_its_tiers_features() {
    let server = billing_server().await;
    let root = server.superuser("root@beta.test").await;
    let admin = server.register("admin@plain.test", "Plain").await;

    // Codes are the operators' to make.
    server
        .fails_as(&admin, CREATE_CODE, json!({ "input": {} }), "FORBIDDEN")
        .await;
    let created = server
        .ok_as(
            &root,
            CREATE_CODE,
            json!({ "input": { "label": "first cohort", "tier": "STUDIO", "betaDays": 30, "maxUses": 2 } }),
        )
        .await["createBetaCode"]
        .clone();
    let code = created["code"].as_str().expect("code").to_owned();
    assert_eq!(created["betaCode"]["uses"], 0);
    assert_eq!(created["betaCode"]["hint"].as_str().map(str::len), Some(4));

    // Anyone may check a code, typed any way; a wrong one is simply not valid.
    let check = server
        .ok(None, VALIDATE, json!({ "code": code.to_lowercase() }))
        .await["validateBetaCode"]
        .clone();
    assert_eq!(
        check,
        json!({ "valid": true, "tier": "STUDIO", "betaDays": 30 })
    );
    let wrong = server
        .ok(None, VALIDATE, json!({ "code": "LORE-00000-00000-00000" }))
        .await["validateBetaCode"]
        .clone();
    assert_eq!(wrong["valid"], false);

    // A bad code creates nothing; a good one makes the account, the tenant and the enrollment.
    let body = server
        .gql(
            None,
            REGISTER,
            json!({ "input": registration("new@beta.test"), "code": "LORE-NOPE" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        server.login("new@beta.test", PASSWORD).await["data"],
        Value::Null
    );
    let tester = Account::from_payload(
        &server
            .ok(
                None,
                REGISTER,
                json!({ "input": registration("new@beta.test"), "code": code }),
            )
            .await["registerWithBetaCode"],
    );
    let enrollment = server.ok_as(&tester, ENROLLMENT, json!({})).await["betaEnrollment"].clone();
    assert_eq!(enrollment["tier"], "STUDIO");
    assert_eq!(enrollment["active"], true);

    // The beta's tier opens its features: team quotas are STUDIO's.
    const TEAM_QUOTA: &str = "mutation { updateTeamQuota(quota: 100) { teamQuota } }";
    server.ok_as(&tester, TEAM_QUOTA, json!({})).await;
    let gated = server.gql_as(&admin, TEAM_QUOTA, json!({})).await;
    assert_eq!(
        gated["errors"][0]["extensions"]["reason"], "feature_gate",
        "{gated}"
    );

    // An existing tenant's ADMIN redeems the second use; a WORLDBUILDER may not.
    let member = server
        .invite_member(&admin, "member@plain.test", "WORLDBUILDER")
        .await;
    const REDEEM: &str = "mutation($code: String!) { redeemBetaCode(code: $code) { tier active } }";
    server
        .fails_as(&member, REDEEM, json!({ "code": code }), "FORBIDDEN")
        .await;
    server.ok_as(&admin, REDEEM, json!({ "code": code })).await;
    server.ok_as(&admin, TEAM_QUOTA, json!({})).await;
    // Used up now, and no tenant is enrolled twice.
    let used_up =
        server.ok(None, VALIDATE, json!({ "code": code })).await["validateBetaCode"]["valid"]
            .clone();
    assert_eq!(used_up, false);
    let other = server.register("third@beta.test", "Third").await;
    server
        .fails_as(&other, REDEEM, json!({ "code": code }), "BAD_USER_INPUT")
        .await;

    // The operators extend a tenant's beta and revoke codes.
    const EXTEND: &str = "mutation($t: ID!) { extendBeta(tenantId: $t, days: 10) { endsAt } }";
    server
        .fails_as(&admin, EXTEND, json!({ "t": admin.tenant_id }), "FORBIDDEN")
        .await;
    let extended = server
        .ok_as(&root, EXTEND, json!({ "t": tester.tenant_id }))
        .await;
    assert!(
        extended["extendBeta"]["endsAt"].as_str() > enrollment["endsAt"].as_str(),
        "{extended}"
    );
    let fresh = server
        .ok_as(&root, CREATE_CODE, json!({ "input": {} }))
        .await["createBetaCode"]
        .clone();
    server
        .ok_as(
            &root,
            "mutation($id: ID!) { revokeBetaCode(id: $id) { open } }",
            json!({ "id": fresh["betaCode"]["id"] }),
        )
        .await;
    let revoked = server
        .ok(None, VALIDATE, json!({ "code": fresh["code"] }))
        .await["validateBetaCode"]["valid"]
        .clone();
    assert_eq!(revoked, false);
    let stats = server
        .ok_as(
            &root,
            "{ betaStatistics { codes openCodes redemptions activeEnrollments } }",
            json!({}),
        )
        .await["betaStatistics"]
        .clone();
    assert_eq!(
        stats,
        json!({ "codes": 2, "openCodes": 0, "redemptions": 2, "activeEnrollments": 2 })
    );
    let features = server
        .ok_as(&tester, "{ features { tier features } }", json!({}))
        .await["features"]
        .clone();
    assert_eq!(features["tier"], "FREE");
    assert!(
        features["features"]
            .as_array()
            .is_some_and(|all| all.iter().any(|f| f == "TEAM_QUOTAS")),
        "{features}"
    );

    // A beta that ended may be followed by another; one still on may not.
    let next = server
        .ok_as(&root, CREATE_CODE, json!({ "input": { "maxUses": 2 } }))
        .await["createBetaCode"]["code"]
        .clone();
    server
        .fails_as(&admin, REDEEM, json!({ "code": next }), "CONFLICT")
        .await;
    let mut db = server.db().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE beta_enrollments SET ends_at = now() - interval '1 day' WHERE tenant_id = '{}'",
            admin.tenant_id
        )),
        &mut db,
    )
    .await
    .expect("end the beta");
    server
        .fails_as(&admin, TEAM_QUOTA, json!({}), "FORBIDDEN")
        .await;
    server.ok_as(&admin, REDEEM, json!({ "code": next })).await;
    server.ok_as(&admin, TEAM_QUOTA, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_and_the_waitlist_reach_the_operators_and_nobody_else() {
    let server = TestServer::start().await;
    let root = server.superuser("root@wait.test").await;
    let alice = server.register("alice@wait.test", "Alice's").await;
    let bob = server.register("bob@wait.test", "Bob's").await;

    const SUBMIT: &str = "mutation($m: String!) { submitBetaFeedback(kind: BUG, message: $m, page: \"/map\") { id status } }";
    const LIST: &str = "{ betaFeedback { total feedback { message status user { id } } } }";
    let sent = server
        .ok_as(&alice, SUBMIT, json!({ "m": "The map flickers" }))
        .await["submitBetaFeedback"]
        .clone();
    assert_eq!(sent["status"], "NEW");
    server
        .ok_as(&bob, SUBMIT, json!({ "m": "Search is slow" }))
        .await;
    server
        .fails_as(&alice, SUBMIT, json!({ "m": "   " }), "BAD_USER_INPUT")
        .await;

    // Each member sees their own; the operators see all.
    let own = server.ok_as(&alice, LIST, json!({})).await["betaFeedback"].clone();
    assert_eq!(own["total"], 1);
    assert_eq!(own["feedback"][0]["message"], "The map flickers");
    assert_eq!(
        server.ok_as(&root, LIST, json!({})).await["betaFeedback"]["total"],
        2
    );
    const UPDATE: &str = "mutation($id: ID!) { updateBetaFeedback(id: $id, status: PLANNED, note: \"next sprint\") { status adminNote } }";
    server
        .fails_as(&alice, UPDATE, json!({ "id": sent["id"] }), "FORBIDDEN")
        .await;
    let updated = server
        .ok_as(&root, UPDATE, json!({ "id": sent["id"] }))
        .await;
    assert_eq!(
        updated["updateBetaFeedback"],
        json!({ "status": "PLANNED", "adminNote": "next sprint" })
    );

    // Anyone joins the waitlist, once per address whatever they send.
    const JOIN: &str = "mutation($e: String!) { joinWaitlist(email: $e, name: \"Cara\", note: \"A space opera\") }";
    assert_eq!(
        server
            .ok(None, JOIN, json!({ "e": "cara@wait.test" }))
            .await["joinWaitlist"],
        true
    );
    assert_eq!(
        server
            .ok(None, JOIN, json!({ "e": "CARA@wait.test" }))
            .await["joinWaitlist"],
        true
    );
    let body = server
        .gql(None, JOIN, json!({ "e": "not an address" }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    const WAITLIST: &str = "{ waitlist(promoted: false) { total entries { id email name } } }";
    server
        .fails_as(&alice, WAITLIST, json!({}), "FORBIDDEN")
        .await;
    let waiting = server.ok_as(&root, WAITLIST, json!({})).await["waitlist"].clone();
    assert_eq!(waiting["total"], 1);
    let entry = waiting["entries"][0]["id"].clone();

    // Promoted: a single-use code of their own, which registers them.
    const PROMOTE: &str =
        "mutation($id: ID!) { promoteWaitlistEntry(id: $id, input: { betaDays: 14 }) {
        code mailed betaCode { maxUses betaDays } entry { promotedAt } } }";
    server
        .fails_as(&alice, PROMOTE, json!({ "id": entry }), "FORBIDDEN")
        .await;
    let promoted =
        server.ok_as(&root, PROMOTE, json!({ "id": entry })).await["promoteWaitlistEntry"].clone();
    assert_eq!(
        promoted["betaCode"],
        json!({ "maxUses": 1, "betaDays": 14 })
    );
    assert!(promoted["entry"]["promotedAt"].is_string());
    server
        .fails_as(&root, PROMOTE, json!({ "id": entry }), "NOT_FOUND")
        .await;
    server
        .ok(
            None,
            REGISTER,
            json!({ "input": registration("cara@wait.test"), "code": promoted["code"] }),
        )
        .await;
    assert_eq!(
        server.ok_as(&root, WAITLIST, json!({})).await["waitlist"]["total"],
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_open_only_to_beta_codes_refuses_plain_registration() {
    let server = TestServer::start_with(|c| c.identity.registration_closed = true).await;
    let root = server.superuser("root@closed.test").await;
    let body = server
        .gql(
            None,
            "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
            json!({ "input": registration("plain@closed.test") }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "registration_closed"
    );
    let code = server
        .ok_as(&root, CREATE_CODE, json!({ "input": {} }))
        .await["createBetaCode"]["code"]
        .clone();
    let registered = server
        .ok(
            None,
            REGISTER,
            json!({ "input": registration("plain@closed.test"), "code": code }),
        )
        .await;
    let newcomer = Account::from_payload(&registered["registerWithBetaCode"]);
    // No second studio without a code either; the operators may.
    const FOUND: &str = "mutation { createTenant(name: \"Side project\") { role } }";
    let body = server.gql_as(&newcomer, FOUND, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "registration_closed",
        "{body}"
    );
    server.ok_as(&root, FOUND, json!({})).await;
}
