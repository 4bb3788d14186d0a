//! Every list by cursor is its offset list: walking a `…Connection` to its end two rows at a
//! time (and, for some, back from its end) gives exactly the rows the offset list with the
//! same filters gives, in its order, each once; and a cursor given out in one tenant is
//! refused in another. (`entitiesConnection` and `searchConnection` are walked in `cursors`;
//! the MUD's lists, and the lists only ADMIN or SUPERUSER may read, in `connections_mud`.)

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::assets::{png, upload};
use crate::billing_webhooks::{
    billing_server, customer_of, deliver_ok, invoice_event, now, stripe_event, token_checkout_event,
};
use crate::entities::create_entity;
use crate::harness::*;

/// How many rows a page of a walk holds: few, so that every list takes several pages.
pub const PAGE: usize = 2;

/// One list asked for two ways: by offset, `field(args limit: 200) { rows { id } }`, and by
/// cursor, `fieldConnection(args first: … after: …)`, inside `outer` when the list is a field
/// of another object.
#[derive(Default)]
pub struct List {
    field: &'static str,
    args: String,
    /// Where the offset page keeps its rows; empty when the field is the array itself.
    rows: &'static str,
    /// The field of a row that tells it from the others.
    id: &'static str,
    outer: &'static str,
    /// Also walk it back from its end.
    backward: bool,
}

impl List {
    pub fn new(field: &'static str, rows: &'static str, id: &'static str) -> Self {
        Self {
            field,
            rows,
            id,
            ..Self::default()
        }
    }

    /// The list's filters, as GraphQL arguments (`type: CHARACTER mine: true`).
    pub fn args(mut self, args: impl Into<String>) -> Self {
        self.args = args.into();
        self
    }

    /// The list is a field of `outer` (`world(worldId: "keep")`).
    pub fn inside(mut self, outer: &'static str) -> Self {
        self.outer = outer;
        self
    }

    pub fn both_ways(mut self) -> Self {
        self.backward = true;
        self
    }

    fn wrap(&self, inner: String) -> String {
        match self.outer {
            "" => inner,
            outer => format!("{outer} {{ {inner} }}"),
        }
    }

    /// The JSON pointer to `field` in the answer's data.
    fn pointer(&self, field: &str) -> String {
        match self.outer.split('(').next().filter(|o| !o.is_empty()) {
            Some(outer) => format!("/{outer}/{field}"),
            None => format!("/{field}"),
        }
    }

    fn offset_query(&self) -> String {
        let (field, args, id) = (self.field, &self.args, self.id);
        let rows = match self.rows {
            "" => id.to_owned(),
            rows => format!("{rows} {{ {id} }}"),
        };
        format!(
            "{{ {} }}",
            self.wrap(format!("{field}({args} limit: 200) {{ {rows} }}"))
        )
    }

    pub fn connection_query(&self) -> String {
        let (field, args, id) = (self.field, &self.args, self.id);
        let connection = format!(
            "{field}Connection({args} first: $first after: $after last: $last before: $before) {{
                edges {{ cursor node {{ {id} }} }} nodes {{ {id} }}
                pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }}"
        );
        format!(
            "query($first: Int, $after: String, $last: Int, $before: String) {{ {} }}",
            self.wrap(connection)
        )
    }

    pub fn connection_at(&self) -> String {
        self.pointer(&format!("{}Connection", self.field))
    }

    fn name(&self) -> String {
        self.wrap(format!("{}Connection({})", self.field, self.args))
    }
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => panic!("a row without its id"),
        other => other.to_string(),
    }
}

/// The ids of the offset list's rows (up to 200), in its order.
pub async fn listed(server: &TestServer, account: &Account, list: &List) -> Vec<String> {
    let data = server.ok_as(account, &list.offset_query(), json!({})).await;
    let at = format!("{}/{}", list.pointer(list.field), list.rows);
    let at = at.trim_end_matches('/');
    data.pointer(at)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no rows at {at}: {data}"))
        .iter()
        .map(|row| id_text(&row[list.id]))
        .collect()
}

