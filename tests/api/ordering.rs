//! Placing, changing and cancelling orders one at a time: the shapes of
//! API.md, the sale windows (with the test clock), price freezing and the
//! forced sync, idempotent retries.

use chrono::Duration;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{customers, offer, open_sale, order, shop_available, sold};
use crate::helpers::{parse_id, spawn_app};

/// The lines of an order in the database: (line id, offer id, quantity).
async fn stored_lines(
    app: &crate::helpers::TestApp,
    order_id: Uuid,
) -> Vec<(String, String, String)> {
    let rows: Vec<(Uuid, Uuid, Decimal)> = sqlx::query_as(
        "SELECT id, offer_id, quantity FROM order_lines WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(&app.db)
    .await
    .expect("lines");
    rows.into_iter()
        .map(|(id, offer, q)| (id.to_string(), offer.to_string(), q.normalize().to_string()))
        .collect()
}

/// The lines of an order as the API answered them, in the same shape.
fn answered_lines(order: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut lines: Vec<(String, String, String)> = order["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            let text = |k: &str| l[k].as_str().expect("string").to_owned();
            (text("id"), text("offer_id"), text("quantity"))
        })
        .collect();
    lines.sort();
    lines
}

#[actix_web::test]
async fn an_order_is_placed_added_to_changed_and_cancelled() {
    let app = spawn_app().await;
    let sale = open_sale(
        &app,
        &[
            offer("Poulet", "12.50", Some(10)),
            offer("Oeufs", "3.20", None),
        ],
    )
    .await;
    let (chicken, eggs) = (sale.producer.offers[0], sale.producer.offers[1]);
    let customer = customers(&app, 1).await.remove(0);

    let placed = order(&app, sale.distribution_id, &customer, &[(chicken, "2")])
        .await
        .expect(201);
    assert_eq!(placed["number"], 1);
    assert_eq!(placed["distribution_id"], json!(sale.distribution_id));
    assert_eq!(placed["lines"][0]["unit_price"], "12.50");
    assert_eq!(placed["lines"][0]["total"], "25.00");
    assert_eq!(placed["total"], "25.00");
    assert_eq!(
        shop_available(&app, sale.distribution_id, chicken)
            .await
            .as_deref(),
        Some("8")
    );
    assert_eq!(
        shop_available(&app, sale.distribution_id, eggs).await,
        None,
        "unlimited"
    );

    // Ordering again adds to the same order.
    let added = order(
        &app,
        sale.distribution_id,
        &customer,
        &[(chicken, "1"), (eggs, "2")],
    )
    .await
    .expect(201);
    assert_eq!(added["id"], placed["id"]);
    assert_eq!(added["number"], 1);
    assert_eq!(added["total"], "43.90");
    assert_eq!(sold(&app, chicken).await, dec!(3));

    let order_id = parse_id(&placed["id"]);
    let path = format!("/api/v1/orders/{order_id}");
    let read = app.get(&path, Some(&customer.token)).await.expect(200);
    assert_eq!(read["total"], "43.90");
    assert_eq!(stored_lines(&app, order_id).await, answered_lines(&added));

    // PATCH replaces the lines: only the difference moves.
    let changed = app
        .patch(
            &path,
            &json!({"lines": [{"offer_id": chicken, "quantity": "1"}]}),
            Some(&customer.token),
        )
        .await
        .expect(200);
    assert_eq!(changed["total"], "12.50");
    assert_eq!(sold(&app, chicken).await, dec!(1));
    assert_eq!(
        stored_lines(&app, order_id).await,
        answered_lines(&changed),
        "the eggs' line is gone, the chicken's line shrank"
    );
    assert_eq!(
        shop_available(&app, sale.distribution_id, chicken)
            .await
            .as_deref(),
        Some("9")
    );

    // Another customer may not see or touch it.
    let stranger = customers(&app, 1).await.remove(0);
    app.get(&path, Some(&stranger.token))
        .await
        .expect_problem(404, "not_found");
    app.delete(&path, Some(&stranger.token))
        .await
        .expect_problem(404, "not_found");

    app.delete(&path, Some(&customer.token)).await.expect(204);
    assert_eq!(sold(&app, chicken).await, dec!(0));
    assert_eq!(
        shop_available(&app, sale.distribution_id, chicken)
            .await
            .as_deref(),
        Some("10")
    );
    let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(&app.db)
        .await
        .expect("order");
    assert_eq!(status, "cancelled");

    // A new order after cancelling gets a new number.
    let again = order(&app, sale.distribution_id, &customer, &[(eggs, "1")])
        .await
        .expect(201);
    assert_eq!(again["number"], 2);
    assert_ne!(again["id"], placed["id"]);
}

