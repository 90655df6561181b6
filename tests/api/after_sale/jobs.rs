//! The after-sale jobs, driven by the test: the closing summary (sent
//! once, also across a restart) and delivery settlement (exactly once).

use chrono::{DateTime, Duration, Utc};
use etal::engine::clock::Clock;
use rust_decimal_macros::dec;
use serde_json::json;

use super::setup::{
    ends_at, farm, line_ids, link_all, market_with_fee, quiet_settings, sale, start, start_with,
};
use super::stock;
use crate::fixtures::{customers, order, sold};
use crate::helpers::count;

#[actix_web::test]
async fn the_closing_summary_is_sent_once_even_across_a_restart() {
    let first = start(Utc::now()).await;
    let app = &first.app;
    let (farm, o) = farm(app).await;
    let market = market_with_fee(app, "Marché", "0", true).await;
    link_all(app, &market, &[&farm]).await;
    let (d, window) = sale(app, &market, &[&farm]).await;
    let c = customers(app, 1).await;
    order(app, d, &c[0], &[(o.apples, "2")]).await.expect(201);
    assert_eq!(first.run_jobs().await.summaries, 0, "still open");
    app.clock.set(window.closes_at + Duration::seconds(1));
    let report = first.run_jobs().await;
    assert_eq!((report.summaries, report.messages), (1, 1), "{report:?}");
    assert_eq!(
        first.run_jobs().await.summaries,
        0,
        "same engine, second pass"
    );
    let (recipient, subject, body, sent): (String, String, String, Option<DateTime<Utc>>) =
        sqlx::query_as(
            "SELECT recipient, subject, body, sent_at FROM outbox WHERE kind = 'summary'",
        )
        .fetch_one(&app.db)
        .await
        .expect("one summary");
    assert_eq!(recipient, farm.owner.email);
    assert!(subject.contains("Marché"), "{subject}");
    assert!(
        body.contains("- Pommes 1 kg : 2 — 5,00\u{202f}€ TTC") && body.contains("N° 1 — Client 0"),
        "{body}"
    );
    assert!(sent.is_some());

    // Restart: a new engine on the same database sends nothing again.
    let url = app.database_url.clone();
    let later = app.clock.now() + Duration::minutes(5);
    first.stop().await;
    let second = start_with(quiet_settings(&url), later).await;
    let report = second.run_jobs().await;
    assert_eq!((report.summaries, report.messages), (0, 0), "{report:?}");
    assert_eq!(
        count(
            &second.app,
            "SELECT count(*) FROM outbox WHERE kind = 'summary' AND $1 IS NOT NULL",
            d
        )
        .await,
        1
    );
    second.stop().await;
}

#[actix_web::test]
async fn delivery_settles_stock_exactly_once() {
    let engine = start(Utc::now()).await;
    let app = &engine.app;
    let (farm, o) = farm(app).await;
    let market = market_with_fee(app, "Marché", "0", true).await;
    link_all(app, &market, &[&farm]).await;
    let (d, _) = sale(app, &market, &[&farm]).await;
    let c = customers(app, 2).await;
    let placed = order(app, d, &c[0], &[(o.apples, "3"), (o.juice, "2")])
        .await
        .expect(201);
    order(app, d, &c[1], &[(o.apples, "1")]).await.expect(201);
    let token = farm.owner.token.clone();
    assert_eq!(
        stock(app, farm.producer_id, o.apples, &token).await,
        ("10".into(), "4".into(), "6".into())
    );

    let end = ends_at(&app.db, d).await;
    app.clock.set(end + Duration::minutes(14));
    assert_eq!(
        engine.run_jobs().await.deliveries,
        0,
        "not before the delay"
    );
    app.clock.set(end + Duration::minutes(15));
    // Two passes at once: one settles, the other finds nothing to do.
    let (a, b) = futures_util::join!(engine.run_jobs(), engine.run_jobs());
    assert_eq!(a.deliveries + b.deliveries, 1, "{a:?} {b:?}");
    assert_eq!(engine.run_jobs().await.deliveries, 0);
    assert_eq!(
        stock(app, farm.producer_id, o.apples, &token).await,
        ("6".into(), "0".into(), "6".into())
    );
    assert_eq!(sold(app, o.apples).await, dec!(0));
    assert_eq!(count(app, "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.distribution_id = $1 AND l.delivered_at IS NULL", d).await, 0);
    assert_eq!(
        count(
            app,
            "SELECT count(*) FROM stock_movements WHERE kind = 'delivery' AND offer_id = $1",
            o.apples
        )
        .await,
        1
    );
    assert_eq!(
        count(
            app,
            "SELECT count(*) FROM distributions WHERE id = $1 AND delivered_at IS NOT NULL",
            d
        )
        .await,
        1
    );
    let recap = app
        .get(
            &format!("/api/v1/distributions/{d}/recap"),
            Some(&market.admin.token),
        )
        .await
        .expect(200);
    assert!(recap["distributions"][0]["delivered_at"].is_string());
    // Quantities can no longer change; the live figures agree with the page.
    let line = line_ids(&placed, o.apples)[0];
    app.patch(
        &format!("/api/v1/order-lines/{line}"),
        &json!({"quantity": "1"}),
        Some(&token),
    )
    .await
    .expect_problem(409, "delivered");

    // A restarted engine does not settle again.
    let url = app.database_url.clone();
    let later = app.clock.now() + Duration::hours(1);
    engine.stop().await;
    let second = start_with(quiet_settings(&url), later).await;
    assert_eq!(second.run_jobs().await.deliveries, 0);
    assert_eq!(
        stock(&second.app, farm.producer_id, o.apples, &token).await,
        ("6".into(), "0".into(), "6".into())
    );
    second.stop().await;
}

