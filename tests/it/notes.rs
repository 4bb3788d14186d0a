//! Notes: writing, reading, listing (pages, entity filter, `mine`, full-text search), editing,
//! attaching and detaching, deleting; the seed's title and content rules; who may change whose
//! note; notes of entities in the recycle bin; and the wall between tenants.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const NOTE_FIELDS: &str =
    "id title content dateCreated dateModified author { id } entity { entityType entityId name }";

const NOTES: &str = "query($entity: EntityRefInput, $mine: Boolean! = false, $search: String, $offset: Int, $limit: Int) {
    notes(entity: $entity, mine: $mine, search: $search, offset: $offset, limit: $limit) {
        total offset limit notes { id title } } }";

const DELETE_NOTE: &str = "mutation($id: ID!) { deleteNote(id: $id) }";

fn note_query() -> String {
    format!("query($id: ID!) {{ note(id: $id) {{ {NOTE_FIELDS} }} }}")
}

fn create_mutation() -> String {
    format!(
        "mutation($input: CreateNoteInput!) {{ createNote(input: $input) {{ {NOTE_FIELDS} }} }}"
    )
}

fn update_mutation() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateNoteInput!) {{ updateNote(id: $id, input: $input) {{ {NOTE_FIELDS} }} }}"
    )
}

/// The input of `createNote`, attached to `entity` (`{ type, entityId }`) when given.
fn note_input(title: &str, content: &str, entity: Option<Value>) -> Value {
    let mut input = json!({ "title": title, "content": content });
    if let Some(entity) = entity {
        input["entity"] = entity;
    }
    input
}

/// Writes a note as `account` and returns it (failing the test on any error).
async fn create_note(
    server: &TestServer,
    account: &Account,
    title: &str,
    content: &str,
    entity: Option<Value>,
) -> Value {
    let data = server
        .ok_as(
            account,
            &create_mutation(),
            json!({ "input": note_input(title, content, entity) }),
        )
        .await;
    data["createNote"].clone()
}

async fn update_note(server: &TestServer, account: &Account, id: &str, input: Value) -> Value {
    server
        .gql_as(
            account,
            &update_mutation(),
            json!({ "id": id, "input": input }),
        )
        .await
}

/// `notes` as `account` sees it with these variables.
async fn notes(server: &TestServer, account: &Account, variables: Value) -> Value {
    server.ok_as(account, NOTES, variables).await["notes"].clone()
}

