//! Live order feeds over WebSocket: a producer's (`/ws/producers/{id}`)
//! shows only its own lines of committed orders and its offers' stock; a
//! market's (`/ws/markets/{id}`) every order of its distributions. Strangers
//! are refused before the upgrade; a feed that falls behind is closed with
//! a reason while ordering goes on.

use chrono::{Duration, Utc};
use etal::engine::clock::Clock;
use futures_util::{stream, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::WebSocketStream;
use uuid::Uuid;

use crate::fixtures::{
    customers, distribution, link, market, offer, open_sale, order, participate,
    producer_with_catalog, window_from, ProducerSetup,
};
use crate::helpers::{fresh_database, spawn_app, spawn_app_with, test_settings};
use crate::live_client::{close_frame, connect, connect_as, connect_stuck, next_frame, refused};

/// A feed being read: every frame seen is kept.
struct Feed<S> {
    ws: WebSocketStream<S>,
    seen: Vec<Value>,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Feed<S> {
    fn new(ws: WebSocketStream<S>) -> Self {
        Self { ws, seen: vec![] }
    }

    /// The next `order_*` event (stock frames on the way are kept).
    async fn next_order(&mut self) -> Value {
        loop {
            let frame = next_frame(&mut self.ws).await;
            self.seen.push(frame.clone());
            if frame["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("order_"))
            {
                return frame;
            }
        }
    }

    /// Reads until the last stock frame of `offer` shows `ordered`.
    async fn stock_reaches(&mut self, offer: Uuid, ordered: &str) -> Value {
        loop {
            let last = self
                .seen
                .iter()
                .rev()
                .find(|f| f["type"] == "stock" && f["offer_id"] == json!(offer));
            if let Some(last) = last.filter(|f| f["ordered"] == ordered) {
                return last.clone();
            }
            let frame = next_frame(&mut self.ws).await;
            self.seen.push(frame);
        }
    }

    /// Every offer named by the frames seen (stock frames and order lines).
    fn offers_seen(&self) -> Vec<Value> {
        let mut offers = Vec::new();
        for frame in &self.seen {
            if frame["type"] == "stock" {
                offers.push(frame["offer_id"].clone());
            }
            for line in frame["order"]["lines"].as_array().into_iter().flatten() {
                offers.push(line["offer_id"].clone());
            }
        }
        offers
    }
}

fn offer_ids(lines: &Value) -> Vec<Value> {
    lines
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| l["offer_id"].clone())
        .collect()
}

#[actix_web::test]
async fn a_producer_sees_only_its_own_lines_of_committed_orders() {
    let app = spawn_app().await;
    let farm_a = producer_with_catalog(
        &app,
        "Ferme A",
        &[
            offer("Poulet", "12.50", Some(10)),
            offer("Oeufs", "3.00", Some(100)),
        ],
    )
    .await;
    let farm_b = producer_with_catalog(&app, "Ferme B", &[offer("Miel", "8.00", Some(20))]).await;
    let market = market(&app, "Marché").await;
    link(&app, &market, &farm_a).await;
    link(&app, &market, &farm_b).await;
    let window = window_from(app.clock.now());
    let distribution_id = distribution(&app, &market, &window).await;
    participate(&app, &farm_a, distribution_id).await;
    participate(&app, &farm_b, distribution_id).await;
    app.clock.set(window.opens_at + Duration::seconds(1));
    let (chicken, eggs, honey) = (farm_a.offers[0], farm_a.offers[1], farm_b.offers[0]);

    // A's owner with the header, B's with `?token=` (as a browser does).
    let mut a = Feed::new(
        connect_as(
            &app,
            &format!("/ws/producers/{}", farm_a.producer_id),
            &farm_a.owner.token,
        )
        .await
        .expect("A's feed"),
    );
    let mut b = Feed::new(
        connect(
            &app,
            &format!(
                "/ws/producers/{}?token={}",
                farm_b.producer_id, farm_b.owner.token
            ),
        )
        .await,
    );
    let mut m = Feed::new(
        connect_as(
            &app,
            &format!("/ws/markets/{}", market.market_id),
            &market.admin.token,
        )
        .await
        .expect("market feed"),
    );
    let buyers = customers(&app, 3).await;

    // A basket across both farms: each sees its own lines and their total.
    let placed = order(
        &app,
        distribution_id,
        &buyers[0],
        &[(chicken, "2"), (honey, "1")],
    )
    .await
    .expect(201);
    let seen_by_a = a.next_order().await;
    assert_eq!(seen_by_a["type"], "order_placed");
    assert_eq!(
        seen_by_a["order"],
        json!({"id": placed["id"], "number": placed["number"], "distribution_id": distribution_id,
               "customer": {"id": buyers[0].id, "name": buyers[0].name},
               "lines": [{"id": seen_by_a["order"]["lines"][0]["id"], "offer_id": chicken,
                          "catalog_id": farm_a.catalog_id, "producer_id": farm_a.producer_id,
                          "quantity": "2", "unit_price": "12.50", "total": "25.00"}],
               "total": "25.00"})
    );
    let seen_by_b = b.next_order().await;
    assert_eq!(seen_by_b["type"], "order_placed");
    assert_eq!(offer_ids(&seen_by_b["order"]["lines"]), vec![json!(honey)]);
    assert_eq!(seen_by_b["order"]["total"], "8.00");
    let seen_by_m = m.next_order().await;
    assert_eq!(seen_by_m["type"], "order_placed");
    assert_eq!(seen_by_m["order"]["total"], "33.00");
    assert_eq!(
        seen_by_m["order"]["lines"].as_array().map(Vec::len),
        Some(2)
    );

    // A refused order is never announced: the next event is the next
    // committed order.
    order(&app, distribution_id, &buyers[1], &[(chicken, "50")])
        .await
        .expect_problem(409, "insufficient_stock");
    let next = order(&app, distribution_id, &buyers[2], &[(eggs, "3")])
        .await
        .expect(201);
    assert_eq!(a.next_order().await["order"]["id"], next["id"]);
    assert_eq!(m.next_order().await["order"]["id"], next["id"]);

    // Changing only B's line concerns only B (and the market).
    let order_path = format!(
        "/api/v1/orders/{}",
        placed["id"].as_str().unwrap_or_default()
    );
    app.patch(
        &order_path,
        &json!({"lines": [{"offer_id": chicken, "quantity": "2"}, {"offer_id": honey, "quantity": "3"}]}),
        Some(&buyers[0].token),
    )
    .await
    .expect(200);
    let modified = b.next_order().await;
    assert_eq!(modified["type"], "order_modified");
    assert_eq!(modified["order"]["lines"][0]["quantity"], "3");
    assert_eq!(modified["order"]["total"], "24.00");
    assert_eq!(m.next_order().await["type"], "order_modified");

    // The cancellation shows each farm the lines it no longer prepares; for
    // A it is the next event (the change above did not concern it).
    app.delete(&order_path, Some(&buyers[0].token))
        .await
        .expect(204);
    let cancelled = a.next_order().await;
    assert_eq!(cancelled["type"], "order_cancelled");
    assert_eq!(cancelled["order"]["id"], placed["id"]);
    assert_eq!(
        offer_ids(&cancelled["order"]["lines"]),
        vec![json!(chicken)]
    );
    assert_eq!(b.next_order().await["type"], "order_cancelled");
    assert_eq!(m.next_order().await["type"], "order_cancelled");

    // Stock frames follow A's offers to the database's figures.
    let stock = a.stock_reaches(chicken, "0").await;
    assert_eq!(
        stock,
        json!({"type": "stock", "offer_id": chicken, "tracked": true, "real": "10",
               "ordered": "0", "held": "0", "available": "10"})
    );
    assert_eq!(a.stock_reaches(eggs, "3").await["available"], "97");
    assert_eq!(b.stock_reaches(honey, "0").await["real"], "20");
    // Nobody sees another farm's offers.
    assert!(a.offers_seen().iter().all(|o| *o != json!(honey)));
    assert!(b
        .offers_seen()
        .iter()
        .all(|o| *o != json!(chicken) && *o != json!(eggs)));
}

/// A producer and a market with a sale of one offer, plus strangers.
async fn two_farms(app: &crate::helpers::TestApp) -> (ProducerSetup, ProducerSetup, Uuid) {
    let farm_a = producer_with_catalog(app, "Ferme A", &[offer("Poulet", "12.50", Some(10))]).await;
    let farm_b = producer_with_catalog(app, "Ferme B", &[offer("Miel", "8.00", Some(5))]).await;
    let market = market(app, "Marché").await;
    (farm_a, farm_b, market.market_id)
}

#[actix_web::test]
async fn feeds_refuse_strangers_before_the_upgrade() {
    let app = spawn_app().await;
    let (farm_a, farm_b, market_id) = two_farms(&app).await;
    let customer = &customers(&app, 1).await[0];
    let feed_a = format!("/ws/producers/{}", farm_a.producer_id);
    let feed_m = format!("/ws/markets/{market_id}");

    let (status, problem) = refused(&app, &feed_a, None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, problem) = refused(&app, &feed_a, Some("not-a-token")).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = refused(&app, &format!("{feed_a}?token=not-a-token"), None).await;
    assert_eq!(status, 401);
    for stranger in [&farm_b.owner.token, &customer.token] {
        let (status, problem) = refused(&app, &feed_a, Some(stranger)).await;
        assert_eq!((status, problem["code"].as_str()), (403, Some("forbidden")));
    }
    let (status, problem) = refused(&app, &feed_m, Some(&farm_a.owner.token)).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = refused(&app, &feed_m, None).await;
    assert_eq!(status, 401);
    // The member gets in.
    connect_as(&app, &feed_a, &farm_a.owner.token)
        .await
        .expect("the owner's feed opens");
}

#[actix_web::test]
async fn a_producer_feed_that_falls_behind_is_closed_with_a_reason() {
    let mut settings = test_settings(&fresh_database().await);
    settings.engine.ws_buffer_frames = 2;
    settings.engine.ws_heartbeat_secs = 600;
    settings.engine.ws_idle_timeout_secs = 1200;
    let app = spawn_app_with(settings, Utc::now()).await;
    let sale = open_sale(&app, &[offer("Oeufs", "0.50", Some(10_000))]).await;
    let eggs = sale.producer.offers[0];
    let feed = format!(
        "/ws/producers/{}?token={}",
        sale.producer.producer_id, sale.producer.owner.token
    );
    let mut stuck = connect_stuck(&app, &feed).await;
    let crowd = customers(&app, 400).await;

    // Every order completes while the feed's client reads nothing.
    let answers: Vec<_> = stream::iter(
        crowd
            .iter()
            .map(|c| order(&app, sale.distribution_id, c, &[(eggs, "2")])),
    )
    .buffer_unordered(64)
    .collect()
    .await;
    for answer in &answers {
        assert_eq!(answer.status.as_u16(), 201, "{}", answer.body);
    }

    // Once it reads: what was already on its way, then a close with a reason.
    let close = close_frame(&mut stuck).await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1013, "try again later: {close:?}");
    assert_eq!(close.reason, "fell behind: reconnect");
}

#[actix_web::test]
async fn logging_out_closes_the_feeds_of_that_token_only() {
    let mut settings = test_settings(&fresh_database().await);
    settings.engine.ws_heartbeat_secs = 1;
    let app = spawn_app_with(settings, Utc::now()).await;
    let sale = open_sale(&app, &[offer("Miel", "9.00", Some(50))]).await;
    let owner = &sale.producer.owner;
    let feed = format!("/ws/producers/{}", sale.producer.producer_id);
    let laptop = app
        .post(
            "/api/v1/sessions",
            &json!({"email": owner.email, "password": owner.password}),
            None,
        )
        .await
        .expect(201);
    let laptop_token = laptop["token"].as_str().expect("token").to_owned();
    let mut phone = connect_as(&app, &feed, &owner.token).await.expect("opens");
    let mut laptop = Feed::new(connect_as(&app, &feed, &laptop_token).await.expect("opens"));

    app.delete("/api/v1/sessions/current", Some(&owner.token))
        .await
        .expect(204);
    let close = close_frame(&mut phone).await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1008, "policy: {close:?}");
    assert_eq!(close.reason, "access revoked: sign in again");

    // The other session of the same account still gets the orders.
    let customer = customers(&app, 1).await.remove(0);
    order(
        &app,
        sale.distribution_id,
        &customer,
        &[(sale.producer.offers[0], "1")],
    )
    .await
    .expect(201);
    let placed = laptop.next_order().await;
    assert_eq!(placed["type"], "order_placed");
}