/// A minimal SMTP server on the loopback: takes one session and returns
/// its transcript (commands and message).
async fn smtp_sink() -> (u16, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("sink binds");
    let port = listener.local_addr().expect("sink address").port();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("a client");
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut transcript = String::new();
        write.write_all(b"220 sink ESMTP\r\n").await.ok();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            transcript.push_str(&line);
            transcript.push('\n');
            let reply: &[u8] = if in_data {
                if line != "." {
                    continue;
                }
                in_data = false;
                b"250 queued\r\n"
            } else {
                let command = line.to_uppercase();
                if command.starts_with("EHLO") {
                    b"250-sink\r\n250 8BITMIME\r\n"
                } else if command.starts_with("DATA") {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if command.starts_with("QUIT") {
                    write.write_all(b"221 bye\r\n").await.ok();
                    break;
                } else {
                    b"250 ok\r\n"
                }
            };
            write.write_all(reply).await.ok();
        }
        transcript
    });
    (port, task)
}

#[actix_web::test]
async fn with_smtp_configured_the_summary_is_mailed() {
    let (port, sink) = smtp_sink().await;
    let url = crate::helpers::fresh_database().await;
    let mut settings = quiet_settings(&url);
    settings.notify.smtp_host = "127.0.0.1".into();
    settings.notify.smtp_port = port;
    settings.notify.smtp_tls = etal::configuration::SmtpTls::None;
    settings.notify.from = "etal <noreply@example.org>".into();
    let engine = start_with(settings, Utc::now()).await;
    let app = &engine.app;
    let (farm, o) = farm(app).await;
    let market = market_with_fee(app, "Marché", "0", true).await;
    link_all(app, &market, &[&farm]).await;
    let (d, window) = sale(app, &market, &[&farm]).await;
    let c = customers(app, 1).await;
    order(app, d, &c[0], &[(o.apples, "2")]).await.expect(201);
    app.clock.set(window.closes_at + Duration::seconds(1));
    let report = engine.run_jobs().await;
    assert_eq!((report.summaries, report.messages), (1, 1), "{report:?}");
    let transcript = tokio::time::timeout(std::time::Duration::from_secs(20), sink)
        .await
        .expect("the SMTP session ends")
        .expect("sink task");
    assert!(
        transcript.contains("MAIL FROM:<noreply@example.org>"),
        "{transcript}"
    );
    assert!(
        transcript.contains(&format!("RCPT TO:<{}>", farm.owner.email)),
        "{transcript}"
    );
    assert!(transcript.contains("Pommes"), "{transcript}");
    let (sent, attempts): (Option<DateTime<Utc>>, i32) =
        sqlx::query_as("SELECT sent_at, attempts FROM outbox WHERE kind = 'summary'")
            .fetch_one(&app.db)
            .await
            .expect("summary row");
    assert!(sent.is_some());
    assert_eq!(attempts, 1);
    engine.stop().await;
}