/// Walks `list` by cursor, `PAGE` rows a page: forward from its start, following `endCursor`
/// while `hasNextPage`, or backward from its end, following `startCursor` while
/// `hasPreviousPage`. Checks each page's shape on the way; returns the ids in list order.
pub async fn walk(
    server: &TestServer,
    account: &Account,
    list: &List,
    backward: bool,
) -> Vec<String> {
    let (query, at) = (list.connection_query(), list.connection_at());
    let (goes_on, came_from, next) = if backward {
        ("hasPreviousPage", "hasNextPage", "startCursor")
    } else {
        ("hasNextPage", "hasPreviousPage", "endCursor")
    };
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    for _ in 0..100 {
        let variables = if backward {
            json!({ "last": PAGE, "before": cursor })
        } else {
            json!({ "first": PAGE, "after": cursor })
        };
        let data = server.ok_as(account, &query, variables).await;
        let page = data
            .pointer(&at)
            .unwrap_or_else(|| panic!("no {at} in {data}"));
        let edges = page["edges"].as_array().expect("edges");
        let ids: Vec<String> = edges.iter().map(|e| id_text(&e["node"][list.id])).collect();
        let nodes: Vec<String> = page["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|node| id_text(&node[list.id]))
            .collect();
        assert_eq!(nodes, ids, "{at}: nodes are the edges' nodes");
        let info = &page["pageInfo"];
        let cursor_of = |edge: Option<&Value>| edge.map_or(Value::Null, |e| e["cursor"].clone());
        assert_eq!(
            info["startCursor"],
            cursor_of(edges.first()),
            "{at}: {page}"
        );
        assert_eq!(info["endCursor"], cursor_of(edges.last()), "{at}: {page}");
        assert_eq!(info[came_from], !cursor.is_null(), "{at}: {page}");
        let more = info[goes_on].as_bool().expect(goes_on);
        // A page short of the list's end is full.
        assert!(!more || ids.len() == PAGE, "{at}: {page}");
        if backward {
            seen.splice(0..0, ids);
        } else {
            seen.extend(ids);
        }
        if !more {
            return seen;
        }
        cursor = info[next].clone();
    }
    panic!("{at}: the walk never ended");
}

/// What a walk gave is the offset list: the same rows in the same order, each once; and
/// there are enough of them that the walk took several pages.
pub fn assert_same_rows(what: &str, walked: &[String], listed: &[String]) {
    assert!(
        listed.len() >= 5,
        "{what}: the offset list has {} rows, the test wants at least 5: {listed:?}",
        listed.len()
    );
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "{what}: twice: {walked:?}");
    assert_eq!(walked, listed, "{what}: the walk is not the offset list");
}

/// For each list, as `account`: the walk forward (and back, when asked) is the offset list.
pub async fn assert_walks_are_listed(server: &TestServer, account: &Account, lists: &[List]) {
    for list in lists {
        let name = list.name();
        let listed = listed(server, account, list).await;
        let forward = walk(server, account, list, false).await;
        assert_same_rows(&name, &forward, &listed);
        if list.backward {
            let back = walk(server, account, list, true).await;
            assert_same_rows(&format!("{name}, backward"), &back, &listed);
        }
    }
}

