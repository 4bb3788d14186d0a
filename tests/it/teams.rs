//! Tenants, teams, groups and permissions as a studio uses them: a member removed from their
//! last tenant still signs in and founds a new one; teams and groups are the ADMIN's to manage;
//! a group allowed to edit only locations and items edits nothing else; permission templates
//! applied to members; BrainBits quotas per team and group — and other tenants and lower roles
//! kept out of all of it.

use serde_json::{Value, json};

use crate::billing_webhooks::{billing_server, deliver_ok, now, subscription_event};
use crate::harness::*;

const ME: &str = "{ me { id email role memberships { role tenant { id name } } } }";
const CREATE_TENANT: &str = "mutation($name: String!) { createTenant(name: $name) {
    accessToken refreshToken role user { id } tenant { id name } } }";
const SELECT_TENANT: &str = "mutation($id: ID!) { selectTenant(tenantId: $id) {
    accessToken refreshToken role user { id } tenant { id name } } }";
const CREATE_TEAM: &str = "mutation($input: TeamInput!) { createTeam(input: $input) { id name } }";
const TEAM: &str = "query($id: ID!) { team(id: $id) { id name memberCount
    members { total members { id } } } }";
const ADD_TEAM_MEMBER: &str =
    "mutation($team: ID!, $user: ID!) { addTeamMember(teamId: $team, userId: $user) }";
const CREATE_GROUP: &str = "mutation($input: GroupInput!) { createGroup(input: $input) {
    id name preset permissions { permission entityTypes } } }";
const ADD_GROUP_MEMBER: &str =
    "mutation($group: ID!, $user: ID!) { addGroupMember(groupId: $group, userId: $user) }";
