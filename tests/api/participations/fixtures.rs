//! Fixtures shared by the distribution and participation tests: markets
//! through the API (the engine caches who may do what), catalogs and
//! links inserted with SQL (their endpoints belong to another
//! part of the API), orders inserted with SQL until the ordering engine
//! takes them, and a small world of one market, one producer and two
//! distributions planned through the API.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{parse_id, Answer, TestApp, TestUser};

/// `days` from today at `hour`:00 UTC (whole seconds, so it round-trips).
pub fn day(days: i64, hour: u32) -> DateTime<Utc> {
    (Utc::now().date_naive() + Duration::days(days))
        .and_hms_opt(hour, 0, 0)
        .expect("valid hour")
        .and_utc()
}

/// RFC 3339 as the API writes it.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A market (Europe/Paris, Thursdays) administered by `admin`, created
/// through the API: role changes must go through the engine, which caches
/// who may do what.
pub async fn api_market(app: &TestApp, admin: &TestUser, name: &str) -> Uuid {
    let market = app
        .post(
            "/api/v1/markets",
            &json!({"name": name,
                    "place": {"address": "1 place du Marché, Lyon", "lat": 45.76, "lng": 4.83},
                    "usual_weekday": 4, "timezone": "Europe/Paris"}),
            Some(&admin.token),
        )
        .await
        .expect(201);
    parse_id(&market["id"])
}

/// An empty catalog of `producer`, inserted with SQL.
pub async fn sql_catalog(app: &TestApp, producer: Uuid, name: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO catalogs (producer_id, name, code)
         VALUES ($1, $2, lpad(floor(random() * 1e9)::bigint::text, 9, '0')) RETURNING id",
    )
    .bind(producer)
    .bind(name)
    .fetch_one(&app.db)
    .await
    .expect("catalog")
}

/// Links a catalog to a market, with SQL.
pub async fn sql_link(app: &TestApp, market: Uuid, catalog: Uuid) {
    sqlx::query("INSERT INTO market_catalogs (market_id, catalog_id) VALUES ($1, $2)")
        .bind(market)
        .bind(catalog)
        .execute(&app.db)
        .await
        .expect("link");
}

/// A confirmed order of one line in `participation`, inserted with SQL
/// (product, offer and the participation's frozen row included).
pub async fn sql_order(app: &TestApp, participation: Uuid) -> Uuid {
    let db = &app.db;
    let customer = app.user("Cliente").await;
    let (distribution, producer): (Uuid, Uuid) = sqlx::query_as(
        "SELECT p.distribution_id, c.producer_id FROM participations p
           JOIN catalogs c ON c.id = p.catalog_id WHERE p.id = $1",
    )
    .bind(participation)
    .fetch_one(db)
    .await
    .expect("participation");
    let vat: Uuid = sqlx::query_scalar(
        "INSERT INTO vat_rates (producer_id, name, rate) VALUES ($1, $2, 5.5) RETURNING id",
    )
    .bind(producer)
    .bind(format!("TVA {}", Uuid::new_v4()))
    .fetch_one(db)
    .await
    .expect("vat rate");
    let product: Uuid = sqlx::query_scalar(
        "INSERT INTO products (producer_id, name, category, unit)
         VALUES ($1, 'Pommes', 'Fruits', 'kg') RETURNING id",
    )
    .bind(producer)
    .fetch_one(db)
    .await
    .expect("product");
    let offer: Uuid = sqlx::query_scalar(
        "INSERT INTO offers (product_id, label, quantity, unit, price, vat_rate_id)
         VALUES ($1, 'Vrac', 1, 'kg', 2.50, $2) RETURNING id",
    )
    .bind(product)
    .bind(vat)
    .fetch_one(db)
    .await
    .expect("offer");
    sqlx::query(
        "INSERT INTO participation_offers (participation_id, offer_id, product_id, product_name,
             product_unit, variable_price, multi_weight, fractional, label, quantity, unit, price, vat_rate)
         VALUES ($1, $2, $3, 'Pommes', 'kg', false, false, false, 'Vrac', 1, 'kg', 2.50, 5.5)",
    )
    .bind(participation)
    .bind(offer)
    .bind(product)
    .execute(db)
    .await
    .expect("snapshot row");
    let order: Uuid = sqlx::query_scalar(
        "INSERT INTO orders (distribution_id, customer_id, number)
         VALUES ($1, $2, (SELECT coalesce(max(number), 0) + 1 FROM orders WHERE distribution_id = $1))
         RETURNING id",
    )
    .bind(distribution)
    .bind(customer.id)
    .fetch_one(db)
    .await
    .expect("order");
    sqlx::query(
        "INSERT INTO order_lines (order_id, offer_id, participation_id, quantity, unit_price, vat_rate)
         VALUES ($1, $2, $3, 2, 2.50, 5.5)",
    )
    .bind(order)
    .bind(offer)
    .bind(participation)
    .execute(db)
    .await
    .expect("order line");
    order
}

/// Plans a distribution through the API: starts `days` from today at
/// 15:00 UTC for two hours; orders from `open_days` 06:00 to the day
/// before 20:00.
pub async fn plan(
    app: &TestApp,
    admin: &TestUser,
    market: Uuid,
    days: i64,
    open_days: i64,
) -> Value {
    app.post(
        &format!("/api/v1/markets/{market}/distributions"),
        &json!({
            "starts_at": ts(day(days, 15)), "ends_at": ts(day(days, 17)),
            "orders_open_at": ts(day(open_days, 6)), "orders_close_at": ts(day(days - 1, 20)),
        }),
        Some(&admin.token),
    )
    .await
    .expect(201)
}

/// A market with its admin, a producer with its owner and one catalog
/// linked to the market, and two distributions: one whose sale is open now
/// (in 3 days) and one whose sale opens later (in 10 days).
pub struct World {
    pub admin: TestUser,
    pub owner: TestUser,
    pub market: Uuid,
    pub producer: Uuid,
    pub catalog: Uuid,
    pub open_now: Uuid,
    pub later: Uuid,
}

pub async fn world(app: &TestApp) -> World {
    let admin = app.user("Admin").await;
    let owner = app.user("Paysanne").await;
    let market = api_market(app, &admin, "Marché de la Croix-Rousse").await;
    let producer = app.producer(&owner, "Ferme des Lilas").await;
    let catalog = sql_catalog(app, producer, "Légumes").await;
    sql_link(app, market, catalog).await;
    let open_now = parse_id(&plan(app, &admin, market, 3, -1).await["id"]);
    let later = parse_id(&plan(app, &admin, market, 10, 5).await["id"]);
    World {
        admin,
        owner,
        market,
        producer,
        catalog,
        open_now,
        later,
    }
}

pub async fn participate(
    app: &TestApp,
    user: &TestUser,
    distribution: Uuid,
    body: &Value,
) -> Answer {
    app.post(
        &format!("/api/v1/distributions/{distribution}/participations"),
        body,
        Some(&user.token),
    )
    .await
}

pub async fn participations_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM participations")
        .fetch_one(&app.db)
        .await
        .expect("count")
}
