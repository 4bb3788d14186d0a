//! Dice: rolling with the server's RNG, recording dice rolled at the table, the d10 rules on
//! known dice, RollStatistics per user, character, campaign and tenant (the no-rolls case
//! included), bad input, and the wall between tenants.

use serde_json::{Value, json};

use crate::entities::create_entity;
use crate::harness::*;

const ROLL: &str =
    "mutation($pool: Int!, $difficulty: Int, $dieSize: Int! = 10, $traits: [RollTraitInput!]! = [],
        $characterId: String, $campaignId: String, $dice: [Int!]) {
    rollDice(pool: $pool, difficulty: $difficulty, dieSize: $dieSize, traits: $traits,
             characterId: $characterId, campaignId: $campaignId, dice: $dice) {
        id dieSize pool difficulty dice physical successes failures botches criticals total result
        traits { name traitId } user { id } character { entityId } campaign { entityId } } }";

const STATISTICS: &str = "query($scope: RollScope!, $userId: ID, $characterId: String, $campaignId: String) {
    rollStatistics(scope: $scope, userId: $userId, characterId: $characterId, campaignId: $campaignId) {
        botches successes failures criticals totalRolls averageDifficulty averagePool
        topTraits { name usageCount traitId }
        successPercentage failurePercentage botchPercentage criticalsPercentage } }";

const ROLLS: &str = "query($scope: RollScope!) { diceRolls(scope: $scope) { total rolls { dice result traits { name } } } }";

/// Records dice rolled at the table and returns the stored roll.
async fn record(server: &TestServer, account: &Account, variables: Value) -> Value {
    server.ok_as(account, ROLL, variables).await["rollDice"].clone()
}

async fn statistics(server: &TestServer, account: &Account, variables: Value) -> Value {
    server.ok_as(account, STATISTICS, variables).await["rollStatistics"].clone()
}

