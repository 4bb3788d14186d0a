//! The database browser of the admin views (seed 002): a tenant's ADMIN browses their own
//! tenant's tables and rows, a SUPERUSER every table; foreign keys come with their actions;
//! secrets never show in full; and table names are looked up, never spliced into SQL.

use serde_json::{Value, json};

use crate::admin::{create_api_key, create_invite};
use crate::harness::*;

const TABLES: &str = "{ databaseTables { name columns rowCount } }";
const SCHEMA: &str = "{ databaseSchema { name columns
    foreignKeys { fromColumn refTable refColumn onUpdate onDelete } } }";
const ROWS: &str = "query($table: String!, $offset: Int, $limit: Int) {
    tableRows(table: $table, offset: $offset, limit: $limit) {
        table columns rows total offset limit } }";
const CREATE_WORLD: &str = "mutation($input: CreateWorldInput!) {
    createWorld(input: $input) { id worldId } }";
const CREATE_ROOM: &str = "mutation($world: String!, $input: CreateRoomInput!) {
    createRoom(worldId: $world, input: $input) { roomId } }";

/// The columns `worlds` had when the MUD's migration made it (later ones may add more).
const WORLD_COLUMNS: [&str; 10] = [
    "id",
    "tenant_id",
    "world_key",
    "name",
    "description",
    "config",
    "is_active",
    "universe_row_id",
    "created_at",
    "updated_at",
];

/// Creates a world; returns its row id.
async fn create_world(server: &TestServer, account: &Account, world_id: &str) -> String {
    server
        .ok_as(
            account,
            CREATE_WORLD,
            json!({ "input": { "worldId": world_id, "name": format!("The {world_id}") } }),
        )
        .await["createWorld"]["id"]
        .as_str()
        .expect("world id")
        .to_owned()
}

async fn tables(server: &TestServer, account: &Account) -> Vec<Value> {
    server.ok_as(account, TABLES, json!({})).await["databaseTables"]
        .as_array()
        .expect("tables")
        .clone()
}

fn table<'a>(tables: &'a [Value], name: &str) -> Option<&'a Value> {
    tables.iter().find(|t| t["name"] == name)
}

fn names(tables: &[Value]) -> Vec<&str> {
    tables
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect()
}

async fn rows(
    server: &TestServer,
    account: &Account,
    table: &str,
    offset: Option<i32>,
    limit: Option<i32>,
) -> Value {
    server
        .ok_as(
            account,
            ROWS,
            json!({ "table": table, "offset": offset, "limit": limit }),
        )
        .await["tableRows"]
        .clone()
}

/// One column of a page of rows, by name.
fn column(page: &Value, name: &str) -> Vec<Value> {
    let index = page["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {page}"));
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row[index].clone())
        .collect()
}