/// A cursor `owner` was given in `list` goes on in `owner`'s tenant; `outsider`, of another
/// tenant and allowed the same list, is refused it (BAD_USER_INPUT, no page).
pub async fn assert_foreign_cursor_refused(
    server: &TestServer,
    owner: &Account,
    outsider: &Account,
    list: &List,
) {
    let (query, at) = (list.connection_query(), list.connection_at());
    let data = server.ok_as(owner, &query, json!({ "first": PAGE })).await;
    let cursor = data.pointer(&format!("{at}/pageInfo/endCursor")).cloned();
    let cursor = cursor.unwrap_or_default();
    assert!(cursor.is_string(), "{at}: a cursor: {data}");
    let next = json!({ "first": PAGE, "after": cursor });
    server.ok_as(owner, &query, next.clone()).await;
    server
        .ok_as(outsider, &query, json!({ "first": PAGE }))
        .await;
    let body = server.gql_as(outsider, &query, next).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{at}: {body}");
    assert!(
        body["data"].pointer(&at).is_none_or(Value::is_null),
        "{at}: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recycle_bin_recent_entities_and_history_by_cursor_are_their_offset_lists() {
    let server = TestServer::start().await;
    let owner = server.register("owner@lists.test", "Lists").await;
    for n in 0..6 {
        let kind = ["CHARACTER", "LOCATION", "ITEM"][n % 3];
        create_entity(
            &server,
            &owner,
            kind,
            &format!("kept{n}"),
            "Kept",
            json!({}),
        )
        .await;
    }
    // Deleted in turns, so that the bin of one type is not a run of the whole bin.
    let kinds = [("CHARACTER", "gone"), ("LOCATION", "lost")];
    for n in 0..5 {
        for (kind, id) in kinds {
            create_entity(&server, &owner, kind, &format!("{id}{n}"), id, json!({})).await;
        }
    }
    for n in [3, 0, 4, 1, 2] {
        for (kind, id) in kinds {
            let query = format!("mutation {{ deleteEntity(type: {kind}, entityId: \"{id}{n}\") }}");
            server.ok_as(&owner, &query, json!({})).await;
        }
    }
    // The oldest entity changes last: first in `recent`, with a history of eight writes.
    let rename = "mutation($name: String!) {
        updateEntity(type: CHARACTER, entityId: \"kept0\", input: { name: $name }) { version } }";
    for v in 1..8 {
        let name = json!({ "name": format!("Kept v{v}") });
        server.ok_as(&owner, rename, name).await;
    }

    let lists = [
        List::new("recycledEntities", "entities", "id").both_ways(),
        List::new("recycledEntities", "entities", "id").args("type: CHARACTER"),
        List::new("recent", "", "id").both_ways(),
        List::new("entityHistory", "revisions", "version")
            .args("type: CHARACTER entityId: \"kept0\"")
            .both_ways(),
    ];
    assert_walks_are_listed(&server, &owner, &lists).await;
    let history = listed(&server, &owner, &lists[3]).await;
    assert_eq!(history, ["8", "7", "6", "5", "4", "3", "2", "1"]);
}

async fn write_note(server: &TestServer, author: &Account, title: &str, on_rex: bool) -> String {
    let mut input = json!({ "title": title, "content": format!("About {title}.") });
    if on_rex {
        input["entity"] = json!({ "type": "CHARACTER", "entityId": "rex" });
    }
    let query = "mutation($input: CreateNoteInput!) { createNote(input: $input) { id } }";
    let data = server.ok_as(author, query, json!({ "input": input })).await;
    data["createNote"]["id"]
        .as_str()
        .expect("note id")
        .to_owned()
}

async fn roll(server: &TestServer, account: &Account) {
    let query = "mutation { rollDice(pool: 3, difficulty: 6) { id } }";
    server.ok_as(account, query, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_and_dice_rolls_by_cursor_are_their_offset_lists() {
    let server = TestServer::start().await;
    let owner = server.register("owner@notes.test", "Notes").await;
    let builder = server
        .invite_member(&owner, "builder@notes.test", "WORLDBUILDER")
        .await;
    create_entity(&server, &owner, "CHARACTER", "rex", "Rex", json!({})).await;
    let mut first = None;
    for n in 0..5 {
        let id = write_note(&server, &owner, &format!("Owner's {n}"), n % 2 == 0).await;
        first.get_or_insert(id);
        write_note(&server, &builder, &format!("Builder's {n}"), n < 3).await;
        roll(&server, &owner).await;
        if n < 3 {
            roll(&server, &builder).await;
        }
    }
    // A note edited later moves to the list's start.
    let edit = "mutation($id: ID!) { updateNote(id: $id, input: { content: \"Edited.\" }) { id } }";
    server
        .ok_as(&owner, edit, json!({ "id": first.expect("a note") }))
        .await;

    let lists = [
        List::new("notes", "notes", "id").both_ways(),
        List::new("notes", "notes", "id").args("mine: true"),
        List::new("notes", "notes", "id").args("entity: { type: CHARACTER, entityId: \"rex\" }"),
        List::new("notes", "notes", "id").args("search: \"builder\""),
        List::new("diceRolls", "rolls", "id").both_ways(),
        List::new("diceRolls", "rolls", "id").args("scope: USER"),
    ];
    assert_walks_are_listed(&server, &owner, &lists).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_and_recycled_assets_by_cursor_are_their_offset_lists() {
    let server = TestServer::start().await;
    let owner = server.register("owner@assets.test", "Assets").await;
    let builder = server
        .invite_member(&owner, "builder@assets.test", "WORLDBUILDER")
        .await;
    let mut ids = Vec::new();
    for n in 0u32..12 {
        let uploader = if n % 4 == 3 { &builder } else { &owner };
        let asset = upload(&server, uploader, &format!("map{n}.png"), png(8 + n, 8)).await;
        ids.push(asset["id"].as_str().expect("asset id").to_owned());
    }
    // Deleted out of upload order: the bin goes by deletion.
    for n in [8, 1, 11, 4, 6] {
        let query = "mutation($id: ID!) { deleteAsset(id: $id) }";
        server.ok_as(&owner, query, json!({ "id": ids[n] })).await;
    }

    let mine = format!("filter: {{ uploadedBy: \"{}\" }}", owner.user_id);
    let lists = [
        List::new("assets", "assets", "id").both_ways(),
        List::new("assets", "assets", "id").args(mine),
        List::new("recycledAssets", "assets", "id").both_ways(),
    ];
    assert_walks_are_listed(&server, &owner, &lists).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_tenants_by_cursor_are_their_offset_lists() {
    let server = TestServer::start().await;
    let owner = server.register("owner@guild.test", "Guild One").await;
    // Every invited member is called "Member": the order rests on the ids.
    for n in 0..5 {
        server
            .invite_member(&owner, &format!("m{n}@guild.test"), "PLAYER")
            .await;
        server
            .register(&format!("owner{n}@elsewhere.test"), &format!("Guild {n}"))
            .await;
        server
            .register(&format!("other{n}@elsewhere.test"), "Other")
            .await;
    }
    let root = server.superuser("root@guild.test").await;

    let members = [
        List::new("users", "users", "id").both_ways(),
        List::new("users", "users", "id").args("search: \"member\""),
    ];
    assert_walks_are_listed(&server, &owner, &members).await;
    let tenants = [
        List::new("tenants", "tenants", "id").both_ways(),
        List::new("tenants", "tenants", "id").args("search: \"guild\""),
    ];
    assert_walks_are_listed(&server, &root, &tenants).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_and_purchases_by_cursor_are_their_offset_lists() {
    let server = billing_server().await;
    let owner = server.register("owner@billed.test", "Billed").await;
    let tenant = owner.tenant_id.as_str();
    let customer = customer_of(tenant);
    // The subscription's checkout ties the Stripe customer to the tenant.
    let checkout = json!({
        "id": "cs_sub", "object": "checkout.session", "mode": "subscription",
        "status": "complete", "payment_status": "paid", "customer": customer,
        "client_reference_id": tenant, "subscription": "sub_1", "metadata": {}
    });
    let checkout = stripe_event(
        "evt_cs",
        "checkout.session.completed",
        now() - 120,
        checkout,
    );
    deliver_ok(&server, &checkout).await;
    for n in 0..6 {
        let id = |prefix: &str| format!("{prefix}_{n}");
        // Invoices made in the same second (as a rule): their order rests on their ids.
        let paid = invoice_event(
            &id("evt_in"),
            "invoice.paid",
            &id("in"),
            &customer,
            "paid",
            900,
            900,
        );
        deliver_ok(&server, &paid).await;
        let bought =
            token_checkout_event(&id("evt_cs"), &id("cs"), tenant, &owner.user_id, 100 + n);
        deliver_ok(&server, &bought).await;
    }

    let lists = [
        List::new("invoices", "invoices", "id").both_ways(),
        List::new("purchaseHistory", "purchases", "id").both_ways(),
    ];
    assert_walks_are_listed(&server, &owner, &lists).await;
    let invoices = listed(&server, &owner, &lists[0]).await;
    assert_eq!(invoices, ["in_5", "in_4", "in_3", "in_2", "in_1", "in_0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_given_out_in_one_tenant_is_refused_in_another() {
    let server = TestServer::start().await;
    let owner = server.register("owner@here.test", "Here").await;
    let outsider = server.register("owner@there.test", "There").await;
    for account in [&owner, &outsider] {
        for n in 0..3 {
            write_note(&server, account, &format!("Note {n}"), false).await;
            roll(&server, account).await;
        }
    }
    for n in 0..3 {
        server
            .invite_member(&owner, &format!("m{n}@here.test"), "PLAYER")
            .await;
    }
    for list in [
        List::new("notes", "notes", "id"),
        List::new("diceRolls", "rolls", "id"),
        List::new("users", "users", "id"),
    ] {
        assert_foreign_cursor_refused(&server, &owner, &outsider, &list).await;
    }
}
