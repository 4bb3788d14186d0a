//! A studio builds a character through the four tiers of assemblies (template, profile,
//! variant, zombie variant): slots filled at each tier and resolved down the chain, locks held
//! by ancestors, every assembly rule broken once and refused naming the rule, zombie stages,
//! an export ZIP whose manifest matches its files, the assemblies an asset fills, and a slot
//! detected from a file's name. Players read and change nothing; another tenant sees nothing.

use std::io::{Cursor, Read};

use image::ImageFormat;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::assets::{image_bytes, png, upload, upload_to};
use crate::entities::create_entity;
use crate::harness::*;

const DETAIL: &str = "assemblyType hierarchyLevel inheritanceMode chainBroken lockedSlots
    chain { hierarchyLevel assembly { entityId } }
    ancestorLocks { path lockedBy }
    slots { path filled filledBy lockedBy lockedHere zIndex overlayMode custom defined
        assets { variantKey assetId } transform { offsetX offsetY scale rotation position } }
    completeness { complete required missing filledCount missingVariants { path variantKeys } }
    layers { path variantKey zIndex opacity }";

fn assign_query() -> String {
    format!(
        "mutation($id: String!, $input: AssemblySlotInput!) {{
            assignAssemblySlot(assemblyId: $id, input: $input) {{ {DETAIL} }} }}"
    )
}

const TRANSFORM: &str = "mutation($id: String!, $group: String!, $name: String!,
    $input: SlotTransformInput!) {
    transformAssemblySlot(assemblyId: $id, group: $group, name: $name, input: $input) {
        slots { path zIndex overlayMode transform { offsetX scale rotation } } } }";
const PARENT: &str = "mutation($id: String!, $parent: String!) {
    setAssemblyParent(assemblyId: $id, parentId: $parent) { hierarchyLevel } }";
const LOCK: &str = "mutation($id: String!, $paths: [String!]!) {
    lockAssemblySlots(assemblyId: $id, paths: $paths) { lockedSlots } }";
const UNLOCK: &str = "mutation($id: String!, $paths: [String!]!) {
    unlockAssemblySlots(assemblyId: $id, paths: $paths) { lockedSlots } }";

/// The character template's slots: a head, a mouth with two visemes, a body, and infection
/// overlays that take custom slots.
fn slot_definitions() -> Value {
    json!({
        "head": {
            "head_base": { "required": true, "z_index": 10, "overlay_modes": ["replace"],
                           "accepted_types": ["png", "webp"] }
        },
        "mouth": {
            "mouth_visemes": { "required": true, "z_index": 20, "overlay_modes": ["replace"],
                               "accepted_types": ["png"], "variant_keys": ["Aa", "O"],
                               "expected_dimensions": [16, 16] }
        },
        "body": {
            "torso_base": { "required": true, "z_index": 12, "overlay_modes": ["replace"],
                            "accepted_types": ["png", "webp"] }
        },
        "overlays_infection": {
            "allow_custom_slots": true,
            "default_blend_mode": "multiply",
            "bite_neck": { "z_index": 92, "overlay_modes": ["overlay", "multiply"],
                           "accepted_types": ["png"] }
        }
    })
}

fn zombie_progression() -> Value {
    let stage = |name: &str, overlays: Value, opacity: f64| json!({ "name": name, "active_overlays": overlays, "overlay_opacity": opacity });
    json!({
        "enabled": true,
        "stages": {
            "0": stage("Clean", json!([]), 0.0),
            "1": stage("Exposed", json!(["bite_neck"]), 0.15),
            "2": stage("Infected", json!(["bite_neck"]), 0.4),
            "3": stage("Turning", json!(["bite_neck"]), 0.7),
            "4": { "name": "Zombie", "active_overlays": ["bite_neck"], "overlay_opacity": 1.0,
                   "requires_full_variant": true, "zombie_mode": "full_replace" }
        }
    })
}