fn titles(page: &Value) -> Vec<String> {
    page["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n["title"].as_str().expect("title").to_owned())
        .collect()
}

fn id_of(note: &Value) -> String {
    note["id"].as_str().expect("note id").to_owned()
}

fn rex_ref() -> Value {
    json!({ "type": "CHARACTER", "entityId": "rex" })
}

fn dock_ref() -> Value {
    json!({ "type": "LOCATION", "entityId": "dock" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_writes_reads_lists_edits_and_deletes_notes() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(
        &server,
        &owner,
        "CHARACTER",
        "rex",
        "Rex",
        json!({ "age": 34 }),
    )
    .await;
    create_entity(
        &server,
        &owner,
        "LOCATION",
        "dock",
        "Dock",
        json!({ "location_type": "harbor" }),
    )
    .await;

    // A loose note, then two attached to Rex.
    let lair = create_note(
        &server,
        &owner,
        "Dragon lair",
        "The lair lies beneath the mountain.",
        None,
    )
    .await;
    assert_eq!(lair["title"], "Dragon lair");
    assert_eq!(lair["content"], "The lair lies beneath the mountain.");
    assert!(lair["entity"].is_null(), "{lair}");
    assert_eq!(lair["author"]["id"], owner.user_id.as_str());
    assert!(lair["dateCreated"].is_string(), "{lair}");
    assert!(lair["dateModified"].is_string(), "{lair}");
    let backstory = create_note(
        &server,
        &owner,
        "Rex backstory",
        "Grew up on the docks.",
        Some(rex_ref()),
    )
    .await;
    assert_eq!(
        backstory["entity"],
        json!({ "entityType": "CHARACTER", "entityId": "rex", "name": "Rex" })
    );
    create_note(
        &server,
        &owner,
        "Session one",
        "We met at the harbor at night.",
        Some(rex_ref()),
    )
    .await;

    // Read one back.
    let data = server
        .ok_as(&owner, &note_query(), json!({ "id": id_of(&backstory) }))
        .await;
    assert_eq!(data["note"], backstory);

    // Most recently changed first, in pages.
    let page = notes(&server, &owner, json!({})).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["offset"], 0);
    assert_eq!(page["limit"], 50);
    assert_eq!(
        titles(&page),
        ["Session one", "Rex backstory", "Dragon lair"]
    );
    let page = notes(&server, &owner, json!({ "limit": 2 })).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["limit"], 2);
    assert_eq!(titles(&page), ["Session one", "Rex backstory"]);
    let page = notes(&server, &owner, json!({ "offset": 2, "limit": 2 })).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["offset"], 2);
    assert_eq!(titles(&page), ["Dragon lair"]);

    // Filtered by entity.
    let page = notes(&server, &owner, json!({ "entity": rex_ref() })).await;
    assert_eq!(page["total"], 2);
    assert_eq!(titles(&page), ["Session one", "Rex backstory"]);
    let page = notes(&server, &owner, json!({ "entity": dock_ref() })).await;
    assert_eq!(page["total"], 0);
    let page = notes(
        &server,
        &owner,
        json!({ "entity": { "type": "CHARACTER", "entityId": "nobody" } }),
    )
    .await;
    assert_eq!(page["total"], 0);
    assert_eq!(page["notes"], json!([]));

    // Full-text search with prefix matching, over titles and content; all words must match.
    let page = notes(&server, &owner, json!({ "search": "drag" })).await;
    assert_eq!(page["total"], 1);
    assert_eq!(titles(&page), ["Dragon lair"]);
    let page = notes(&server, &owner, json!({ "search": "harb" })).await;
    assert_eq!(titles(&page), ["Session one"]);
    let page = notes(&server, &owner, json!({ "search": "lair mountain" })).await;
    assert_eq!(titles(&page), ["Dragon lair"]);
    let page = notes(&server, &owner, json!({ "search": "dragon harbor" })).await;
    assert_eq!(page["total"], 0);
    let page = notes(&server, &owner, json!({ "search": "zeppelin" })).await;
    assert_eq!(page["total"], 0);

    // Edit the title and content: dateModified moves, dateCreated stays, the note goes first.
    let body = update_note(
        &server,
        &owner,
        &id_of(&lair),
        json!({ "title": "Dragon lair revisited", "content": "The lair is empty now." }),
    )
    .await;
    let edited = &body["data"]["updateNote"];
    assert_eq!(edited["title"], "Dragon lair revisited", "{body}");
    assert_eq!(edited["content"], "The lair is empty now.");
    assert_eq!(edited["dateCreated"], lair["dateCreated"]);
    assert_ne!(edited["dateModified"], lair["dateModified"]);
    assert!(edited["entity"].is_null());
    let page = notes(&server, &owner, json!({})).await;
    assert_eq!(
        titles(&page),
        ["Dragon lair revisited", "Session one", "Rex backstory"]
    );
    let page = notes(&server, &owner, json!({ "search": "empty" })).await;
    assert_eq!(titles(&page), ["Dragon lair revisited"]);
    let page = notes(&server, &owner, json!({ "search": "mountain" })).await;
    assert_eq!(page["total"], 0, "the old content is no longer searchable");

    // Only what is given changes: attach it to the dock, keeping title and content.
    let body = update_note(
        &server,
        &owner,
        &id_of(&lair),
        json!({ "entity": dock_ref() }),
    )
    .await;
    let attached = &body["data"]["updateNote"];
    assert_eq!(
        attached["entity"],
        json!({ "entityType": "LOCATION", "entityId": "dock", "name": "Dock" }),
        "{body}"
    );
    assert_eq!(attached["title"], "Dragon lair revisited");
    assert_eq!(attached["content"], "The lair is empty now.");
    let page = notes(&server, &owner, json!({ "entity": dock_ref() })).await;
    assert_eq!(titles(&page), ["Dragon lair revisited"]);

    // Attaching and detaching at once is refused.
    let body = update_note(
        &server,
        &owner,
        &id_of(&lair),
        json!({ "entity": rex_ref(), "detach": true }),
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    // Detach it.
    let body = update_note(&server, &owner, &id_of(&lair), json!({ "detach": true })).await;
    let detached = &body["data"]["updateNote"];
    assert!(detached["entity"].is_null(), "{body}");
    assert_eq!(detached["title"], "Dragon lair revisited");
    let page = notes(&server, &owner, json!({ "entity": dock_ref() })).await;
    assert_eq!(page["total"], 0);

    // Delete it: gone from reads and lists; a second delete finds nothing.
    let data = server
        .ok_as(&owner, DELETE_NOTE, json!({ "id": id_of(&lair) }))
        .await;
    assert_eq!(data["deleteNote"], true);
    let data = server
        .ok_as(&owner, &note_query(), json!({ "id": id_of(&lair) }))
        .await;
    assert!(data["note"].is_null(), "{data}");
    let page = notes(&server, &owner, json!({})).await;
    assert_eq!(page["total"], 2);
    assert_eq!(titles(&page), ["Session one", "Rex backstory"]);
    let body = server
        .gql_as(&owner, DELETE_NOTE, json!({ "id": id_of(&lair) }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = update_note(
        &server,
        &owner,
        &id_of(&lair),
        json!({ "title": "Back again" }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_and_content_outside_the_seed_rules_are_refused_and_nothing_is_saved() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let long_title = "x".repeat(51);
    let cases = [
        ("ab", "Enough content here.", "title"),
        (long_title.as_str(), "Enough content here.", "title"),
        ("  ab  ", "Enough content here.", "title"),
        ("A fine title", "ab", "content"),
        ("A fine title", "   ", "content"),
    ];
    for (title, content, field) in cases {
        let body = server
            .gql_as(
                &owner,
                &create_mutation(),
                json!({ "input": note_input(title, content, None) }),
            )
            .await;
        assert_eq!(
            error_code(&body),
            "BAD_USER_INPUT",
            "{title:?}/{content:?} → {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let page = notes(&server, &owner, json!({})).await;
    assert_eq!(page["total"], 0, "no refused note was saved");

    // An unknown entity is NOT_FOUND, and saves nothing either.
    let body = server
        .gql_as(
            &owner,
            &create_mutation(),
            json!({ "input": note_input("Ghost story", "Nobody is there.", Some(json!({ "type": "CHARACTER", "entityId": "ghost" }))) }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(notes(&server, &owner, json!({})).await["total"], 0);

    // The limits themselves are fine.
    let fifty = "y".repeat(50);
    create_note(&server, &owner, "Orc", "abc", None).await;
    let note = create_note(&server, &owner, &fifty, "Long enough.", None).await;
    assert_eq!(note["title"], fifty.as_str());
    assert_eq!(notes(&server, &owner, json!({})).await["total"], 2);

    // Updates follow the same rules and leave the note as it was.
    let id = id_of(&note);
    for (input, field) in [
        (json!({ "title": "ab" }), "title"),
        (json!({ "title": long_title }), "title"),
        (json!({ "content": "ab" }), "content"),
    ] {
        let body = update_note(&server, &owner, &id, input.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input} → {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let body = update_note(
        &server,
        &owner,
        &id,
        json!({ "entity": { "type": "CHARACTER", "entityId": "ghost" } }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let data = server
        .ok_as(&owner, &note_query(), json!({ "id": id }))
        .await;
    assert_eq!(data["note"], note, "a refused update changes nothing");

    // A malformed id is bad input, not an internal error.
    let body = server
        .gql_as(&owner, &note_query(), json!({ "id": "not-a-note-id" }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id", "{body}");
}

#[derive(diesel::QueryableByName)]
struct NoteId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_read_notes_builders_write_their_own_and_admins_edit_anyones() {
    let server = TestServer::start().await;
    let admin = server.register("admin@example.com", "Studio").await;
    let builder = server
        .invite_member(&admin, "builder@example.com", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&admin, "player@example.com", "PLAYER")
        .await;
    create_entity(&server, &admin, "CHARACTER", "rex", "Rex", json!({})).await;

    let admin_note = create_note(
        &server,
        &admin,
        "Campaign secrets",
        "The butler did it.",
        None,
    )
    .await;
    let builder_note = create_note(
        &server,
        &builder,
        "Rex's backstory",
        "Rex owes the guild money.",
        Some(rex_ref()),
    )
    .await;
    assert_eq!(builder_note["author"]["id"], builder.user_id.as_str());
    assert_eq!(builder_note["entity"]["entityId"], "rex");

    // A note the player wrote when PLAYERs still could (a demotion, or an older server).
    let old_note = {
        use diesel_async::RunQueryDsl;
        let mut db = server.db().await;
        diesel::sql_query(format!(
            "INSERT INTO notes (id, tenant_id, author_id, title, content)
             VALUES (gen_random_uuid(), '{}', '{}', 'Old notes', 'From before.') RETURNING id::text AS id",
            player.tenant_id, player.user_id
        ))
        .get_result::<NoteId>(&mut db)
        .await
        .expect("a note of the player's")
        .id
    };

    // A PLAYER plays, chats and reads: writing a note is not theirs (seed 002's role table),
    // not even their own old one.
    let body = update_note(
        &server,
        &player,
        &old_note,
        json!({ "title": "Still mine?" }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = server
        .gql_as(
            &player,
            &create_mutation(),
            json!({ "input": note_input("My notes", "Things I saw.", Some(rex_ref())) }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    for note in [&builder_note, &admin_note] {
        let body = update_note(
            &server,
            &player,
            &id_of(note),
            json!({ "title": "Mine now" }),
        )
        .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
        let body = server
            .gql_as(&player, DELETE_NOTE, json!({ "id": id_of(note) }))
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }

    // Every member reads every note; `mine` keeps only the viewer's own.
    let page = notes(&server, &player, json!({})).await;
    assert_eq!(page["total"], 3);
    let page = notes(&server, &player, json!({ "mine": true })).await;
    assert_eq!(titles(&page), ["Old notes"]);
    let page = notes(&server, &builder, json!({ "mine": true })).await;
    assert_eq!(titles(&page), ["Rex's backstory"]);
    let data = server
        .ok_as(&player, &note_query(), json!({ "id": id_of(&admin_note) }))
        .await;
    assert_eq!(data["note"]["title"], "Campaign secrets");

    // An author's email shows to the author and to ADMINs, not to other members.
    let author = "query($id: ID!) { note(id: $id) { author { email displayName username } } }";
    let id = json!({ "id": id_of(&builder_note) });
    for (viewer, email) in [
        (&player, Value::Null),
        (&builder, json!("builder@example.com")),
        (&admin, json!("builder@example.com")),
    ] {
        let seen = server.ok_as(viewer, author, id.clone()).await["note"]["author"].clone();
        assert_eq!(seen["email"], email, "{seen}");
        assert!(
            seen["username"].is_string() && seen["displayName"].is_string(),
            "{seen}"
        );
    }

    // The builder edits their own note...
    let body = update_note(
        &server,
        &builder,
        &id_of(&builder_note),
        json!({ "content": "Rex owes the guild a lot of money." }),
    )
    .await;
    assert_eq!(
        body["data"]["updateNote"]["content"], "Rex owes the guild a lot of money.",
        "{body}"
    );

    // ...but not the admin's.
    let body = update_note(
        &server,
        &builder,
        &id_of(&admin_note),
        json!({ "title": "Spoilers" }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = server
        .gql_as(&builder, DELETE_NOTE, json!({ "id": id_of(&admin_note) }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let data = server
        .ok_as(&admin, &note_query(), json!({ "id": id_of(&admin_note) }))
        .await;
    assert_eq!(data["note"], admin_note, "the admin's note is untouched");

    // The admin edits the builder's note; it stays the builder's.
    let body = update_note(
        &server,
        &admin,
        &id_of(&builder_note),
        json!({ "title": "Moderated" }),
    )
    .await;
    let moderated = &body["data"]["updateNote"];
    assert_eq!(moderated["title"], "Moderated", "{body}");
    assert_eq!(moderated["author"]["id"], builder.user_id.as_str());
    let page = notes(&server, &builder, json!({ "mine": true })).await;
    assert_eq!(titles(&page), ["Moderated"]);

    // And may delete it.
    let data = server
        .ok_as(&admin, DELETE_NOTE, json!({ "id": id_of(&builder_note) }))
        .await;
    assert_eq!(data["deleteNote"], true);
    let page = notes(&server, &builder, json!({ "mine": true })).await;
    assert_eq!(page["total"], 0);
    assert_eq!(notes(&server, &admin, json!({})).await["total"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_loses_its_entity_while_the_entity_is_in_the_recycle_bin() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    let note = create_note(
        &server,
        &owner,
        "Rex backstory",
        "Grew up on the docks.",
        Some(rex_ref()),
    )
    .await;
    let id = id_of(&note);
    assert_eq!(note["entity"]["entityId"], "rex");

    server
        .ok_as(
            &owner,
            "mutation { deleteEntity(type: CHARACTER, entityId: \"rex\") }",
            json!({}),
        )
        .await;
    let data = server
        .ok_as(&owner, &note_query(), json!({ "id": id }))
        .await;
    assert_eq!(
        data["note"]["title"], "Rex backstory",
        "the note itself stays"
    );
    assert!(data["note"]["entity"].is_null(), "{data}");
    let page = notes(&server, &owner, json!({ "entity": rex_ref() })).await;
    assert_eq!(page["total"], 0);
    assert_eq!(notes(&server, &owner, json!({})).await["total"], 1);

    server
        .ok_as(
            &owner,
            "mutation { restoreEntity(type: CHARACTER, entityId: \"rex\") { entityId } }",
            json!({}),
        )
        .await;
    let data = server
        .ok_as(&owner, &note_query(), json!({ "id": id }))
        .await;
    assert_eq!(
        data["note"]["entity"],
        json!({ "entityType": "CHARACTER", "entityId": "rex", "name": "Rex" })
    );
    let page = notes(&server, &owner, json!({ "entity": rex_ref() })).await;
    assert_eq!(titles(&page), ["Rex backstory"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_and_anonymous_callers_get_nothing_from_notes() {
    let server = TestServer::start().await;
    let owner = server.register("owner@example.com", "Studio").await;
    let other = server.register("other@example.com", "Other").await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    let note = create_note(
        &server,
        &owner,
        "Dragon lair",
        "The lair lies beneath the mountain.",
        Some(rex_ref()),
    )
    .await;
    let id = id_of(&note);

    // Reads: nothing, and no hint that anything exists.
    let data = server
        .ok_as(&other, &note_query(), json!({ "id": id }))
        .await;
    assert!(data["note"].is_null(), "{data}");
    for variables in [
        json!({}),
        json!({ "search": "dragon" }),
        json!({ "entity": rex_ref() }),
        json!({ "mine": true }),
    ] {
        let page = notes(&server, &other, variables.clone()).await;
        assert_eq!(page["total"], 0, "{variables} → {page}");
        assert_eq!(page["notes"], json!([]));
    }

    // Writes: NOT_FOUND, as for a note that does not exist.
    let body = update_note(&server, &other, &id, json!({ "title": "Stolen" })).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = server
        .gql_as(&other, DELETE_NOTE, json!({ "id": id }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = server
        .gql_as(
            &other,
            &create_mutation(),
            json!({ "input": note_input("Spying on Rex", "Where is he?", Some(rex_ref())) }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        "NOT_FOUND",
        "another tenant's entity cannot be attached: {body}"
    );

    // The other tenant's own notes stay its own.
    create_note(&server, &other, "Our dragon", "A different dragon.", None).await;
    let page = notes(&server, &other, json!({ "search": "drag" })).await;
    assert_eq!(titles(&page), ["Our dragon"]);
    let page = notes(&server, &owner, json!({})).await;
    assert_eq!(titles(&page), ["Dragon lair"]);

    // The owner's note is untouched.
    let data = server
        .ok_as(&owner, &note_query(), json!({ "id": id }))
        .await;
    assert_eq!(data["note"], note);

    // Anonymous callers are turned away.
    let anonymous = [
        (NOTES.to_owned(), json!({})),
        (note_query(), json!({ "id": id })),
        (
            create_mutation(),
            json!({ "input": note_input("Anonymous", "Who am I?", None) }),
        ),
        (
            update_mutation(),
            json!({ "id": id, "input": { "title": "Anonymous" } }),
        ),
        (DELETE_NOTE.to_owned(), json!({ "id": id })),
    ];
    for (query, variables) in anonymous {
        let body = server.gql(None, &query, variables).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{query} → {body}");
    }
    assert_eq!(notes(&server, &owner, json!({})).await["total"], 1);
}
