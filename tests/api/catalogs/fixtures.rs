//! Test fixtures shared by the catalog and market tests: offers,
//! distributions with a participation, and orders are inserted with SQL
//! (their endpoints belong to other parts of the API, or do not exist
//! yet); catalogs and markets are created through the API.

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{parse_id, TestApp, TestUser};

/// Inserts a VAT rate, a product and one offer for `producer`; returns the offer id.
pub async fn fixture_offer(
    db: &PgPool,
    producer: Uuid,
    product: &str,
    label: &str,
    price: &str,
) -> Uuid {
    let vat: Uuid = sqlx::query_scalar(
        "INSERT INTO vat_rates (producer_id, name, rate) VALUES ($1, $2, 5.5) RETURNING id",
    )
    .bind(producer)
    .bind(format!("TVA {}", Uuid::new_v4().simple()))
    .fetch_one(db)
    .await
    .expect("vat rate");
    let product: Uuid = sqlx::query_scalar(
        "INSERT INTO products (producer_id, name, category, unit) VALUES ($1, $2, 'Légumes', 'kg')
         RETURNING id",
    )
    .bind(producer)
    .bind(product)
    .fetch_one(db)
    .await
    .expect("product");
    sqlx::query_scalar(
        "INSERT INTO offers (product_id, label, quantity, unit, price, vat_rate_id)
         VALUES ($1, $2, 1, 'kg', $3::numeric, $4) RETURNING id",
    )
    .bind(product)
    .bind(label)
    .bind(price)
    .bind(vat)
    .fetch_one(db)
    .await
    .expect("offer")
}

/// Inserts a distribution of `market` in which `catalog` (already linked)
/// takes part selling `offer`; returns (distribution, participation).
pub async fn fixture_participation(
    db: &PgPool,
    market: Uuid,
    catalog: Uuid,
    offer: Uuid,
) -> (Uuid, Uuid) {
    let distribution: Uuid = sqlx::query_scalar(
        "INSERT INTO distributions (market_id, starts_at, ends_at, orders_open_at, orders_close_at)
         VALUES ($1, now() + interval '2 days', now() + interval '2 days 2 hours',
                 now() - interval '1 day', now() + interval '1 day') RETURNING id",
    )
    .bind(market)
    .fetch_one(db)
    .await
    .expect("distribution");
    let participation: Uuid = sqlx::query_scalar(
        "INSERT INTO participations (distribution_id, catalog_id) VALUES ($1, $2) RETURNING id",
    )
    .bind(distribution)
    .bind(catalog)
    .fetch_one(db)
    .await
    .expect("participation");
    sqlx::query(
        "INSERT INTO participation_offers (participation_id, offer_id, product_id, product_name,
                 product_unit, variable_price, multi_weight, fractional, label, quantity, unit, price, vat_rate)
         SELECT $1, o.id, p.id, p.name, p.unit, p.variable_price, p.multi_weight, p.fractional,
                o.label, o.quantity, o.unit, o.price, v.rate
           FROM offers o JOIN products p ON p.id = o.product_id JOIN vat_rates v ON v.id = o.vat_rate_id
          WHERE o.id = $2",
    )
    .bind(participation)
    .bind(offer)
    .execute(db)
    .await
    .expect("participation offer");
    (distribution, participation)
}

/// Inserts a confirmed order of `customer` for one unit of `offer`.
pub async fn fixture_order(
    db: &PgPool,
    distribution: Uuid,
    participation: Uuid,
    offer: Uuid,
    customer: Uuid,
) -> Uuid {
    let order: Uuid = sqlx::query_scalar(
        "INSERT INTO orders (distribution_id, customer_id, number)
         VALUES ($1, $2, (SELECT coalesce(max(number), 0) + 1 FROM orders WHERE distribution_id = $1))
         RETURNING id",
    )
    .bind(distribution)
    .bind(customer)
    .fetch_one(db)
    .await
    .expect("order");
    sqlx::query(
        "INSERT INTO order_lines (order_id, offer_id, participation_id, quantity, unit_price, vat_rate)
         VALUES ($1, $2, $3, 1, 2.50, 5.5)",
    )
    .bind(order)
    .bind(offer)
    .bind(participation)
    .execute(db)
    .await
    .expect("order line");
    order
}

/// Creates a catalog through the API; returns its document.
pub async fn create_catalog(
    app: &TestApp,
    user: &TestUser,
    producer: Uuid,
    entries: Value,
) -> Value {
    app.post(
        &format!("/api/v1/producers/{producer}/catalogs"),
        &json!({"name": "Marché du jeudi", "entries": entries}),
        Some(&user.token),
    )
    .await
    .expect(201)
}

/// Creates a market through the API; returns its id.
pub async fn create_market(
    app: &TestApp,
    admin: &TestUser,
    name: &str,
    lat: f64,
    lng: f64,
    weekday: Value,
) -> Uuid {
    let body = app
        .post(
            "/api/v1/markets",
            &json!({"name": name, "place": {"address": format!("Place de {name}"), "lat": lat, "lng": lng},
                    "online_payment": true, "usual_weekday": weekday}),
            Some(&admin.token),
        )
        .await
        .expect(201);
    parse_id(&body["id"])
}

pub async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.expect("count")
}

pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str().map(str::to_owned))
        .collect()
}
