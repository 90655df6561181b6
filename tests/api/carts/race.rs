//! Baskets under real concurrency and across a restart: hundreds of
//! customers race for the last unit (one basket holds it, and only its
//! owner can then order it — checked against the ledger's live figures and
//! the database), and a restart forgets every hold while stock stays right.

use chrono::Utc;
use etal::engine::clock::Clock;
use futures_util::future::join_all;
use rust_decimal::Decimal;
use serde_json::json;

use super::{cart_path, held, put_cart};
use crate::after_sale::setup::{quiet_settings, start, start_with};
use crate::fixtures::{customers, offer, open_sale, order, shop_available, sold};

#[actix_web::test]
async fn hundreds_race_for_the_last_unit_and_one_basket_holds_it() {
    let _heavy = crate::helpers::heavy().await;
    let app = crate::helpers::spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.00", Some(1))]).await;
    let chicken = sale.producer.offers[0];
    let d = sale.distribution_id;
    let crowd = customers(&app, 300).await;

    let baskets = join_all(
        crowd
            .iter()
            .map(|c| put_cart(&app, d, c, &[(chicken, "1")])),
    )
    .await;
    let mut holders = Vec::new();
    for (customer, answer) in crowd.iter().zip(baskets) {
        let cart = answer.expect(200);
        match held(&cart, chicken).as_deref() {
            Some("1") => holders.push(customer),
            Some("0") => {}
            other => panic!("held {other:?}"),
        }
    }
    assert_eq!(holders.len(), 1, "exactly one basket holds the last unit");
    assert_eq!(shop_available(&app, d, chicken).await.as_deref(), Some("0"));
    let holder = holders[0];

    // Everyone orders: only the holder gets it.
    let orders = join_all(crowd.iter().map(|c| order(&app, d, c, &[(chicken, "1")]))).await;
    let mut accepted = Vec::new();
    for (customer, answer) in crowd.iter().zip(orders) {
        match answer.status.as_u16() {
            201 => accepted.push(customer.id),
            409 => assert_eq!(answer.body["code"], "insufficient_stock"),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert_eq!(accepted, vec![holder.id]);
    assert_eq!(sold(&app, chicken).await, Decimal::ONE);
    let (buyers,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orders WHERE status = 'confirmed' AND customer_id = $1",
    )
    .bind(holder.id)
    .fetch_one(&app.db)
    .await
    .expect("orders");
    assert_eq!(buyers, 1);
    let (all,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders")
        .fetch_one(&app.db)
        .await
        .expect("orders");
    assert_eq!(all, 1, "no other order reached the database");
    assert_eq!(shop_available(&app, d, chicken).await.as_deref(), Some("0"));
    let cart = app
        .get(&cart_path(d), Some(&holder.token))
        .await
        .expect(200);
    assert_eq!(cart, json!({"lines": [], "expires_at": null}), "consumed");
}

#[actix_web::test]
async fn a_restart_forgets_every_hold_and_stock_is_right() {
    let running = start(Utc::now()).await;
    let app = &running.app;
    let sale = open_sale(app, &[offer("Poulet", "12.00", Some(3))]).await;
    let chicken = sale.producer.offers[0];
    let d = sale.distribution_id;
    let crowd = customers(app, 2).await;
    put_cart(app, d, &crowd[0], &[(chicken, "2")])
        .await
        .expect(200);
    order(app, d, &crowd[1], &[(chicken, "1")])
        .await
        .expect(201);
    assert_eq!(shop_available(app, d, chicken).await.as_deref(), Some("0"));
    let (url, now) = (app.database_url.clone(), app.clock.now());
    running.stop().await;

    let restarted = start_with(quiet_settings(&url), now).await;
    let app = &restarted.app;
    assert_eq!(
        shop_available(app, d, chicken).await.as_deref(),
        Some("2"),
        "3 in stock, 1 ordered, nothing held"
    );
    let cart = app
        .get(&cart_path(d), Some(&crowd[0].token))
        .await
        .expect(200);
    assert_eq!(cart["lines"], json!([]));
    assert_eq!(sold(app, chicken).await, Decimal::ONE);
    // The stock is free for anyone again.
    let again = put_cart(app, d, &crowd[1], &[(chicken, "2")])
        .await
        .expect(200);
    assert_eq!(held(&again, chicken).as_deref(), Some("2"));
    restarted.stop().await;
}
