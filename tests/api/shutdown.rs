//! Stopping `etal serve` like a person does: Ctrl-C (SIGINT) or SIGTERM
//! lets the orders in flight finish and be acknowledged, then the engine
//! exits cleanly; a second Ctrl-C stops it at once.

use std::time::Duration;

use serde_json::json;

use crate::fixtures::{customers, offer, open_sale};
use crate::helpers::{fresh_database, TestApp};
use crate::recovery::{free_port, EngineProcess};

/// An engine whose writer holds a lone order for `wait_ms` before committing
/// (waiting for company), so an order is surely in flight when the signal
/// comes; and a customer of an open sale.
async fn engine_with_a_slow_writer(wait_ms: &str) -> (EngineProcess, TestApp, String, String) {
    let url = fresh_database().await;
    let port = free_port();
    let engine = EngineProcess::start_with(
        &url,
        port,
        &[("ETAL__ENGINE__WRITER_BATCH_WAIT_MS", wait_ms)],
    )
    .await;
    let app = TestApp::external(format!("http://127.0.0.1:{port}"), port, &url).await;
    let sale = open_sale(&app, &[offer("Poulet", "12.00", Some(5))]).await;
    sqlx::query(
        "UPDATE distributions SET orders_open_at = now() - interval '1 minute' WHERE id = $1",
    )
    .bind(sale.distribution_id)
    .execute(&app.db)
    .await
    .expect("open the window now");
    let customer = customers(&app, 1).await.remove(0);
    let path = format!("/api/v1/distributions/{}/orders", sale.distribution_id);
    let body = json!({"lines": [{"offer_id": sale.producer.offers[0], "quantity": 1}]});
    (engine, app, path, format!("{body}|{}", customer.token))
}

/// Sends the order; the answer, or `None` when the connection was cut.
async fn order(app: &TestApp, path: &str, body_and_token: &str) -> Option<u16> {
    let (body, token) = body_and_token.split_once('|').expect("body|token");
    let body: serde_json::Value = serde_json::from_str(body).expect("json");
    app.try_call(reqwest::Method::POST, path, Some(&body), Some(token))
        .await
        .ok()
        .map(|a| a.status.as_u16())
}

/// Waits until the engine holds one order in its writer (metrics).
async fn until_an_order_is_queued(app: &TestApp) {
    for _ in 0..500 {
        let metrics = app.client.get(app.url("/metrics")).send().await;
        if let Ok(text) = metrics.map(|m| m.text()) {
            if text
                .await
                .unwrap_or_default()
                .contains("engine_writer_queue_depth 1")
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the order never reached the writer");
}

#[actix_web::test]
async fn ctrl_c_lets_an_order_in_flight_finish_and_be_acknowledged() {
    for signal in ["INT", "TERM"] {
        let (mut engine, app, path, order_of) = engine_with_a_slow_writer("1500").await;
        let (answer, ()) = futures_util::join!(order(&app, &path, &order_of), async {
            until_an_order_is_queued(&app).await;
            engine.signal(signal);
        });
        assert_eq!(
            answer,
            Some(201),
            "SIG{signal}: the order in flight is acknowledged"
        );
        let status = engine
            .exited(Duration::from_secs(30))
            .await
            .expect("the engine exits once drained");
        assert!(status.success(), "SIG{signal}: a clean exit, got {status}");
        let (stored,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM orders WHERE status = 'confirmed'")
                .fetch_one(&app.db)
                .await
                .expect("count");
        assert_eq!(stored, 1, "SIG{signal}: the acknowledged order is stored");
        // Nothing listens any more.
        assert!(app.client.get(app.url("/health")).send().await.is_err());
    }
}

#[actix_web::test]
async fn a_second_ctrl_c_stops_at_once() {
    let (mut engine, app, path, order_of) = engine_with_a_slow_writer("20000").await;
    let (answer, ()) = futures_util::join!(order(&app, &path, &order_of), async {
        until_an_order_is_queued(&app).await;
        engine.signal("INT");
        tokio::time::sleep(Duration::from_millis(200)).await;
        engine.signal("INT");
    });
    let status = engine
        .exited(Duration::from_secs(10))
        .await
        .expect("the second Ctrl-C exits without waiting for the order");
    assert_eq!(status.code(), Some(130));
    assert_eq!(answer, None, "the order in flight was cut, not answered");
}

#[actix_web::test]
async fn an_idle_engine_reports_an_empty_writer_queue_and_explains_its_metrics() {
    // Its own process: the metrics of the in-process test engines are shared.
    let (mut engine, app, path, order_of) = engine_with_a_slow_writer("0").await;
    assert_eq!(order(&app, &path, &order_of).await, Some(201));
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(text.contains("engine_writer_queue_depth 0"), "{text}");
    for metric in [
        "http_requests_total",
        "engine_writer_queue_depth",
        "engine_orders_total",
    ] {
        assert!(
            text.contains(&format!("# HELP {metric} ")),
            "no HELP for {metric}: {text}"
        );
    }
    engine.signal("TERM");
    assert!(engine.exited(Duration::from_secs(30)).await.is_some());
}