fn rule_of(body: &Value) -> &str {
    body["errors"][0]["extensions"]["rule"]
        .as_str()
        .unwrap_or_default()
}

async fn refused(
    server: &TestServer,
    account: &Account,
    query: &str,
    variables: Value,
    rule: &str,
) {
    let body = server.gql_as(account, query, variables).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(rule_of(&body), rule, "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(rule),
        "the message names the rule: {message}"
    );
}

fn slot<'a>(detail: &'a Value, path: &str) -> &'a Value {
    detail["slots"]
        .as_array()
        .and_then(|slots| slots.iter().find(|s| s["path"] == path))
        .unwrap_or(&Value::Null)
}

async fn asset(server: &TestServer, account: &Account, name: &str, bytes: Vec<u8>) -> String {
    upload(server, account, name, bytes).await["id"]
        .as_str()
        .expect("an asset id")
        .to_owned()
}

async fn assign(server: &TestServer, account: &Account, assembly: &str, input: Value) -> Value {
    server
        .ok_as(
            account,
            &assign_query(),
            json!({ "id": assembly, "input": input }),
        )
        .await["assignAssemblySlot"]
        .clone()
}

/// The studio's four tiers, filled: the template's head (locked), the profile's visemes, the
/// variant's torso (a WebP), the zombie's bite. Returns the assets' ids.
struct Studio {
    server: TestServer,
    writer: Account,
    player: Account,
    outsider: Account,
    head: String,
    torso: String,
}

