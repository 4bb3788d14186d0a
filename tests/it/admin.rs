//! Running a tenant: members, invites, roles, deactivation, passwords, API keys, the tenant's own
//! settings, and the wall between tenants.

use serde_json::{Value, json};

use crate::harness::*;

/// The password `TestServer::invite_member` gives the accounts it creates.
const MEMBER_PASSWORD: &str = "correct horse battery";

const ME: &str = "{ me { id email role } }";

const USERS: &str = "query($search: String, $offset: Int, $limit: Int) {
    users(search: $search, offset: $offset, limit: $limit) { total offset limit users { id email role } } }";

const USER: &str = "query($id: ID!) { user(id: $id) { id email displayName role isActive } }";

const UPDATE_USER: &str = "mutation($id: ID!, $input: UpdateUserInput!) {
    updateUser(id: $id, input: $input) { id email displayName role isActive } }";

const SET_USER_PASSWORD: &str =
    "mutation($id: ID!, $password: String!) { setUserPassword(id: $id, newPassword: $password) }";

const REMOVE_MEMBER: &str = "mutation($id: ID!) { removeMember(id: $id) }";

const DELETE_USER: &str = "mutation($id: ID!) { deleteUser(id: $id) }";

const CREATE_INVITE: &str = "mutation($email: String!, $role: Role!) {
    createInvite(email: $email, role: $role) { token invite { id email role status } } }";

const VALIDATE_INVITE: &str = "query($token: String!) {
    validateInvite(token: $token) { valid reason email role tenantName } }";

const REGISTER_WITH_INVITE: &str = "mutation($token: String!, $password: String!) {
    registerWithInvite(token: $token, password: $password, displayName: \"Cartographer\") {
        accessToken refreshToken role user { id email } tenant { id name } } }";

const REVOKE_INVITE: &str = "mutation($id: ID!) { revokeInvite(id: $id) { id status } }";

const INVITES: &str = "{ invites { total invites { id email role status } } }";

const CREATE_API_KEY: &str = "mutation($name: String!) {
    createApiKey(name: $name) { key apiKey { id name prefix lastUsedAt revokedAt isActive } } }";

const API_KEYS: &str = "query($includeRevoked: Boolean!) {
    apiKeys(includeRevoked: $includeRevoked) { total apiKeys { id name lastUsedAt isActive } } }";

const REVOKE_API_KEY: &str =
    "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt isActive } }";

/// Creates an invite as `admin`; returns the invite's id and its one-time token.
pub async fn create_invite(
    server: &TestServer,
    admin: &Account,
    email: &str,
    role: &str,
) -> (String, String) {
    let data = server
        .ok_as(
            admin,
            CREATE_INVITE,
            json!({ "email": email, "role": role }),
        )
        .await;
    (
        data["createInvite"]["invite"]["id"]
            .as_str()
            .expect("invite id")
            .to_owned(),
        data["createInvite"]["token"]
            .as_str()
            .expect("invite token")
            .to_owned(),
    )
}

/// Creates an API key as `owner`; returns the key's id and the secret key.
pub async fn create_api_key(server: &TestServer, owner: &Account, name: &str) -> (String, String) {
    let data = server
        .ok_as(owner, CREATE_API_KEY, json!({ "name": name }))
        .await;
    (
        data["createApiKey"]["apiKey"]["id"]
            .as_str()
            .expect("key id")
            .to_owned(),
        data["createApiKey"]["key"]
            .as_str()
            .expect("key")
            .to_owned(),
    )
}

async fn update_user(server: &TestServer, token: &str, id: &str, input: Value) -> Value {
    server
        .gql(
            Some(token),
            UPDATE_USER,
            json!({ "id": id, "input": input }),
        )
        .await
}

/// `users` as the viewer sees it: the total and the (sorted) emails with their roles.
async fn members(server: &TestServer, token: &str) -> (i64, Vec<(String, String)>) {
    let data = server.ok(Some(token), USERS, json!({})).await;
    let total = data["users"]["total"].as_i64().expect("total");
    let mut listed: Vec<(String, String)> = data["users"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| {
            (
                u["email"].as_str().expect("email").to_owned(),
                u["role"].as_str().expect("role").to_owned(),
            )
        })
        .collect();
    listed.sort();
    (total, listed)
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    pairs.sort();
    pairs
}