fn strength() -> Value {
    json!({ "name": "Strength", "traitId": "str" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_rolls_are_classified_and_add_up_to_statistics() {
    let server = TestServer::start().await;
    let owner = server.register("owner@dice.test", "Dice").await;
    let player = server
        .invite_member(&owner, "player@dice.test", "PLAYER")
        .await;
    create_entity(&server, &owner, "CHARACTER", "hero", "Hero", json!({})).await;
    create_entity(&server, &owner, "CAMPAIGN", "saga", "Saga", json!({})).await;

    // No rolls yet: zero counts, null means, zero percentages.
    let empty = statistics(&server, &owner, json!({ "scope": "USER" })).await;
    assert_eq!(
        empty,
        json!({ "botches": 0, "successes": 0, "failures": 0, "criticals": 0, "totalRolls": 0,
                "averageDifficulty": null, "averagePool": null, "topTraits": [],
                "successPercentage": 0.0, "failurePercentage": 0.0, "botchPercentage": 0.0,
                "criticalsPercentage": 0.0 })
    );

    // Two successes against 6 out of three dice: SUCCESS.
    let success = record(
        &server,
        &owner,
        json!({ "pool": 3, "difficulty": 6, "dice": [6, 7, 2],
                "traits": [strength(), { "name": "Brawl" }] }),
    )
    .await;
    assert_eq!(
        (
            &success["successes"],
            &success["failures"],
            &success["total"],
            &success["result"]
        ),
        (&json!(2), &json!(1), &json!(2), &json!("SUCCESS"))
    );
    assert_eq!(success["physical"], true);
    assert_eq!(success["traits"][0], strength());
    assert_eq!(success["user"]["id"], owner.user_id.as_str());
    // A one and nothing else: BOTCH.
    let botch = record(
        &server,
        &owner,
        json!({ "pool": 2, "difficulty": 6, "dice": [1, 3], "traits": [strength()] }),
    )
    .await;
    assert_eq!(
        (&botch["total"], &botch["result"]),
        (&json!(-1), &json!("BOTCH"))
    );
    // Two tens and a success: 5 > 3 dice, CRITICAL, for the hero.
    let critical = record(
        &server,
        &owner,
        json!({ "pool": 3, "difficulty": 6, "dice": [10, 10, 6], "characterId": "hero" }),
    )
    .await;
    assert_eq!(
        (&critical["total"], &critical["result"]),
        (&json!(5), &json!("CRITICAL"))
    );
    assert_eq!(critical["character"]["entityId"], "hero");
    // A one cancels the ten: FAILURE, in the saga.
    let failure = record(
        &server,
        &owner,
        json!({ "pool": 3, "difficulty": 6, "dice": [1, 10, 4], "campaignId": "saga" }),
    )
    .await;
    assert_eq!(
        (&failure["total"], &failure["result"]),
        (&json!(0), &json!("FAILURE"))
    );
    assert_eq!(failure["campaign"]["entityId"], "saga");
    // Other dice stay out of the statistics.
    let other = record(
        &server,
        &owner,
        json!({ "pool": 2, "dieSize": 6, "dice": [3, 4], "traits": [strength()] }),
    )
    .await;
    assert_eq!(
        (&other["total"], &other["result"]),
        (&json!(7), &json!("OTHER"))
    );
    record(
        &server,
        &player,
        json!({ "pool": 1, "difficulty": 6, "dice": [8] }),
    )
    .await;

    let mine = statistics(&server, &owner, json!({ "scope": "USER" })).await;
    assert_eq!(
        mine,
        json!({ "botches": 1, "successes": 1, "failures": 1, "criticals": 1, "totalRolls": 4,
                "averageDifficulty": 6.0, "averagePool": 2.75,
                "topTraits": [
                    { "name": "Strength", "usageCount": 2, "traitId": "str" },
                    { "name": "Brawl", "usageCount": 1, "traitId": null }],
                "successPercentage": 25.0, "failurePercentage": 25.0, "botchPercentage": 25.0,
                "criticalsPercentage": 25.0 })
    );
    let hero = statistics(
        &server,
        &owner,
        json!({ "scope": "CHARACTER", "characterId": "hero" }),
    )
    .await;
    assert_eq!(
        (&hero["totalRolls"], &hero["criticalsPercentage"]),
        (&json!(1), &json!(100.0))
    );
    let saga = statistics(
        &server,
        &owner,
        json!({ "scope": "CAMPAIGN", "campaignId": "saga" }),
    )
    .await;
    assert_eq!(
        (&saga["totalRolls"], &saga["failures"]),
        (&json!(1), &json!(1))
    );
    let tenant = statistics(&server, &player, json!({ "scope": "TENANT" })).await;
    assert_eq!(
        (&tenant["totalRolls"], &tenant["successes"]),
        (&json!(5), &json!(2))
    );
    let theirs = statistics(
        &server,
        &owner,
        json!({ "scope": "USER", "userId": player.user_id }),
    )
    .await;
    assert_eq!(theirs["totalRolls"], 1);
    let history = server
        .ok_as(&owner, ROLLS, json!({ "scope": "TENANT" }))
        .await;
    assert_eq!(history["diceRolls"]["total"], 6);
    assert_eq!(history["diceRolls"]["rolls"][0]["dice"], json!([8]));

    // Another tenant sees none of it and cannot roll for this tenant's entities.
    let outsider = server
        .register("outsider@elsewhere.test", "Elsewhere")
        .await;
    let outside = statistics(&server, &outsider, json!({ "scope": "TENANT" })).await;
    assert_eq!(outside["totalRolls"], 0);
    let outside = statistics(
        &server,
        &outsider,
        json!({ "scope": "USER", "userId": owner.user_id }),
    )
    .await;
    assert_eq!(outside["totalRolls"], 0);
    server
        .fails_as(
            &outsider,
            ROLL,
            json!({ "pool": 1, "difficulty": 6, "characterId": "hero" }),
            "NOT_FOUND",
        )
        .await;
    server
        .fails_as(
            &outsider,
            STATISTICS,
            json!({ "scope": "CAMPAIGN", "campaignId": "saga" }),
            "NOT_FOUND",
        )
        .await;
    let history = server
        .ok_as(&outsider, ROLLS, json!({ "scope": "TENANT" }))
        .await;
    assert_eq!(history["diceRolls"]["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rolls_fair_dice_and_refuses_bad_pools() {
    let server = TestServer::start().await;
    let owner = server.register("owner@dice.test", "Dice").await;

    let roll = record(&server, &owner, json!({ "pool": 100, "difficulty": 7 })).await;
    let dice: Vec<i64> = roll["dice"]
        .as_array()
        .expect("dice")
        .iter()
        .map(|d| d.as_i64().expect("a face"))
        .collect();
    assert_eq!(dice.len(), 100);
    assert!(dice.iter().all(|d| (1..=10).contains(d)), "{dice:?}");
    assert_eq!(roll["physical"], false);
    // The stored counts are the rules applied to the dice rolled.
    let count = |keep: &dyn Fn(i64) -> bool| dice.iter().filter(|&&d| keep(d)).count() as i64;
    let (ones, tens) = (count(&|d| d == 1), count(&|d| d == 10));
    let successes = count(&|d| (7..10).contains(&d));
    let cancelled = ones.min(tens);
    assert_eq!(roll["botches"], ones);
    assert_eq!(roll["criticals"], tens);
    assert_eq!(roll["successes"], successes);
    assert_eq!(
        roll["total"],
        successes + 2 * (tens - cancelled) - (ones - cancelled)
    );

    for (variables, field) in [
        (json!({ "pool": 101, "difficulty": 6 }), "pool"),
        (json!({ "pool": 0, "difficulty": 6 }), "pool"),
        (json!({ "pool": 2, "difficulty": 11 }), "difficulty"),
        (json!({ "pool": 2, "dieSize": 1 }), "dieSize"),
        (json!({ "pool": 2, "difficulty": 6, "dice": [3] }), "dice"),
        (
            json!({ "pool": 2, "difficulty": 6, "dice": [3, 11] }),
            "dice",
        ),
        (json!({ "pool": 1, "traits": [{ "name": " " }] }), "traits"),
    ] {
        let body = server.gql_as(&owner, ROLL, variables.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{variables}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    server
        .fails_as(
            &owner,
            STATISTICS,
            json!({ "scope": "CHARACTER" }),
            "BAD_USER_INPUT",
        )
        .await;
    // Nothing was stored by the refused rolls.
    let history = server
        .ok_as(&owner, ROLLS, json!({ "scope": "TENANT" }))
        .await;
    assert_eq!(history["diceRolls"]["total"], 1);

    let body = server
        .gql(None, ROLL, json!({ "pool": 1, "difficulty": 6 }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}
