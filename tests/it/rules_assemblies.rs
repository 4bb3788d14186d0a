//! The core package's assembly rules: an assembly's slots and its chain of parents judged,
//! every slot rule broken once and named, and a core rule made prose or given another check.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;
use crate::rules::{outcome, set_of, verdicts};

/// An assembly's fields: its tier, its parent and its slots.
fn assembly(level: &str, parent: Option<&str>, slots: Value) -> Value {
    json!({
        "hierarchy_level": level,
        "parent_assembly_id": parent.unwrap_or(""),
        "inheritance_mode": "full",
        "slot_definitions": slots,
        "locked_slots": [],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assemblys_slots_and_chain_of_parents_are_checked_by_the_core_rules() {
    let server = TestServer::start().await;
    let writer = server.register("writer@slots.test", "Slots").await;
    let good_slots = json!({
        "head": {
            "allow_custom_slots": true,
            "head_base": { "required": true, "z_index": 10, "overlay_modes": ["replace"], "accepted_types": ["png", "webp"] },
            "face_overlay": { "z_index": 90, "overlay_modes": ["overlay", "blend"], "accepted_types": ["png"] }
        }
    });
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "base",
        "Base",
        assembly("template", None, good_slots.clone()),
    )
    .await;
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "hero",
        "Hero",
        assembly("profile", Some("base"), good_slots.clone()),
    )
    .await;
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "hero_red",
        "Hero Red",
        assembly("variant", Some("hero"), good_slots.clone()),
    )
    .await;
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "hero_zombie",
        "Hero Zombie",
        assembly("zombie_variant", Some("hero_red"), good_slots.clone()),
    )
    .await;

    // Four levels, each with the tier before it as parent: every checked rule holds.
    let (validation, list) = verdicts(&server, &writer, "ASSEMBLY", "hero_zombie").await;
    let failed: Vec<_> = list.iter().filter(|(_, o, _)| o == "FAILED").collect();
    assert!(failed.is_empty(), "{failed:?}");
    for rule in [
        "asm_inh_001",
        "asm_inh_002",
        "asm_inh_003",
        "asm_zidx_001",
        "asm_zidx_002",
        "asm_zidx_003",
        "asm_slot_003",
        "asm_lock_001",
    ] {
        assert_eq!(
            outcome(&list, rule).map(|o| o.0),
            Some("PASSED"),
            "{rule}: {validation}"
        );
    }

    // A fifth level, below a zombie: too deep, and the wrong parent tier.
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "hero_worse",
        "Worse",
        assembly("zombie_variant", Some("hero_zombie"), good_slots.clone()),
    )
    .await;
    let (_, list) = verdicts(&server, &writer, "ASSEMBLY", "hero_worse").await;
    assert_eq!(
        outcome(&list, "asm_inh_002"),
        Some((
            "FAILED",
            &["the chain of parents is 5 assemblies deep, more than 4".to_owned()][..]
        ))
    );
    assert_eq!(
        outcome(&list, "asm_inh_001"),
        Some((
            "FAILED",
            &[
                "a zombie_variant's parent must be a variant, and hero_zombie is a zombie_variant"
                    .to_owned()
            ][..]
        ))
    );

    // A profile with no parent, and a variant whose parent is not there.
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "orphan",
        "Orphan",
        assembly("profile", None, good_slots.clone()),
    )
    .await;
    let (_, list) = verdicts(&server, &writer, "ASSEMBLY", "orphan").await;
    assert_eq!(outcome(&list, "asm_inh_003").map(|o| o.0), Some("FAILED"));
    create_entity(
        &server,
        &writer,
        "ASSEMBLY",
        "stray",
        "Stray",
        assembly("variant", Some("nobody"), good_slots),
    )
    .await;
    let (_, list) = verdicts(&server, &writer, "ASSEMBLY", "stray").await;
    assert_eq!(
        outcome(&list, "asm_inh_001"),
        Some(("FAILED", &["a variant needs a profile as its parent: its parent nobody is not a live assembly of this tenant".to_owned()][..]))
    );

    // Slots that break every slot rule once.
    let bad_slots = json!({
        "head": {
            "head_base": { "z_index": 10, "overlay_modes": ["replace"], "accepted_types": ["png"], "mirror_of": "head.other" },
            "face_overlay": { "z_index": 10, "overlay_modes": ["overlay", "glow"], "accepted_types": [] },
            "crown": { "z_index": 1200, "overlay_modes": ["replace"], "accepted_types": ["tiff"] }
        },
        "loose_slot": { "z_index": 5, "overlay_modes": ["replace"], "accepted_types": ["png"] }
    });
    let mut fields = assembly("template", None, bad_slots);
    fields["locked_slots"] = json!(["head.nose"]);
    fields["inheritance_mode"] = json!("partial");
    create_entity(&server, &writer, "ASSEMBLY", "broken", "Broken", fields).await;
    let (validation, list) = verdicts(&server, &writer, "ASSEMBLY", "broken").await;
    for (rule, message) in [
        (
            "asm_slot_001",
            "slot loose_slot is defined outside a slot group",
        ),
        (
            "asm_slot_003",
            "head.face_overlay: overlay_modes has \"glow\", not one of replace, overlay, blend, multiply, screen, add",
        ),
        (
            "asm_slot_004",
            "head.face_overlay: accepted_types must be a non-empty list of png, webp, glb, fbx, jpg, svg",
        ),
        (
            "asm_slot_005",
            "head.head_base mirrors another slot without a mirror_strategy of flip_x, flip_y, rotate_180",
        ),
        (
            "asm_inh_004",
            "inheritance_mode is \"partial\", not one of full, selective, none",
        ),
        (
            "asm_zidx_001",
            "head.crown: z_index 1200 is outside 1 to 999",
        ),
        (
            "asm_zidx_002",
            "head.face_overlay and head.head_base share z_index 10",
        ),
        (
            "asm_zidx_003",
            "head.face_overlay is an overlay slot with z_index 10, below 80",
        ),
        (
            "asm_lock_001",
            "locked_slots names \"head.nose\", not a slot_group.slot_name of this assembly or its parents",
        ),
    ] {
        let (found, messages) =
            outcome(&list, rule).unwrap_or_else(|| panic!("{rule} judged: {validation}"));
        assert_eq!(found, "FAILED", "{rule}: {validation}");
        assert!(
            messages.iter().any(|m| m == message),
            "{rule}: {messages:?}"
        );
    }
    assert_eq!(
        outcome(&list, "asm_slot_002").map(|o| o.0),
        Some("NEEDS_REVIEW")
    );

    // A core rule known by its id becomes prose when the studio says so, or checks what the
    // studio gives it instead.
    let update = "mutation($rule: String!, $check: JSON!) {
        updateRule(type: ASSEMBLY, ruleId: $rule, input: { check: $check }) { revision } }";
    server
        .ok_as(
            &writer,
            update,
            json!({ "rule": "asm_slot_001", "check": {} }),
        )
        .await;
    server
        .ok_as(
            &writer,
            update,
            json!({ "rule": "asm_slot_003", "check": { "required_fields": ["description"] } }),
        )
        .await;
    let (_, list) = verdicts(&server, &writer, "ASSEMBLY", "broken").await;
    assert_eq!(
        outcome(&list, "asm_slot_001").map(|o| o.0),
        Some("NEEDS_REVIEW")
    );
    assert_eq!(
        outcome(&list, "asm_slot_003"),
        Some(("FAILED", &["description is missing".to_owned()][..]))
    );
    let copy = set_of(&server, &writer, "assembly_constraints").await;
    assert_eq!(copy["origin"], "TENANT_COPY");
    assert!(
        copy["source"]
            .as_str()
            .expect("source")
            .contains("check: none"),
        "{copy}"
    );
}
