//! After the sale, through HTTP and the engine's jobs: producer quantity
//! changes (stock released or taken, the customer told, every change
//! audited), weighing (single and bulk, all or nothing), the closing summary
//! (sent once, also across a restart), delivery settlement (exactly once)
//! and validation with payouts (the guide's dates, DST, offline markets).

pub mod setup;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use rust_decimal_macros::dec;
use serde_json::json;
use uuid::Uuid;

use etal::engine::clock::Clock;

use crate::fixtures::{customers, offer, order, producer_with_catalog, sold};
use crate::helpers::TestApp;
use setup::{ends_at, farm, line_ids, link_all, market_with_fee, quiet_settings, sale, start, start_with};

async fn count(app: &TestApp, sql: &str, id: Uuid) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).bind(id).fetch_one(&app.db).await.expect("count");
    n
}

async fn stock(app: &TestApp, producer: Uuid, offer: Uuid, token: &str) -> (String, String, String) {
    let page = app
        .get(&format!("/api/v1/producers/{producer}/stocks"), Some(token))
        .await
        .expect(200);
    let line = page
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["offer_id"] == json!(offer)))
        .cloned()
        .unwrap_or_default();
    let s = |k: &str| line[k].as_str().unwrap_or("").to_owned();
    (s("real"), s("ordered"), s("available"))
}

#[actix_web::test]
async fn a_quantity_change_after_closing_releases_stock_and_tells_the_customer() {
    let engine = start(Utc::now()).await;
    let app = &engine.app;
    let (farm, o) = farm(app).await;
    let market = market_with_fee(app, "Marché", "0", true).await;
    link_all(app, &market, &[&farm]).await;
    let (d, window) = sale(app, &market, &[&farm]).await;
    let c = customers(app, 2).await;
    let placed = order(app, d, &c[0], &[(o.apples, "3"), (o.juice, "1")]).await.expect(201);
    let line = line_ids(&placed, o.apples)[0];
    let path = format!("/api/v1/order-lines/{line}");
    let token = Some(farm.owner.token.as_str());

    // While the sale is open the customer owns the order.
    app.patch(&path, &json!({"quantity": "1"}), token)
        .await
        .expect_problem(409, "sale_not_closed");
    app.clock.set(window.closes_at + Duration::seconds(1));

    let changed = app
        .patch(&path, &json!({"quantity": 1, "reason": "grêle sur le verger"}), token)
        .await
        .expect(200);
    assert_eq!((changed["quantity"].clone(), changed["total"].clone()), (json!("1"), json!("2.50")));
    assert_eq!(sold(app, o.apples).await, dec!(1));
    assert_eq!(stock(app, farm.producer_id, o.apples, &farm.owner.token).await, ("10".into(), "1".into(), "9".into()));
    let (by, old, new, reason): (Uuid, rust_decimal::Decimal, rust_decimal::Decimal, Option<String>) = sqlx::query_as(
        "SELECT changed_by, old_value, new_value, reason FROM order_line_changes WHERE order_line_id = $1",
    )
    .bind(line)
    .fetch_one(&app.db)
    .await
    .expect("audit row");
    assert_eq!((by, old, new), (farm.owner.id, dec!(3), dec!(1)));
    assert_eq!(reason.as_deref(), Some("grêle sur le verger"));
    let (recipient, body): (String, String) = sqlx::query_as(
        "SELECT recipient, body FROM outbox WHERE kind = 'line_change'",
    )
    .fetch_one(&app.db)
    .await
    .expect("notice queued");
    assert_eq!(recipient, c[0].email);
    assert!(body.contains("quantité 3 → 1") && body.contains("grêle"), "{body}");

    // Taking more than is left is refused and changes nothing.
    let refused = app
        .patch(&path, &json!({"quantity": "11"}), token)
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(refused["offers"][0]["available"], "9");
    assert_eq!(sold(app, o.apples).await, dec!(1));
    // Bad input names its field; others' lines do not exist for a producer.
    let bad = app
        .patch(&path, &json!({"quantity": "1.5"}), token)
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(bad["errors"][0]["field"], "quantity");
    let other = producer_with_catalog(app, "Voisin", &[offer("Miel", "8.00", None)]).await;
    app.patch(&path, &json!({"quantity": "2"}), Some(&other.owner.token))
        .await
        .expect_problem(404, "not_found");
    app.patch(&path, &json!({"quantity": "2"}), Some(&c[0].token))
        .await
        .expect_problem(404, "not_found");

    // Zero removes the line and gives everything back; the last line's
    // removal cancels the order.
    let removed = app.patch(&path, &json!({"quantity": "0"}), token).await.expect(200);
    assert_eq!(removed["removed"], true);
    assert_eq!(sold(app, o.apples).await, dec!(0));
    assert_eq!(stock(app, farm.producer_id, o.apples, &farm.owner.token).await.2, "10");
    let juice = line_ids(&placed, o.juice)[0];
    app.patch(&format!("/api/v1/order-lines/{juice}"), &json!({"quantity": 0}), token)
        .await
        .expect(200);
    let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
        .bind(placed["id"].as_str().and_then(|s| s.parse::<Uuid>().ok()))
        .fetch_one(&app.db)
        .await
        .expect("order");
    assert_eq!(status, "cancelled");
    assert_eq!(count(app, "SELECT count(*) FROM outbox WHERE recipient = (SELECT email FROM accounts WHERE id = $1)", c[0].id).await, 3);
    let moves = count(app, "SELECT count(*) FROM stock_movements WHERE offer_id = $1 AND account_id IS NOT NULL AND quantity < 0", o.apples).await;
    assert_eq!(moves, 2, "two releases by the producer");

    // The notices go out with the next pass (to the log: no SMTP here).
    let report = engine.run_jobs().await;
    assert!(report.messages >= 3, "{report:?}");
    assert_eq!(count(app, "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND kind = 'line_change' AND $1 IS NOT NULL", d).await, 0);
    engine.stop().await;
}

