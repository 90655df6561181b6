//! Stock never oversells under real concurrency: hundreds of customers at
//! once over HTTP, then the database is checked — every 201 is there, no
//! offer sold beyond its stock, no order half-written, and the engine's live
//! availability equals what the database says.

use std::collections::HashMap;

use futures_util::future::join_all;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{
    customers, distribution, link, market, offer, open_sale, order, participate,
    producer_with_catalog, shop_available, sold, window_from,
};
use crate::helpers::{fresh_database, parse_id, spawn_app, spawn_app_with, test_settings, TestApp};
use etal::configuration::ActorPlacement;

/// Confirmed orders in the database: id → lines (offer, quantity).
async fn stored_orders(app: &TestApp) -> HashMap<Uuid, Vec<(Uuid, Decimal)>> {
    let rows: Vec<(Uuid, Uuid, Decimal)> = sqlx::query_as(
        "SELECT o.id, l.offer_id, l.quantity FROM orders o JOIN order_lines l ON l.order_id = o.id
          WHERE o.status = 'confirmed'",
    )
    .fetch_all(&app.db)
    .await
    .expect("orders");
    let mut orders: HashMap<Uuid, Vec<(Uuid, Decimal)>> = HashMap::new();
    for (order, offer, quantity) in rows {
        orders.entry(order).or_default().push((offer, quantity));
    }
    orders
}

/// The shop's availability equals real stock minus what the database sold.
async fn assert_live_matches_database(
    app: &TestApp,
    distribution_id: Uuid,
    offer_id: Uuid,
    real: Decimal,
) {
    let sold = sold(app, offer_id).await;
    assert!(sold <= real, "offer {offer_id} oversold: {sold} > {real}");
    let shown = shop_available(app, distribution_id, offer_id).await;
    assert_eq!(
        shown,
        Some((real - sold).normalize().to_string()),
        "live availability of {offer_id}"
    );
}

#[actix_web::test]
async fn five_hundred_customers_race_for_one_offer_with_stock_100() {
    let _heavy = crate::helpers::heavy().await;
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet fermier", "14.00", Some(100))]).await;
    let chicken = sale.producer.offers[0];
    let crowd = customers(&app, 500).await;

    let answers = join_all(
        crowd
            .iter()
            .map(|c| order(&app, sale.distribution_id, c, &[(chicken, "1")])),
    )
    .await;
    let mut accepted = Vec::new();
    let mut refused = 0;
    for answer in answers {
        match answer.status.as_u16() {
            201 => accepted.push(parse_id(&answer.body["id"])),
            409 => {
                assert_eq!(answer.body["code"], "insufficient_stock");
                refused += 1;
            }
            other => {
                let logs = crate::helpers::captured_logs();
                for line in logs
                    .lines()
                    .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                    .take(20)
                {
                    eprintln!("{line}");
                }
                panic!("unexpected {other}: {}", answer.body)
            }
        }
    }
    assert_eq!(accepted.len(), 100, "exactly the stock is sold");
    assert_eq!(refused, 400);
    let stored = stored_orders(&app).await;
    for id in &accepted {
        assert!(
            stored.contains_key(id),
            "acknowledged order {id} is in the database"
        );
    }
    assert_eq!(stored.len(), 100);
    let mut numbers: Vec<i32> = sqlx::query_as::<_, (i32,)>("SELECT number FROM orders")
        .fetch_all(&app.db)
        .await
        .expect("numbers")
        .into_iter()
        .map(|(n,)| n)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 100, "order numbers are unique");
    assert_eq!(sold(&app, chicken).await, dec!(100));
    assert_live_matches_database(&app, sale.distribution_id, chicken, dec!(100)).await;
}

#[actix_web::test]
async fn one_offer_sold_in_two_markets_at_once_never_oversells() {
    two_markets_race(ActorPlacement::ById).await;
}

/// The offer's actor beside one distribution's, serving the other's too.
#[actix_web::test]
async fn one_offer_placed_with_one_of_its_two_markets_never_oversells() {
    two_markets_race(ActorPlacement::WithDistribution).await;
}