#[actix_web::test]
async fn refusals_are_problem_documents_and_change_nothing() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.50", Some(2))]).await;
    let chicken = sale.producer.offers[0];
    let customer = customers(&app, 1).await.remove(0);
    let orders = format!("/api/v1/distributions/{}/orders", sale.distribution_id);

    let problem = order(&app, sale.distribution_id, &customer, &[(chicken, "3")])
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(problem["offers"][0]["offer_id"], json!(chicken));
    assert_eq!(problem["offers"][0]["requested"], "3");
    assert_eq!(problem["offers"][0]["available"], "2");

    let problem = app
        .post(
            &orders,
            &json!({"lines": [{"offer_id": chicken, "quantity": "1.5"},
                                          {"offer_id": "nope", "quantity": 1},
                                          {"offer_id": uuid::Uuid::new_v4(), "quantity": 1}]}),
            Some(&customer.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "lines[1].offer_id");
    let problem = app
        .post(
            &orders,
            &json!({"lines": [{"offer_id": chicken, "quantity": "1.5"},
                                          {"offer_id": uuid::Uuid::new_v4(), "quantity": 1}]}),
            Some(&customer.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["lines[0].quantity", "lines[1].offer_id"]);
    app.post(
        &orders,
        &json!({"lines": [{"offer_id": chicken, "quantity": 0}]}),
        Some(&customer.token),
    )
    .await
    .expect_problem(422, "invalid_field");
    app.post(&orders, &json!({"lines": []}), Some(&customer.token))
        .await
        .expect_problem(422, "invalid_field");
    app.post(
        &orders,
        &json!({"lines": [{"offer_id": chicken, "quantity": 1}]}),
        None,
    )
    .await
    .expect_problem(401, "unauthorized");
    app.post(
        &format!("/api/v1/distributions/{}/orders", uuid::Uuid::new_v4()),
        &json!({"lines": [{"offer_id": chicken, "quantity": 1}]}),
        Some(&customer.token),
    )
    .await
    .expect_problem(404, "not_found");

    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(count, 0, "no refused request left an order");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    let text = metrics.text().await.expect("text");
    for series in [
        "engine_orders_total{outcome=\"insufficient_stock\"}",
        "engine_orders_total{outcome=\"invalid_field\"}",
        "engine_order_seconds_bucket",
        "engine_reservation_seconds_bucket",
    ] {
        assert!(text.contains(series), "{series} in /metrics");
    }
    assert_eq!(
        shop_available(&app, sale.distribution_id, chicken)
            .await
            .as_deref(),
        Some("2")
    );
}

#[actix_web::test]
async fn orders_are_refused_before_opening_and_from_the_closing_instant() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Miel", "8.00", Some(50))]).await;
    let honey = sale.producer.offers[0];
    let customer = customers(&app, 1).await.remove(0);

    app.clock
        .set(sale.window.opens_at - Duration::milliseconds(1));
    let problem = order(&app, sale.distribution_id, &customer, &[(honey, "1")])
        .await
        .expect_problem(409, "sale_not_open");
    assert_eq!(problem["offer_id"], json!(honey));

    app.clock.set(sale.window.opens_at);
    let placed = order(&app, sale.distribution_id, &customer, &[(honey, "1")])
        .await
        .expect(201);
    let path = format!("/api/v1/orders/{}", placed["id"].as_str().expect("id"));

    app.clock
        .set(sale.window.closes_at - Duration::milliseconds(1));
    order(&app, sale.distribution_id, &customer, &[(honey, "1")])
        .await
        .expect(201);

    app.clock.set(sale.window.closes_at);
    order(&app, sale.distribution_id, &customer, &[(honey, "1")])
        .await
        .expect_problem(409, "sale_closed");
    app.patch(
        &path,
        &json!({"lines": [{"offer_id": honey, "quantity": 5}]}),
        Some(&customer.token),
    )
    .await
    .expect_problem(409, "sale_closed");
    app.delete(&path, Some(&customer.token))
        .await
        .expect_problem(409, "sale_closed");
    assert_eq!(
        sold(&app, honey).await,
        dec!(2),
        "nothing changed after closing"
    );

    let shop = app
        .get(
            &format!("/api/v1/distributions/{}/shop", sale.distribution_id),
            None,
        )
        .await
        .expect(200);
    assert_eq!(shop["catalogs"][0]["status"], "closed");
}