#[actix_web::test]
async fn weighing_prices_lines_by_real_weight_and_bulk_weighing_is_all_or_nothing() {
    let engine = start(Utc::now()).await;
    let app = &engine.app;
    let (farm, o) = farm(app).await;
    let other = producer_with_catalog(app, "Voisin", &[offer("Miel", "8.00", None)]).await;
    let market = market_with_fee(app, "Marché", "0", true).await;
    link_all(app, &market, &[&farm, &other]).await;
    let (d, window) = sale(app, &market, &[&farm, &other]).await;
    let c = customers(app, 2).await;
    let a = order(app, d, &c[0], &[(o.chicken, "2"), (o.apples, "1"), (other.offers[0], "1")])
        .await
        .expect(201);
    let b = order(app, d, &c[1], &[(o.roast, "3")]).await.expect(201);
    let chicken = line_ids(&a, o.chicken)[0];
    let apples = line_ids(&a, o.apples)[0];
    let honey = line_ids(&a, other.offers[0])[0];
    let roasts = line_ids(&b, o.roast);
    assert_eq!(roasts.len(), 3, "multi-weight: one line per piece");
    let token = Some(farm.owner.token.as_str());
    let weighing = format!("/api/v1/distributions/{d}/weighing");
    app.post(&weighing, &json!({"lines": [{"line_id": chicken, "weight": "3"}]}), token)
        .await
        .expect_problem(409, "sale_not_closed");
    app.clock.set(window.closes_at + Duration::seconds(1));

    let list = app
        .get(&format!("{weighing}?producer_id={}", farm.producer_id), token)
        .await
        .expect(200);
    assert_eq!(list["lines"].as_array().map(Vec::len), Some(4), "{list}");

    // Two chickens at 12.00 €/kg weighing 3.001 kg in all → 36.012 → 36.01.
    let weighed = app
        .patch(&format!("/api/v1/order-lines/{chicken}"), &json!({"weight": "3.001"}), token)
        .await
        .expect(200);
    assert_eq!((weighed["weight"].clone(), weighed["total"].clone()), (json!("3.001"), json!("36.01")));
    // Weights have at most 3 decimals (grams).
    app.patch(&format!("/api/v1/order-lines/{chicken}"), &json!({"weight": "1.0005"}), token)
        .await
        .expect_problem(422, "invalid_field");
    let half = app
        .patch(&format!("/api/v1/order-lines/{chicken}"), &json!({"weight": "0.125"}), token)
        .await
        .expect(200);
    assert_eq!(half["total"], "1.50");
    let fixed = app
        .patch(&format!("/api/v1/order-lines/{apples}"), &json!({"weight": "1.2"}), token)
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(fixed["errors"][0]["field"], "weight");

    // One bad entry: nothing is weighed, every bad entry is named.
    let bad = app
        .post(
            &weighing,
            &json!({"lines": [
                {"line_id": roasts[0], "weight": "0.8"},
                {"line_id": roasts[1], "weight": "-1"},
                {"line_id": Uuid::new_v4(), "weight": "1"},
                {"line_id": honey, "weight": "1"},
                {"line_id": apples, "weight": "1"},
                {"line_id": roasts[0], "weight": "0.9"}]}),
            token,
        )
        .await
        .expect_problem(422, "invalid_field");
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["lines[1].weight", "lines[2].line_id", "lines[3].line_id", "lines[4].weight", "lines[5].line_id"]
    );
    assert_eq!(count(app, "SELECT count(*) FROM order_lines WHERE weight IS NOT NULL AND offer_id = $1", o.roast).await, 0);

    let done = app
        .post(
            &weighing,
            &json!({"lines": [
                {"line_id": roasts[0], "weight": "0.8"},
                {"line_id": roasts[1], "weight": 1.25},
                {"line_id": roasts[2], "weight": "0.333"}]}),
            token,
        )
        .await
        .expect(200);
    assert_eq!(done["weighed"], 3);
    let left = app
        .get(&format!("{weighing}?producer_id={}", farm.producer_id), token)
        .await
        .expect(200);
    assert_eq!(left["lines"].as_array().map(Vec::len), Some(0), "{left}");
    let all = app
        .get(&format!("{weighing}?producer_id={}&include_weighed=true", farm.producer_id), token)
        .await
        .expect(200);
    let mut totals: Vec<&str> = all["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["offer_id"] == json!(o.roast))
        .filter_map(|l| l["total"].as_str())
        .collect();
    totals.sort_unstable();
    // 20.00 × 0.8, × 1.25, × 0.333 = 6.66.
    assert_eq!(totals, ["16.00", "25.00", "6.66"]);
    app.get(&format!("{weighing}?producer_id={}", farm.producer_id), Some(&other.owner.token))
        .await
        .expect_problem(403, "forbidden");
    let audit = count(app, "SELECT count(*) FROM order_line_changes WHERE field = 'weight' AND offer_id = $1", o.roast).await;
    assert_eq!(audit, 3);
    engine.stop().await;
}

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
    assert_eq!(first.run_jobs().await.summaries, 0, "same engine, second pass");
    let (recipient, subject, body, sent): (String, String, String, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT recipient, subject, body, sent_at FROM outbox WHERE kind = 'summary'")
            .fetch_one(&app.db)
            .await
            .expect("one summary");
    assert_eq!(recipient, farm.owner.email);
    assert!(subject.contains("Marché"), "{subject}");
    assert!(body.contains("- Pommes 1 kg : 2 — 5.00 € TTC") && body.contains("N° 1 — Client 0"), "{body}");
    assert!(sent.is_some());

    // Restart: a new engine on the same database sends nothing again.
    let url = app.database_url.clone();
    let later = app.clock.now() + Duration::minutes(5);
    first.stop().await;
    let second = start_with(quiet_settings(&url), later).await;
    let report = second.run_jobs().await;
    assert_eq!((report.summaries, report.messages), (0, 0), "{report:?}");
    assert_eq!(count(&second.app, "SELECT count(*) FROM outbox WHERE kind = 'summary' AND $1 IS NOT NULL", d).await, 1);
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
    let placed = order(app, d, &c[0], &[(o.apples, "3"), (o.juice, "2")]).await.expect(201);
    order(app, d, &c[1], &[(o.apples, "1")]).await.expect(201);
    let token = farm.owner.token.clone();
    assert_eq!(stock(app, farm.producer_id, o.apples, &token).await, ("10".into(), "4".into(), "6".into()));

    let end = ends_at(&app.db, d).await;
    app.clock.set(end + Duration::minutes(14));
    assert_eq!(engine.run_jobs().await.deliveries, 0, "not before the delay");
    app.clock.set(end + Duration::minutes(15));
    // Two passes at once: one settles, the other finds nothing to do.
    let (a, b) = futures_util::join!(engine.run_jobs(), engine.run_jobs());
    assert_eq!(a.deliveries + b.deliveries, 1, "{a:?} {b:?}");
    assert_eq!(engine.run_jobs().await.deliveries, 0);
    assert_eq!(stock(app, farm.producer_id, o.apples, &token).await, ("6".into(), "0".into(), "6".into()));
    assert_eq!(sold(app, o.apples).await, dec!(0));
    assert_eq!(count(app, "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.distribution_id = $1 AND l.delivered_at IS NULL", d).await, 0);
    assert_eq!(count(app, "SELECT count(*) FROM stock_movements WHERE kind = 'delivery' AND offer_id = $1", o.apples).await, 1);
    assert_eq!(count(app, "SELECT count(*) FROM distributions WHERE id = $1 AND delivered_at IS NOT NULL", d).await, 1);
    let recap = app
        .get(&format!("/api/v1/distributions/{d}/recap"), Some(&market.admin.token))
        .await
        .expect(200);
    assert!(recap["distributions"][0]["delivered_at"].is_string());
    // Quantities can no longer change; the live figures agree with the page.
    let line = line_ids(&placed, o.apples)[0];
    app.patch(&format!("/api/v1/order-lines/{line}"), &json!({"quantity": "1"}), Some(&token))
        .await
        .expect_problem(409, "delivered");

    // A restarted engine does not settle again.
    let url = app.database_url.clone();
    let later = app.clock.now() + Duration::hours(1);
    engine.stop().await;
    let second = start_with(quiet_settings(&url), later).await;
    assert_eq!(second.run_jobs().await.deliveries, 0);
    assert_eq!(stock(&second.app, farm.producer_id, o.apples, &token).await, ("6".into(), "0".into(), "6".into()));
    second.stop().await;
}

fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Paris
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a Paris time")
        .with_timezone(&Utc)
}

/// Validates a fresh distribution of `farm` (4 × `offer` ordered) at `at`.
async fn validated_at(
    app: &TestApp,
    farm: &crate::fixtures::ProducerSetup,
    offer: Uuid,
    market: &crate::fixtures::MarketSetup,
    at: DateTime<Utc>,
) -> serde_json::Value {
    app.clock.set(at - Duration::days(3));
    let (d, _) = sale(app, market, &[farm]).await;
    let c = customers(app, 1).await;
    order(app, d, &c[0], &[(offer, "4")]).await.expect(201);
    app.clock.set(at);
    app.post(&format!("/api/v1/distributions/{d}/validation"), &json!({}), Some(&market.admin.token))
        .await
        .expect(201)
}

fn dates(answer: &serde_json::Value) -> (String, String) {
    let p = &answer["payouts"][0];
    (p["available_on"].as_str().unwrap_or("").into(), p["paid_on"].as_str().unwrap_or("").into())
}

fn d(a: &str, b: &str) -> (String, String) {
    (a.into(), b.into())
}

#[actix_web::test]
async fn validation_locks_orders_and_schedules_payouts_on_the_guides_dates() {
    let engine = start(paris(2023, 9, 1, 10, 0)).await;
    let app = &engine.app;
    let (farm, o) = farm(app).await;
    let market = market_with_fee(app, "Marché", "2.5", true).await;
    link_all(app, &market, &[&farm]).await;

    // Rules on one distribution: not before the end, admins only, once.
    let (dist, window) = sale(app, &market, &[&farm]).await;
    let c = customers(app, 1).await;
    let placed = order(app, dist, &c[0], &[(o.apples, "5"), (o.chicken, "1")]).await.expect(201);
    let path = format!("/api/v1/distributions/{dist}/validation");
    app.clock.set(window.closes_at + Duration::seconds(1));
    app.post(&path, &json!({}), Some(&market.admin.token))
        .await
        .expect_problem(409, "not_ended");
    app.clock.set(ends_at(&app.db, dist).await);
    app.post(&path, &json!({}), Some(&farm.owner.token))
        .await
        .expect_problem(403, "forbidden");
    let chicken = line_ids(&placed, o.chicken)[0];
    app.patch(&format!("/api/v1/order-lines/{chicken}"), &json!({"weight": "1.537"}), Some(&farm.owner.token))
        .await
        .expect(200);
    let answer = app.post(&path, &json!({}), Some(&market.admin.token)).await.expect(201);
    // 5 × 2.50 + 18.44 = 30.94; 2.5 % fee = 0.7735 → 0.77; net 30.17.
    let payout = &answer["payouts"][0];
    assert_eq!((payout["gross"].clone(), payout["fee"].clone(), payout["net"].clone()), (json!("30.94"), json!("0.77"), json!("30.17")));
    assert_eq!(payout["status"], "scheduled");
    app.post(&path, &json!({}), Some(&market.admin.token))
        .await
        .expect_problem(409, "already_validated");
    app.patch(&format!("/api/v1/order-lines/{chicken}"), &json!({"weight": "1.6"}), Some(&farm.owner.token))
        .await
        .expect_problem(409, "distribution_validated");
    app.post(
        &format!("/api/v1/distributions/{dist}/weighing"),
        &json!({"lines": [{"line_id": chicken, "weight": "1.6"}]}),
        Some(&farm.owner.token),
    )
    .await
    .expect_problem(409, "distribution_validated");
    let mine = app
        .get(&format!("/api/v1/producers/{}/payouts", farm.producer_id), Some(&farm.owner.token))
        .await
        .expect(200);
    assert_eq!(mine[0]["net"], "30.17");
    app.get(&format!("/api/v1/producers/{}/payouts", farm.producer_id), Some(&market.admin.token))
        .await
        .expect_problem(403, "forbidden");

    // The guide: Sat 9/09 → available Tue 12/09 → paid Mon 18/09.
    let sat = validated_at(app, &farm, o.juice, &market, paris(2023, 9, 9, 10, 0)).await;
    assert_eq!(dates(&sat), d("2023-09-12", "2023-09-18"));
    // Wed 6/09 → Sat 9/09 → Mon 11/09.
    let wed = validated_at(app, &farm, o.juice, &market, paris(2023, 9, 6, 20, 0)).await;
    assert_eq!(dates(&wed), d("2023-09-09", "2023-09-11"));
    // A Friday: available on the Monday, paid that Monday.
    let fri = validated_at(app, &farm, o.juice, &market, paris(2023, 9, 8, 12, 0)).await;
    assert_eq!(dates(&fri), d("2023-09-11", "2023-09-11"));
    // A Monday: available Thursday, paid the next Monday.
    let mon = validated_at(app, &farm, o.juice, &market, paris(2023, 9, 11, 9, 0)).await;
    assert_eq!(dates(&mon), d("2023-09-14", "2023-09-18"));
    // Late on Friday UTC is already Saturday in Paris.
    let late = validated_at(app, &farm, o.juice, &market, Utc.with_ymd_and_hms(2023, 9, 15, 22, 30, 0).unwrap()).await;
    assert_eq!(dates(&late), d("2023-09-19", "2023-09-25"));
    engine.stop().await;
}

