//! Form layouts a studio makes its own: each change a version, the package's layout back after
//! a reset, all of it gone after a delete. Anyone reads a type's layout (the package's without
//! sign-in); players do not change it; other tenants keep the package's.

use serde_json::json;

use crate::harness::*;

const LAYOUT: &str = "{ entityLayout(type: CHARACTER) { source version layout } }";
const UPDATE: &str = "mutation($layout: JSON!, $version: Int) {
    updateLayout(type: CHARACTER, layout: $layout, expectedVersion: $version) { source version layout } }";
const HISTORY: &str =
    "{ entityLayoutHistory(type: CHARACTER) { version layout createdBy { email } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_studio_lays_out_its_forms_in_versions_and_can_go_back_to_the_package() {
    let server = TestServer::start().await;
    let admin = server.register("admin@forms.test", "Forms").await;
    let writer = server
        .invite_member(&admin, "writer@forms.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@forms.test", "PLAYER")
        .await;
    let outsider = server
        .register("admin@other-forms.test", "Other Forms")
        .await;

    let builtin = server.ok(None, LAYOUT, json!({})).await["entityLayout"].clone();
    assert_eq!(builtin["source"], "BUILTIN");
    assert_eq!(builtin["version"], 0);

    let ours = json!({ "sections": [{ "id": "who", "title": "Who", "fields": [{ "key": "name" }, { "key": "age" }] }] });
    let first = server
        .ok_as(&writer, UPDATE, json!({ "layout": ours, "version": 0 }))
        .await;
    assert_eq!(
        first["updateLayout"],
        json!({ "source": "TENANT", "version": 1, "layout": ours })
    );
    // Every member reads the tenant's; without sign-in, and in another tenant, the package's.
    assert_eq!(
        server.ok_as(&player, LAYOUT, json!({})).await["entityLayout"]["layout"],
        ours
    );
    assert_eq!(
        server.ok(None, LAYOUT, json!({})).await["entityLayout"],
        builtin
    );
    assert_eq!(
        server.ok_as(&outsider, LAYOUT, json!({})).await["entityLayout"],
        builtin
    );

    // A change made on an old version is told; layouts of the wrong shape are refused.
    server
        .fails_as(
            &writer,
            UPDATE,
            json!({ "layout": ours, "version": 0 }),
            "CONFLICT",
        )
        .await;
    for bad in [
        json!({ "sections": "who" }),
        json!({ "sections": [{ "title": "No fields" }] }),
        json!({ "sections": [{ "fields": [{ "label": "no key" }] }] }),
        json!([1, 2, 3]),
        json!({ "sections": vec![json!({ "fields": [{ "key": "name" }] }); 201] }),
    ] {
        server
            .fails_as(&writer, UPDATE, json!({ "layout": bad }), "BAD_USER_INPUT")
            .await;
    }
    let second = json!({ "sections": [{ "id": "who", "title": "Who they are", "fields": [{ "key": "name" }] }] });
    let updated = server
        .ok_as(&writer, UPDATE, json!({ "layout": second, "version": 1 }))
        .await;
    assert_eq!(updated["updateLayout"]["version"], 2);

    // A reset is a version too: the package's layout is back, the history kept.
    let reset = server
        .ok_as(
            &writer,
            "mutation { resetLayout(type: CHARACTER) { source version layout } }",
            json!({}),
        )
        .await;
    assert_eq!(reset["resetLayout"]["source"], "BUILTIN");
    assert_eq!(reset["resetLayout"]["version"], 3);
    assert_eq!(reset["resetLayout"]["layout"], builtin["layout"]);
    // (An ADMIN sees who made each version by email; a player sees the versions.)
    let seen = server.ok_as(&player, HISTORY, json!({})).await;
    assert_eq!(
        seen["entityLayoutHistory"].as_array().map(Vec::len),
        Some(3)
    );
    let history = server.ok_as(&admin, HISTORY, json!({})).await;
    assert_eq!(
        history["entityLayoutHistory"],
        json!([
            { "version": 3, "layout": null, "createdBy": { "email": "writer@forms.test" } },
            { "version": 2, "layout": second, "createdBy": { "email": "writer@forms.test" } },
            { "version": 1, "layout": ours, "createdBy": { "email": "writer@forms.test" } },
        ])
    );
    let all = server
        .ok_as(
            &writer,
            "{ entityLayouts { entityType source version } }",
            json!({}),
        )
        .await;
    let all = all["entityLayouts"].as_array().expect("layouts");
    assert_eq!(all.len(), 16);
    assert!(all.contains(&json!({ "entityType": "CHARACTER", "source": "BUILTIN", "version": 3 })));

    // Players and other tenants change nothing of it.
    for query in [
        "mutation { resetLayout(type: CHARACTER) { version } }",
        "mutation { deleteLayout(type: CHARACTER) }",
    ] {
        server
            .fails_as(&player, query, json!({}), "FORBIDDEN")
            .await;
    }
    server
        .fails_as(&player, UPDATE, json!({ "layout": ours }), "FORBIDDEN")
        .await;
    let theirs = server
        .ok_as(
            &outsider,
            "mutation { deleteLayout(type: CHARACTER) }",
            json!({}),
        )
        .await;
    assert_eq!(theirs["deleteLayout"], false);
    assert_eq!(
        server.ok_as(&outsider, HISTORY, json!({})).await["entityLayoutHistory"],
        json!([])
    );
    assert_eq!(
        server.ok_as(&writer, HISTORY, json!({})).await["entityLayoutHistory"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // A delete forgets every version.
    let deleted = server
        .ok_as(
            &writer,
            "mutation { deleteLayout(type: CHARACTER) }",
            json!({}),
        )
        .await;
    assert_eq!(deleted["deleteLayout"], true);
    assert_eq!(
        server.ok_as(&writer, HISTORY, json!({})).await["entityLayoutHistory"],
        json!([])
    );
    assert_eq!(
        server.ok_as(&writer, LAYOUT, json!({})).await["entityLayout"]["version"],
        0
    );
}