#[actix_web::test]
async fn prices_are_frozen_when_the_sale_opens_until_a_forced_sync() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Pommes", "2.50", None)]).await;
    let apples = sale.producer.offers[0];
    let owner = &sale.producer.owner;
    let customer = customers(&app, 2).await;

    let first = order(&app, sale.distribution_id, &customer[0], &[(apples, "2")])
        .await
        .expect(201);
    assert_eq!(first["lines"][0]["unit_price"], "2.50");

    // The producer raises the price: the open sale keeps its frozen price.
    let offer_path = format!("/api/v1/offers/{apples}");
    let mut current = app.get(&offer_path, Some(&owner.token)).await.expect(200);
    current["price"] = json!("3.00");
    let body = json!({"label": current["label"], "quantity": current["quantity"], "unit": current["unit"],
                      "price": "3.00", "vat_rate_id": current["vat_rate_id"]});
    app.put(&offer_path, &body, Some(&owner.token))
        .await
        .expect(200);
    let shop = app
        .get(
            &format!("/api/v1/distributions/{}/shop", sale.distribution_id),
            None,
        )
        .await
        .expect(200);
    assert_eq!(shop["offers"][0]["price"], "2.50");
    let second = order(&app, sale.distribution_id, &customer[1], &[(apples, "1")])
        .await
        .expect(201);
    assert_eq!(second["lines"][0]["unit_price"], "2.50");

    // A stranger may not force the sync.
    app.post(
        &format!("/api/v1/catalogs/{}/sync", sale.producer.catalog_id),
        &json!({}),
        Some(&customer[0].token),
    )
    .await
    .expect_problem(403, "forbidden");
    let synced = app
        .post(
            &format!("/api/v1/catalogs/{}/sync", sale.producer.catalog_id),
            &json!({}),
            Some(&owner.token),
        )
        .await
        .expect(200);
    assert_eq!(synced["synced_sales"], 1);
    let shop = app
        .get(
            &format!("/api/v1/distributions/{}/shop", sale.distribution_id),
            None,
        )
        .await
        .expect(200);
    assert_eq!(shop["offers"][0]["price"], "3.00");

    // New lines take the new price; lines already ordered keep theirs.
    let newer = order(&app, sale.distribution_id, &customer[1], &[(apples, "1")])
        .await
        .expect(201);
    let prices: Vec<&str> = newer["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["unit_price"].as_str())
        .collect();
    assert_eq!(prices, vec!["2.50", "3.00"]);
    let kept = app
        .get(
            &format!("/api/v1/orders/{}", first["id"].as_str().expect("id")),
            Some(&customer[0].token),
        )
        .await
        .expect(200);
    assert_eq!(kept["lines"][0]["unit_price"], "2.50");
}

#[actix_web::test]
async fn a_stock_change_by_the_producer_is_live() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Fromage", "6.00", Some(1))]).await;
    let cheese = sale.producer.offers[0];
    let customer = customers(&app, 2).await;
    order(&app, sale.distribution_id, &customer[0], &[(cheese, "1")])
        .await
        .expect(201);
    order(&app, sale.distribution_id, &customer[1], &[(cheese, "1")])
        .await
        .expect_problem(409, "insufficient_stock");
    app.put(
        &format!("/api/v1/offers/{cheese}/stock"),
        &json!({"tracked": true, "real": "5"}),
        Some(&sale.producer.owner.token),
    )
    .await
    .expect(200);
    assert_eq!(
        shop_available(&app, sale.distribution_id, cheese)
            .await
            .as_deref(),
        Some("4")
    );
    order(&app, sale.distribution_id, &customer[1], &[(cheese, "4")])
        .await
        .expect(201);
    assert_eq!(sold(&app, cheese).await, dec!(5));
}