/// A bytea secret as the browser shows it: 8 hex digits and "…".
fn assert_masked_hex(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a masked value, got {value}"));
    let hex = text
        .strip_suffix('…')
        .unwrap_or_else(|| panic!("{text} is not masked"));
    assert!(
        hex.len() == 8 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_browse_only_their_own_tenants_tables_and_rows() {
    let server = TestServer::start().await;
    let alice = server.register("alice@browse.test", "Alpha").await;
    let bob = server.register("bob@browse.test", "Beta").await;
    let mut alpha_worlds = Vec::new();
    for key in ["north", "south", "west"] {
        alpha_worlds.push(create_world(&server, &alice, key).await);
    }
    for key in ["east", "far"] {
        create_world(&server, &bob, key).await;
    }

    // Alice sees the tenant-owned tables only, each with its tenant_id column.
    let listed = tables(&server, &alice).await;
    let listed_names = names(&listed);
    for name in [
        "worlds",
        "rooms",
        "characters",
        "memberships",
        "invites",
        "entities",
    ] {
        assert!(
            listed_names.contains(&name),
            "{name} missing: {listed_names:?}"
        );
    }
    for name in [
        "users",
        "tenants",
        "refresh_tokens",
        "server_nodes",
        "__diesel_schema_migrations",
    ] {
        assert!(
            !listed_names.contains(&name),
            "{name} listed: {listed_names:?}"
        );
    }
    for t in &listed {
        assert!(
            t["columns"]
                .as_array()
                .expect("columns")
                .contains(&json!("tenant_id")),
            "{t}"
        );
    }
    // Counts are of her tenant's rows, while Beta has worlds too.
    let worlds = table(&listed, "worlds").expect("worlds");
    assert_eq!(worlds["rowCount"], 3);
    assert_eq!(
        table(&listed, "memberships").expect("memberships")["rowCount"],
        1
    );
    assert_eq!(
        table(&tables(&server, &bob).await, "worlds").expect("worlds")["rowCount"],
        2
    );
    let world_columns = worlds["columns"].as_array().expect("columns").clone();
    assert_eq!(
        &world_columns[..WORLD_COLUMNS.len()],
        &WORLD_COLUMNS.map(|c| json!(c))[..]
    );

    // Her rows, each a list of values in column order, by primary key.
    let page = rows(&server, &alice, "worlds", None, None).await;
    assert_eq!(page["table"], "worlds");
    assert_eq!(page["columns"], json!(world_columns));
    assert_eq!(
        (&page["total"], &page["offset"], &page["limit"]),
        (&json!(3), &json!(0), &json!(50))
    );
    let all = page["rows"].as_array().expect("rows").clone();
    assert_eq!(all.len(), 3);
    for row in &all {
        assert_eq!(
            row.as_array().expect("row").len(),
            world_columns.len(),
            "{row}"
        );
    }
    assert!(
        column(&page, "tenant_id")
            .iter()
            .all(|t| t == alice.tenant_id.as_str()),
        "{page}"
    );
    let ids: Vec<String> = column(&page, "id")
        .iter()
        .map(|id| id.as_str().expect("id").to_owned())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "rows come in primary key order");
    alpha_worlds.sort();
    assert_eq!(ids, alpha_worlds);
    let keys = column(&page, "world_key");
    for key in ["north", "south", "west"] {
        assert!(keys.contains(&json!(key)), "{keys:?}");
    }
    assert_eq!(column(&page, "config")[0], json!({}));
    assert_eq!(column(&page, "universe_row_id")[0], Value::Null);

    // Paging is stable: the second row alone, twice.
    for _ in 0..2 {
        let second = rows(&server, &alice, "worlds", Some(1), Some(1)).await;
        assert_eq!(second["rows"], json!([all[1].clone()]));
        assert_eq!(
            (&second["total"], &second["offset"], &second["limit"]),
            (&json!(3), &json!(1), &json!(1))
        );
    }
    let past_the_end = rows(&server, &alice, "worlds", Some(3), Some(10)).await;
    assert_eq!(past_the_end["rows"], json!([]));

    // Her invites show their token hashes cut short, never the token.
    let (_, token) = create_invite(&server, &alice, "carol@browse.test", "PLAYER").await;
    let body = server
        .gql_as(&alice, ROWS, json!({ "table": "invites" }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(!body.to_string().contains(&token));
    let hashes = column(&body["data"]["tableRows"], "token_hash");
    assert_eq!(hashes.len(), 1);
    assert_masked_hex(&hashes[0]);
    assert_eq!(
        column(&body["data"]["tableRows"], "email"),
        [json!("carol@browse.test")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_map_shows_foreign_keys_with_their_actions() {
    let server = TestServer::start().await;
    let alice = server.register("alice@schema.test", "Alpha").await;
    create_world(&server, &alice, "north").await;
    server
        .ok_as(
            &alice,
            CREATE_ROOM,
            json!({ "world": "north", "input": { "roomId": "gate", "name": "Gate" } }),
        )
        .await;

    let schema = server.ok_as(&alice, SCHEMA, json!({})).await["databaseSchema"]
        .as_array()
        .expect("schema")
        .clone();
    // The same tables and columns as the table list.
    let listed = tables(&server, &alice).await;
    assert_eq!(names(&schema), names(&listed));
    for t in &schema {
        assert_eq!(
            t["columns"],
            table(&listed, t["name"].as_str().expect("name")).expect("listed")["columns"]
        );
    }
    let keys_of = |name: &str| -> Vec<Value> {
        table(&schema, name).expect(name)["foreignKeys"]
            .as_array()
            .expect("foreign keys")
            .clone()
    };
    // rooms (tenant_id, world_id) → worlds (tenant_id, id) ON DELETE CASCADE: one entry per
    // column pair.
    let rooms = keys_of("rooms");
    for (from, to) in [("tenant_id", "tenant_id"), ("world_id", "id")] {
        let expected = json!({ "fromColumn": from, "refTable": "worlds", "refColumn": to,
                               "onUpdate": "NO ACTION", "onDelete": "CASCADE" });
        assert!(rooms.contains(&expected), "{expected} not in {rooms:?}");
    }
    // characters (tenant_id, room_id) → rooms ON DELETE SET NULL (room_id).
    let characters = keys_of("characters");
    let expected = json!({ "fromColumn": "room_id", "refTable": "rooms", "refColumn": "id",
                           "onUpdate": "NO ACTION", "onDelete": "SET NULL" });
    assert!(characters.contains(&expected), "{characters:?}");
    // Keys to tables out of an ADMIN's sight are left out with the tables.
    for t in &schema {
        for key in t["foreignKeys"].as_array().expect("foreign keys") {
            assert!(
                key["refTable"] != "tenants" && key["refTable"] != "users",
                "{key}"
            );
        }
    }

    // A superuser's map has them.
    let root = server.superuser("root@schema.test").await;
    let full = server.ok_as(&root, SCHEMA, json!({})).await["databaseSchema"].clone();
    let full = full.as_array().expect("schema");
    let worlds = table(full, "worlds").expect("worlds")["foreignKeys"].clone();
    assert!(
        worlds.as_array().expect("keys").contains(&json!({
            "fromColumn": "tenant_id", "refTable": "tenants", "refColumn": "id",
            "onUpdate": "NO ACTION", "onDelete": "CASCADE" })),
        "{worlds}"
    );
    let users = table(full, "users").expect("users")["foreignKeys"].clone();
    assert!(
        users.as_array().expect("keys").contains(&json!({
            "fromColumn": "last_tenant_id", "refTable": "tenants", "refColumn": "id",
            "onUpdate": "NO ACTION", "onDelete": "SET NULL" })),
        "{users}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superusers_see_every_table_but_never_a_whole_secret() {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Text)]
        password_hash: String,
    }

    let server = TestServer::start().await;
    let alice = server.register("alice@secrets.test", "Alpha").await;
    let bob = server.register("bob@secrets.test", "Beta").await;
    create_world(&server, &alice, "north").await;
    create_world(&server, &alice, "south").await;
    create_world(&server, &bob, "east").await;
    let (_, api_key) = create_api_key(&server, &alice, "deploy bot").await;
    let root = server.superuser("root@secrets.test").await;

    // Every table of the schema, every tenant's rows.
    let listed = tables(&server, &root).await;
    let listed_names = names(&listed);
    for name in [
        "users",
        "tenants",
        "refresh_tokens",
        "worlds",
        "__diesel_schema_migrations",
    ] {
        assert!(
            listed_names.contains(&name),
            "{name} missing: {listed_names:?}"
        );
    }
    assert_eq!(table(&listed, "worlds").expect("worlds")["rowCount"], 3);
    assert_eq!(rows(&server, &root, "worlds", None, None).await["total"], 3);

    // Password hashes show their first 8 characters only.
    let mut db = server.db().await;
    let stored: Vec<Hash> = diesel::sql_query("SELECT password_hash FROM users")
        .load(&mut db)
        .await
        .expect("stored hashes");
    assert_eq!(stored.len(), 3);
    assert_eq!(table(&listed, "users").expect("users")["rowCount"], 3);
    let body = server
        .gql_as(&root, ROWS, json!({ "table": "users" }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let page = &body["data"]["tableRows"];
    assert_eq!(page["total"], 3);
    let shown = column(page, "password_hash");
    assert_eq!(shown.len(), 3);
    for value in &shown {
        let text = value.as_str().expect("masked hash");
        assert!(text.ends_with('…'), "{text}");
        assert!(text.chars().count() <= 9, "{text}");
        assert_eq!(text, "$argon2i…");
    }
    let text = body.to_string();
    for Hash { password_hash } in &stored {
        assert!(password_hash.len() > 20);
        assert!(
            !text.contains(password_hash.as_str()),
            "a whole hash was shown"
        );
        assert!(
            !text.contains(&password_hash[9..]),
            "the rest of a hash was shown"
        );
    }
    // The emails are not secrets.
    assert!(column(page, "email").contains(&json!("alice@secrets.test")));

    // Refresh token hashes and API key hashes are cut short too; the key never shows.
    let refresh = rows(&server, &root, "refresh_tokens", None, Some(200)).await;
    let token_hashes = column(&refresh, "token_hash");
    assert!(!token_hashes.is_empty());
    token_hashes.iter().for_each(assert_masked_hex);
    let body = server
        .gql_as(&root, ROWS, json!({ "table": "api_keys" }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(!body.to_string().contains(&api_key));
    let key_hashes = column(&body["data"]["tableRows"], "key_hash");
    assert_eq!(key_hashes.len(), 1);
    assert_masked_hex(&key_hashes[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_names_are_looked_up_never_spliced_into_sql() {
    let server = TestServer::start().await;
    let alice = server.register("alice@names.test", "Alpha").await;
    create_world(&server, &alice, "north").await;
    let root = server.superuser("root@names.test").await;

    let long = "w".repeat(100);
    for name in [
        "worlds; DROP TABLE users",
        "worlds\" --",
        "worlds\"; DROP TABLE users; --",
        "users",
        "tenants",
        "pg_catalog.pg_authid",
        "pg_authid",
        "public.worlds",
        "\"worlds\"",
        "WORLDS",
        "../x",
        "",
        "worlds\u{0}",
        long.as_str(),
    ] {
        server
            .fails_as(&alice, ROWS, json!({ "table": name }), "NOT_FOUND")
            .await;
    }
    // A table out of sight answers exactly like one that does not exist.
    let hidden = server
        .gql_as(&alice, ROWS, json!({ "table": "users" }))
        .await;
    let missing = server
        .gql_as(&alice, ROWS, json!({ "table": "no_such_table" }))
        .await;
    assert_eq!(
        hidden["errors"][0]["message"],
        missing["errors"][0]["message"]
    );
    assert_eq!(hidden["data"], missing["data"]);

    for name in [
        "users; DROP TABLE users",
        "users\" --",
        "pg_catalog.pg_authid",
        "pg_authid",
        "information_schema.tables",
        "public.users",
    ] {
        server
            .fails_as(&root, ROWS, json!({ "table": name }), "NOT_FOUND")
            .await;
    }

    // Nothing was dropped.
    let users = rows(&server, &root, "users", None, None).await;
    assert_eq!(users["total"], 2);
    assert_eq!(
        rows(&server, &alice, "worlds", None, None).await["total"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_and_superusers_browse_and_pages_are_bounded() {
    let server = TestServer::start().await;
    let alice = server.register("alice@roles.test", "Alpha").await;
    let builder = server
        .invite_member(&alice, "builder@roles.test", "WORLDBUILDER")
        .await;
    let player = server
        .invite_member(&alice, "player@roles.test", "PLAYER")
        .await;
    let worlds = json!({ "table": "worlds" });

    for account in [&builder, &player] {
        server
            .fails_as(account, TABLES, json!({}), "FORBIDDEN")
            .await;
        server
            .fails_as(account, SCHEMA, json!({}), "FORBIDDEN")
            .await;
        server
            .fails_as(account, ROWS, worlds.clone(), "FORBIDDEN")
            .await;
    }
    assert_eq!(
        error_code(&server.gql(None, TABLES, json!({})).await),
        "UNAUTHENTICATED"
    );

    for (variables, field) in [
        (json!({ "table": "worlds", "limit": 201 }), "limit"),
        (json!({ "table": "worlds", "limit": 0 }), "limit"),
        (json!({ "table": "worlds", "offset": -1 }), "offset"),
    ] {
        let body = server.gql_as(&alice, ROWS, variables).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let page = rows(&server, &alice, "memberships", None, Some(200)).await;
    assert_eq!((&page["total"], &page["limit"]), (&json!(3), &json!(200)));
}
