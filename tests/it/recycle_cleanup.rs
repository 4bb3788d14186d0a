//! A tenant's recycle bin keeps things for its retention (30 days unless its ADMIN says
//! otherwise), after which the sweeper purges them, leaving tombstones; an ADMIN may clean up
//! now. Other tenants' bins, and tenants that keep recycled things, are left alone.

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::assets::{png, upload};
use crate::entities::create_entity;
use crate::harness::*;

const SWEEP: &str = "mutation { runRetentionSweep { ran recycledEntities recycledAssets } }";
const BIN: &str = "{ recycledEntities { entities { entityId } } recycledAssets { assets { id } } }";

/// An entity and an asset in the account's recycle bin, each recycled `days` ago; the asset's id.
async fn recycled_pair(
    server: &TestServer,
    account: &Account,
    entity_id: &str,
    days: i32,
) -> String {
    create_entity(server, account, "LOCATION", entity_id, entity_id, json!({})).await;
    server
        .ok_as(
            account,
            "mutation($id: String!) { deleteEntity(type: LOCATION, entityId: $id) }",
            json!({ "id": entity_id }),
        )
        .await;
    let asset = upload(server, account, entity_id, png(3 + days as u32, 2)).await;
    let asset_id = asset["id"].as_str().expect("an asset id").to_owned();
    server
        .ok_as(
            account,
            "mutation($id: ID!) { deleteAsset(id: $id) }",
            json!({ "id": asset_id }),
        )
        .await;
    let mut db = server.db().await;
    for sql in [
        "UPDATE entities SET deleted_at = now() - make_interval(days => $1) WHERE entity_id = $2",
        "UPDATE assets SET deleted_at = now() - make_interval(days => $1) WHERE original_filename = $2",
    ] {
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::Integer, _>(days)
            .bind::<diesel::sql_types::Text, _>(entity_id)
            .execute(&mut db)
            .await
            .expect("backdating the recycle");
    }
    asset_id
}

/// The entity ids and asset ids in the account's recycle bin.
async fn bin(server: &TestServer, account: &Account) -> (Vec<String>, Vec<String>) {
    let data = server.ok_as(account, BIN, json!({})).await;
    let ids = |list: &Value, key: &str| -> Vec<String> {
        let mut ids: Vec<String> = list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item[key].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    };
    (
        ids(&data["recycledEntities"]["entities"], "entityId"),
        ids(&data["recycledAssets"]["assets"], "id"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn things_recycled_longer_than_the_retention_are_purged_and_leave_tombstones() {
    let server = TestServer::start().await;
    let root = server.superuser("root@bins.test").await;
    let admin = server.register("admin@bins.test", "Bins").await;
    let keeper = server.register("admin@keeper.test", "Keeper").await;
    let writer = server
        .invite_member(&admin, "writer@bins.test", "WORLDBUILDER")
        .await;

    let tenant = server
        .ok_as(&admin, "{ tenant { recycleRetentionDays } }", json!({}))
        .await;
    assert_eq!(tenant["tenant"]["recycleRetentionDays"], 30, "{tenant}");

    let old_asset = recycled_pair(&server, &admin, "ancient_keep", 31).await;
    let new_asset = recycled_pair(&server, &admin, "recent_keep", 2).await;
    // The keeper keeps recycled things: its month-old ones stay.
    server
        .ok_as(
            &keeper,
            "mutation { updateTenant(input: { recycleRetentionDays: null }) { recycleRetentionDays } }",
            json!({}),
        )
        .await;
    let kept_asset = recycled_pair(&server, &keeper, "kept_keep", 40).await;

    let report = server.ok_as(&root, SWEEP, json!({})).await["runRetentionSweep"].clone();
    assert_eq!(report["ran"], true, "{report}");
    assert_eq!(report["recycledEntities"], 1, "{report}");
    assert_eq!(report["recycledAssets"], 1, "{report}");
    let (entities, assets) = bin(&server, &admin).await;
    assert_eq!(entities, vec!["recent_keep"]);
    assert_eq!(assets, vec![new_asset.clone()]);
    assert!(!assets.contains(&old_asset));
    assert_eq!(
        bin(&server, &keeper).await,
        (vec!["kept_keep".to_owned()], vec![kept_asset.clone()])
    );
    let mut db = server.db().await;
    assert_eq!(
        count_rows(
            &mut db,
            "SELECT count(*) AS n FROM entity_tombstones WHERE entity_id = 'ancient_keep'"
        )
        .await,
        1
    );

    // A lower role may neither change the retention nor clean up.
    server
        .fails_as(
            &writer,
            "mutation { updateTenant(input: { recycleRetentionDays: 5 }) { id } }",
            json!({}),
            "FORBIDDEN",
        )
        .await;
    server
        .fails_as(
            &writer,
            "mutation { cleanUpRecycleBin(olderThanDays: 1) { entities } }",
            json!({}),
            "FORBIDDEN",
        )
        .await;
    // Retentions out of range, and a cleanup by a keeper that says no age, are refused.
    for days in [0, 3_651] {
        server
            .fails_as(
                &admin,
                "mutation($days: Int) { updateTenant(input: { recycleRetentionDays: $days }) { id } }",
                json!({ "days": days }),
                "BAD_USER_INPUT",
            )
            .await;
    }
    server
        .fails_as(
            &keeper,
            "mutation { cleanUpRecycleBin { entities } }",
            json!({}),
            "BAD_USER_INPUT",
        )
        .await;

    // The ADMIN cleans up what is a day old now: the two-day-old things go, and nothing of the
    // keeper's.
    let cleanup = server
        .ok_as(
            &admin,
            "mutation { cleanUpRecycleBin(olderThanDays: 1) { entities assets } }",
            json!({}),
        )
        .await;
    assert_eq!(
        cleanup["cleanUpRecycleBin"],
        json!({ "entities": 1, "assets": 1 })
    );
    assert_eq!(bin(&server, &admin).await, (vec![], vec![]));
    assert_eq!(
        bin(&server, &keeper).await,
        (vec!["kept_keep".to_owned()], vec![kept_asset])
    );

    // A shorter retention set by the ADMIN is what the sweeper goes by.
    let set = server
        .ok_as(
            &admin,
            "mutation { updateTenant(input: { recycleRetentionDays: 3 }) { name recycleRetentionDays } }",
            json!({}),
        )
        .await;
    assert_eq!(
        set["updateTenant"],
        json!({ "name": "Bins", "recycleRetentionDays": 3 })
    );
    recycled_pair(&server, &admin, "four_days_keep", 4).await;
    recycled_pair(&server, &admin, "two_days_keep", 2).await;
    let report = server.ok_as(&root, SWEEP, json!({})).await["runRetentionSweep"].clone();
    assert_eq!(report["recycledEntities"], 1, "{report}");
    assert_eq!(bin(&server, &admin).await.0, vec!["two_days_keep"]);
}
