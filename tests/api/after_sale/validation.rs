//! Validation by a market admin and the producers' payouts: the rules
//! (after the end, admins only, once, orders frozen), gross/fee/net, and
//! the guide's payout dates with edge cases (Friday, Monday, late UTC,
//! daylight-saving changes, markets without online payment).

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use serde_json::json;
use uuid::Uuid;

use super::setup::{ends_at, farm, line_ids, link_all, market_with_fee, sale, start};
use crate::fixtures::{customers, order};
use crate::helpers::TestApp;

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
    app.post(
        &format!("/api/v1/distributions/{d}/validation"),
        &json!({}),
        Some(&market.admin.token),
    )
    .await
    .expect(201)
}

fn dates(answer: &serde_json::Value) -> (String, String) {
    let p = &answer["payouts"][0];
    (
        p["available_on"].as_str().unwrap_or("").into(),
        p["paid_on"].as_str().unwrap_or("").into(),
    )
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
    let placed = order(app, dist, &c[0], &[(o.apples, "5"), (o.chicken, "1")])
        .await
        .expect(201);
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
    app.patch(
        &format!("/api/v1/order-lines/{chicken}"),
        &json!({"weight": "1.537"}),
        Some(&farm.owner.token),
    )
    .await
    .expect(200);
    let answer = app
        .post(&path, &json!({}), Some(&market.admin.token))
        .await
        .expect(201);
    // 5 × 2.50 + 18.44 = 30.94; 2.5 % fee = 0.7735 → 0.77; net 30.17.
    let payout = &answer["payouts"][0];
    assert_eq!(
        (
            payout["gross"].clone(),
            payout["fee"].clone(),
            payout["net"].clone()
        ),
        (json!("30.94"), json!("0.77"), json!("30.17"))
    );
    assert_eq!(payout["status"], "scheduled");
    app.post(&path, &json!({}), Some(&market.admin.token))
        .await
        .expect_problem(409, "already_validated");
    app.patch(
        &format!("/api/v1/order-lines/{chicken}"),
        &json!({"weight": "1.6"}),
        Some(&farm.owner.token),
    )
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
        .get(
            &format!("/api/v1/producers/{}/payouts", farm.producer_id),
            Some(&farm.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(mine[0]["net"], "30.17");
    app.get(
        &format!("/api/v1/producers/{}/payouts", farm.producer_id),
        Some(&market.admin.token),
    )
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
    let late = validated_at(
        app,
        &farm,
        o.juice,
        &market,
        Utc.with_ymd_and_hms(2023, 9, 15, 22, 30, 0).unwrap(),
    )
    .await;
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
    let a = validated_at(
        app,
        &farm,
        o.juice,
        &market,
        Utc.with_ymd_and_hms(2023, 10, 28, 22, 30, 0).unwrap(),
    )
    .await;
    assert_eq!(dates(&a), d("2023-11-01", "2023-11-06"));
    // Sun 29/10 23:30 UTC = Mon 30/10 00:30 CET (after the change) → Thu 2/11 → Mon 6/11.
    let b = validated_at(
        app,
        &farm,
        o.juice,
        &market,
        Utc.with_ymd_and_hms(2023, 10, 29, 23, 30, 0).unwrap(),
    )
    .await;
    assert_eq!(dates(&b), d("2023-11-02", "2023-11-06"));
    // Offline payment: a payout with the fee, no dates, settled directly.
    let off = validated_at(app, &farm, o.juice, &offline, paris(2023, 11, 4, 12, 0)).await;
    let p = &off["payouts"][0];
    assert_eq!(
        (
            p["status"].clone(),
            p["available_on"].clone(),
            p["paid_on"].clone()
        ),
        (json!("offline"), json!(null), json!(null))
    );
    // 4 × 3.60 = 14.40, fee 3 % = 0.432 → 0.43.
    assert_eq!(
        (p["gross"].clone(), p["fee"].clone(), p["net"].clone()),
        (json!("14.40"), json!("0.43"), json!("13.97"))
    );
    engine.stop().await;
}
