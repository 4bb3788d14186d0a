//! A studio's inventory: items by category, exported as Verse and JSON, carried to another
//! studio and back unchanged, updated from an edited Verse file (fields Verse does not carry
//! kept), previewed before being written. Players read and import nothing; another tenant sees
//! none of it until it imports.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const ITEMS: &str = "query($filter: ItemFilterInput) { inventoryItems(filter: $filter) {
    total complete items { entityId name fields } } }";
const CATEGORIES: &str = "{ itemCategories { categories { value count } itemTypes { value count }
    rarities { value count } complete } }";
const EXPORT: &str = "query($format: ItemFormat!) { exportItems(format: $format) {
    content count leftOut complete } }";
const IMPORT: &str = "mutation($format: ItemFormat!, $content: String!, $mode: ImportMode) {
    importItems(format: $format, content: $content, mode: $mode) {
        applied created updated unchanged items { id action validationErrors } } }";

async fn export(server: &TestServer, account: &Account, format: &str) -> Value {
    server
        .ok_as(account, EXPORT, json!({ "format": format }))
        .await["exportItems"]
        .clone()
}

async fn import(
    server: &TestServer,
    account: &Account,
    format: &str,
    content: &Value,
    mode: &str,
) -> Value {
    server
        .ok_as(
            account,
            IMPORT,
            json!({ "format": format, "content": content, "mode": mode }),
        )
        .await["importItems"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inventory_goes_out_as_verse_and_json_and_comes_back_the_same() {
    let server = TestServer::start().await;
    let admin = server.register("admin@armory.test", "Armory").await;
    let writer = server
        .invite_member(&admin, "writer@armory.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@armory.test", "PLAYER")
        .await;
    let other = server
        .register("admin@other-armory.test", "Other Armory")
        .await;

    create_entity(
        &server,
        &writer,
        "ITEM",
        "iron_sword",
        "Iron \"Old\" Sword",
        json!({
            "item_type": "weapon", "category": "blades", "rarity": "rare", "value": 120.5,
            "stack_size": 1, "tradeable": true, "tags": ["steel", "starter"],
            "description": "A plain sword.\nIt has {seen} better days.",
            "lore_significance": "Forged in the first war."
        }),
    )
    .await;
    create_entity(
        &server,
        &writer,
        "ITEM",
        "healing_draught",
        "Healing Draught",
        json!({
            "item_type": "consumable", "category": "potions", "rarity": "common", "value": 5,
            "stack_size": 20
        }),
    )
    .await;
    create_entity(
        &server,
        &writer,
        "ITEM",
        "old_key",
        "Old Key",
        json!({ "item_type": "key_item", "weight": "heavy" }),
    )
    .await;

    // Read by category, type and rarity.
    let blades = server
        .ok_as(
            &player,
            ITEMS,
            json!({ "filter": { "category": "BLADES" } }),
        )
        .await;
    assert_eq!(blades["inventoryItems"]["total"], 1);
    assert_eq!(
        blades["inventoryItems"]["items"][0]["entityId"],
        "iron_sword"
    );
    let categories = server.ok_as(&player, CATEGORIES, json!({})).await["itemCategories"].clone();
    assert_eq!(
        categories["categories"],
        json!([
            { "value": "", "count": 1 }, { "value": "blades", "count": 1 }, { "value": "potions", "count": 1 }
        ])
    );
    assert_eq!(categories["complete"], true);

    // Out as Verse, into another studio: previewed, then applied.
    let verse = export(&server, &player, "VERSE").await;
    assert_eq!(verse["count"], 3);
    // A weight given as text is not Verse's to carry: named, and kept by a Verse import.
    let left_out = verse["leftOut"].to_string();
    assert!(
        left_out.contains("old_key") && left_out.contains("weight"),
        "{left_out}"
    );
    let text = verse["content"].as_str().unwrap().to_owned();
    assert!(
        text.contains("IronSword<public> : item_definition = item_definition{"),
        "{text}"
    );
    assert!(text.contains("Rarity := item_rarity.Rare"), "{text}");
    assert!(
        !text.contains("lore_significance") && !text.contains("first war"),
        "{text}"
    );
    let none = server.ok_as(&other, ITEMS, json!({})).await;
    assert_eq!(
        none["inventoryItems"]["total"], 0,
        "another studio sees none of it"
    );
    let preview = import(&server, &other, "VERSE", &json!(text), "PREVIEW").await;
    assert_eq!(
        (preview["applied"].clone(), preview["created"].clone()),
        (json!(false), json!(3))
    );
    let still_none = server.ok_as(&other, ITEMS, json!({})).await;
    assert_eq!(
        still_none["inventoryItems"]["total"], 0,
        "a preview writes nothing"
    );
    let applied = import(&server, &other, "VERSE", &json!(text), "APPLY").await;
    assert_eq!(applied["created"], 3, "{applied}");
    // What comes back out is what went in.
    assert_eq!(
        export(&server, &other, "VERSE").await["content"],
        json!(text)
    );
    let again = import(&server, &other, "VERSE", &json!(text), "APPLY").await;
    assert_eq!(again["unchanged"], 3, "{again}");

    // JSON carries everything: the other studio ends up with the same items.
    let whole = export(&server, &writer, "JSON").await["content"].clone();
    let applied = import(&server, &other, "JSON", &whole, "APPLY").await;
    assert_eq!(
        applied["updated"], 3,
        "the bodies and the fields Verse leaves out: {applied}"
    );
    assert_eq!(export(&server, &other, "JSON").await["content"], whole);

    // An edited Verse file changes what it carries and keeps the rest.
    let edited = text.replace("Value := 120.5", "Value := 99.0");
    let applied = import(&server, &writer, "VERSE", &json!(edited), "APPLY").await;
    assert_eq!(
        (applied["updated"].clone(), applied["unchanged"].clone()),
        (json!(1), json!(2)),
        "{applied}"
    );
    let sword = server
        .ok_as(
            &player,
            ITEMS,
            json!({ "filter": { "category": "blades" } }),
        )
        .await;
    let fields = &sword["inventoryItems"]["items"][0]["fields"];
    assert_eq!(fields["value"], 99.0);
    assert_eq!(fields["lore_significance"], "Forged in the first war.");
    let key = server
        .ok_as(
            &player,
            ITEMS,
            json!({ "filter": { "itemType": "key_item" } }),
        )
        .await;
    assert_eq!(
        key["inventoryItems"]["items"][0]["fields"]["weight"],
        "heavy"
    );

    // Refusals: a player, broken Verse (with where), an item twice, JSON that is not items.
    server
        .fails_as(
            &player,
            IMPORT,
            json!({ "format": "VERSE", "content": text, "mode": "APPLY" }),
            "FORBIDDEN",
        )
        .await;
    let broken = server.gql_as(&writer, IMPORT, json!({ "format": "VERSE",
        "content": "A := item_definition{Id := \"a\", Name := \"A\",\n Colour := \"red\"}", "mode": "APPLY" })).await;
    assert_eq!(error_code(&broken), "BAD_USER_INPUT", "{broken}");
    assert!(
        broken.to_string().contains("line 2") && broken.to_string().contains("Colour"),
        "{broken}"
    );
    let twice = server
        .gql_as(
            &writer,
            IMPORT,
            json!({ "format": "JSON", "content":
        json!([{ "id": "a", "name": "A" }, { "id": "a", "name": "A again" }]).to_string() }),
        )
        .await;
    assert_eq!(error_code(&twice), "BAD_USER_INPUT", "{twice}");
    let not_items = server
        .gql_as(
            &writer,
            IMPORT,
            json!({ "format": "JSON", "content": "{\"things\": 1}" }),
        )
        .await;
    assert_eq!(error_code(&not_items), "BAD_USER_INPUT", "{not_items}");
    let unchanged = server.ok_as(&player, ITEMS, json!({})).await;
    assert_eq!(
        unchanged["inventoryItems"]["total"], 3,
        "nothing was written by a refused import"
    );
}