async fn studio() -> Studio {
    let server = TestServer::start().await;
    let admin = server.register("admin@rigs.test", "Rigs").await;
    let writer = server
        .invite_member(&admin, "writer@rigs.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@rigs.test", "PLAYER")
        .await;
    let outsider = server.register("admin@other-rigs.test", "Other Rigs").await;

    let fields = |level: &str, parent: &str| {
        json!({
            "assembly_type": "character",
            "hierarchy_level": level,
            "parent_assembly_id": parent,
            "inheritance_mode": "full",
        })
    };
    let mut template = fields("template", "");
    template["slot_definitions"] = slot_definitions();
    template["zombie_progression"] = zombie_progression();
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "hero_template",
        "Hero",
        template,
    )
    .await;
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "hero_profile",
        "Hero Profile",
        fields("profile", "hero_template"),
    )
    .await;
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "hero_variant",
        "Hero Red",
        fields("variant", ""),
    )
    .await;
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "hero_zombie",
        "Hero Zombie",
        fields("zombie_variant", ""),
    )
    .await;
    // The variant and the zombie join the chain through the API.
    let joined = server
        .ok_as(
            &writer,
            PARENT,
            json!({ "id": "hero_variant", "parent": "hero_profile" }),
        )
        .await;
    assert_eq!(joined["setAssemblyParent"]["hierarchyLevel"], "variant");
    server
        .ok_as(
            &writer,
            PARENT,
            json!({ "id": "hero_zombie", "parent": "hero_variant" }),
        )
        .await;

    let head = asset(&server, &writer, "hero_head.png", png(32, 32)).await;
    let viseme_aa = asset(&server, &writer, "viseme_aa.png", png(16, 16)).await;
    let viseme_o = asset(&server, &writer, "viseme_o.png", png(16, 17)).await;
    let (status, body) = upload_to(
        &server,
        &writer,
        "/api/assets/upload",
        "hero_torso.webp",
        "image/webp",
        image_bytes(ImageFormat::WebP, 24, 24),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let torso = body["id"].as_str().expect("the torso's id").to_owned();
    let bite = asset(&server, &writer, "bite.png", png(8, 8)).await;

    assign(
        &server,
        &writer,
        "hero_template",
        json!({ "group": "head", "name": "head_base", "assetId": head }),
    )
    .await;
    let locked = server
        .ok_as(
            &writer,
            LOCK,
            json!({ "id": "hero_template", "paths": ["head.head_base"] }),
        )
        .await;
    assert_eq!(
        locked["lockAssemblySlots"]["lockedSlots"],
        json!(["head.head_base"])
    );
    for (key, id) in [("Aa", &viseme_aa), ("O", &viseme_o)] {
        assign(
            &server,
            &writer,
            "hero_profile",
            json!({ "group": "mouth", "name": "mouth_visemes", "variantKey": key, "assetId": id }),
        )
        .await;
    }
    assign(
        &server,
        &writer,
        "hero_variant",
        json!({ "group": "body", "name": "torso_base", "assetId": torso }),
    )
    .await;
    assign(
        &server,
        &writer,
        "hero_zombie",
        json!({ "group": "overlays_infection", "name": "bite_neck", "assetId": bite }),
    )
    .await;
    Studio {
        server,
        writer,
        player,
        outsider,
        head,
        torso,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_resolve_down_four_tiers_and_every_assembly_rule_refuses_by_name() {
    let Studio {
        server,
        writer,
        player,
        outsider,
        head,
        torso,
    } = studio().await;
    let query = format!("query($id: String!) {{ assembly(id: $id) {{ {DETAIL} }} }}");

    // The zombie sees the whole chain: each slot filled by the tier that filled it.
    let zombie = server
        .ok_as(&player, &query, json!({ "id": "hero_zombie" }))
        .await["assembly"]
        .clone();
    let tiers: Vec<&str> = zombie["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["hierarchyLevel"].as_str().unwrap())
        .collect();
    assert_eq!(tiers, ["template", "profile", "variant", "zombie_variant"]);
    assert_eq!(slot(&zombie, "head.head_base")["filledBy"], "hero_template");
    assert_eq!(slot(&zombie, "head.head_base")["lockedBy"], "hero_template");
    assert_eq!(
        slot(&zombie, "mouth.mouth_visemes")["filledBy"],
        "hero_profile"
    );
    assert_eq!(
        slot(&zombie, "mouth.mouth_visemes")["assets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(slot(&zombie, "body.torso_base")["filledBy"], "hero_variant");
    assert_eq!(
        slot(&zombie, "overlays_infection.bite_neck")["filledBy"],
        "hero_zombie"
    );
    assert_eq!(zombie["completeness"]["complete"], true, "{zombie}");
    assert_eq!(
        zombie["ancestorLocks"],
        json!([{ "path": "head.head_base", "lockedBy": "hero_template" }])
    );
    // Bottom first: the head (10), the torso (12), the visemes (20), the bite (92).
    let layers: Vec<&str> = zombie["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        layers,
        [
            "head.head_base",
            "body.torso_base",
            "mouth.mouth_visemes",
            "mouth.mouth_visemes",
            "overlays_infection.bite_neck"
        ]
    );
    // The template itself lacks the torso and the visemes its descendants fill.
    let template_view = server
        .ok_as(&writer, &query, json!({ "id": "hero_template" }))
        .await["assembly"]
        .clone();
    assert_eq!(
        template_view["completeness"]["missing"],
        json!(["body.torso_base", "mouth.mouth_visemes"])
    );

    // Every rule, broken once, refused by name.
    let assign_q = assign_query();
    refused(
        &server,
        &writer,
        &assign_q,
        json!({ "id": "hero_zombie",
        "input": { "group": "tail", "name": "tip", "assetId": head } }),
        "asm_slot_001",
    )
    .await;
    refused(&server, &writer, &assign_q, json!({ "id": "hero_zombie",
        "input": { "group": "mouth", "name": "mouth_visemes", "variantKey": "Aa", "assetId": torso } }), "asm_slot_004").await;
    refused(
        &server,
        &writer,
        &assign_q,
        json!({ "id": "hero_zombie",
        "input": { "group": "head", "name": "head_base", "assetId": head } }),
        "asm_lock_002",
    )
    .await;
    refused(
        &server,
        &writer,
        UNLOCK,
        json!({ "id": "hero_zombie", "paths": ["head.head_base"] }),
        "asm_lock_003",
    )
    .await;
    refused(
        &server,
        &writer,
        LOCK,
        json!({ "id": "hero_variant", "paths": ["head.crown"] }),
        "asm_lock_001",
    )
    .await;
    // A lock over a slot a descendant already fills would take it away: refused too.
    refused(
        &server,
        &writer,
        LOCK,
        json!({ "id": "hero_profile", "paths": ["body.torso_base"] }),
        "asm_lock_002",
    )
    .await;
    let torso_at = |input: Value| json!({ "id": "hero_variant", "group": "body", "name": "torso_base", "input": input });
    refused(
        &server,
        &writer,
        TRANSFORM,
        torso_at(json!({ "overlayMode": "screen" })),
        "asm_slot_003",
    )
    .await;
    refused(
        &server,
        &writer,
        TRANSFORM,
        torso_at(json!({ "zIndex": 1000 })),
        "asm_zidx_001",
    )
    .await;
    refused(
        &server,
        &writer,
        TRANSFORM,
        torso_at(json!({ "zIndex": 10 })),
        "asm_zidx_002",
    )
    .await;
    refused(
        &server,
        &writer,
        TRANSFORM,
        json!({ "id": "hero_zombie", "group": "overlays_infection",
        "name": "bite_neck", "input": { "zIndex": 50 } }),
        "asm_zidx_003",
    )
    .await;
    refused(
        &server,
        &writer,
        PARENT,
        json!({ "id": "hero_zombie", "parent": "hero_profile" }),
        "asm_inh_001",
    )
    .await;
    refused(
        &server,
        &writer,
        PARENT,
        json!({ "id": "hero_profile", "parent": "hero_zombie" }),
        "asm_inh_002",
    )
    .await;
    refused(
        &server,
        &writer,
        "mutation { removeAssemblyParent(assemblyId: \"hero_variant\") { hierarchyLevel } }",
        json!({}),
        "asm_inh_003",
    )
    .await;
    refused(
        &server,
        &writer,
        "query { assemblyExportManifest(id: \"hero_variant\", profile: \"nope\") { root } }",
        json!({}),
        "asm_exp_001",
    )
    .await;

    // A placement within the rules is kept; the chain's other slots are untouched.
    let placed = server
        .ok_as(
            &writer,
            TRANSFORM,
            torso_at(json!({
        "zIndex": 14, "offsetX": 3.5, "scale": 1.25, "rotation": -90.0 })),
        )
        .await;
    let torso_slot = slot(&placed["transformAssemblySlot"], "body.torso_base");
    assert_eq!(torso_slot["zIndex"], 14);
    assert_eq!(
        torso_slot["transform"],
        json!({ "offsetX": 3.5, "scale": 1.25, "rotation": -90.0 })
    );
    let body = server
        .gql_as(&writer, TRANSFORM, torso_at(json!({ "scale": 0.0 })))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // Custom slots in a group that takes them; order; emptying.
    let bite_two = asset(&server, &writer, "drip.png", png(8, 8)).await;
    assign(
        &server,
        &writer,
        "hero_zombie",
        json!({ "group": "overlays_infection", "name": "green_drip", "assetId": bite_two }),
    )
    .await;
    let reordered = server
        .ok_as(
            &writer,
            "mutation { reorderAssemblySlots(assemblyId: \"hero_zombie\",
        group: \"overlays_infection\", names: [\"green_drip\", \"bite_neck\"]) {
        slots { path custom transform { position } } } }",
            json!({}),
        )
        .await;
    let detail = &reordered["reorderAssemblySlots"];
    assert_eq!(
        slot(detail, "overlays_infection.green_drip")["custom"],
        true
    );
    assert_eq!(
        slot(detail, "overlays_infection.green_drip")["transform"]["position"],
        0
    );
    assert_eq!(
        slot(detail, "overlays_infection.bite_neck")["transform"]["position"],
        1
    );
    let removed = server
        .ok_as(
            &writer,
            "mutation { removeAssemblySlot(assemblyId: \"hero_zombie\",
        group: \"overlays_infection\", name: \"green_drip\") { slots { path } } }",
            json!({}),
        )
        .await;
    assert!(
        slot(
            &removed["removeAssemblySlot"],
            "overlays_infection.green_drip"
        )
        .is_null()
    );
    server
        .fails_as(
            &writer,
            "mutation { removeAssemblySlot(assemblyId: \"hero_variant\",
        group: \"head\", name: \"head_base\") { slots { path } } }",
            json!({}),
            "NOT_FOUND",
        )
        .await;

    // Validation names what is wrong: the template's empty required slots.
    let judged = server
        .ok_as(
            &writer,
            "{ assemblyValidation(id: \"hero_template\") {
        valid problems { rule severity slot message } } }",
            json!({}),
        )
        .await;
    let problems = judged["assemblyValidation"]["problems"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        problems
            .iter()
            .any(|p| p["rule"] == "asm_slot_002" && p["slot"] == "body.torso_base"),
        "{problems:?}"
    );
    let zombie_judged = server
        .ok_as(
            &writer,
            "{ assemblyValidation(id: \"hero_zombie\") { valid problems { rule message } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        zombie_judged["assemblyValidation"]["valid"], true,
        "{zombie_judged}"
    );

    // A player reads and changes nothing.
    server
        .fails_as(
            &player,
            &assign_q,
            json!({ "id": "hero_variant",
        "input": { "group": "body", "name": "torso_base", "assetId": torso } }),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &player,
            LOCK,
            json!({ "id": "hero_variant", "paths": ["body.torso_base"] }),
            "FORBIDDEN",
        )
        .await;
    // Another tenant finds neither the assemblies nor the assets.
    server
        .fails_as(
            &outsider,
            &query,
            json!({ "id": "hero_zombie" }),
            "NOT_FOUND",
        )
        .await;
    create_entity(
        &server,
        &outsider,
        "ASSEMBLY",
        "thief",
        "Thief",
        json!({ "assembly_type": "character" }),
    )
    .await;
    server
        .fails_as(
            &outsider,
            &assign_q,
            json!({ "id": "thief",
        "input": { "group": "head", "name": "head_base", "assetId": head } }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            PARENT,
            json!({ "id": "thief", "parent": "hero_template" }),
            "NOT_FOUND",
        )
        .await;
    let uses = server
        .ok_as(
            &outsider,
            "query($a: ID!) { assembliesUsingAsset(assetId: $a) { slots } }",
            json!({ "a": head }),
        )
        .await;
    assert_eq!(uses["assembliesUsingAsset"], json!([]));
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a ZIP");
    let mut files = std::collections::BTreeMap::new();
    for at in 0..archive.len() {
        let mut entry = archive.by_index(at).expect("an entry");
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("read an entry");
        let name = entry.name().expect("an entry's name").to_string();
        files.insert(name, content);
    }
    files
}

async fn export(server: &TestServer, account: &Account, path: &str) -> reqwest::Response {
    server
        .http
        .post(server.url(path))
        .bearer_auth(&account.token)
        .send()
        .await
        .expect("the export answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assembly_exports_a_zip_whose_manifest_matches_its_files() {
    let Studio {
        server,
        writer,
        player,
        outsider,
        head,
        torso,
    } = studio().await;

    // The variant through ComfyUI Trellis: every file a PNG under its slot's folders.
    let manifest = server
        .ok_as(
            &player,
            "{ assemblyExportManifest(id: \"hero_variant\",
        profile: \"comfyui_trellis_v1\") { root complete missingRequired warnings downloadPath
        files { path slot variantKey convertedTo asset { id } } } }",
            json!({}),
        )
        .await;
    let manifest = &manifest["assemblyExportManifest"];
    assert_eq!(manifest["root"], "hero_variant_trellis");
    assert_eq!(manifest["complete"], true, "{manifest}");
    // The second viseme is 16×17: the slot expects 16×16.
    assert!(
        manifest["warnings"].to_string().contains("16×17"),
        "{manifest}"
    );
    let response = export(&server, &player, manifest["downloadPath"].as_str().unwrap()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let files = unzip(&response.bytes().await.unwrap());
    let inside: Value =
        serde_json::from_slice(&files["hero_variant_trellis/workflow.json"]).unwrap();
    let listed = inside["files"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "{inside}");
    assert_eq!(
        files.len(),
        listed.len() + 1,
        "every file is listed, and nothing else is in the ZIP"
    );
    for file in listed {
        let path = format!("hero_variant_trellis/{}", file["path"].as_str().unwrap());
        let bytes = files
            .get(&path)
            .unwrap_or_else(|| panic!("{path} is in the ZIP"));
        assert_eq!(file["sha256"], hex::encode(Sha256::digest(bytes)), "{path}");
        assert_eq!(file["bytes"], bytes.len(), "{path}");
        assert!(bytes.starts_with(b"\x89PNG"), "{path} is a PNG");
    }
    let torso_file = listed
        .iter()
        .find(|f| f["asset_id"] == torso.as_str())
        .expect("the torso");
    assert_eq!(torso_file["path"], "body/torso_base/default.png");
    assert_eq!(
        torso_file["converted_to"], "png",
        "the WebP torso became a PNG"
    );
    assert_eq!(
        listed
            .iter()
            .find(|f| f["asset_id"] == head.as_str())
            .unwrap()["inherited_from"],
        "hero_template"
    );
    assert!(
        listed
            .iter()
            .any(|f| f["path"] == "mouth/mouth_visemes/Aa.png")
    );
    assert_eq!(
        inside["assembly"]["chain"],
        json!(["hero_template", "hero_profile", "hero_variant"])
    );

    // The template lacks its torso and visemes: refused by name, or exported partly.
    let response = export(
        &server,
        &writer,
        "/api/assembly/hero_template/export/comfyui_trellis_v1",
    )
    .await;
    assert_eq!(response.status(), 422);
    let detail = response.json::<Value>().await.unwrap();
    assert!(detail.to_string().contains("asm_exp_002"), "{detail}");
    let response = export(
        &server,
        &writer,
        "/api/assembly/hero_template/export/uefn_scene_graph_v1?partial=true",
    )
    .await;
    assert_eq!(response.status(), 200);
    let files = unzip(&response.bytes().await.unwrap());
    let inside: Value =
        serde_json::from_slice(&files["hero_template_uefn/uefn_parts.json"]).unwrap();
    assert_eq!(inside["complete"], false);
    assert_eq!(
        inside["missing_required"],
        json!(["body.torso_base", "mouth.mouth_visemes"])
    );
    assert!(
        files.contains_key("hero_template_uefn/Parts/head/head_base/default.png"),
        "{:?}",
        files.keys()
    );
    // Another tenant cannot export it.
    let response = export(
        &server,
        &outsider,
        "/api/assembly/hero_variant/export/comfyui_trellis_v1",
    )
    .await;
    assert_eq!(response.status(), 404);

    // Which assemblies hold the head, and which slot a file is for.
    let uses = server
        .ok_as(
            &player,
            "query($a: ID!) { assembliesUsingAsset(assetId: $a) {
        assembly { entityId } slots } }",
            json!({ "a": head }),
        )
        .await;
    assert_eq!(
        uses["assembliesUsingAsset"],
        json!([{ "assembly": { "entityId": "hero_template" }, "slots": ["head.head_base"] }])
    );
    let named = asset(&server, &writer, "hero_mouth_visemes_Aa.png", png(16, 16)).await;
    let detected = server
        .ok_as(
            &player,
            "query($a: ID!) { autoDetectSlot(assetId: $a, assemblyId: \"hero_profile\") {
        threshold detected { path variantKey confidence } candidates { path } } }",
            json!({ "a": named }),
        )
        .await;
    let detected = &detected["autoDetectSlot"];
    assert_eq!(
        detected["detected"]["path"], "mouth.mouth_visemes",
        "{detected}"
    );
    assert_eq!(detected["detected"]["variantKey"], "Aa");
    let webp_only = server
        .ok_as(
            &player,
            "query($a: ID!) { autoDetectSlot(assetId: $a, assemblyId: \"hero_profile\") {
        candidates { path } } }",
            json!({ "a": torso }),
        )
        .await;
    assert!(
        !webp_only.to_string().contains("mouth_visemes"),
        "a slot that takes no WebP is never proposed: {webp_only}"
    );

    // Zombie stages: the bite drawn at the stage's opacity; the progression judged.
    let stage = server.ok_as(&player, "{ assemblyZombieStage(id: \"hero_zombie\", stage: 2) {
        name overlayOpacity definedBy activeOverlays { name slot { path filled } } layers { path opacity } } }", json!({})).await;
    let stage = &stage["assemblyZombieStage"];
    assert_eq!(stage["name"], "Infected");
    assert_eq!(stage["definedBy"], "hero_template");
    assert_eq!(
        stage["activeOverlays"],
        json!([{ "name": "bite_neck", "slot": { "path": "overlays_infection.bite_neck", "filled": true } }])
    );
    let bite = stage["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["path"] == "overlays_infection.bite_neck")
        .expect("the bite is drawn");
    assert_eq!(bite["opacity"], 0.4);
    let clean = server
        .ok_as(
            &player,
            "{ assemblyZombieStage(id: \"hero_zombie\", stage: 0) { layers { path } } }",
            json!({}),
        )
        .await;
    assert!(
        !clean.to_string().contains("bite_neck"),
        "stage 0 draws no overlay: {clean}"
    );
    let judged = server
        .ok_as(
            &player,
            "{ assemblyZombieValidation(id: \"hero_variant\") { valid problems { message } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        judged["assemblyZombieValidation"]["valid"], true,
        "{judged}"
    );
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "lonely",
        "Lonely",
        json!({ "assembly_type": "prop" }),
    )
    .await;
    let judged = server
        .ok_as(
            &player,
            "{ assemblyZombieValidation(id: \"lonely\") { valid problems { severity message } } }",
            json!({}),
        )
        .await;
    assert_eq!(judged["assemblyZombieValidation"]["valid"], false);
    assert!(judged.to_string().contains("not enabled"), "{judged}");

    // The profiles and the template's vocabulary; only the SUPERUSER reloads the profiles.
    let profiles = server.ok_as(&player, "{ assemblyExportProfiles { id } assemblySlotDefinitions(assemblyType: \"prop\") { name slots { path required } }
        assemblyTemplateTypes { types { name groups } hierarchyLevels } }", json!({})).await;
    assert_eq!(
        profiles["assemblyExportProfiles"].as_array().unwrap().len(),
        4
    );
    assert_eq!(profiles["assemblySlotDefinitions"][0]["name"], "prop");
    assert_eq!(
        profiles["assemblyTemplateTypes"]["hierarchyLevels"],
        json!(["template", "profile", "variant", "zombie_variant"])
    );
    server
        .fails_as(
            &writer,
            "mutation { reloadExportProfiles { id } }",
            json!({}),
            "FORBIDDEN",
        )
        .await;
    let root = server.superuser("root@rigs.test").await;
    let reloaded = server
        .ok_as(&root, "mutation { reloadExportProfiles { id } }", json!({}))
        .await;
    assert_eq!(
        reloaded["reloadExportProfiles"].as_array().unwrap().len(),
        4
    );
}