/// A request authenticated by the `X-API-Key` header alone.
async fn post_with_api_key_header(server: &TestServer, key: &str, query: &str) -> (u16, Value) {
    let response = server
        .http
        .post(server.url("/graphql"))
        .header("x-api-key", key)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

/// Asserts a token (or key) is refused outright: HTTP 401 with UNAUTHENTICATED.
async fn assert_refused(server: &TestServer, token: &str) {
    let (status, body) = server.post(Some(token), ME, json!({})).await;
    assert_eq!(status, 401, "the credential should be refused: {body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_lists_searches_and_pages_the_members_of_their_tenant() {
    let server = TestServer::start().await;
    let admin = server.register("admin@north.test", "North Studio").await;
    server
        .invite_member(&admin, "bard@north.test", "WORLDBUILDER")
        .await;
    let rogue = server
        .invite_member(&admin, "rogue@north.test", "PLAYER")
        .await;

    let (total, listed) = members(&server, &admin.token).await;
    assert_eq!(total, 3);
    assert_eq!(
        listed,
        pairs(&[
            ("admin@north.test", "ADMIN"),
            ("bard@north.test", "WORLDBUILDER"),
            ("rogue@north.test", "PLAYER"),
        ])
    );

    // Search matches the email, case-insensitively.
    let found = server
        .ok_as(&admin, USERS, json!({ "search": "BARD" }))
        .await;
    assert_eq!(found["users"]["total"], 1);
    assert_eq!(found["users"]["users"][0]["email"], "bard@north.test");
    let none = server
        .ok_as(&admin, USERS, json!({ "search": "nobody-like-this" }))
        .await;
    assert_eq!(none["users"]["total"], 0);
    assert_eq!(none["users"]["users"], json!([]));

    // Pages of one walk through every member exactly once; the total stays the whole count.
    let mut seen = Vec::new();
    for offset in 0..3 {
        let page = server
            .ok_as(&admin, USERS, json!({ "offset": offset, "limit": 1 }))
            .await;
        assert_eq!(page["users"]["total"], 3);
        assert_eq!(page["users"]["limit"], 1);
        assert_eq!(page["users"]["offset"], offset);
        let users = page["users"]["users"].as_array().expect("users");
        assert_eq!(users.len(), 1, "{page}");
        seen.push(users[0]["email"].as_str().expect("email").to_owned());
    }
    seen.sort();
    assert_eq!(
        seen,
        ["admin@north.test", "bard@north.test", "rogue@north.test"]
    );

    // Oversized pages are refused, naming the argument.
    let body = server.gql_as(&admin, USERS, json!({ "limit": 201 })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "limit");

    // Listing members is for admins.
    let body = server.gql_as(&rogue, USERS, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_person_signs_up_once_with_the_invited_role() {
    let server = TestServer::start().await;
    let admin = server.register("admin@guild.test", "Guild of Maps").await;

    let created = server
        .ok_as(
            &admin,
            CREATE_INVITE,
            json!({ "email": "cartographer@guild.test", "role": "WORLDBUILDER" }),
        )
        .await;
    let token = created["createInvite"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(!token.is_empty());
    assert_eq!(created["createInvite"]["invite"]["status"], "PENDING");
    assert_eq!(created["createInvite"]["invite"]["role"], "WORLDBUILDER");

    // The sign-up page can see what the invite offers before using it.
    let checked = server
        .ok(None, VALIDATE_INVITE, json!({ "token": token }))
        .await;
    assert_eq!(
        checked["validateInvite"],
        json!({
            "valid": true,
            "reason": null,
            "email": "cartographer@guild.test",
            "role": "WORLDBUILDER",
            "tenantName": "Guild of Maps",
        })
    );

    // Signing up with it lands in the inviting tenant with the invited role.
    let data = server
        .ok(
            None,
            REGISTER_WITH_INVITE,
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    let payload = &data["registerWithInvite"];
    assert_eq!(payload["role"], "WORLDBUILDER");
    assert_eq!(payload["user"]["email"], "cartographer@guild.test");
    assert_eq!(payload["tenant"]["id"], admin.tenant_id.as_str());
    assert_eq!(payload["tenant"]["name"], "Guild of Maps");
    let member_token = payload["accessToken"]
        .as_str()
        .expect("accessToken")
        .to_owned();
    let me = server
        .ok(
            Some(&member_token),
            "{ me { email role } tenant { id } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["role"], "WORLDBUILDER");
    assert_eq!(me["me"]["email"], "cartographer@guild.test");
    assert_eq!(me["tenant"]["id"], admin.tenant_id.as_str());
    let (total, listed) = members(&server, &admin.token).await;
    assert_eq!(total, 2);
    assert!(listed.contains(&(
        "cartographer@guild.test".to_owned(),
        "WORLDBUILDER".to_owned()
    )));

    // The invite works once.
    let again = server
        .gql(
            None,
            REGISTER_WITH_INVITE,
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&again), "BAD_USER_INPUT", "{again}");
    assert_eq!(again["errors"][0]["extensions"]["field"], "token");
    let checked = server
        .ok(None, VALIDATE_INVITE, json!({ "token": token }))
        .await;
    assert_eq!(checked["validateInvite"]["valid"], false);
    let invites = server.ok_as(&admin, INVITES, json!({})).await;
    assert_eq!(invites["invites"]["total"], 1);
    assert_eq!(invites["invites"]["invites"][0]["status"], "ACCEPTED");

    // The login works with the password chosen at sign-up.
    let login = server.login("cartographer@guild.test", PASSWORD).await;
    assert!(login.get("errors").is_none(), "{login}");
    assert_eq!(login["data"]["login"]["role"], "WORLDBUILDER");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invites_grant_only_roles_below_the_admin_and_can_be_revoked() {
    let server = TestServer::start().await;
    let admin = server.register("admin@keep.test", "The Keep").await;
    let player = server
        .invite_member(&admin, "page@keep.test", "PLAYER")
        .await;

    for role in ["ADMIN", "SUPERUSER"] {
        let body = server
            .gql_as(
                &admin,
                CREATE_INVITE,
                json!({ "email": "climber@keep.test", "role": role }),
            )
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "inviting as {role}: {body}");
    }
    let body = server
        .gql_as(
            &player,
            CREATE_INVITE,
            json!({ "email": "friend@keep.test", "role": "PLAYER" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // None of the refused attempts left an invite behind: only the page's (used) invite exists.
    let invites = server.ok_as(&admin, INVITES, json!({})).await;
    assert_eq!(invites["invites"]["total"], 1, "{invites}");
    assert_eq!(invites["invites"]["invites"][0]["email"], "page@keep.test");
    assert_eq!(invites["invites"]["invites"][0]["status"], "ACCEPTED");

    // A revoked invite is no longer valid and cannot be used.
    let (id, token) = create_invite(&server, &admin, "late@keep.test", "PLAYER").await;
    let checked = server
        .ok(None, VALIDATE_INVITE, json!({ "token": token }))
        .await;
    assert_eq!(checked["validateInvite"]["valid"], true);
    let revoked = server
        .ok_as(&admin, REVOKE_INVITE, json!({ "id": id }))
        .await;
    assert_eq!(revoked["revokeInvite"]["status"], "REVOKED");
    let checked = server
        .ok(None, VALIDATE_INVITE, json!({ "token": token }))
        .await;
    assert_eq!(checked["validateInvite"]["valid"], false);
    assert!(checked["validateInvite"]["reason"].is_string(), "{checked}");
    let used = server
        .gql(
            None,
            REGISTER_WITH_INVITE,
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&used), "BAD_USER_INPUT", "{used}");
    let login = server.login("late@keep.test", PASSWORD).await;
    assert_eq!(error_code(&login), "UNAUTHENTICATED", "{login}");

    // A token nobody issued is simply not valid.
    let unknown = server
        .ok(
            None,
            VALIDATE_INVITE,
            json!({ "token": "not-a-real-invite-token" }),
        )
        .await;
    assert_eq!(unknown["validateInvite"]["valid"], false);
    assert_eq!(unknown["validateInvite"]["email"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_account_accepts_an_invite_and_switches_to_the_new_tenant() {
    let server = TestServer::start().await;
    let alice = server.register("alice@first.test", "First Studio").await;
    let bob = server.register("bob@second.test", "Second Studio").await;

    // An invite for someone else's email cannot be taken.
    let (_, other_token) = create_invite(&server, &bob, "carol@second.test", "PLAYER").await;
    let body = server
        .gql_as(
            &alice,
            "mutation($token: String!) { acceptInvite(token: $token) { id } }",
            json!({ "token": other_token }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    let (_, token) = create_invite(&server, &bob, "alice@first.test", "WORLDBUILDER").await;
    let accepted = server
        .ok_as(
            &alice,
            "mutation($token: String!) { acceptInvite(token: $token) { id email } }",
            json!({ "token": token }),
        )
        .await;
    assert_eq!(accepted["acceptInvite"]["id"], alice.user_id.as_str());

    let me = server
        .ok_as(
            &alice,
            "{ me { memberships { tenant { id } role } } }",
            json!({}),
        )
        .await;
    let memberships = me["me"]["memberships"].as_array().expect("memberships");
    assert_eq!(memberships.len(), 2, "{me}");
    let mut held: Vec<(String, String)> = memberships
        .iter()
        .map(|m| {
            (
                m["tenant"]["id"].as_str().expect("tenant id").to_owned(),
                m["role"].as_str().expect("role").to_owned(),
            )
        })
        .collect();
    held.sort();
    assert_eq!(
        held,
        pairs(&[
            (alice.tenant_id.as_str(), "ADMIN"),
            (bob.tenant_id.as_str(), "WORLDBUILDER"),
        ])
    );
    // Bob's tenant now lists Alice.
    let (total, listed) = members(&server, &bob.token).await;
    assert_eq!(total, 2);
    assert!(listed.contains(&("alice@first.test".to_owned(), "WORLDBUILDER".to_owned())));

    let switched = server
        .ok_as(
            &alice,
            "mutation($tenantId: ID!) { selectTenant(tenantId: $tenantId) {
                accessToken role tenant { id } user { id } } }",
            json!({ "tenantId": bob.tenant_id }),
        )
        .await;
    let payload = &switched["selectTenant"];
    assert_eq!(payload["tenant"]["id"], bob.tenant_id.as_str());
    assert_eq!(payload["role"], "WORLDBUILDER");
    assert_eq!(payload["user"]["id"], alice.user_id.as_str());
    let new_token = payload["accessToken"].as_str().expect("accessToken");
    let here = server
        .ok(
            Some(new_token),
            "{ tenant { id name } me { role } }",
            json!({}),
        )
        .await;
    assert_eq!(here["tenant"]["id"], bob.tenant_id.as_str());
    assert_eq!(here["tenant"]["name"], "Second Studio");
    assert_eq!(here["me"]["role"], "WORLDBUILDER");
    // As a worldbuilder there, Alice is no admin of Bob's tenant.
    let body = server.gql(Some(new_token), USERS, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_changes_a_members_role_and_it_applies_at_once() {
    let server = TestServer::start().await;
    let admin = server.register("admin@live.test", "Live Studio").await;
    let scribe = server
        .invite_member(&admin, "scribe@live.test", "WORLDBUILDER")
        .await;

    let me = server.ok_as(&scribe, ME, json!({})).await;
    assert_eq!(me["me"]["role"], "WORLDBUILDER");

    let body = update_user(
        &server,
        &admin.token,
        &scribe.user_id,
        json!({ "role": "PLAYER" }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["updateUser"]["role"], "PLAYER");

    // The member's existing token carries the new role immediately.
    let me = server.ok_as(&scribe, ME, json!({})).await;
    assert_eq!(me["me"]["role"], "PLAYER");
    let seen = server
        .ok_as(&admin, USER, json!({ "id": scribe.user_id }))
        .await;
    assert_eq!(seen["user"]["role"], "PLAYER");

    // Admins cannot raise anyone to their own level or above.
    for role in ["ADMIN", "SUPERUSER"] {
        let body = update_user(
            &server,
            &admin.token,
            &scribe.user_id,
            json!({ "role": role }),
        )
        .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "granting {role}: {body}");
    }
    let me = server.ok_as(&scribe, ME, json!({})).await;
    assert_eq!(me["me"]["role"], "PLAYER");

    // Nor change their own role.
    let body = update_user(
        &server,
        &admin.token,
        &admin.user_id,
        json!({ "role": "PLAYER" }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let me = server.ok_as(&admin, ME, json!({})).await;
    assert_eq!(me["me"]["role"], "ADMIN");

    // A worldbuilder manages nobody, though they may rename themself.
    let apprentice = server
        .invite_member(&admin, "apprentice@live.test", "WORLDBUILDER")
        .await;
    for input in [
        json!({ "role": "WORLDBUILDER" }),
        json!({ "displayName": "Renamed" }),
    ] {
        let body = update_user(&server, &apprentice.token, &scribe.user_id, input.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{input}: {body}");
    }
    let seen = server
        .ok_as(&admin, USER, json!({ "id": scribe.user_id }))
        .await;
    assert_eq!(seen["user"]["role"], "PLAYER");
    assert_eq!(seen["user"]["displayName"], "Member");
    let body = update_user(
        &server,
        &apprentice.token,
        &apprentice.user_id,
        json!({ "displayName": "Apprentice" }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["updateUser"]["displayName"], "Apprentice");
    assert_eq!(body["data"]["updateUser"]["role"], "WORLDBUILDER");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_member_is_signed_out_and_cannot_sign_in() {
    let server = TestServer::start().await;
    let admin = server.register("admin@lapse.test", "Lapse Studio").await;
    let member = server
        .invite_member(&admin, "lapsed@lapse.test", "PLAYER")
        .await;
    server.ok_as(&member, ME, json!({})).await;

    let body = update_user(
        &server,
        &admin.token,
        &member.user_id,
        json!({ "isActive": false }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["updateUser"]["isActive"], false);

    assert_refused(&server, &member.token).await;
    let login = server.login("lapsed@lapse.test", MEMBER_PASSWORD).await;
    assert_eq!(error_code(&login), "UNAUTHENTICATED", "{login}");
    let refreshed = server
        .gql(
            None,
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            json!({ "t": member.refresh }),
        )
        .await;
    assert_eq!(error_code(&refreshed), "UNAUTHENTICATED", "{refreshed}");

    // Still a member, shown as inactive; reactivating lets them sign in again.
    let seen = server
        .ok_as(&admin, USER, json!({ "id": member.user_id }))
        .await;
    assert_eq!(seen["user"]["isActive"], false);
    let body = update_user(
        &server,
        &admin.token,
        &member.user_id,
        json!({ "isActive": true }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    let login = server.login("lapsed@lapse.test", MEMBER_PASSWORD).await;
    assert!(login.get("errors").is_none(), "{login}");
    assert_eq!(
        login["data"]["login"]["user"]["id"],
        member.user_id.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_resets_a_members_password_and_signs_them_out() {
    let server = TestServer::start().await;
    let admin = server.register("admin@reset.test", "Reset Studio").await;
    let member = server
        .invite_member(&admin, "forgetful@reset.test", "WORLDBUILDER")
        .await;
    server.ok_as(&member, ME, json!({})).await;

    let body = server
        .gql_as(
            &admin,
            SET_USER_PASSWORD,
            json!({ "id": member.user_id, "password": "short" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "newPassword");

    let data = server
        .ok_as(
            &admin,
            SET_USER_PASSWORD,
            json!({ "id": member.user_id, "password": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(data["setUserPassword"], true);

    assert_refused(&server, &member.token).await;
    let old = server.login("forgetful@reset.test", MEMBER_PASSWORD).await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED", "{old}");
    let new = server
        .login("forgetful@reset.test", "a brand new passphrase")
        .await;
    assert!(new.get("errors").is_none(), "{new}");
    assert_eq!(new["data"]["login"]["user"]["id"], member.user_id.as_str());
    assert_eq!(new["data"]["login"]["role"], "WORLDBUILDER");

    // The admin's own session was not touched, and no one resets their own password this way.
    let me = server.ok_as(&admin, ME, json!({})).await;
    assert_eq!(me["me"]["role"], "ADMIN");
    let body = server
        .gql_as(
            &admin,
            SET_USER_PASSWORD,
            json!({ "id": admin.user_id, "password": "another long password" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_wide_changes_are_refused_for_accounts_shared_with_another_tenant() {
    let server = TestServer::start().await;
    let alice = server.register("alice@home.test", "Home Studio").await;
    let bob = server.register("bob@away.test", "Away Studio").await;
    let (_, token) = create_invite(&server, &bob, "alice@home.test", "PLAYER").await;
    server
        .ok_as(
            &alice,
            "mutation($token: String!) { acceptInvite(token: $token) { id } }",
            json!({ "token": token }),
        )
        .await;

    let body = server
        .gql_as(
            &bob,
            SET_USER_PASSWORD,
            json!({ "id": alice.user_id, "password": "bob knows it now" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    for input in [
        json!({ "isActive": false }),
        json!({ "email": "taken@away.test" }),
    ] {
        let body = update_user(&server, &bob.token, &alice.user_id, input.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{input}: {body}");
    }

    // The role in Bob's own tenant is his to change.
    let body = update_user(
        &server,
        &bob.token,
        &alice.user_id,
        json!({ "role": "WORLDBUILDER" }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["updateUser"]["role"], "WORLDBUILDER");

    // Alice's account is as it was: same email, same password, still active, still ADMIN at home.
    let me = server.ok_as(&alice, ME, json!({})).await;
    assert_eq!(me["me"]["email"], "alice@home.test");
    assert_eq!(me["me"]["role"], "ADMIN");
    let login = server.login("alice@home.test", PASSWORD).await;
    assert!(login.get("errors").is_none(), "{login}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_removes_a_member_but_cannot_delete_accounts() {
    let server = TestServer::start().await;
    let admin = server.register("admin@exit.test", "Exit Studio").await;
    let member = server
        .invite_member(&admin, "leaver@exit.test", "PLAYER")
        .await;
    server.ok_as(&member, ME, json!({})).await;
    let (total, _) = members(&server, &admin.token).await;
    assert_eq!(total, 2);

    // Deleting accounts is for superusers only.
    let body = server
        .gql_as(&admin, DELETE_USER, json!({ "id": member.user_id }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    server.ok_as(&member, ME, json!({})).await;

    // No one removes themself.
    let body = server
        .gql_as(&admin, REMOVE_MEMBER, json!({ "id": admin.user_id }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    let data = server
        .ok_as(&admin, REMOVE_MEMBER, json!({ "id": member.user_id }))
        .await;
    assert_eq!(data["removeMember"], true);

    assert_refused(&server, &member.token).await;
    let refreshed = server
        .gql(
            None,
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            json!({ "t": member.refresh }),
        )
        .await;
    assert_eq!(error_code(&refreshed), "UNAUTHENTICATED", "{refreshed}");
    let (total, listed) = members(&server, &admin.token).await;
    assert_eq!(total, 1);
    assert_eq!(listed, pairs(&[("admin@exit.test", "ADMIN")]));
    let seen = server
        .ok_as(&admin, USER, json!({ "id": member.user_id }))
        .await;
    assert_eq!(seen["user"], Value::Null);

    // Removing again finds nobody.
    let body = server
        .gql_as(&admin, REMOVE_MEMBER, json!({ "id": member.user_id }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_acts_as_its_owner_until_revoked() {
    let server = TestServer::start().await;
    let admin = server.register("admin@keys.test", "Key Studio").await;

    let created = server
        .ok_as(&admin, CREATE_API_KEY, json!({ "name": "deploy bot" }))
        .await;
    let key = created["createApiKey"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let api_key = &created["createApiKey"]["apiKey"];
    let id = api_key["id"].as_str().expect("id").to_owned();
    let prefix = api_key["prefix"].as_str().expect("prefix");
    assert!(key.starts_with("lg_"), "{key}");
    assert!(
        key.starts_with(prefix),
        "{prefix} is not a prefix of the key"
    );
    assert!(
        prefix.len() < key.len(),
        "the prefix must not be the whole key"
    );
    assert_eq!(api_key["name"], "deploy bot");
    assert_eq!(api_key["isActive"], true);
    assert_eq!(api_key["lastUsedAt"], Value::Null);

    // As a bearer token…
    let me = server
        .ok(Some(&key), "{ me { email role } }", json!({}))
        .await;
    assert_eq!(me["me"]["email"], "admin@keys.test");
    assert_eq!(me["me"]["role"], "ADMIN");
    // …and in the X-API-Key header.
    let (status, body) = post_with_api_key_header(&server, &key, "{ me { email } }").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["email"], "admin@keys.test");

    // The key is listed, with its use recorded.
    let listed = server
        .ok_as(&admin, API_KEYS, json!({ "includeRevoked": false }))
        .await;
    assert_eq!(listed["apiKeys"]["total"], 1);
    let entry = &listed["apiKeys"]["apiKeys"][0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["name"], "deploy bot");
    assert!(
        entry["lastUsedAt"].is_string(),
        "lastUsedAt should be set after use: {entry}"
    );

    let revoked = server
        .ok_as(&admin, REVOKE_API_KEY, json!({ "id": id }))
        .await;
    assert_eq!(revoked["revokeApiKey"]["isActive"], false);
    assert!(revoked["revokeApiKey"]["revokedAt"].is_string());

    // Refused at once, however it is presented.
    assert_refused(&server, &key).await;
    let (status, body) = post_with_api_key_header(&server, &key, "{ me { email } }").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    // A made-up key is refused the same way.
    assert_refused(&server, "lg_madeupke_notarealkeyatallnotarealkeyatall").await;

    let listed = server
        .ok_as(&admin, API_KEYS, json!({ "includeRevoked": false }))
        .await;
    assert_eq!(listed["apiKeys"]["total"], 0);
    let listed = server
        .ok_as(&admin, API_KEYS, json!({ "includeRevoked": true }))
        .await;
    assert_eq!(listed["apiKeys"]["total"], 1);
    assert_eq!(listed["apiKeys"]["apiKeys"][0]["isActive"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_see_and_revoke_only_their_own_api_keys() {
    let server = TestServer::start().await;
    let admin = server.register("admin@ring.test", "Ring Studio").await;
    let player = server
        .invite_member(&admin, "player@ring.test", "PLAYER")
        .await;
    let (admin_key_id, admin_key) = create_api_key(&server, &admin, "admin key").await;
    let (player_key_id, player_key) = create_api_key(&server, &player, "player key").await;

    // A player's key acts as the player.
    let me = server.ok(Some(&player_key), ME, json!({})).await;
    assert_eq!(me["me"]["email"], "player@ring.test");
    assert_eq!(me["me"]["role"], "PLAYER");

    let mine = server
        .ok_as(&player, API_KEYS, json!({ "includeRevoked": false }))
        .await;
    assert_eq!(mine["apiKeys"]["total"], 1);
    assert_eq!(mine["apiKeys"]["apiKeys"][0]["name"], "player key");
    let all = server
        .ok_as(&admin, API_KEYS, json!({ "includeRevoked": false }))
        .await;
    assert_eq!(all["apiKeys"]["total"], 2);

    let body = server
        .gql_as(&player, REVOKE_API_KEY, json!({ "id": admin_key_id }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    server.ok(Some(&admin_key), ME, json!({})).await;

    // An admin may revoke any key of the tenant.
    server
        .ok_as(&admin, REVOKE_API_KEY, json!({ "id": player_key_id }))
        .await;
    assert_refused(&server, &player_key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_admin_can_neither_see_nor_touch_anything_of_ours() {
    let server = TestServer::start().await;
    let a_admin = server.register("admin@alpha.test", "Alpha Studio").await;
    let a_member = server
        .invite_member(&a_admin, "smith@alpha.test", "WORLDBUILDER")
        .await;
    let (a_invite_id, a_invite_token) =
        create_invite(&server, &a_admin, "pending@alpha.test", "PLAYER").await;
    let (a_key_id, a_key) = create_api_key(&server, &a_admin, "alpha automation").await;
    let b_admin = server.register("admin@beta.test", "Beta Studio").await;
    let b = b_admin.token.as_str();

    // B sees only B.
    let (total, listed) = members(&server, b).await;
    assert_eq!(total, 1);
    assert_eq!(listed, pairs(&[("admin@beta.test", "ADMIN")]));
    let found = server
        .ok(Some(b), USERS, json!({ "search": "alpha" }))
        .await;
    assert_eq!(found["users"]["total"], 0);
    for id in [&a_member.user_id, &a_admin.user_id] {
        let seen = server.ok(Some(b), USER, json!({ "id": id })).await;
        assert_eq!(seen["user"], Value::Null, "B's admin must not see {id}");
    }

    // B cannot act on A's member, and cannot tell them from nobody.
    let nobody = uuid::Uuid::new_v4().to_string();
    for id in [a_member.user_id.as_str(), nobody.as_str()] {
        let attempts = [
            update_user(&server, b, id, json!({ "role": "PLAYER" })).await,
            update_user(&server, b, id, json!({ "displayName": "Hijacked" })).await,
            server
                .gql(
                    Some(b),
                    SET_USER_PASSWORD,
                    json!({ "id": id, "password": "hijacked password" }),
                )
                .await,
            server
                .gql(Some(b), REMOVE_MEMBER, json!({ "id": id }))
                .await,
        ];
        for body in attempts {
            assert_eq!(error_code(&body), "NOT_FOUND", "{id}: {body}");
        }
    }
    let cross = update_user(&server, b, &a_member.user_id, json!({ "role": "PLAYER" })).await;
    let missing = update_user(&server, b, &nobody, json!({ "role": "PLAYER" })).await;
    assert_eq!(
        cross["errors"][0]["message"],
        missing["errors"][0]["message"]
    );

    // Nor see or revoke A's invites and keys.
    let invites = server.ok(Some(b), INVITES, json!({})).await;
    assert_eq!(invites["invites"]["total"], 0);
    let body = server
        .gql(Some(b), REVOKE_INVITE, json!({ "id": a_invite_id }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    for include_revoked in [false, true] {
        let keys = server
            .ok(
                Some(b),
                API_KEYS,
                json!({ "includeRevoked": include_revoked }),
            )
            .await;
        assert_eq!(keys["apiKeys"]["total"], 0);
    }
    let body = server
        .gql(Some(b), REVOKE_API_KEY, json!({ "id": a_key_id }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");

    // A is exactly as it was.
    let seen = server
        .ok_as(&a_admin, USER, json!({ "id": a_member.user_id }))
        .await;
    assert_eq!(
        seen["user"],
        json!({
            "id": a_member.user_id,
            "email": "smith@alpha.test",
            "displayName": "Member",
            "role": "WORLDBUILDER",
            "isActive": true,
        })
    );
    let me = server.ok_as(&a_member, ME, json!({})).await;
    assert_eq!(me["me"]["role"], "WORLDBUILDER");
    let login = server.login("smith@alpha.test", MEMBER_PASSWORD).await;
    assert!(login.get("errors").is_none(), "{login}");
    let checked = server
        .ok(None, VALIDATE_INVITE, json!({ "token": a_invite_token }))
        .await;
    assert_eq!(checked["validateInvite"]["valid"], true);
    let via_key = server.ok(Some(&a_key), ME, json!({})).await;
    assert_eq!(via_key["me"]["email"], "admin@alpha.test");
    let (total, _) = members(&server, &a_admin.token).await;
    assert_eq!(total, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_superusers_list_every_tenant() {
    let server = TestServer::start().await;
    let admin = server.register("admin@solo.test", "Solo Studio").await;
    let body = server
        .gql_as(
            &admin,
            "{ tenants { total tenants { id name } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert!(body["data"].is_null(), "no tenant data may leak: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_renames_the_tenant() {
    let server = TestServer::start().await;
    let admin = server.register("admin@rename.test", "Old Name").await;
    let player = server
        .invite_member(&admin, "player@rename.test", "PLAYER")
        .await;
    let rename = "mutation($name: String) { updateTenant(input: { name: $name }) { id name } }";

    let data = server
        .ok_as(&admin, rename, json!({ "name": "New Name" }))
        .await;
    assert_eq!(data["updateTenant"]["id"], admin.tenant_id.as_str());
    assert_eq!(data["updateTenant"]["name"], "New Name");
    let seen = server
        .ok_as(&player, "{ tenant { name } }", json!({}))
        .await;
    assert_eq!(seen["tenant"]["name"], "New Name");

    let body = server
        .gql_as(&player, rename, json!({ "name": "Player's Name" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    for empty in ["", "   "] {
        let body = server
            .gql_as(&admin, rename, json!({ "name": empty }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{empty:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "name");
    }

    let seen = server.ok_as(&admin, "{ tenant { name } }", json!({})).await;
    assert_eq!(seen["tenant"]["name"], "New Name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_cannot_manage_a_fellow_admin() {
    use diesel_async::RunQueryDsl;

    let server = TestServer::start().await;
    let admin = server.register("admin@peers.test", "Peer Studio").await;
    let peer = server
        .invite_member(&admin, "peer@peers.test", "WORLDBUILDER")
        .await;
    // GraphQL never lets an admin make another admin, so promote the peer in the database.
    let mut conn = server.db().await;
    let promoted = diesel::sql_query("UPDATE memberships SET role = 'admin' WHERE user_id = $1")
        .bind::<diesel::sql_types::Uuid, _>(uuid::Uuid::parse_str(&peer.user_id).expect("uuid"))
        .execute(&mut conn)
        .await
        .expect("promote the peer");
    assert_eq!(promoted, 1);

    for input in [
        json!({ "role": "PLAYER" }),
        json!({ "isActive": false }),
        json!({ "displayName": "Demoted" }),
    ] {
        let body = update_user(&server, &admin.token, &peer.user_id, input.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{input}: {body}");
    }
    let body = server
        .gql_as(
            &admin,
            SET_USER_PASSWORD,
            json!({ "id": peer.user_id, "password": "taking over the peer" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = server
        .gql_as(&admin, REMOVE_MEMBER, json!({ "id": peer.user_id }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    let seen = server
        .ok_as(&admin, USER, json!({ "id": peer.user_id }))
        .await;
    assert_eq!(seen["user"]["role"], "ADMIN");
    assert_eq!(seen["user"]["isActive"], true);
    assert_eq!(seen["user"]["displayName"], "Member");
    let login = server.login("peer@peers.test", MEMBER_PASSWORD).await;
    assert!(login.get("errors").is_none(), "{login}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_member_revokes_their_api_keys_in_that_tenant() {
    let server = TestServer::start().await;
    let admin = server.register("admin@keys-exit.test", "Keys Exit").await;
    let member = server
        .invite_member(&admin, "scripter@keys-exit.test", "WORLDBUILDER")
        .await;
    let (_, key) = create_api_key(&server, &member, "nightly import").await;
    let (status, _) = post_with_api_key_header(&server, &key, ME).await;
    assert_eq!(status, 200);

    server
        .ok_as(&admin, REMOVE_MEMBER, json!({ "id": member.user_id }))
        .await;
    assert_refused(&server, &key).await;
    // Stored as revoked, so the key cannot come back if the person is invited again.
    let listed = server
        .ok_as(&admin, API_KEYS, json!({ "includeRevoked": true }))
        .await;
    assert_eq!(listed["apiKeys"]["total"], 1);
    assert_eq!(listed["apiKeys"]["apiKeys"][0]["isActive"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_twice_keeps_the_first_revocation() {
    let server = TestServer::start().await;
    let admin = server.register("admin@twice.test", "Twice").await;
    let (key_id, _) = create_api_key(&server, &admin, "old").await;
    let first = server
        .ok_as(&admin, REVOKE_API_KEY, json!({ "id": key_id }))
        .await;
    let again = server
        .ok_as(&admin, REVOKE_API_KEY, json!({ "id": key_id }))
        .await;
    assert!(first["revokeApiKey"]["revokedAt"].is_string());
    assert_eq!(
        first["revokeApiKey"]["revokedAt"],
        again["revokeApiKey"]["revokedAt"]
    );

    let (invite_id, _) = create_invite(&server, &admin, "late@twice.test", "PLAYER").await;
    for _ in 0..2 {
        let revoked = server
            .ok_as(&admin, REVOKE_INVITE, json!({ "id": invite_id }))
            .await;
        assert_eq!(revoked["revokeInvite"]["status"], "REVOKED");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inviting_someone_already_in_the_tenant_is_a_conflict() {
    let server = TestServer::start().await;
    let admin = server.register("admin@again.test", "Again").await;
    server
        .invite_member(&admin, "member@again.test", "PLAYER")
        .await;
    let body = server
        .gql_as(
            &admin,
            CREATE_INVITE,
            json!({ "email": "Member@Again.test", "role": "WORLDBUILDER" }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    let invites = server.ok_as(&admin, INVITES, json!({})).await;
    assert_eq!(
        invites["invites"]["total"], 1,
        "only the first, used invite exists"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superusers_reach_every_account_and_admins_never_see_them() {
    let server = TestServer::start().await;
    let root = server.superuser("root@everywhere.test").await;
    let admin = server.register("admin@elsewhere.test", "Elsewhere").await;
    let member = server
        .invite_member(&admin, "member@elsewhere.test", "PLAYER")
        .await;

    // The admin cannot find the superuser, who is not a member of their tenant.
    let seen = server
        .ok_as(&admin, USER, json!({ "id": root.user_id }))
        .await;
    assert_eq!(seen["user"], Value::Null);

    // The superuser finds the member of another tenant, with no role in their own tenant...
    let found = server
        .ok_as(&root, USER, json!({ "id": member.user_id }))
        .await;
    assert_eq!(found["user"]["email"], "member@elsewhere.test");
    assert_eq!(found["user"]["role"], Value::Null);
    // ...and cannot give them a role in a tenant they do not belong to.
    let body = update_user(
        &server,
        &root.token,
        &member.user_id,
        json!({ "role": "WORLDBUILDER" }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let me = server.ok_as(&member, ME, json!({})).await;
    assert_eq!(me["me"]["role"], "PLAYER");

    // Deleting an account is the superuser's: it ends the member everywhere.
    let deleted = server
        .ok_as(&root, DELETE_USER, json!({ "id": member.user_id }))
        .await;
    assert_eq!(deleted["deleteUser"], true);
    assert_refused(&server, &member.token).await;
    let (total, _) = members(&server, &admin.token).await;
    assert_eq!(total, 1);
    let again = server
        .gql_as(&root, DELETE_USER, json!({ "id": member.user_id }))
        .await;
    assert_eq!(error_code(&again), "NOT_FOUND", "{again}");
}
