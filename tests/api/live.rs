//! Live storefronts over WebSocket (`GET /ws/distributions/{id}`), with
//! real `tokio-tungstenite` clients: the snapshot is the shop document, a
//! thousand watchers converge to the database after a burst of orders, a
//! client that never reads neither slows ordering nor keeps a stale view,
//! sale edges follow the test clock, a forced sync or a stock change is
//! pushed. Every wait is a bounded wait for the frame itself.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use etal::engine::clock::Clock;
use futures_util::future::join_all;
use futures_util::{stream, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use uuid::Uuid;

use crate::fixtures::{
    customers, distribution, force_sync, link, many_offers, market, offer, open_sale, order,
    participate, producer_with_catalog, sold, window_from,
};
use crate::helpers::{fresh_database, spawn_app, spawn_app_with, test_settings, TestApp};
use crate::live_client::{
    connect, connect_stuck, next_frame, next_of_type, refused, watch_until, WAIT,
};

/// What the database says each offer has left: `real − sold`, as the
/// storefront shows it.
async fn truth(app: &TestApp, offers: &[(Uuid, u32)]) -> HashMap<String, Value> {
    let mut truth = HashMap::new();
    for (offer_id, real) in offers {
        let left = rust_decimal::Decimal::from(*real) - sold(app, *offer_id).await;
        truth.insert(offer_id.to_string(), json!(left.normalize().to_string()));
    }
    truth
}

/// Orders in flight at once in a burst: real concurrency, without queueing
/// hundreds of requests behind the test database's pool on a busy machine.
const BURST: usize = 64;

fn path(distribution_id: Uuid) -> String {
    format!("/ws/distributions/{distribution_id}")
}

#[actix_web::test]
async fn the_snapshot_is_the_shop_document() {
    let app = spawn_app().await;
    let sale = open_sale(
        &app,
        &[
            offer("Poulet", "12.50", Some(10)),
            offer("Pain", "4.00", None),
        ],
    )
    .await;
    let buyer = &customers(&app, 1).await[0];
    order(
        &app,
        sale.distribution_id,
        buyer,
        &[(sale.producer.offers[0], "3")],
    )
    .await
    .expect(201);

    let mut ws = connect(&app, &path(sale.distribution_id)).await;
    let mut snapshot = next_frame(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot");
    let shop = app
        .get(
            &format!("/api/v1/distributions/{}/shop", sale.distribution_id),
            None,
        )
        .await
        .expect(200);
    snapshot.as_object_mut().map(|o| o.remove("type"));
    assert_eq!(snapshot, shop, "the snapshot is the shop document");
    assert_eq!(shop["offers"][0]["available"], "7");
    assert!(shop["offers"][1]["available"].is_null());

    // An unknown distribution is refused before the upgrade.
    let (status, problem) = refused(&app, &path(Uuid::new_v4()), None).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    // Plain HTTP on a WebSocket route: 400, not a hang.
    app.get(&path(sale.distribution_id), None)
        .await
        .expect_problem(400, "bad_request");
}

#[actix_web::test]
async fn a_thousand_watchers_converge_to_the_database_after_a_burst() {
    let _heavy = crate::helpers::heavy().await;
    let app = spawn_app().await;
    let stocks = [150_u32, 200, 60];
    let sale = open_sale(
        &app,
        &[
            offer("Poulet", "12.50", Some(stocks[0])),
            offer("Oeufs", "3.00", Some(stocks[1])),
            offer("Miel", "8.00", Some(stocks[2])),
        ],
    )
    .await;
    let offers: Vec<(Uuid, u32)> = sale.producer.offers.iter().copied().zip(stocks).collect();
    let crowd = customers(&app, 400).await;

    let (target_tx, target) = watch::channel(None);
    let watched = path(sale.distribution_id);
    // A thousand sockets open at once (opened 100 at a time: the test's
    // single thread must finish each handshake before the server's 5 s
    // request timeout).
    let sockets: Vec<_> = stream::iter((0..1000).map(|_| connect(&app, &watched)))
        .buffer_unordered(100)
        .collect()
        .await;
    let watchers: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(watch_until(ws, target.clone())))
        .collect();

    // The burst: single-line orders, so true availability only ever goes
    // down and a watcher seeing it go up would have received an older
    // value after a newer one. The honey (60) sells out.
    let answers: Vec<_> = stream::iter(crowd.iter().enumerate().map(|(i, c)| {
        let (offer_id, _) = offers[i % offers.len()];
        order(&app, sale.distribution_id, c, &[(offer_id, "1")])
    }))
    .buffer_unordered(BURST)
    .collect()
    .await;
    let accepted = answers.iter().filter(|a| a.status.as_u16() == 201).count();
    for answer in &answers {
        let status = answer.status.as_u16();
        if !(status == 201 || status == 409) {
            let logs = crate::helpers::captured_logs();
            let warnings = logs
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"));
            for line in warnings.take(20) {
                eprintln!("{line}");
            }
        }
        assert!(
            status == 201 || status == 409,
            "unexpected {status}: {}",
            answer.body
        );
    }
    assert_eq!(accepted, 134 + 133 + 60, "every order fits except honey's");

    let truth = truth(&app, &offers).await;
    assert_eq!(truth[&offers[2].0.to_string()], "0");
    target_tx.send_replace(Some(truth.clone()));
    let views = tokio::time::timeout(WAIT * 4, join_all(watchers))
        .await
        .expect("every watcher converges in time");
    for (i, view) in views.into_iter().enumerate() {
        let view = view
            .expect("watcher task")
            .unwrap_or_else(|e| panic!("watcher {i}: {e}"));
        assert_eq!(
            view.available, truth,
            "watcher {i} last saw the database's figures"
        );
    }
}

#[actix_web::test]
async fn a_client_that_never_reads_does_not_slow_ordering_and_is_resynchronised() {
    let _heavy = crate::helpers::heavy().await;
    let mut settings = test_settings(&fresh_database().await);
    settings.engine.ws_buffer_frames = 2;
    settings.engine.push_coalesce_ms = 10;
    // The stuck client must fall behind, not time out.
    settings.engine.ws_heartbeat_secs = 600;
    settings.engine.ws_idle_timeout_secs = 1200;
    let app = spawn_app_with(settings, Utc::now()).await;
    // Many offers: big snapshots fill the socket buffers, many frames follow.
    let sale = open_sale(&app, &many_offers(60)).await;
    let offers: Vec<(Uuid, u32)> = sale.producer.offers.iter().map(|o| (*o, 10)).collect();
    let crowd = customers(&app, 360).await;

    let (target_tx, target) = watch::channel(None);
    let reader = connect(&app, &path(sale.distribution_id)).await;
    let reader = tokio::spawn(watch_until(reader, target.clone()));
    let stuck = connect_stuck(&app, &path(sale.distribution_id)).await;

    // Forced syncs: every watcher gets a fresh 20 kB snapshot each time.
    for _ in 0..20 {
        force_sync(&app, &sale).await;
    }
    // Then a burst while the stuck client reads nothing: every order
    // completes as usual.
    let answers: Vec<_> = stream::iter(crowd.iter().enumerate().map(|(i, c)| {
        order(
            &app,
            sale.distribution_id,
            c,
            &[(offers[i % offers.len()].0, "1")],
        )
    }))
    .buffer_unordered(BURST)
    .collect()
    .await;
    for answer in &answers {
        assert_eq!(answer.status.as_u16(), 201, "{}", answer.body);
    }

    let truth = truth(&app, &offers).await;
    target_tx.send_replace(Some(truth.clone()));
    let view = tokio::time::timeout(WAIT, reader)
        .await
        .expect("the reading client converges")
        .expect("reader task")
        .expect("reader view");
    assert_eq!(view.available, truth);

    // The stuck client now reads: it lost its backlog and got a fresh
    // snapshot taken after the burst (all its earlier snapshots predate
    // it), so it converges instead of replaying stale frames.
    let view = tokio::time::timeout(WAIT, watch_until(stuck, target.clone()))
        .await
        .expect("the stuck client converges once it reads")
        .expect("stuck client view");
    assert_eq!(view.available, truth);
    assert!(
        view.snapshot_matched,
        "one of its snapshots already showed the final figures (a resync after falling behind)"
    );
}

#[actix_web::test]
async fn sale_opened_and_sale_closed_arrive_at_the_window_edges() {
    let app = spawn_app().await;
    let producer = producer_with_catalog(&app, "Ferme", &[offer("Poulet", "12.50", Some(5))]).await;
    let market = market(&app, "Marché").await;
    link(&app, &market, &producer).await;
    let window = window_from(app.clock.now());
    let distribution_id = distribution(&app, &market, &window).await;
    participate(&app, &producer, distribution_id).await;

    let mut ws = connect(&app, &path(distribution_id)).await;
    let snapshot = next_frame(&mut ws).await;
    assert_eq!(snapshot["catalogs"][0]["status"], "upcoming");

    app.clock.set(window.opens_at + Duration::seconds(1));
    let opened = next_of_type(&mut ws, "sale_opened").await;
    assert_eq!(
        opened,
        json!({"type": "sale_opened", "catalog_id": producer.catalog_id})
    );

    app.clock.set(window.closes_at);
    let closed = next_of_type(&mut ws, "sale_closed").await;
    assert_eq!(
        closed,
        json!({"type": "sale_closed", "catalog_id": producer.catalog_id})
    );

    // A watcher arriving now sees it closed in its snapshot.
    let mut late = connect(&app, &path(distribution_id)).await;
    assert_eq!(
        next_frame(&mut late).await["catalogs"][0]["status"],
        "closed"
    );
}

#[actix_web::test]
async fn a_forced_sync_and_a_stock_change_are_pushed() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Pommes", "2.50", Some(40))]).await;
    let apples = sale.producer.offers[0];
    let owner = &sale.producer.owner;
    let mut ws = connect(&app, &path(sale.distribution_id)).await;
    assert_eq!(next_frame(&mut ws).await["offers"][0]["available"], "40");

    // The producer raises the price, then forces the sync: a fresh snapshot.
    let offer_path = format!("/api/v1/offers/{apples}");
    let current = app.get(&offer_path, Some(&owner.token)).await.expect(200);
    let body = json!({"label": current["label"], "quantity": current["quantity"], "unit": current["unit"],
                      "price": "3.00", "vat_rate_id": current["vat_rate_id"]});
    app.put(&offer_path, &body, Some(&owner.token))
        .await
        .expect(200);
    force_sync(&app, &sale).await;
    let fresh = next_of_type(&mut ws, "snapshot").await;
    assert_eq!(fresh["offers"][0]["price"], "3.00");

    // The producer sets the stock: watchers see it.
    app.put(
        &format!("/api/v1/offers/{apples}/stock"),
        &json!({"tracked": true, "real": "12"}),
        Some(&owner.token),
    )
    .await
    .expect(200);
    let pushed = next_of_type(&mut ws, "availability").await;
    assert_eq!(
        pushed,
        json!({"type": "availability", "offers": [{"offer_id": apples, "available": "12"}]})
    );
}