async fn two_markets_race(placement: ActorPlacement) {
    let _heavy = crate::helpers::heavy().await;
    let mut settings = test_settings(&fresh_database().await);
    settings.engine.actor_placement = placement;
    let app = spawn_app_with(settings, chrono::Utc::now()).await;
    let producer = producer_with_catalog(
        &app,
        "Ferme partagée",
        &[offer("Agneau", "18.00", Some(40))],
    )
    .await;
    let lamb = producer.offers[0];
    let window = window_from(etal::engine::clock::Clock::now(&app.clock));
    let mut distributions = Vec::new();
    for name in ["Marché Nord", "Marché Sud"] {
        let m = market(&app, name).await;
        link(&app, &m, &producer).await;
        let d = distribution(&app, &m, &window).await;
        participate(&app, &producer, d).await;
        distributions.push(d);
    }
    app.clock
        .set(window.opens_at + chrono::Duration::seconds(1));
    let crowd = customers(&app, 300).await;
    let answers = join_all(
        crowd
            .iter()
            .enumerate()
            .map(|(i, c)| order(&app, distributions[i % 2], c, &[(lamb, "1")])),
    )
    .await;
    let accepted = answers.iter().filter(|a| a.status.as_u16() == 201).count();
    assert!(answers
        .iter()
        .all(|a| matches!(a.status.as_u16(), 201 | 409)));
    assert_eq!(accepted, 40);
    assert_eq!(sold(&app, lamb).await, dec!(40));
    for d in distributions {
        assert_live_matches_database(&app, d, lamb, dec!(40)).await;
    }
}