const CREATE_ENTITY: &str = "mutation($type: EntityType!, $id: String!) {
    createEntity(type: $type, input: { entityId: $id, name: \"Somewhere\" }) { entityId } }";
const CONSUME: &str = "mutation($amount: Int!) {
    consumeBrainbits(amount: $amount, operation: \"generate\", provider: \"openai\") { charged } }";
const EFFECTIVE: &str = "query($user: ID) { effectivePermissions(userId: $user) {
    role restricted grants { permission entityTypes } groups { name }
    ownPermissions { permission } template { name } } }";

fn reason(body: &Value) -> &str {
    body["errors"][0]["extensions"]["reason"]
        .as_str()
        .unwrap_or("<no reason>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_from_their_last_tenant_signs_in_and_founds_another() {
    let server = TestServer::start().await;
    let admin = server.register("admin@first.test", "First Studio").await;
    let member = server
        .invite_member(&admin, "wanderer@first.test", "WORLDBUILDER")
        .await;
    server
        .ok_as(
            &admin,
            "mutation($id: ID!) { removeMember(id: $id) }",
            json!({ "id": member.user_id }),
        )
        .await;

    // Signing in still works: to a session in no tenant.
    let body = server
        .login("wanderer@first.test", "correct horse battery")
        .await;
    let login = body["data"]["login"].clone();
    assert_eq!(login["tenant"], Value::Null, "{body}");
    assert_eq!(login["role"], Value::Null, "{body}");
    let token = login["accessToken"].as_str().expect("a token").to_owned();
    let me = server.ok(Some(&token), ME, json!({})).await["me"].clone();
    assert_eq!(me["email"], "wanderer@first.test");
    assert_eq!(me["role"], Value::Null);
    assert_eq!(me["memberships"], json!([]));

    // Everything of a tenant is refused with a reason the client can act on.
    let body = server
        .gql(Some(&token), "{ tenant { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(reason(&body), "no_tenant");
    let body = server
        .gql(
            Some(&token),
            "{ entities(type: CHARACTER) { total } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // The refresh token of a session in no tenant works too.
    let refresh = login["refreshToken"].as_str().expect("refresh").to_owned();
    let refreshed = server
        .ok(
            None,
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken tenant { id } } }",
            json!({ "t": refresh }),
        )
        .await["refreshToken"]
        .clone();
    assert_eq!(refreshed["tenant"], Value::Null);
    let token = refreshed["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();

    // Founding a tenant makes them its ADMIN and moves the session there.
    let founded = server
        .ok(
            Some(&token),
            CREATE_TENANT,
            json!({ "name": "Second Wind" }),
        )
        .await["createTenant"]
        .clone();
    assert_eq!(founded["role"], "ADMIN");
    assert_eq!(founded["tenant"]["name"], "Second Wind");
    let token = founded["accessToken"].as_str().expect("a token").to_owned();
    let tenant = server
        .ok(Some(&token), "{ tenant { id name } }", json!({}))
        .await;
    assert_eq!(tenant["tenant"]["name"], "Second Wind");

    // The first tenant never sees the new one.
    let body = server
        .gql_as(
            &admin,
            SELECT_TENANT,
            json!({ "id": founded["tenant"]["id"] }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = server
        .gql(None, CREATE_TENANT, json!({ "name": "Nobody's" }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = server
        .gql_as(&admin, CREATE_TENANT, json!({ "name": "  " }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_accepted_without_a_tenant_is_selected_and_tenants_are_switched() {
    let server = TestServer::start().await;
    let admin = server.register("admin@hub.test", "Hub").await;
    let member = server
        .invite_member(&admin, "drifter@hub.test", "PLAYER")
        .await;
    server
        .ok_as(
            &admin,
            "mutation($id: ID!) { removeMember(id: $id) }",
            json!({ "id": member.user_id }),
        )
        .await;
    let invite = server
        .ok_as(
            &admin,
            "mutation { createInvite(email: \"drifter@hub.test\", role: WORLDBUILDER) { token } }",
            json!({}),
        )
        .await["createInvite"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let body = server
        .login("drifter@hub.test", "correct horse battery")
        .await;
    let token = body["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    server
        .ok(
            Some(&token),
            "mutation($t: String!) { acceptInvite(token: $t) { id } }",
            json!({ "t": invite }),
        )
        .await;
    let selected = server
        .ok(
            Some(&token),
            SELECT_TENANT,
            json!({ "id": admin.tenant_id }),
        )
        .await["selectTenant"]
        .clone();
    assert_eq!(selected["role"], "WORLDBUILDER");

    // A member founds a second tenant and switches between the two.
    let second = server
        .ok_as(&admin, CREATE_TENANT, json!({ "name": "Hub Two" }))
        .await["createTenant"]
        .clone();
    let token = second["accessToken"].as_str().expect("token").to_owned();
    let me = server.ok(Some(&token), ME, json!({})).await["me"].clone();
    let mut names: Vec<&str> = me["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .map(|m| m["tenant"]["name"].as_str().unwrap_or_default())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Hub", "Hub Two"]);
    let back = server
        .ok(
            Some(&token),
            SELECT_TENANT,
            json!({ "id": admin.tenant_id }),
        )
        .await["selectTenant"]
        .clone();
    assert_eq!(back["tenant"]["name"], "Hub");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_are_managed_by_admins_and_stay_in_their_tenant() {
    let server = TestServer::start().await;
    let admin = server.register("admin@teams.test", "Teams").await;
    let writer = server
        .invite_member(&admin, "writer@teams.test", "WORLDBUILDER")
        .await;
    let outsider = server.register("admin@rival.test", "Rival").await;

    server
        .fails_as(
            &writer,
            CREATE_TEAM,
            json!({ "input": { "name": "Art" } }),
            "FORBIDDEN",
        )
        .await;
    let team = server
        .ok_as(
            &admin,
            CREATE_TEAM,
            json!({ "input": { "name": "Art", "description": "Pixels" } }),
        )
        .await["createTeam"]
        .clone();
    let team_id = team["id"].as_str().expect("id").to_owned();
    server
        .fails_as(
            &admin,
            CREATE_TEAM,
            json!({ "input": { "name": "ART" } }),
            "CONFLICT",
        )
        .await;
    let added = server
        .ok_as(
            &admin,
            ADD_TEAM_MEMBER,
            json!({ "team": team_id, "user": writer.user_id }),
        )
        .await;
    assert_eq!(added["addTeamMember"], true);
    let again = server
        .ok_as(
            &admin,
            ADD_TEAM_MEMBER,
            json!({ "team": team_id, "user": writer.user_id }),
        )
        .await;
    assert_eq!(again["addTeamMember"], false);
    // Someone of another tenant cannot be added.
    server
        .fails_as(
            &admin,
            ADD_TEAM_MEMBER,
            json!({ "team": team_id, "user": outsider.user_id }),
            "NOT_FOUND",
        )
        .await;

    let seen = server.ok_as(&writer, TEAM, json!({ "id": team_id })).await["team"].clone();
    assert_eq!(seen["memberCount"], 1);
    assert_eq!(seen["members"]["members"][0]["id"], writer.user_id.as_str());
    let listed = server
        .ok_as(&writer, "{ teams { name memberCount } }", json!({}))
        .await;
    assert_eq!(
        listed["teams"],
        json!([{ "name": "Art", "memberCount": 1 }])
    );
    let of_user = server
        .ok_as(
            &writer,
            "query($u: ID!) { userGroups(userId: $u) { teams { name } groups { name } } }",
            json!({ "u": writer.user_id }),
        )
        .await;
    assert_eq!(
        of_user["userGroups"],
        json!({ "teams": [{ "name": "Art" }], "groups": [] })
    );

    // Another tenant sees nothing and changes nothing.
    server
        .fails_as(&outsider, TEAM, json!({ "id": team_id }), "NOT_FOUND")
        .await;
    server
        .fails_as(
            &outsider,
            ADD_TEAM_MEMBER,
            json!({ "team": team_id, "user": outsider.user_id }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            "mutation($id: ID!) { deleteTeam(id: $id) }",
            json!({ "id": team_id }),
            "NOT_FOUND",
        )
        .await;
    assert_eq!(
        server.ok_as(&outsider, "{ teams { id } }", json!({})).await["teams"],
        json!([])
    );

    // Leaving the tenant leaves its teams.
    server
        .ok_as(
            &admin,
            "mutation($id: ID!) { removeMember(id: $id) }",
            json!({ "id": writer.user_id }),
        )
        .await;
    let seen = server.ok_as(&admin, TEAM, json!({ "id": team_id })).await["team"].clone();
    assert_eq!(seen["memberCount"], 0);
    let deleted = server
        .ok_as(
            &admin,
            "mutation($id: ID!) { deleteTeam(id: $id) }",
            json!({ "id": team_id }),
        )
        .await;
    assert_eq!(deleted["deleteTeam"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_for_locations_and_items_edits_nothing_else_until_a_template_says_so() {
    let server = TestServer::start().await;
    let admin = server.register("admin@perm.test", "Perm").await;
    let designer = server
        .invite_member(&admin, "designer@perm.test", "WORLDBUILDER")
        .await;
    let free = server
        .invite_member(&admin, "free@perm.test", "WORLDBUILDER")
        .await;
    let outsider = server.register("admin@other.test", "Other").await;

    let presets = server
        .ok_as(
            &designer,
            "{ groupPresets { id permissions { permission entityTypes } } }",
            json!({}),
        )
        .await;
    let level = presets["groupPresets"]
        .as_array()
        .expect("presets")
        .iter()
        .find(|p| p["id"] == "level_designers")
        .expect("the level designers preset")
        .clone();
    assert_eq!(
        level["permissions"][0],
        json!({ "permission": "EDIT_ENTITIES", "entityTypes": ["LOCATION", "ITEM"] })
    );

    server
        .fails_as(
            &designer,
            CREATE_GROUP,
            json!({ "input": { "name": "Mine", "preset": "editors" } }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &admin,
            CREATE_GROUP,
            json!({ "input": { "name": "Bad", "permissions": [
                { "permission": "USE_AI", "entityTypes": ["ITEM"] }] } }),
            "BAD_USER_INPUT",
        )
        .await;
    let group = server
        .ok_as(
            &admin,
            CREATE_GROUP,
            json!({ "input": { "name": "Level design", "preset": "level_designers" } }),
        )
        .await["createGroup"]
        .clone();
    assert_eq!(group["preset"], "level_designers");
    let group_id = group["id"].as_str().expect("id").to_owned();
    server
        .ok_as(
            &admin,
            ADD_GROUP_MEMBER,
            json!({ "group": group_id, "user": designer.user_id }),
        )
        .await;

    // In the group: locations and items only; no AI.
    server
        .ok_as(
            &designer,
            CREATE_ENTITY,
            json!({ "type": "LOCATION", "id": "harbor" }),
        )
        .await;
    server
        .ok_as(
            &designer,
            CREATE_ENTITY,
            json!({ "type": "ITEM", "id": "lantern" }),
        )
        .await;
    let refused = server
        .gql_as(
            &designer,
            CREATE_ENTITY,
            json!({ "type": "CHARACTER", "id": "rex" }),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(reason(&refused), "permission_denied");
    let refused = server
        .gql_as(&designer, CONSUME, json!({ "amount": 1 }))
        .await;
    assert_eq!(reason(&refused), "permission_denied", "{refused}");
    let deleting = server
        .gql_as(
            &designer,
            "mutation { deleteEntity(type: LOCATION, entityId: \"harbor\") }",
            json!({}),
        )
        .await;
    assert_eq!(reason(&deleting), "permission_denied", "{deleting}");

    // Outside any group, a worldbuilder's role alone decides; an ADMIN is never bound.
    server
        .ok_as(
            &free,
            CREATE_ENTITY,
            json!({ "type": "CHARACTER", "id": "rex" }),
        )
        .await;
    server
        .ok_as(
            &admin,
            ADD_GROUP_MEMBER,
            json!({ "group": group_id, "user": admin.user_id }),
        )
        .await;
    server
        .ok_as(
            &admin,
            CREATE_ENTITY,
            json!({ "type": "FACTION", "id": "guild" }),
        )
        .await;

    let effective = server
        .ok_as(&designer, EFFECTIVE, json!({ "user": null }))
        .await["effectivePermissions"]
        .clone();
    assert_eq!(effective["restricted"], true);
    assert_eq!(effective["groups"], json!([{ "name": "Level design" }]));
    server
        .fails_as(
            &designer,
            EFFECTIVE,
            json!({ "user": free.user_id }),
            "FORBIDDEN",
        )
        .await;

    // A template applied to the designer adds characters to what they may edit.
    let template = server
        .ok_as(
            &admin,
            "mutation($input: PermissionTemplateInput!) { createPermissionTemplate(input: $input) { id } }",
            json!({ "input": { "name": "Cast writer", "permissions": [
                { "permission": "EDIT_ENTITIES", "entityTypes": ["CHARACTER"] }] } }),
        )
        .await["createPermissionTemplate"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    const APPLY: &str = "mutation($id: ID!, $users: [ID!]!) {
        applyPermissionTemplate(id: $id, userIds: $users) }";
    server
        .fails_as(
            &designer,
            APPLY,
            json!({ "id": template, "users": [designer.user_id] }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &outsider,
            APPLY,
            json!({ "id": template, "users": [designer.user_id] }),
            "NOT_FOUND",
        )
        .await;
    // All or nothing: a stranger in the list changes no one.
    server
        .fails_as(
            &admin,
            APPLY,
            json!({ "id": template, "users": [designer.user_id, outsider.user_id] }),
            "BAD_USER_INPUT",
        )
        .await;
    server
        .gql_as(
            &designer,
            CREATE_ENTITY,
            json!({ "type": "CHARACTER", "id": "mara" }),
        )
        .await["errors"]
        .as_array()
        .expect("still refused");
    let applied = server
        .ok_as(
            &admin,
            APPLY,
            json!({ "id": template, "users": [designer.user_id] }),
        )
        .await;
    assert_eq!(applied["applyPermissionTemplate"], 1);
    server
        .ok_as(
            &designer,
            CREATE_ENTITY,
            json!({ "type": "CHARACTER", "id": "mara" }),
        )
        .await;
    let effective = server
        .ok_as(&admin, EFFECTIVE, json!({ "user": designer.user_id }))
        .await["effectivePermissions"]
        .clone();
    assert_eq!(effective["template"]["name"], "Cast writer");
    assert_eq!(
        effective["ownPermissions"],
        json!([{ "permission": "EDIT_ENTITIES" }])
    );

    // Cleared, the group alone binds them again.
    server
        .ok_as(
            &admin,
            "mutation($u: ID!) { clearMemberPermissions(userId: $u) }",
            json!({ "u": designer.user_id }),
        )
        .await;
    let refused = server
        .gql_as(
            &designer,
            CREATE_ENTITY,
            json!({ "type": "CHARACTER", "id": "tom" }),
        )
        .await;
    assert_eq!(reason(&refused), "permission_denied", "{refused}");

    // Another tenant's admin cannot see or change the group.
    server
        .fails_as(
            &outsider,
            "query($id: ID!) { group(id: $id) { id } }",
            json!({ "id": group_id }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            "mutation($id: ID!) { updateGroup(id: $id, input: { permissions: [] }) { id } }",
            json!({ "id": group_id }),
            "NOT_FOUND",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_groups_cap_their_members_together_and_start_over_when_reset() {
    let server = billing_server().await;
    let admin = server.register("admin@qg.test", "Quota Groups").await;
    let a = server
        .invite_member(&admin, "a@qg.test", "WORLDBUILDER")
        .await;
    let b = server
        .invite_member(&admin, "b@qg.test", "WORLDBUILDER")
        .await;
    let outsider = server.register("admin@qg-other.test", "Elsewhere").await;
    for (account, event) in [(&admin, "evt_qg"), (&outsider, "evt_qg_other")] {
        deliver_ok(
            &server,
            &subscription_event(
                event,
                "updated",
                &account.tenant_id,
                "price_studio",
                "active",
                now() - 60,
            ),
        )
        .await;
    }
    let team = server
        .ok_as(
            &admin,
            CREATE_TEAM,
            json!({ "input": { "name": "Narrative" } }),
        )
        .await["createTeam"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for member in [&a, &b] {
        server
            .ok_as(
                &admin,
                ADD_TEAM_MEMBER,
                json!({ "team": team, "user": member.user_id }),
            )
            .await;
    }
    const SET: &str = "mutation($id: ID!, $quota: Int) {
        updateGroupQuota(id: $id, quota: $quota) { name kind quota used remaining } }";
    server
        .fails_as(&a, SET, json!({ "id": team, "quota": 10 }), "FORBIDDEN")
        .await;
    server
        .fails_as(
            &outsider,
            SET,
            json!({ "id": team, "quota": 10 }),
            "NOT_FOUND",
        )
        .await;
    let set = server
        .ok_as(&admin, SET, json!({ "id": team, "quota": 10 }))
        .await;
    assert_eq!(
        set["updateGroupQuota"],
        json!({ "name": "Narrative", "kind": "TEAM", "quota": 10, "used": 0, "remaining": 10 })
    );

    // The team's members share the ten.
    server.ok_as(&a, CONSUME, json!({ "amount": 6 })).await;
    let over = server.gql_as(&b, CONSUME, json!({ "amount": 5 })).await;
    assert_eq!(reason(&over), "quota_exceeded", "{over}");
    assert!(
        over["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the team Narrative"),
        "{over}"
    );
    server.ok_as(&b, CONSUME, json!({ "amount": 4 })).await;
    // The admin is in no team: not bound by it.
    server.ok_as(&admin, CONSUME, json!({ "amount": 5 })).await;

    const GROUPS: &str = "{ quotaGroups { name quota used resetAt } }";
    let listed = server.ok_as(&a, GROUPS, json!({})).await;
    assert_eq!(listed["quotaGroups"][0]["used"], 10);
    assert_eq!(listed["quotaGroups"][0]["resetAt"], Value::Null);
    assert_eq!(
        server.ok_as(&outsider, GROUPS, json!({})).await["quotaGroups"],
        json!([])
    );

    const RESET: &str = "mutation($id: ID!) { resetQuotaGroup(id: $id) { used resetAt } }";
    server
        .fails_as(&a, RESET, json!({ "id": team }), "FORBIDDEN")
        .await;
    server
        .fails_as(&outsider, RESET, json!({ "id": team }), "NOT_FOUND")
        .await;
    let reset = server.ok_as(&admin, RESET, json!({ "id": team })).await;
    assert_eq!(reset["resetQuotaGroup"]["used"], 0);
    assert!(reset["resetQuotaGroup"]["resetAt"].is_string());
    server.ok_as(&b, CONSUME, json!({ "amount": 9 })).await;
    let one = server
        .ok_as(
            &a,
            "query($id: ID!) { quotaGroup(id: $id) { used remaining } }",
            json!({ "id": team }),
        )
        .await;
    assert_eq!(one["quotaGroup"], json!({ "used": 9, "remaining": 1 }));
}
