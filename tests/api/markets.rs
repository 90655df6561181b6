//! Markets: creation and validation, admins adding admins, linking catalogs
//! by code (and unlinking), and who may do what. The producers' directory
//! is tested in [`directory`].

mod directory;

use serde_json::json;
use uuid::Uuid;

use crate::catalogs::fixtures::{create_catalog, create_market, fields};
use crate::fixtures::parts::api_link;
use crate::helpers::{count_rows, parse_id, spawn_app};

#[actix_web::test]
async fn create_market_with_defaults_and_validation() {
    let app = spawn_app().await;
    let creator = app.user("Claire").await;
    let market = app
        .post(
            "/api/v1/markets",
            &json!({"name": "Marché des Lilas", "place": {"address": "1 place du Marché, Paris", "lat": 48.8566, "lng": 2.3522},
                    "online_payment": true, "usual_weekday": "thursday"}),
            Some(&creator.token),
        )
        .await
        .expect(201);
    let id = parse_id(&market["id"]);
    assert_eq!(market["name"], "Marché des Lilas");
    assert_eq!(
        market["place"],
        json!({"address": "1 place du Marché, Paris", "lat": 48.8566, "lng": 2.3522})
    );
    assert_eq!(market["usual_weekday"], 4);
    assert_eq!(market["online_payment"], true);
    assert_eq!(market["timezone"], "Europe/Paris");
    assert_eq!(market["fee_rate"], "0");
    // Public card; the creator is its admin.
    assert_eq!(
        app.get(&format!("/api/v1/markets/{id}"), None)
            .await
            .expect(200),
        market
    );
    let admins = app
        .get(
            &format!("/api/v1/markets/{id}/admins"),
            Some(&creator.token),
        )
        .await
        .expect(200);
    assert_eq!(
        admins,
        json!([{"account_id": creator.id, "email": creator.email, "name": "Claire"}])
    );

    let edited = app
        .put(
            &format!("/api/v1/markets/{id}"),
            &json!({"name": "Lilas", "place": {"address": "2 rue Neuve", "lat": 45.764, "lng": 4.8357},
                    "online_payment": false, "usual_weekday": 6, "timezone": "Europe/Brussels", "fee_rate": "4.5"}),
            Some(&creator.token),
        )
        .await
        .expect(200);
    assert_eq!(edited["usual_weekday"], 6);
    assert_eq!(edited["timezone"], "Europe/Brussels");
    assert_eq!(edited["fee_rate"], "4.5");
    assert_eq!(edited["online_payment"], false);

    let problem = app
        .post(
            "/api/v1/markets",
            &json!({"name": "", "place": {"address": "x", "lat": 91, "lng": 2},
                    "online_payment": false, "usual_weekday": 8, "timezone": "Mars/Olympus", "fee_rate": -1}),
            Some(&creator.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(
        fields(&problem),
        vec!["name", "place.lat", "usual_weekday", "timezone", "fee_rate"]
    );
    let problem = app
        .put(
            &format!("/api/v1/markets/{id}"),
            &json!({"name": "Lilas", "place": {"address": "2 rue Neuve", "lat": 45.0, "lng": 200.0}, "online_payment": true}),
            Some(&creator.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(fields(&problem), vec!["place.lng"]);
    assert_eq!(count_rows(&app.db, "SELECT count(*) FROM markets").await, 1);
    assert_eq!(
        app.get(&format!("/api/v1/markets/{id}"), None)
            .await
            .expect(200),
        edited
    );
    app.post("/api/v1/markets", &json!({"name": "x"}), None)
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn an_added_admin_can_link_catalogs() {
    let app = spawn_app().await;
    let creator = app.user("Claire").await;
    let market = create_market(&app, &creator, "Jeudi", 48.85, 2.35, json!(4)).await;
    let farmer = app.user("Léa").await;
    let producer = app.producer(&farmer, "Ferme").await;
    let catalog = create_catalog(&app, &farmer, producer, json!([])).await;
    let link = json!({"code": catalog["code"]});

    let helper = app.user("Hugo").await;
    app.post(
        &format!("/api/v1/markets/{market}/catalogs"),
        &link,
        Some(&helper.token),
    )
    .await
    .expect_problem(403, "forbidden");
    let added = app
        .post(
            &format!("/api/v1/markets/{market}/admins"),
            &json!({"email": helper.email.to_uppercase()}),
            Some(&creator.token),
        )
        .await
        .expect(201);
    assert_eq!(added["account_id"], json!(helper.id));
    app.post(
        &format!("/api/v1/markets/{market}/admins"),
        &json!({"email": helper.email}),
        Some(&creator.token),
    )
    .await
    .expect_problem(409, "conflict");
    let problem = app
        .post(
            &format!("/api/v1/markets/{market}/admins"),
            &json!({"email": "nobody@example.org"}),
            Some(&creator.token),
        )
        .await
        .expect_problem(409, "unknown_reference");
    assert_eq!(fields(&problem), vec!["email"]);
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM market_admins").await,
        2
    );

    // The new admin acts at once: lists admins, adds another, links.
    let admins = app
        .get(
            &format!("/api/v1/markets/{market}/admins"),
            Some(&helper.token),
        )
        .await
        .expect(200);
    assert_eq!(admins.as_array().map(Vec::len), Some(2));
    let linked = app
        .post(
            &format!("/api/v1/markets/{market}/catalogs"),
            &link,
            Some(&helper.token),
        )
        .await
        .expect(201);
    assert_eq!(linked["market_id"], json!(market));
    assert_eq!(linked["catalog_id"], catalog["id"]);
    assert_eq!(linked["code"], catalog["code"]);
    assert_eq!(linked["producer"], json!({"id": producer, "name": "Ferme"}));
}

#[actix_web::test]
async fn linking_by_code_serves_several_markets_and_unlinking() {
    let app = spawn_app().await;
    let admin = app.user("Claire").await;
    let paris = create_market(&app, &admin, "Paris", 48.85, 2.35, json!(4)).await;
    let lyon = create_market(&app, &admin, "Lyon", 45.76, 4.83, json!(4)).await;
    let farmer = app.user("Léa").await;
    let producer = app.producer(&farmer, "Ferme").await;
    let catalog = create_catalog(&app, &farmer, producer, json!([])).await;
    let id = parse_id(&catalog["id"]);
    let code = catalog["code"].as_str().expect("code").to_owned();

    for bad in [json!("999"), json!("abc123"), json!(null)] {
        let problem = app
            .post(
                &format!("/api/v1/markets/{paris}/catalogs"),
                &json!({"code": bad}),
                Some(&admin.token),
            )
            .await
            .expect_problem(422, "invalid_field");
        assert_eq!(fields(&problem), vec!["code"]);
    }
    // Unknown (well-formed) code.
    let unknown = if code == "123456" { "654321" } else { "123456" };
    let problem = app
        .post(
            &format!("/api/v1/markets/{paris}/catalogs"),
            &json!({"code": unknown}),
            Some(&admin.token),
        )
        .await
        .expect_problem(409, "unknown_reference");
    assert_eq!(fields(&problem), vec!["code"]);
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM market_catalogs").await,
        0
    );

    // The code may be sent as a number; twice is a conflict.
    let number: u64 = code.parse().expect("numeric code");
    app.post(
        &format!("/api/v1/markets/{paris}/catalogs"),
        &json!({"code": number}),
        Some(&admin.token),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/markets/{paris}/catalogs"),
        &json!({"code": code}),
        Some(&admin.token),
    )
    .await
    .expect_problem(409, "already_linked");
    app.post(
        &format!("/api/v1/markets/{lyon}/catalogs"),
        &json!({"code": code}),
        Some(&admin.token),
    )
    .await
    .expect(201);

    let shown = app
        .get(&format!("/api/v1/catalogs/{id}"), Some(&farmer.token))
        .await
        .expect(200);
    assert_eq!(
        shown["markets"],
        json!([{"id": lyon, "name": "Lyon"}, {"id": paris, "name": "Paris"}])
    );
    let links = app
        .get(&format!("/api/v1/markets/{paris}/catalogs"), None)
        .await
        .expect(200);
    assert_eq!(links.as_array().map(Vec::len), Some(1));
    assert_eq!(links[0]["catalog_id"], json!(id));
    assert_eq!(links[0]["producer"]["name"], "Ferme");

    // The admin unlinks from one market; the producer leaves the other itself.
    app.delete(
        &format!("/api/v1/markets/{paris}/catalogs/{id}"),
        Some(&admin.token),
    )
    .await
    .expect(204);
    app.delete(
        &format!("/api/v1/markets/{paris}/catalogs/{id}"),
        Some(&admin.token),
    )
    .await
    .expect_problem(404, "not_found");
    app.delete(
        &format!("/api/v1/markets/{lyon}/catalogs/{id}"),
        Some(&farmer.token),
    )
    .await
    .expect(204);
    let shown = app
        .get(&format!("/api/v1/catalogs/{id}"), Some(&farmer.token))
        .await
        .expect(200);
    assert_eq!(shown["markets"], json!([]));
    assert_eq!(
        app.get(&format!("/api/v1/markets/{paris}/catalogs"), None)
            .await
            .expect(200),
        json!([])
    );
}

#[actix_web::test]
async fn outsiders_are_forbidden_on_every_market_write() {
    let app = spawn_app().await;
    let admin = app.user("Claire").await;
    let market = create_market(&app, &admin, "Jeudi", 48.85, 2.35, json!(4)).await;
    let farmer = app.user("Léa").await;
    let producer = app.producer(&farmer, "Ferme").await;
    let catalog = create_catalog(&app, &farmer, producer, json!([])).await;
    let catalog_id = parse_id(&catalog["id"]);
    api_link(&app, &admin, market, &catalog).await;
    let spare = create_catalog(&app, &farmer, producer, json!([])).await;

    let stranger = app.user("Inconnu").await;
    let other_farmer = app.user("Paul").await;
    let other = app.producer(&other_farmer, "Autre").await;
    let collaborator = app.user("Collab").await;
    app.post(
        &format!("/api/v1/producers/{other}/members"),
        &json!({"email": collaborator.email, "role": "collaborator"}),
        Some(&other_farmer.token),
    )
    .await
    .expect(201);
    let other_admin = app.user("Autre admin").await;
    create_market(&app, &other_admin, "Ailleurs", 45.76, 4.83, json!(2)).await;

    let edit = json!({"name": "Pirate", "place": {"address": "x", "lat": 0, "lng": 0}, "online_payment": false});
    for user in [&stranger, &collaborator, &other_admin, &farmer] {
        let token = Some(user.token.as_str());
        app.put(&format!("/api/v1/markets/{market}"), &edit, token)
            .await
            .expect_problem(403, "forbidden");
        app.post(
            &format!("/api/v1/markets/{market}/admins"),
            &json!({"email": user.email}),
            token,
        )
        .await
        .expect_problem(403, "forbidden");
        app.get(&format!("/api/v1/markets/{market}/admins"), token)
            .await
            .expect_problem(403, "forbidden");
        app.post(
            &format!("/api/v1/markets/{market}/catalogs"),
            &json!({"code": spare["code"]}),
            token,
        )
        .await
        .expect_problem(403, "forbidden");
    }
    // Unlinking: the catalog's producer may, outsiders may not.
    for user in [&stranger, &collaborator, &other_admin] {
        app.delete(
            &format!("/api/v1/markets/{market}/catalogs/{catalog_id}"),
            Some(&user.token),
        )
        .await
        .expect_problem(403, "forbidden");
    }
    app.delete(
        &format!("/api/v1/markets/{market}/catalogs/{catalog_id}"),
        None,
    )
    .await
    .expect_problem(401, "unauthorized");

    assert_eq!(
        app.get(&format!("/api/v1/markets/{market}"), None)
            .await
            .expect(200)["name"],
        "Jeudi"
    );
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM market_admins").await,
        2
    );
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM market_catalogs").await,
        1
    );
    app.get(&format!("/api/v1/markets/{}", Uuid::new_v4()), None)
        .await
        .expect_problem(404, "not_found");
}
