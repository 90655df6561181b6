//! The French demo (`etal seed demo`, `etal serve --demo`): seeded into a
//! fresh database through the same library call the CLI makes, then tried
//! through HTTP like a customer would — the open shop, a login with the
//! printed credentials, an order. Seeding again changes nothing; a start
//! after the open sale has closed opens a fresh one; seeding beside a
//! running engine is refused (one engine per database).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use etal::demo::{data, seed_with_clock, Demo};
use etal::engine::clock::ManualClock;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{count_rows, fresh_database, spawn_app_with, test_settings};

/// Row counts of every table the demo writes.
async fn counts(db: &PgPool) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in [
        "accounts",
        "producers",
        "producer_members",
        "vat_rates",
        "products",
        "offers",
        "stock_movements",
        "catalogs",
        "catalog_entries",
        "markets",
        "market_admins",
        "market_catalogs",
        "distributions",
        "participations",
        "orders",
        "order_lines",
    ] {
        out.push((
            table,
            count_rows(db, &format!("SELECT count(*) FROM {table}")).await,
        ));
    }
    out
}

async fn seed_at(url: &str, now: DateTime<Utc>) -> Demo {
    seed_with_clock(&test_settings(url), Arc::new(ManualClock::new(now)))
        .await
        .expect("the demo seeds")
}

