//! The producer's planning ("PLANIFIER") and dashboard ("MES MARCHÉS",
//! next sales) through HTTP.

use serde_json::json;

use super::fixtures::{api_market, catalog, day, link, participate, plan, ts, world};
use crate::fixtures::parts::api_link;
use crate::helpers::{parse_id, spawn_app};

#[actix_web::test]
async fn planning_lists_linked_distributions_with_status() {
    let app = spawn_app().await;
    let w = world(&app).await;
    // A catalog that is not linked, and a market the producer is not in.
    catalog(&app, &w.owner, w.producer, "Hors marché", &[]).await;
    let elsewhere = api_market(&app, &w.admin, "Autre marché").await;
    plan(&app, &w.admin, elsewhere, 4, -1).await;

    let path = format!("/api/v1/producers/{}/planning", w.producer);
    let rows = app.get(&path, Some(&w.owner.token)).await.expect(200);
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["distribution"]["id"], w.open_now.to_string());
    assert_eq!(rows[1]["distribution"]["id"], w.later.to_string());
    for row in rows {
        assert_eq!(row["market"]["id"], w.market.to_string());
        assert_eq!(row["market"]["name"], "Marché de la Croix-Rousse");
        assert_eq!(row["catalog"]["id"], w.catalog.to_string());
        assert_eq!(row["catalog"]["name"], "Légumes");
        assert_eq!(row["linked"], true);
        assert!(row["participation"].is_null());
    }
    assert_eq!(rows[0]["distribution"]["sale_status"], "open");
    assert_eq!(rows[1]["distribution"]["sale_status"], "upcoming");

    for d in [w.open_now, w.later] {
        participate(&app, &w.owner, d, &json!({"catalog_id": w.catalog}))
            .await
            .expect(201);
    }
    let rows = app.get(&path, Some(&w.owner.token)).await.expect(200);
    assert_eq!(rows[0]["participation"]["status"], "open");
    assert_eq!(rows[1]["participation"]["status"], "upcoming");
    assert_eq!(rows[1]["participation"]["orders_open_at"], ts(day(5, 6)));
    assert_eq!(rows[1]["participation"]["custom_window"], false);

    // Filters, and a cancelled distribution leaves the planning.
    let filtered = app
        .get(
            &format!("{path}?to={}", ts(day(5, 0))),
            Some(&w.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(filtered.as_array().map(Vec::len), Some(1));
    let other_market = app
        .get(
            &format!("{path}?market_id={elsewhere}"),
            Some(&w.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(other_market.as_array().map(Vec::len), Some(0));
    let later_id = plan(&app, &w.admin, w.market, 20, 15).await["id"].clone();
    app.delete(
        &format!("/api/v1/distributions/{}", parse_id(&later_id)),
        Some(&w.admin.token),
    )
    .await
    .expect(204);
    let rows = app.get(&path, Some(&w.owner.token)).await.expect(200);
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn dashboard_shows_markets_and_next_sales() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let second = api_market(&app, &w.admin, "AMAP du Plateau").await;
    let (fruits, fruits_code) = catalog(&app, &w.owner, w.producer, "Fruits", &[]).await;
    link(&app, &w.admin, second, &fruits_code).await;
    link(&app, &w.admin, second, &w.catalog_code).await;
    let plateau = parse_id(&plan(&app, &w.admin, second, 6, -1).await["id"]);
    for (d, c) in [
        (w.later, w.catalog),
        (w.open_now, w.catalog),
        (plateau, fruits),
    ] {
        participate(&app, &w.owner, d, &json!({"catalog_id": c}))
            .await
            .expect(201);
    }
    let board = app
        .get(
            &format!("/api/v1/producers/{}/dashboard", w.producer),
            Some(&w.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(board["producer"]["name"], "Ferme des Lilas");
    let markets = board["markets"].as_array().expect("markets");
    assert_eq!(markets.len(), 2);
    assert_eq!(markets[0]["name"], "AMAP du Plateau");
    let names: Vec<&str> = markets[0]["catalogs"]
        .as_array()
        .expect("catalogs")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["Fruits", "Légumes"]);
    assert!(markets[0]["catalogs"][0]["code"].is_string());
    assert_eq!(markets[1]["name"], "Marché de la Croix-Rousse");
    assert_eq!(markets[1]["usual_weekday"], 4);

    let sales = board["next_sales"].as_array().expect("next sales");
    let order: Vec<String> = sales
        .iter()
        .map(|s| s["distribution"]["id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(order, [w.open_now, plateau, w.later].map(|d| d.to_string()));
    assert_eq!(sales[0]["participation"]["status"], "open");
    assert_eq!(sales[0]["market"]["name"], "Marché de la Croix-Rousse");
    assert_eq!(sales[1]["catalog"]["name"], "Fruits");
    assert_eq!(sales[2]["participation"]["status"], "upcoming");
    assert_eq!(sales[2]["participation"]["orders_close_at"], ts(day(9, 20)));
    assert_eq!(
        board["counts"],
        json!({"markets": 2, "upcoming_participations": 3, "open_sales": 2,
               "distributions_to_plan": 0})
    );
}

#[actix_web::test]
async fn planning_through_markets_and_links_made_with_the_api() {
    let app = spawn_app().await;
    let admin = app.user("Admin").await;
    let owner = app.user("Paysan").await;
    let market = app
        .post(
            "/api/v1/markets",
            &json!({"name": "Marché du soir", "online_payment": false,
                    "place": {"address": "Place Bellecour, Lyon", "lat": 45.757, "lng": 4.832}}),
            Some(&admin.token),
        )
        .await
        .expect(201);
    let market = parse_id(&market["id"]);
    let producer = app.producer(&owner, "Ferme du Bois").await;
    let catalog = app
        .post(
            &format!("/api/v1/producers/{producer}/catalogs"),
            &json!({"name": "Volailles", "entries": []}),
            Some(&owner.token),
        )
        .await
        .expect(201);
    let catalog_id = parse_id(&catalog["id"]);
    api_link(&app, &admin, market, &catalog).await;
    let series = app
        .post(
            &format!("/api/v1/markets/{market}/distributions"),
            &json!({"starts_at": ts(day(8, 16)), "ends_at": ts(day(8, 18)),
                    "orders_open_at": ts(day(3, 6)), "orders_close_at": ts(day(7, 20)),
                    "repeat": {"weekly": 3}}),
            Some(&admin.token),
        )
        .await
        .expect(201);
    let ids: Vec<&serde_json::Value> = series["distributions"]
        .as_array()
        .expect("series")
        .iter()
        .map(|d| &d["id"])
        .collect();
    app.post(
        &format!("/api/v1/producers/{producer}/participations"),
        &json!({"catalog_id": catalog_id, "distribution_ids": ids}),
        Some(&owner.token),
    )
    .await
    .expect(201);
    let path = format!("/api/v1/producers/{producer}/planning");
    let rows = app.get(&path, Some(&owner.token)).await.expect(200);
    assert_eq!(rows.as_array().map(Vec::len), Some(3));
    assert!(rows
        .as_array()
        .into_iter()
        .flatten()
        .all(|r| r["linked"] == true && r["participation"]["status"] == "upcoming"));

    // The producer leaves the market: planned participations stay, unlinked.
    app.delete(
        &format!("/api/v1/markets/{market}/catalogs/{catalog_id}"),
        Some(&owner.token),
    )
    .await
    .expect(204);
    let rows = app.get(&path, Some(&owner.token)).await.expect(200);
    assert_eq!(rows.as_array().map(Vec::len), Some(3));
    assert_eq!(rows[0]["linked"], false);
    let board = app
        .get(
            &format!("/api/v1/producers/{producer}/dashboard"),
            Some(&owner.token),
        )
        .await
        .expect(200);
    assert_eq!(board["markets"], json!([]));
    assert_eq!(board["counts"]["upcoming_participations"], 3);
}
