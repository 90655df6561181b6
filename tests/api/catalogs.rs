//! Catalogs: creation with price overrides, codes and share links, entry
//! validation (each bad entry named, nothing written), replacement,
//! deletion (refused once ordered through), and who may touch them.
//! Offers, distributions and orders come from SQL [`fixtures`].

pub mod fixtures;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::parts::api_link;
use crate::helpers::{count_rows, parse_id, spawn_app};
use fixtures::{
    create_catalog, create_market, fields, fixture_offer, fixture_order, fixture_participation,
};

#[actix_web::test]
async fn catalog_with_override_shows_effective_prices_code_and_share_link() {
    let app = spawn_app().await;
    let owner = app.user("Léa").await;
    let producer = app.producer(&owner, "Ferme des Lilas").await;
    let potatoes = fixture_offer(&app, &owner, producer, "Pommes de terre", "Vrac", "2.50").await;
    let sack = fixture_offer(&app, &owner, producer, "Pommes de terre", "Sac", "20").await;

    let catalog = create_catalog(
        &app,
        &owner,
        producer,
        json!([
            {"offer_id": potatoes, "price": "2.30"},
            {"offer_id": sack},
        ]),
    )
    .await;
    let code = catalog["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 6);
    assert!(
        code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with('0'),
        "{code}"
    );
    assert_eq!(catalog["share_link"], format!("/catalog/{code}"));
    assert_eq!(catalog["name"], "Marché du jeudi");
    assert_eq!(catalog["markets"], json!([]));
    let entries = catalog["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["offer_id"], json!(potatoes));
    assert_eq!(entries[0]["product_name"], "Pommes de terre");
    assert_eq!(entries[0]["label"], "Vrac");
    assert_eq!(
        entries[0]["price"], "2.30",
        "the override is the effective price"
    );
    assert_eq!(entries[0]["price_override"], "2.30");
    assert_eq!(entries[0]["offer_price"], "2.50");
    assert_eq!(
        entries[1]["price"], "20.00",
        "no override: the offer's price"
    );
    assert_eq!(entries[1]["price_override"], Value::Null);

    let id = parse_id(&catalog["id"]);
    let fetched = app
        .get(&format!("/api/v1/catalogs/{id}"), Some(&owner.token))
        .await
        .expect(200);
    assert_eq!(fetched, catalog);
    let list = app
        .get(
            &format!("/api/v1/producers/{producer}/catalogs"),
            Some(&owner.token),
        )
        .await
        .expect(200);
    assert_eq!(list, json!([catalog]));

    // The share link's content is public and shows catalog prices.
    let public = app
        .get(&format!("/api/v1/catalogs/by-code/{code}"), None)
        .await
        .expect(200);
    assert_eq!(public["id"], json!(id));
    assert_eq!(
        public["producer"],
        json!({"id": producer, "name": "Ferme des Lilas"})
    );
    assert_eq!(public["offers"][0]["price"], "2.30");
    assert_eq!(public["offers"][1]["price"], "20.00");
    app.get("/api/v1/catalogs/by-code/000001", None)
        .await
        .expect_problem(404, "not_found");
    app.get("/api/v1/catalogs/by-code/abc", None)
        .await
        .expect_problem(404, "not_found");

    // A collaborator manages catalogs too.
    let helper = app.user("Tom").await;
    app.post(
        &format!("/api/v1/producers/{producer}/members"),
        &json!({"email": helper.email, "role": "collaborator"}),
        Some(&owner.token),
    )
    .await
    .expect(201);
    create_catalog(
        &app,
        &helper,
        producer,
        json!([{"offer_id": sack, "price": 18}]),
    )
    .await;
}

#[actix_web::test]
async fn codes_are_unique_six_digit_numbers() {
    let app = spawn_app().await;
    let owner = app.user("Léa").await;
    let producer = app.producer(&owner, "Ferme").await;
    let mut codes = std::collections::HashSet::new();
    for _ in 0..25 {
        let catalog = create_catalog(&app, &owner, producer, json!([])).await;
        let code = catalog["code"].as_str().expect("code").to_owned();
        assert!(
            code.len() == 6 && code.parse::<u32>().is_ok_and(|n| n >= 100_000),
            "{code}"
        );
        assert!(codes.insert(code), "codes are unique");
    }
    let stored = count_rows(&app.db, "SELECT count(DISTINCT code) FROM catalogs").await;
    assert_eq!(stored, 25);
}

#[actix_web::test]
async fn bad_entries_are_named_and_nothing_changes() {
    let app = spawn_app().await;
    let owner = app.user("Léa").await;
    let producer = app.producer(&owner, "Ferme").await;
    let other_owner = app.user("Paul").await;
    let other = app.producer(&other_owner, "Autre ferme").await;
    let mine = fixture_offer(&app, &owner, producer, "Carottes", "Botte", "2").await;
    let theirs = fixture_offer(&app, &other_owner, other, "Poulet", "Entier", "15").await;

    let problem = app
        .post(
            &format!("/api/v1/producers/{producer}/catalogs"),
            &json!({"name": " ", "entries": [
                {"offer_id": theirs},
                {"offer_id": mine, "price": "-1"},
                {"offer_id": Uuid::new_v4()},
                {"offer_id": "not-a-uuid"},
                {"offer_id": mine, "price": "2.555"},
            ]}),
            Some(&owner.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    let mut named = fields(&problem);
    named.sort();
    assert_eq!(
        named,
        vec![
            "entries[0].offer_id",
            "entries[1].price",
            "entries[2].offer_id",
            "entries[3].offer_id",
            "entries[4].offer_id",
            "entries[4].price",
            "name"
        ]
    );
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("another producer"),
        "{problem}"
    );
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM catalogs").await,
        0
    );

    // One mistake at a time, each named; an offer that is not the
    // producer's is a reference to nothing (409), not an invalid field.
    for (entries, field, status, code) in [
        (
            json!([{"offer_id": theirs}]),
            "entries[0].offer_id",
            409,
            "unknown_reference",
        ),
        (
            json!([{"offer_id": mine, "price": -0.5}]),
            "entries[0].price",
            422,
            "invalid_field",
        ),
        (
            json!([{"offer_id": Uuid::new_v4()}]),
            "entries[0].offer_id",
            409,
            "unknown_reference",
        ),
        (
            json!([{"offer_id": mine}, {"offer_id": mine}]),
            "entries[1].offer_id",
            422,
            "invalid_field",
        ),
    ] {
        let problem = app
            .post(
                &format!("/api/v1/producers/{producer}/catalogs"),
                &json!({"name": "Jeudi", "entries": entries}),
                Some(&owner.token),
            )
            .await
            .expect_problem(status, code);
        assert_eq!(fields(&problem), vec![field]);
    }
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM catalogs").await,
        0
    );

    // A PUT with a bad entry leaves the catalog as it was.
    let catalog = create_catalog(
        &app,
        &owner,
        producer,
        json!([{"offer_id": mine, "price": "1.80"}]),
    )
    .await;
    let id = parse_id(&catalog["id"]);
    let problem = app
        .put(
            &format!("/api/v1/catalogs/{id}"),
            &json!({"name": "Renamed", "entries": [{"offer_id": theirs}]}),
            Some(&owner.token),
        )
        .await
        .expect_problem(409, "unknown_reference");
    assert_eq!(fields(&problem), vec!["entries[0].offer_id"]);
    let unchanged = app
        .get(&format!("/api/v1/catalogs/{id}"), Some(&owner.token))
        .await
        .expect(200);
    assert_eq!(unchanged, catalog);
    let (name, entries): (String, i64) = sqlx::query_as(
        "SELECT c.name, (SELECT count(*) FROM catalog_entries e WHERE e.catalog_id = c.id) FROM catalogs c",
    )
    .fetch_one(&app.db)
    .await
    .expect("catalog row");
    assert_eq!((name.as_str(), entries), ("Marché du jeudi", 1));

    // An offer of a deactivated product cannot be added and is not shown publicly.
    let product = app
        .get(&format!("/api/v1/offers/{mine}"), Some(&owner.token))
        .await
        .expect(200)["product_id"]
        .clone();
    app.put(
        &format!("/api/v1/products/{}", parse_id(&product)),
        &json!({"name": "Carottes", "unit": "kg", "category": "Légumes", "organic": false,
                "variable_price": false, "multi_weight": false, "active": false}),
        Some(&owner.token),
    )
    .await
    .expect(200);
    let problem = app
        .put(
            &format!("/api/v1/catalogs/{id}"),
            &json!({"name": "Jeudi", "entries": [{"offer_id": mine}]}),
            Some(&owner.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(fields(&problem), vec!["entries[0].offer_id"]);
    let code = catalog["code"].as_str().expect("code");
    let public = app
        .get(&format!("/api/v1/catalogs/by-code/{code}"), None)
        .await
        .expect(200);
    assert_eq!(public["offers"], json!([]));
}

#[actix_web::test]
async fn put_replaces_and_delete_is_refused_once_ordered() {
    let app = spawn_app().await;
    let owner = app.user("Léa").await;
    let producer = app.producer(&owner, "Ferme").await;
    let a = fixture_offer(&app, &owner, producer, "Carottes", "Botte", "2").await;
    let b = fixture_offer(&app, &owner, producer, "Poireaux", "Botte", "3").await;
    let catalog = create_catalog(&app, &owner, producer, json!([{"offer_id": a}])).await;
    let id = parse_id(&catalog["id"]);

    let replaced = app
        .put(
            &format!("/api/v1/catalogs/{id}"),
            &json!({"name": "Samedi", "entries": [{"offer_id": b, "price": 2.8}]}),
            Some(&owner.token),
        )
        .await
        .expect(200);
    assert_eq!(replaced["name"], "Samedi");
    assert_eq!(
        replaced["code"], catalog["code"],
        "the code does not change"
    );
    let entries = replaced["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["offer_id"], json!(b));
    assert_eq!(entries[0]["price"], "2.80");

    // Orders placed through it forbid deleting it.
    let market = create_market(&app, &owner, "Jeudi", 48.85, 2.35, json!(4)).await;
    api_link(&app, &owner, market, &catalog).await;
    let distribution = fixture_participation(&app, &owner, &owner, market, id).await;
    let customer = app.user("Client").await;
    fixture_order(&app, distribution, b, &customer).await;
    let problem = app
        .delete(&format!("/api/v1/catalogs/{id}"), Some(&owner.token))
        .await
        .expect_problem(409, "catalog_has_orders");
    assert_eq!(problem["orders"], 1);
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM catalogs").await,
        1
    );

    // Without orders it goes, with its links.
    let spare = create_catalog(&app, &owner, producer, json!([{"offer_id": a}])).await;
    let spare_id = parse_id(&spare["id"]);
    app.post(
        &format!("/api/v1/markets/{market}/catalogs"),
        &json!({"code": spare["code"]}),
        Some(&owner.token),
    )
    .await
    .expect(201);
    app.delete(&format!("/api/v1/catalogs/{spare_id}"), Some(&owner.token))
        .await
        .expect(204);
    app.get(&format!("/api/v1/catalogs/{spare_id}"), Some(&owner.token))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM market_catalogs").await,
        1
    );
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM offers").await,
        2,
        "offers stay"
    );
}

#[actix_web::test]
async fn only_the_producers_members_touch_its_catalogs() {
    let app = spawn_app().await;
    let owner = app.user("Léa").await;
    let producer = app.producer(&owner, "Ferme").await;
    let offer = fixture_offer(&app, &owner, producer, "Carottes", "Botte", "2").await;
    let catalog = create_catalog(&app, &owner, producer, json!([{"offer_id": offer}])).await;
    let id = parse_id(&catalog["id"]);

    let stranger = app.user("Inconnu").await;
    // A collaborator of another producer.
    let other_owner = app.user("Paul").await;
    let other = app.producer(&other_owner, "Autre").await;
    let collaborator = app.user("Collab").await;
    app.post(
        &format!("/api/v1/producers/{other}/members"),
        &json!({"email": collaborator.email, "role": "collaborator"}),
        Some(&other_owner.token),
    )
    .await
    .expect(201);
    // The admin of a market (even one this catalog is linked to).
    let admin = app.user("Admin").await;
    let market = create_market(&app, &admin, "Jeudi", 48.85, 2.35, json!(4)).await;
    api_link(&app, &admin, market, &catalog).await;

    let body = json!({"name": "Pirate", "entries": []});
    for user in [&stranger, &collaborator, &admin] {
        let token = Some(user.token.as_str());
        app.post(
            &format!("/api/v1/producers/{producer}/catalogs"),
            &body,
            token,
        )
        .await
        .expect_problem(403, "forbidden");
        app.put(&format!("/api/v1/catalogs/{id}"), &body, token)
            .await
            .expect_problem(403, "forbidden");
        app.delete(&format!("/api/v1/catalogs/{id}"), token)
            .await
            .expect_problem(403, "forbidden");
        app.get(&format!("/api/v1/catalogs/{id}"), token)
            .await
            .expect_problem(403, "forbidden");
        app.get(&format!("/api/v1/producers/{producer}/catalogs"), token)
            .await
            .expect_problem(403, "forbidden");
    }
    app.post(
        &format!("/api/v1/producers/{producer}/catalogs"),
        &body,
        None,
    )
    .await
    .expect_problem(401, "unauthorized");
    app.get(
        &format!("/api/v1/catalogs/{}", Uuid::new_v4()),
        Some(&owner.token),
    )
    .await
    .expect_problem(404, "not_found");

    let after = app
        .get(&format!("/api/v1/catalogs/{id}"), Some(&owner.token))
        .await
        .expect(200);
    assert_eq!(after["name"], catalog["name"]);
    assert_eq!(after["entries"], catalog["entries"]);
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM catalogs").await,
        1
    );
}