/// The order window of a distribution.
async fn window(db: &PgPool, id: Uuid) -> (DateTime<Utc>, DateTime<Utc>) {
    sqlx::query_as("SELECT orders_open_at, orders_close_at FROM distributions WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .expect("distribution")
}

fn shop_offer(shop: &Value, offer: Uuid) -> &Value {
    shop["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .find(|o| o["offer_id"] == offer.to_string())
        .unwrap_or_else(|| panic!("offer {offer} not in the shop: {shop}"))
}

#[actix_web::test]
async fn the_demo_is_seeded_once_and_a_customer_orders_from_its_open_sale() {
    let url = fresh_database().await;
    let now = Utc::now();
    let demo = seed_at(&url, now).await;
    let db = PgPool::connect(&url).await.expect("pool");

    // The open sale's market day is the Croix-Rousse's usual day (Thursday),
    // as printed and as the directory says.
    let (starts,): (DateTime<Utc>,) =
        sqlx::query_as("SELECT starts_at FROM distributions WHERE id = $1")
            .bind(demo.open_distribution())
            .fetch_one(&db)
            .await
            .expect("starts_at");
    assert_eq!(
        chrono::Datelike::weekday(&starts.with_timezone(&chrono_tz::Europe::Paris)),
        chrono::Weekday::Thu,
        "the open sale is on the market's usual day"
    );

    // The shape the issue asks for.
    assert_eq!(count_rows(&db, "SELECT count(*) FROM markets").await, 2);
    assert_eq!(count_rows(&db, "SELECT count(*) FROM producers").await, 4);
    assert!(count_rows(&db, "SELECT count(*) FROM products").await >= 25);
    assert_eq!(
        count_rows(&db, "SELECT count(*) FROM products WHERE multi_weight").await,
        1,
        "the farm chicken is weighed piece by piece"
    );
    assert!(
        count_rows(
            &db,
            "SELECT count(*) FROM products WHERE variable_price AND NOT multi_weight"
        )
        .await
            >= 1
    );
    assert!(count_rows(&db, "SELECT count(*) FROM offers WHERE stock_tracked").await >= 10);
    assert!(count_rows(&db, "SELECT count(*) FROM offers WHERE NOT stock_tracked").await >= 5);
    assert_eq!(
        count_rows(
            &db,
            "SELECT count(*) FROM producer_members WHERE role = 'collaborator'"
        )
        .await,
        2
    );
    assert_eq!(
        count_rows(&db, "SELECT count(DISTINCT rate) FROM vat_rates").await,
        2
    );
    assert_eq!(
        count_rows(&db, "SELECT count(*) FROM catalogs").await,
        5,
        "one producer has a catalog per market"
    );
    assert_eq!(
        count_rows(&db, "SELECT count(*) FROM market_catalogs").await,
        8
    );
    assert!(
        count_rows(
            &db,
            "SELECT count(*) FROM accounts WHERE password_hash LIKE '$argon2id$%'"
        )
        .await
            >= 11
    );
    let open = demo.open_distribution();
    let upcoming = demo.upcoming_distribution();
    let (opens, closes) = window(&db, open).await;
    assert!(opens <= now && now < closes, "the sale is open now");
    let (opens, _) = window(&db, upcoming).await;
    assert!(opens > now, "the other sale opens later");
    let participants =
        |d: Uuid| format!("SELECT count(*) FROM participations WHERE distribution_id = '{d}'");
    assert_eq!(
        count_rows(&db, &participants(open)).await,
        4,
        "every producer takes part"
    );
    assert_eq!(count_rows(&db, &participants(upcoming)).await, 4);
    assert_eq!(
        count_rows(&db, &format!("SELECT count(*) FROM orders WHERE distribution_id = '{open}' AND status = 'confirmed'")).await,
        2,
        "two customers already ordered"
    );

    // Seeding again (a restart of `serve --demo`) changes nothing.
    let before = counts(&db).await;
    let again = seed_at(&url, now).await;
    assert_eq!(counts(&db).await, before, "a second seed changes nothing");
    assert_eq!(again.open_distribution(), open);
    assert_eq!(again.upcoming_distribution(), upcoming);
    assert_eq!(again.order_numbers, demo.order_numbers);

    let app = spawn_app_with(test_settings(&url), now).await;
    let refused = seed_with_clock(&test_settings(&url), Arc::new(ManualClock::new(now)))
        .await
        .expect_err("seeding beside a running engine is refused");
    assert!(
        refused.to_string().contains("another etal engine"),
        "{refused}"
    );

    // The open shop shows every producer's catalog and live availability.
    let sac = demo.offer("Pommes de terre", "Sac").expect("potato bag");
    let vrac = demo
        .offer("Pommes de terre", "Vrac")
        .expect("loose potatoes");
    let chicken = demo
        .offer("Poulet fermier", "Poulet entier (env. 1,8 kg)")
        .expect("chicken");
    let shop_path = format!("/api/v1/distributions/{open}/shop");
    let shop = app.get(&shop_path, None).await.expect(200);
    let catalogs = shop["catalogs"].as_array().expect("catalogs");
    assert_eq!(catalogs.len(), 4);
    assert!(catalogs.iter().all(|c| c["status"] == "open"), "{shop}");
    assert!(shop["offers"].as_array().expect("offers").len() >= 30);
    assert_eq!(shop_offer(&shop, sac)["price"], "20.00");
    assert_eq!(
        shop_offer(&shop, sac)["available"],
        "7",
        "8 bags, Léa ordered one"
    );
    assert_eq!(shop_offer(&shop, vrac)["price"], "2.50");
    assert_eq!(
        shop_offer(&shop, vrac)["available"],
        Value::Null,
        "unlimited"
    );
    assert_eq!(
        shop_offer(&shop, chicken)["available"],
        "10",
        "12 chickens, Léa took two"
    );
    let later = app
        .get(&format!("/api/v1/distributions/{upcoming}/shop"), None)
        .await
        .expect(200);
    assert!(later["catalogs"]
        .as_array()
        .expect("catalogs")
        .iter()
        .all(|c| c["status"] == "upcoming"));

    // A demo customer logs in with the printed credentials and orders.
    let customer = demo.example_customer().expect("a customer").clone();
    assert!(!demo.order_numbers.contains_key(&customer.id));
    let session = app
        .post(
            "/api/v1/sessions",
            &json!({"email": customer.email, "password": data::PASSWORD}),
            None,
        )
        .await
        .expect(201);
    let token = session["token"].as_str().expect("token");
    let order = app
        .post(
            &format!("/api/v1/distributions/{open}/orders"),
            &json!({"lines": [{"offer_id": sac, "quantity": 1}, {"offer_id": chicken, "quantity": 1}]}),
            Some(token),
        )
        .await
        .expect(201);
    assert_eq!(order["number"], 3, "numbered after the two seeded orders");
    assert_eq!(order["lines"].as_array().expect("lines").len(), 2);
    assert_eq!(order["total"], "41.60");
    let shop = app.get(&shop_path, None).await.expect(200);
    assert_eq!(shop_offer(&shop, sac)["available"], "6");
    let ordered: rust_decimal::Decimal = sqlx::query_scalar(
        "SELECT COALESCE(sum(l.quantity), 0) FROM order_lines l
           JOIN orders o ON o.id = l.order_id AND o.status = 'confirmed'
          WHERE l.offer_id = $1 AND l.delivered_at IS NULL",
    )
    .bind(sac)
    .fetch_one(&db)
    .await
    .expect("ordered");
    assert_eq!(ordered, rust_decimal::Decimal::from(2));

    // Last week's market day, once: weighed, changed by a producer,
    // validated with payouts and their dates; and the demo's messages.
    let history: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM distributions WHERE validated_at IS NOT NULL),
                (SELECT count(*) FROM payouts WHERE paid_on IS NOT NULL AND available_on IS NOT NULL),
                (SELECT count(*) FROM order_lines WHERE weight IS NOT NULL AND delivered_at IS NOT NULL),
                (SELECT count(*) FROM order_line_changes WHERE field = 'quantity'),
                (SELECT count(*) FROM messages)",
    )
    .fetch_one(&db)
    .await
    .expect("history");
    assert_eq!(
        history,
        (1, 4, 4, 1, 4),
        "validated, payouts, weighed, changed, messages"
    );

    // What is printed names the real ids and the logins.
    let text = demo.render(&app.address);
    for needle in [
        open.to_string(),
        sac.to_string(),
        chicken.to_string(),
        customer.email.to_owned(),
        data::ADMIN.email.to_owned(),
        data::PASSWORD.to_owned(),
        format!(
            "{}/ws/distributions/{open}",
            app.address.replacen("http", "ws", 1)
        ),
    ] {
        assert!(text.contains(&needle), "`{needle}` missing from:\n{text}");
    }

    // The next start (its orders read again from the database) suggests
    // someone who has not ordered, and says so; once everyone has, the
    // example adds to an order and says that instead.
    let mut next_start = demo;
    next_start.order_numbers.insert(customer.id, 3);
    let next = next_start.example_customer().expect("a customer").clone();
    assert_ne!(
        next.id, customer.id,
        "the customer who just ordered is not suggested"
    );
    let banner = next_start.render(&app.address);
    assert!(
        banner.contains(&format!("log in as {} (no order yet)", next.name)),
        "{banner}"
    );
    let everyone: Vec<Uuid> = next_start.setup.customers.iter().map(|c| c.id).collect();
    for (i, id) in everyone.into_iter().enumerate() {
        next_start.order_numbers.entry(id).or_insert(10 + i as i32);
    }
    let banner = next_start.render(&app.address);
    assert!(banner.contains("to their order n°"), "{banner}");
    assert!(!banner.contains("(no order yet) and order"), "{banner}");
}

