//! The producers' directory of markets: nearest first from a point, the
//! weekday filter, radius and limit, the producers present (each once) and
//! the customers counted from confirmed orders; bad queries name the field.

use serde_json::json;

use crate::catalogs::fixtures::{
    create_catalog, create_market, fields, fixture_offer, fixture_order, fixture_participation,
};
use crate::fixtures::parts::{api_cancel, api_link};
use crate::helpers::{parse_id, spawn_app};

#[actix_web::test]
async fn directory_lists_nearest_first_with_producers_and_customers() {
    let app = spawn_app().await;
    let admin = app.user("Claire").await;
    // From Paris: Paris ~0 km, Lille ~204 km, Lyon ~392 km.
    let lyon = create_market(&app, &admin, "Lyon", 45.7640, 4.8357, json!("thursday")).await;
    let lille = create_market(&app, &admin, "Lille", 50.6292, 3.0573, json!(6)).await;
    let paris = create_market(&app, &admin, "Paris", 48.8566, 2.3522, json!(4)).await;

    let farmer = app.user("Léa").await;
    let lilas = app.producer(&farmer, "Ferme des Lilas").await;
    let offer = fixture_offer(&app, &farmer, lilas, "Carottes", "Botte", "2.50").await;
    let veg = create_catalog(&app, &farmer, lilas, json!([{"offer_id": offer}])).await;
    let veg_id = parse_id(&veg["id"]);
    let other_veg = create_catalog(&app, &farmer, lilas, json!([])).await;
    let baker = app.user("Marc").await;
    let bakery = app.producer(&baker, "Boulangerie").await;
    let bread = create_catalog(&app, &baker, bakery, json!([])).await;
    for (market, catalog) in [
        (paris, &veg),
        (paris, &other_veg),
        (paris, &bread),
        (lyon, &veg),
    ] {
        api_link(&app, &admin, market, catalog).await;
    }

    // Two customers ordered in Paris (one of them twice, in two distributions), a cancelled order
    // does not count.
    let (c1, c2, c3) = (
        app.user("Ana").await,
        app.user("Ben").await,
        app.user("Cid").await,
    );
    let d1 = fixture_participation(&app, &admin, &farmer, paris, veg_id).await;
    let d2 = fixture_participation(&app, &admin, &farmer, paris, veg_id).await;
    fixture_order(&app, d1, offer, &c1).await;
    fixture_order(&app, d2, offer, &c1).await;
    fixture_order(&app, d1, offer, &c2).await;
    let cancelled = fixture_order(&app, d2, offer, &c3).await;
    api_cancel(&app, &c3, cancelled).await;

    let all = app
        .get("/api/v1/directory/markets?lat=48.8566&lng=2.3522", None)
        .await
        .expect(200);
    let names: Vec<&str> = all
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Paris", "Lille", "Lyon"]);
    assert_eq!(all[0]["distance_km"], 0.0);
    let lille_km = all[1]["distance_km"].as_f64().expect("km");
    let lyon_km = all[2]["distance_km"].as_f64().expect("km");
    assert!((lille_km - 204.0).abs() < 3.0, "{lille_km}");
    assert!((lyon_km - 392.0).abs() < 3.0, "{lyon_km}");
    assert_eq!(all[0]["id"], json!(paris));
    assert_eq!(
        all[0]["producers"],
        json!([{"id": bakery, "name": "Boulangerie"}, {"id": lilas, "name": "Ferme des Lilas"}]),
        "distinct producers, each once"
    );
    assert_eq!(all[0]["customers"], 2);
    assert_eq!(all[0]["admins"], json!(["Claire"]));
    assert_eq!(all[1]["producers"], json!([]));
    assert_eq!(all[1]["customers"], 0);
    assert_eq!(
        all[2]["producers"],
        json!([{"id": lilas, "name": "Ferme des Lilas"}])
    );
    assert_eq!(all[2]["customers"], 0);
    assert_eq!(all[2]["id"], json!(lyon));
    assert_eq!(all[1]["id"], json!(lille));

    // Weekday filter (number or name), radius and limit.
    for weekday in ["4", "thursday", "jeudi"] {
        let thursday = app
            .get(
                &format!("/api/v1/directory/markets?lat=48.8566&lng=2.3522&weekday={weekday}"),
                None,
            )
            .await
            .expect(200);
        let names: Vec<&str> = thursday
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|m| m["name"].as_str())
            .collect();
        assert_eq!(names, vec!["Paris", "Lyon"]);
    }
    // From Lyon the order reverses.
    let from_lyon = app
        .get(
            "/api/v1/directory/markets?lat=45.76&lng=4.84&radius_km=300",
            None,
        )
        .await
        .expect(200);
    let names: Vec<&str> = from_lyon
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Lyon"]);
    let one = app
        .get("/api/v1/directory/markets?lat=50&lng=3&limit=1", None)
        .await
        .expect(200);
    assert_eq!(one.as_array().map(Vec::len), Some(1));
    assert_eq!(one[0]["name"], "Lille");

    // Bad queries name their field.
    for (query, field) in [
        ("lat=95&lng=2", "lat"),
        ("lat=48&lng=-181", "lng"),
        ("lat=abc&lng=2", "lat"),
        ("lng=2", "lat"),
        ("lat=48&lng=2&weekday=8", "weekday"),
        ("lat=48&lng=2&radius_km=-5", "radius_km"),
        ("lat=48&lng=2&limit=0", "limit"),
    ] {
        let problem = app
            .get(&format!("/api/v1/directory/markets?{query}"), None)
            .await
            .expect_problem(422, "invalid_field");
        assert_eq!(fields(&problem), vec![field], "{query}");
    }
}
