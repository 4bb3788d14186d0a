//! The relationship graph: references found in fields, relationships drawn by hand, an
//! entity's neighbourhood and the whole universe, renames that rewrite references, and what the
//! recycle bin does to all of it.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

/// A small world: a garage, Rex (lives there, sister Ann), Ann, and the Raiders led by Rex.
async fn small_world(server: &TestServer, owner: &Account) {
    create_entity(
        server,
        owner,
        "LOCATION",
        "garage",
        "Garage",
        json!({ "location_type": "garage" }),
    )
    .await;
    create_entity(server, owner, "CHARACTER", "ann", "Ann", json!({})).await;
    create_entity(
        server,
        owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "primary_location": "garage", "family": [{ "character_id": "ann", "relationship": "sibling" }] }),
    )
    .await;
    create_entity(
        server,
        owner,
        "FACTION",
        "raiders",
        "Raiders",
        json!({ "leader": "rex", "headquarters": "garage", "members": ["rex", "ann"] }),
    )
    .await;
}

fn pairs(list: &Value, key: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| {
            (
                item["kind"].as_str().unwrap().to_owned(),
                item[key]["entityId"]
                    .as_str()
                    .unwrap_or("<none>")
                    .to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    list.sort();
    list
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_resolve_both_ways_and_make_relationships() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    small_world(&server, &owner).await;

    let data = server
        .ok_as(
            &owner,
            "{ rex: entity(type: CHARACTER, entityId: \"rex\") {
                 references { kind entityId targetTypes entity { entityId name } }
                 referencedBy { kind entity { entityId } } }
               ann: entity(type: CHARACTER, entityId: \"ann\") {
                 relationships { kind origin direction entity { entityId } }
                 incoming: relationships(direction: INCOMING, kind: \"members\") { entity { entityId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        pairs(&data["rex"]["references"], "entity"),
        owned(&[
            ("primary_location", "garage"),
            ("family.character_id", "ann")
        ])
    );
    assert_eq!(
        data["rex"]["references"][0]["targetTypes"],
        json!(["LOCATION"])
    );
    assert_eq!(
        pairs(&data["rex"]["referencedBy"], "entity"),
        owned(&[("leader", "raiders"), ("members", "raiders")])
    );
    let relationships = data["ann"]["relationships"].as_array().unwrap();
    assert_eq!(relationships.len(), 2, "{relationships:?}");
    assert!(
        relationships
            .iter()
            .all(|r| r["origin"] == "FIELD" && r["direction"] == "INCOMING")
    );
    assert_eq!(
        data["ann"]["incoming"],
        json!([{ "entity": { "entityId": "raiders" } }])
    );

    // A relationship drawn by hand shows on both ends, with its attributes.
    let data = server
        .ok_as(
            &owner,
            "mutation { createRelationship(from: { type: CHARACTER, entityId: \"ann\" }, to: { type: LOCATION, entityId: \"garage\" },
                kind: \"works_at\", attributes: { since: 2019 }) { id kind origin direction attributes entity { entityId } } }",
            json!({}),
        )
        .await;
    let created = &data["createRelationship"];
    assert_eq!(created["origin"], "EXPLICIT");
    assert_eq!(created["attributes"], json!({ "since": 2019 }));
    assert_eq!(created["entity"]["entityId"], "garage");
    let relationship_id = created["id"].as_str().unwrap().to_owned();

    let data = server
        .ok_as(
            &owner,
            "{ entity(type: LOCATION, entityId: \"garage\") { relationships(direction: INCOMING) { kind origin entity { entityId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        pairs(&data["entity"]["relationships"], "entity"),
        owned(&[
            ("primary_location", "rex"),
            ("headquarters", "raiders"),
            ("works_at", "ann")
        ])
    );

    let again = server
        .gql_as(
            &owner,
            "mutation { createRelationship(from: { type: CHARACTER, entityId: \"ann\" }, to: { type: LOCATION, entityId: \"garage\" }, kind: \"works_at\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    for (from, to, kind, code) in [
        ("ann", "garage", "Works At", "BAD_USER_INPUT"),
        ("ann", "nowhere", "near", "NOT_FOUND"),
    ] {
        let body = server
            .gql_as(
                &owner,
                "mutation($from: String!, $to: String!, $kind: String!) { createRelationship(from: { type: CHARACTER, entityId: $from }, to: { type: LOCATION, entityId: $to }, kind: $kind) { id } }",
                json!({ "from": from, "to": to, "kind": kind }),
            )
            .await;
        assert_eq!(error_code(&body), code, "{body}");
    }

    let delete = "mutation($id: ID!) { deleteRelationship(id: $id) }";
    let outsider = server.register("outsider@example.com", "Other").await;
    let body = server
        .gql_as(&outsider, delete, json!({ "id": relationship_id }))
        .await;
    assert_eq!(
        error_code(&body),
        "NOT_FOUND",
        "another tenant cannot delete it"
    );
    server
        .ok_as(&owner, delete, json!({ "id": relationship_id }))
        .await;
    let body = server
        .gql_as(&owner, delete, json!({ "id": relationship_id }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_keep_references_in_step_with_the_fields() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    small_world(&server, &owner).await;
    create_entity(&server, &owner, "LOCATION", "dock", "Dock", json!({})).await;
    let update = "mutation($fields: JSON!) { updateEntity(type: CHARACTER, entityId: \"rex\", input: { fields: $fields }) { version } }";
    let links = "{ rex: entity(type: CHARACTER, entityId: \"rex\") { references { kind entity { entityId } } }
                  garage: entity(type: LOCATION, entityId: \"garage\") { referencedBy { kind entity { entityId } } }
                  dock: entity(type: LOCATION, entityId: \"dock\") { referencedBy { kind entity { entityId } } } }";

    // An edit that touches no reference leaves them all as they were.
    server
        .ok_as(&owner, update, json!({ "fields": { "mood": "calm" } }))
        .await;
    let data = server.ok_as(&owner, links, json!({})).await;
    assert_eq!(
        pairs(&data["rex"]["references"], "entity"),
        owned(&[
            ("primary_location", "garage"),
            ("family.character_id", "ann")
        ])
    );

    // Moving Rex moves the reference: the dock gains him and the garage keeps only the Raiders.
    server
        .ok_as(
            &owner,
            update,
            json!({ "fields": { "primary_location": "dock" } }),
        )
        .await;
    let data = server.ok_as(&owner, links, json!({})).await;
    assert_eq!(
        pairs(&data["rex"]["references"], "entity"),
        owned(&[("primary_location", "dock"), ("family.character_id", "ann")])
    );
    assert_eq!(
        pairs(&data["dock"]["referencedBy"], "entity"),
        owned(&[("primary_location", "rex")])
    );
    assert_eq!(
        pairs(&data["garage"]["referencedBy"], "entity"),
        owned(&[("headquarters", "raiders")])
    );

    // Removing the family removes that reference, and Ann is no longer his sister anywhere.
    server
        .ok_as(&owner, update, json!({ "fields": { "family": null } }))
        .await;
    let data = server.ok_as(&owner, links, json!({})).await;
    assert_eq!(
        pairs(&data["rex"]["references"], "entity"),
        owned(&[("primary_location", "dock")])
    );
}

fn node_ids(graph: &Value) -> Vec<String> {
    let mut ids: Vec<String> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["entityId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_graphs_grow_with_depth_and_the_universe_has_every_edge() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    small_world(&server, &owner).await;
    create_entity(&server, &owner, "CHARACTER", "loner", "Loner", json!({})).await;
    let query =
        "query($depth: Int) { entityGraph(type: LOCATION, entityId: \"garage\", depth: $depth) {
        truncated nodes { id entityId } edges { source target kind origin } } }";

    let data = server.ok_as(&owner, query, json!({ "depth": 1 })).await;
    assert_eq!(node_ids(&data["entityGraph"]), ["garage", "raiders", "rex"]);
    let data = server.ok_as(&owner, query, json!({ "depth": 2 })).await;
    let graph = &data["entityGraph"];
    assert_eq!(node_ids(graph), ["ann", "garage", "raiders", "rex"]);
    assert_eq!(graph["truncated"], false);
    // Every edge joins two listed nodes.
    let node_set: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    for edge in graph["edges"].as_array().unwrap() {
        assert!(
            node_set.contains(&edge["source"].as_str().unwrap())
                && node_set.contains(&edge["target"].as_str().unwrap())
        );
    }
    for depth in [0, 4] {
        let body = server
            .gql_as(&owner, query, json!({ "depth": depth }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
    let data = server
        .ok_as(
            &owner,
            "{ entityGraph(type: LOCATION, entityId: \"nowhere\") { truncated } }",
            json!({}),
        )
        .await;
    assert!(data["entityGraph"].is_null());

    let data = server
        .ok_as(
            &owner,
            "{ universeGraph { truncated nodes { entityId } edges { kind origin } } }",
            json!({}),
        )
        .await;
    let universe = &data["universeGraph"];
    assert_eq!(
        node_ids(universe),
        ["ann", "garage", "loner", "raiders", "rex"]
    );
    let mut kinds: Vec<&str> = universe["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "family.character_id",
            "headquarters",
            "leader",
            "members",
            "members",
            "primary_location"
        ]
    );
    let data = server
        .ok_as(
            &owner,
            "{ universeGraph(types: [CHARACTER], limit: 2) { truncated nodes { entityType } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["universeGraph"]["truncated"], true);
    assert_eq!(
        data["universeGraph"]["nodes"],
        json!([{ "entityType": "CHARACTER" }, { "entityType": "CHARACTER" }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_an_entity_rewrites_every_reference_to_it() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    small_world(&server, &owner).await;

    let data = server
        .ok_as(
            &owner,
            "mutation { renameEntity(type: CHARACTER, entityId: \"ann\", newEntityId: \"annabel\") { entityId version referencedBy { kind entity { entityId } } } }",
            json!({}),
        )
        .await;
    let renamed = &data["renameEntity"];
    assert_eq!(renamed["entityId"], "annabel");
    assert_eq!(renamed["version"], 2);
    assert_eq!(
        pairs(&renamed["referencedBy"], "entity"),
        owned(&[("family.character_id", "rex"), ("members", "raiders")])
    );
    let data = server
        .ok_as(
            &owner,
            "{ rex: entity(type: CHARACTER, entityId: \"rex\") { fields isValid }
               raiders: entity(type: FACTION, entityId: \"raiders\") { fields isValid version }
               old: entity(type: CHARACTER, entityId: \"ann\") { entityId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["rex"]["fields"]["family"],
        json!([{ "character_id": "annabel", "relationship": "sibling" }])
    );
    assert_eq!(
        data["raiders"]["fields"]["members"],
        json!(["rex", "annabel"])
    );
    assert_eq!(
        data["raiders"]["fields"]["leader"], "rex",
        "other references are untouched"
    );
    assert_eq!(data["raiders"]["isValid"], true);
    assert_eq!(
        data["raiders"]["version"], 2,
        "the rewrite is a recorded write"
    );
    assert!(data["old"].is_null());

    // Refused renames change nothing.
    for (new_id, code) in [("rex", "CONFLICT"), ("Not Valid", "BAD_USER_INPUT")] {
        let body = server
            .gql_as(
                &owner,
                "mutation($id: String!) { renameEntity(type: CHARACTER, entityId: \"annabel\", newEntityId: $id) { entityId } }",
                json!({ "id": new_id }),
            )
            .await;
        assert_eq!(error_code(&body), code, "{body}");
    }
    let body = server
        .gql_as(&owner, "mutation { renameEntity(type: CHARACTER, entityId: \"ghost\", newEntityId: \"spirit\") { entityId } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let data = server
        .ok_as(
            &owner,
            "{ entity(type: FACTION, entityId: \"raiders\") { version } }",
            json!({}),
        )
        .await;
    assert_eq!(data["entity"]["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recycle_bin_hides_an_entity_everywhere_until_it_is_restored() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    small_world(&server, &owner).await;
    let overview = "{ entities(type: CHARACTER) { total }
        search(query: \"rex\", types: [CHARACTER]) { entity { entityId } }
        universeGraph { nodes { entityId } }
        garage: entity(type: LOCATION, entityId: \"garage\") { referencedBy { entity { entityId } } }
        raiders: entity(type: FACTION, entityId: \"raiders\") { validationErrors }
        recycledEntities { total entities { entityId deletedAt deletedBy { id } } } }";

    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: CHARACTER, entityId: \"rex\") }",
            json!({}),
        )
        .await;
    let data = server.ok_as(&owner, overview, json!({})).await;
    assert_eq!(data["entities"]["total"], 1);
    assert_eq!(data["search"], json!([]));
    assert!(!node_ids(&data["universeGraph"]).contains(&"rex".to_owned()));
    assert_eq!(
        data["garage"]["referencedBy"],
        json!([{ "entity": { "entityId": "raiders" } }])
    );
    assert_eq!(
        data["raiders"]["validationErrors"],
        json!([
            "leader: character `rex` is in the recycle bin",
            "members: character `rex` is in the recycle bin"
        ])
    );
    assert_eq!(data["recycledEntities"]["entities"][0]["entityId"], "rex");
    assert_eq!(
        data["recycledEntities"]["entities"][0]["deletedBy"]["id"],
        owner.user_id.as_str()
    );
    let body = server
        .gql_as(
            &owner,
            "mutation { deleteEntity(type: CHARACTER, entityId: \"rex\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "already in the bin");

    server
        .ok_as(
            &owner,
            "mutation { restoreEntity(type: CHARACTER, entityId: \"rex\") { entityId } }",
            json!({}),
        )
        .await;
    let data = server.ok_as(&owner, overview, json!({})).await;
    assert_eq!(data["entities"]["total"], 2);
    assert_eq!(data["search"][0]["entity"]["entityId"], "rex");
    assert!(node_ids(&data["universeGraph"]).contains(&"rex".to_owned()));
    assert_eq!(data["garage"]["referencedBy"].as_array().unwrap().len(), 2);
    assert_eq!(data["raiders"]["validationErrors"], json!([]));
    assert_eq!(data["recycledEntities"]["total"], 0);
    let body = server
        .gql_as(
            &owner,
            "mutation { restoreEntity(type: CHARACTER, entityId: \"rex\") { entityId } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "not in the bin");

    // Purging needs the bin first; emptying it purges everything there (of a type, if given).
    let body = server
        .gql_as(
            &owner,
            "mutation { purgeEntity(type: CHARACTER, entityId: \"rex\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    for (entity_type, id) in [
        ("CHARACTER", "rex"),
        ("CHARACTER", "ann"),
        ("LOCATION", "garage"),
    ] {
        server
            .ok_as(&owner, "mutation($type: EntityType!, $id: String!) { deleteEntity(type: $type, entityId: $id) }", json!({ "type": entity_type, "id": id }))
            .await;
    }
    let data = server
        .ok_as(
            &owner,
            "mutation { emptyRecycleBin(type: LOCATION) }",
            json!({}),
        )
        .await;
    assert_eq!(data["emptyRecycleBin"], 1);
    let data = server
        .ok_as(&owner, "mutation { emptyRecycleBin }", json!({}))
        .await;
    assert_eq!(data["emptyRecycleBin"], 2);
    let data = server
        .ok_as(&owner, "{ recycledEntities { total } raiders: entity(type: FACTION, entityId: \"raiders\") { validationErrors } }", json!({}))
        .await;
    assert_eq!(data["recycledEntities"]["total"], 0);
    assert_eq!(
        data["raiders"]["validationErrors"]
            .as_array()
            .unwrap()
            .len(),
        4,
        "{data}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_shared_across_types_resolve_by_the_fields_types_and_renames_leave_them_alone() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    // A district and a location both called `harbor`; a pier whose `parent_location` (district
    // or location) and `district` (district only) both say `harbor`.
    create_entity(
        &server,
        &owner,
        "DISTRICT",
        "harbor",
        "Harbor District",
        json!({ "district_type": "port" }),
    )
    .await;
    create_entity(
        &server,
        &owner,
        "LOCATION",
        "harbor",
        "Harbor",
        json!({ "location_type": "port" }),
    )
    .await;
    create_entity(
        &server,
        &owner,
        "LOCATION",
        "pier",
        "Pier",
        json!({ "location_type": "pier", "parent_location": "harbor", "district": "harbor" }),
    )
    .await;
    let pier = "{ entity(type: LOCATION, entityId: \"pier\") { fields references { kind entity { entityType entityId } } } }";
    let data = server.ok_as(&owner, pier, json!({})).await;
    let references = data["entity"]["references"].as_array().unwrap();
    assert!(
        references
            .iter()
            .all(|r| r["entity"]["entityType"] == "DISTRICT"),
        "the first type a field names wins a shared id: {references:?}"
    );

    // The location's graph holds only what links to the location itself.
    let data = server
        .ok_as(&owner, "{ entityGraph(type: LOCATION, entityId: \"harbor\") { nodes { entityType entityId } } }", json!({}))
        .await;
    assert_eq!(
        data["entityGraph"]["nodes"],
        json!([{ "entityType": "LOCATION", "entityId": "harbor" }])
    );

    // Renaming the district rewrites the district-only field, not the ambiguous one.
    server
        .ok_as(&owner, "mutation { renameEntity(type: DISTRICT, entityId: \"harbor\", newEntityId: \"harbor_district\") { entityId } }", json!({}))
        .await;
    let data = server.ok_as(&owner, pier, json!({})).await;
    assert_eq!(data["entity"]["fields"]["district"], "harbor_district");
    assert_eq!(data["entity"]["fields"]["parent_location"], "harbor");
    let kinds: Vec<(&str, &str)> = data["entity"]["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["entity"]["entityType"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("parent_location", "LOCATION"), ("district", "DISTRICT")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_lists_are_pages() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    small_world(&server, &owner).await;
    let query = "query($limit: Int, $offset: Int) { entity(type: CHARACTER, entityId: \"rex\") {
        referencedBy(limit: $limit, offset: $offset) { kind }
        references(limit: $limit) { kind }
        relationships(limit: $limit, offset: $offset) { kind } } }";
    let data = server.ok_as(&owner, query, json!({ "limit": 1 })).await;
    for list in ["referencedBy", "references", "relationships"] {
        assert_eq!(
            data["entity"][list].as_array().unwrap().len(),
            1,
            "{list}: {data}"
        );
    }
    let data = server
        .ok_as(&owner, query, json!({ "limit": 1, "offset": 1 }))
        .await;
    assert_eq!(data["entity"]["referencedBy"].as_array().unwrap().len(), 1);
    let data = server
        .ok_as(&owner, query, json!({ "limit": 10, "offset": 2 }))
        .await;
    assert_eq!(data["entity"]["referencedBy"], json!([]));
    let data = server
        .ok_as(&owner, "{ entity(type: CHARACTER, entityId: \"rex\") { referencedBy(kind: \"leader\") { entity { entityId } } } }", json!({}))
        .await;
    assert_eq!(
        data["entity"]["referencedBy"],
        json!([{ "entity": { "entityId": "raiders" } }])
    );
    let data = server
        .ok_as(&owner, "{ entity(type: CHARACTER, entityId: \"rex\") { references(kind: \"primary_location\") { entity { entityId } } } }", json!({}))
        .await;
    assert_eq!(
        data["entity"]["references"],
        json!([{ "entity": { "entityId": "garage" } }])
    );
    let body = server.gql_as(&owner, query, json!({ "limit": 201 })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}