#[actix_web::test]
async fn a_start_after_the_open_sale_closed_opens_a_fresh_one() {
    let url = fresh_database().await;
    let t0 = Utc::now();
    let first = seed_at(&url, t0).await;
    let db = PgPool::connect(&url).await.expect("pool");
    let lasting = |all: Vec<(&'static str, i64)>| -> Vec<(&'static str, i64)> {
        all.into_iter()
            .filter(|(t, _)| {
                // Orders also write stock movements.
                ![
                    "distributions",
                    "participations",
                    "orders",
                    "order_lines",
                    "stock_movements",
                ]
                .contains(t)
            })
            .collect()
    };
    let before = lasting(counts(&db).await);

    // Past the first sale's closing (the market day is a Thursday up to
    // eight days away).
    let (_, first_closes) = window(&db, first.open_distribution()).await;
    let later = first_closes + Duration::hours(1);
    let second = seed_at(&url, later).await;
    assert_eq!(
        lasting(counts(&db).await),
        before,
        "nothing but sales is added"
    );
    let open = second.open_distribution();
    assert_ne!(open, first.open_distribution(), "the old sale has closed");
    let (opens, closes) = window(&db, open).await;
    assert!(opens <= later && later < closes, "open at the new start");
    let (opens, _) = window(&db, second.upcoming_distribution()).await;
    assert!(opens > later, "and one still to come");
    let orders = |d: Uuid| {
        format!(
            "SELECT count(*) FROM orders WHERE distribution_id = '{d}' AND status = 'confirmed'"
        )
    };
    assert_eq!(
        count_rows(&db, &orders(first.open_distribution())).await,
        2,
        "old orders stay"
    );
    if second.sales.open.created {
        assert_eq!(
            count_rows(&db, &orders(open)).await,
            2,
            "a fresh sale gets the demo orders"
        );
        assert_eq!(second.order_numbers.len(), 2);
    }
}
