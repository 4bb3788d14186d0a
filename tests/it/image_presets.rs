//! A studio's image presets: created per type or for every type, one default per type (a new
//! default takes the place of the old), names unique, sizes bounded; `imageStyles(type)` gives
//! a type's own and the shared ones, its default first. Players read and change nothing;
//! another tenant sees none of them.

use serde_json::{Value, json};

use crate::harness::*;

const CREATE: &str = "mutation($input: ImagePresetInput!) { createImagePreset(input: $input) {
    id name entityType isDefault width height } }";
const STYLES: &str =
    "query($type: EntityType!) { imageStyles(type: $type) { name isDefault entityType } }";

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_studio_keeps_image_presets_with_one_default_per_type() {
    let server = TestServer::start().await;
    let admin = server.register("admin@easel.test", "Easel").await;
    let writer = server
        .invite_member(&admin, "writer@easel.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@easel.test", "PLAYER")
        .await;
    let outsider = server
        .register("admin@other-easel.test", "Other Easel")
        .await;

    let portrait = server
        .ok_as(
            &writer,
            CREATE,
            json!({ "input": { "name": "Portrait",
        "entityType": "CHARACTER", "style": "oil painting, warm light",
        "negativePrompt": "blurry", "width": 768, "height": 1024, "isDefault": true } }),
        )
        .await;
    let portrait_id = portrait["createImagePreset"]["id"].clone();
    server
        .ok_as(
            &writer,
            CREATE,
            json!({ "input": { "name": "Sketch", "entityType": "CHARACTER",
        "style": "pencil sketch" } }),
        )
        .await;
    server
        .ok_as(
            &writer,
            CREATE,
            json!({ "input": { "name": "House style", "style": "flat colours" } }),
        )
        .await;
    server
        .ok_as(
            &writer,
            CREATE,
            json!({ "input": { "name": "Map", "entityType": "LOCATION" } }),
        )
        .await;

    let styles = server
        .ok_as(&player, STYLES, json!({ "type": "CHARACTER" }))
        .await;
    assert_eq!(
        names(&styles["imageStyles"]),
        ["Portrait", "Sketch", "House style"]
    );
    // A new default takes the place of the old one.
    server
        .ok_as(
            &writer,
            CREATE,
            json!({ "input": { "name": "Noir", "entityType": "CHARACTER",
        "isDefault": true } }),
        )
        .await;
    let styles = server
        .ok_as(&player, STYLES, json!({ "type": "CHARACTER" }))
        .await["imageStyles"]
        .clone();
    assert_eq!(
        styles[0],
        json!({ "name": "Noir", "isDefault": true, "entityType": "CHARACTER" })
    );
    assert_eq!(
        styles
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["isDefault"] == true)
            .count(),
        1
    );

    // Changed whole; names unique in any case; sizes bounded.
    let changed = server.ok_as(&writer, "mutation($id: ID!, $input: ImagePresetInput!) {
        updateImagePreset(id: $id, input: $input) { name width isDefault } }",
        json!({ "id": portrait_id, "input": { "name": "Portrait", "entityType": "CHARACTER", "width": 512 } })).await;
    assert_eq!(
        changed["updateImagePreset"],
        json!({ "name": "Portrait", "width": 512, "isDefault": false })
    );
    server
        .fails_as(
            &writer,
            CREATE,
            json!({ "input": { "name": "SKETCH" } }),
            "CONFLICT",
        )
        .await;
    let body = server
        .gql_as(
            &writer,
            CREATE,
            json!({ "input": { "name": "Huge", "width": 10000 } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // Players read, and change nothing; another tenant sees nothing and reaches nothing.
    server
        .fails_as(
            &player,
            CREATE,
            json!({ "input": { "name": "Mine" } }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &player,
            "mutation($id: ID!) { deleteImagePreset(id: $id) }",
            json!({ "id": portrait_id }),
            "FORBIDDEN",
        )
        .await;
    let theirs = server
        .ok_as(&outsider, "{ imagePresets { name } }", json!({}))
        .await;
    assert_eq!(theirs["imagePresets"], json!([]));
    server
        .fails_as(
            &outsider,
            "query($id: ID!) { imagePreset(id: $id) { name } }",
            json!({ "id": portrait_id }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            "mutation($id: ID!) { deleteImagePreset(id: $id) }",
            json!({ "id": portrait_id }),
            "NOT_FOUND",
        )
        .await;

    let deleted = server
        .ok_as(
            &writer,
            "mutation($id: ID!) { deleteImagePreset(id: $id) }",
            json!({ "id": portrait_id }),
        )
        .await;
    assert_eq!(deleted["deleteImagePreset"], true);
    let all = server
        .ok_as(&player, "{ imagePresets { name } }", json!({}))
        .await;
    assert_eq!(
        names(&all["imagePresets"]),
        ["Noir", "Sketch", "Map", "House style"]
    );
}