#[actix_web::test]
async fn multi_producer_baskets_racing_for_scarce_offers_are_all_or_nothing() {
    let _heavy = crate::helpers::heavy().await;
    let app = spawn_app().await;
    let a = producer_with_catalog(
        &app,
        "Ferme A",
        &[
            offer("Fraises", "4.00", Some(30)),
            offer("Cerises", "6.00", Some(25)),
        ],
    )
    .await;
    let b = producer_with_catalog(&app, "Ferme B", &[offer("Beurre", "3.50", Some(20))]).await;
    let m = market(&app, "Marché commun").await;
    link(&app, &m, &a).await;
    link(&app, &m, &b).await;
    let window = window_from(etal::engine::clock::Clock::now(&app.clock));
    let d = distribution(&app, &m, &window).await;
    participate(&app, &a, d).await;
    participate(&app, &b, d).await;
    app.clock
        .set(window.opens_at + chrono::Duration::seconds(1));

    let (strawberries, cherries, butter) = (a.offers[0], a.offers[1], b.offers[0]);
    let baskets: Vec<Vec<(Uuid, &str)>> = vec![
        vec![(strawberries, "2"), (butter, "1")],
        vec![(cherries, "1"), (butter, "2")],
        vec![(strawberries, "1"), (cherries, "2"), (butter, "1")],
    ];
    let crowd = customers(&app, 240).await;
    let answers = join_all(
        crowd
            .iter()
            .enumerate()
            .map(|(i, c)| order(&app, d, c, &baskets[i % baskets.len()])),
    )
    .await;
    let stored = stored_orders(&app).await;
    let mut accepted = 0;
    for (i, answer) in answers.iter().enumerate() {
        match answer.status.as_u16() {
            201 => {
                accepted += 1;
                let id = parse_id(&answer.body["id"]);
                let mut lines = stored.get(&id).cloned().expect("acknowledged order stored");
                lines.sort();
                let mut asked: Vec<(Uuid, Decimal)> = baskets[i % baskets.len()]
                    .iter()
                    .map(|(o, q)| (*o, q.parse().expect("decimal")))
                    .collect();
                asked.sort();
                assert_eq!(lines, asked, "the whole basket, nothing less");
            }
            409 => assert_eq!(answer.body["code"], "insufficient_stock"),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert!(accepted > 0);
    assert_eq!(
        stored.len(),
        accepted,
        "no order without its acknowledgement, no partial one"
    );
    for (offer, real) in [
        (strawberries, dec!(30)),
        (cherries, dec!(25)),
        (butter, dec!(20)),
    ] {
        assert_live_matches_database(&app, d, offer, real).await;
    }
    assert_eq!(
        sold(&app, butter).await,
        dec!(20),
        "the scarcest offer sells out"
    );
}

#[actix_web::test]
async fn changes_and_cancellations_interleaved_with_new_orders_keep_stock_exact() {
    let _heavy = crate::helpers::heavy().await;
    let app = spawn_app().await;
    let sale = open_sale(
        &app,
        &[
            offer("Pain", "4.20", Some(150)),
            offer("Brioche", "7.00", Some(60)),
        ],
    )
    .await;
    let (bread, brioche) = (sale.producer.offers[0], sale.producer.offers[1]);
    let early = customers(&app, 100).await;
    let placed = join_all(early.iter().map(|c| {
        order(
            &app,
            sale.distribution_id,
            c,
            &[(bread, "1"), (brioche, "1")],
        )
    }))
    .await;
    let ids: Vec<Option<Uuid>> = placed
        .iter()
        .map(|a| (a.status.as_u16() == 201).then(|| parse_id(&a.body["id"])))
        .collect();
    let late = customers(&app, 100).await;

    // Now, all at once: a third cancel, a third change, a third add; newcomers order.
    let changes = early
        .iter()
        .zip(ids.iter())
        .enumerate()
        .filter_map(|(i, (c, id))| {
            let id = (*id)?;
            let path = format!("/api/v1/orders/{id}");
            let app = &app;
            Some(async move {
                match i % 3 {
                    0 => app.delete(&path, Some(&c.token)).await.status.as_u16(),
                    1 => app
                        .patch(
                            &path,
                            &json!({"lines": [{"offer_id": bread, "quantity": "3"}]}),
                            Some(&c.token),
                        )
                        .await
                        .status
                        .as_u16(),
                    _ => order(app, sale.distribution_id, c, &[(brioche, "2")])
                        .await
                        .status
                        .as_u16(),
                }
            })
        });
    let newcomers = late.iter().map(|c| async {
        order(
            &app,
            sale.distribution_id,
            c,
            &[(bread, "1"), (brioche, "1")],
        )
        .await
        .status
        .as_u16()
    });
    let (changed, ordered) = futures_util::join!(join_all(changes), join_all(newcomers));
    assert!(
        changed
            .iter()
            .chain(ordered.iter())
            .all(|s| matches!(s, 200 | 201 | 204 | 409)),
        "{changed:?} {ordered:?}"
    );

    let (lines_bread, lines_brioche): (Option<Decimal>, Option<Decimal>) = sqlx::query_as(
        "SELECT sum(l.quantity) FILTER (WHERE l.offer_id = $1), sum(l.quantity) FILTER (WHERE l.offer_id = $2)
           FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'confirmed'",
    )
    .bind(bread)
    .bind(brioche)
    .fetch_one(&app.db)
    .await
    .expect("sums");
    assert_eq!(sold(&app, bread).await, lines_bread.unwrap_or_default());
    assert_live_matches_database(&app, sale.distribution_id, bread, dec!(150)).await;
    assert_live_matches_database(&app, sale.distribution_id, brioche, dec!(60)).await;
    assert_eq!(sold(&app, brioche).await, lines_brioche.unwrap_or_default());
}

#[actix_web::test]
async fn an_idempotent_retry_storm_makes_one_order() {
    let _heavy = crate::helpers::heavy().await;
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Confiture", "5.00", Some(100))]).await;
    let jam = sale.producer.offers[0];
    let customer = customers(&app, 1).await.remove(0);
    let url = app.url(&format!(
        "/api/v1/distributions/{}/orders",
        sale.distribution_id
    ));
    let body = json!({"lines": [{"offer_id": jam, "quantity": "2"}]});
    let send = |key: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&customer.token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let answers = join_all((0..100).map(|_| send("basket-42"))).await;
    let mut ids = Vec::new();
    for answer in answers {
        let answer = answer.expect("sent");
        assert_eq!(answer.status().as_u16(), 201);
        let body: serde_json::Value = answer.json().await.expect("json");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry answers the same order");
    let (orders, units): (i64, Option<Decimal>) = sqlx::query_as(
        "SELECT count(DISTINCT o.id), sum(l.quantity) FROM orders o JOIN order_lines l ON l.order_id = o.id",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!((orders, units), (1, Some(dec!(2))));

    // A later retry still answers the first order; a different body with the key is refused.
    let later = send("basket-42").await.expect("sent");
    assert_eq!(later.status().as_u16(), 201);
    let later: serde_json::Value = later.json().await.expect("json");
    assert_eq!(later["id"].as_str(), Some(ids[0].as_str()));
    let reused = app
        .client
        .post(&url)
        .bearer_auth(&customer.token)
        .header("Idempotency-Key", "basket-42")
        .json(&json!({"lines": [{"offer_id": jam, "quantity": "5"}]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(reused.status().as_u16(), 422);
    assert_eq!(sold(&app, jam).await, dec!(2));
}