#[actix_web::test]
async fn payout_dates_around_daylight_saving_and_offline_markets() {
    let engine = start(Utc.with_ymd_and_hms(2023, 10, 20, 8, 0, 0).unwrap()).await;
    let app = &engine.app;
    let (farm, o) = farm(app).await;
    let market = market_with_fee(app, "Marché", "0", true).await;
    let offline = market_with_fee(app, "Marché sans paiement", "3", false).await;
    link_all(app, &market, &[&farm]).await;
    link_all(app, &offline, &[&farm]).await;
    // Sat 28/10 22:30 UTC = Sun 29/10 00:30 CEST → Wed 1/11 → Mon 6/11.
    let a = validated_at(app, &farm, o.juice, &market, Utc.with_ymd_and_hms(2023, 10, 28, 22, 30, 0).unwrap()).await;
    assert_eq!(dates(&a), d("2023-11-01", "2023-11-06"));
    // Sun 29/10 23:30 UTC = Mon 30/10 00:30 CET (after the change) → Thu 2/11 → Mon 6/11.
    let b = validated_at(app, &farm, o.juice, &market, Utc.with_ymd_and_hms(2023, 10, 29, 23, 30, 0).unwrap()).await;
    assert_eq!(dates(&b), d("2023-11-02", "2023-11-06"));
    // Offline payment: a payout with the fee, no dates, settled directly.
    let off = validated_at(app, &farm, o.juice, &offline, paris(2023, 11, 4, 12, 0)).await;
    let p = &off["payouts"][0];
    assert_eq!((p["status"].clone(), p["available_on"].clone(), p["paid_on"].clone()), (json!("offline"), json!(null), json!(null)));
    // 4 × 3.60 = 14.40, fee 3 % = 0.432 → 0.43.
    assert_eq!((p["gross"].clone(), p["fee"].clone(), p["net"].clone()), (json!("14.40"), json!("0.43"), json!("13.97")));
    engine.stop().await;
}
