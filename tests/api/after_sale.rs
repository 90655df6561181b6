//! After the sale, through HTTP and the engine's jobs. Here: producer
//! quantity changes (stock released or taken, the customer told, every
//! change audited) and weighing (single and bulk, all or nothing); the jobs
//! (closing summary, delivery) are in `jobs`, validation and payouts in
//! `validation`, the shared set-ups in `setup`.

mod jobs;
pub mod setup;
mod validation;

use chrono::{Duration, Utc};
use rust_decimal_macros::dec;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{customers, offer, order, producer_with_catalog, sold};
use crate::helpers::{count, TestApp};
use setup::{farm, line_ids, link_all, market_with_fee, sale, start};

async fn stock(
    app: &TestApp,
    producer: Uuid,
    offer: Uuid,
    token: &str,
) -> (String, String, String) {
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
    let placed = order(app, d, &c[0], &[(o.apples, "3"), (o.juice, "1")])
        .await
        .expect(201);
    let line = line_ids(&placed, o.apples)[0];
    let path = format!("/api/v1/order-lines/{line}");
    let token = Some(farm.owner.token.as_str());

    // While the sale is open the customer owns the order.
    app.patch(&path, &json!({"quantity": "1"}), token)
        .await
        .expect_problem(409, "sale_not_closed");
    app.clock.set(window.closes_at + Duration::seconds(1));

    let changed = app
        .patch(
            &path,
            &json!({"quantity": 1, "reason": "grêle sur le verger"}),
            token,
        )
        .await
        .expect(200);
    assert_eq!(
        (changed["quantity"].clone(), changed["total"].clone()),
        (json!("1"), json!("2.50"))
    );
    assert_eq!(sold(app, o.apples).await, dec!(1));
    assert_eq!(
        stock(app, farm.producer_id, o.apples, &farm.owner.token).await,
        ("10".into(), "1".into(), "9".into())
    );
    let (by, old, new, reason): (Uuid, rust_decimal::Decimal, rust_decimal::Decimal, Option<String>) = sqlx::query_as(
        "SELECT changed_by, old_value, new_value, reason FROM order_line_changes WHERE order_line_id = $1",
    )
    .bind(line)
    .fetch_one(&app.db)
    .await
    .expect("audit row");
    assert_eq!((by, old, new), (farm.owner.id, dec!(3), dec!(1)));
    assert_eq!(reason.as_deref(), Some("grêle sur le verger"));
    let (recipient, body): (String, String) =
        sqlx::query_as("SELECT recipient, body FROM outbox WHERE kind = 'line_change'")
            .fetch_one(&app.db)
            .await
            .expect("notice queued");
    assert_eq!(recipient, c[0].email);
    assert!(
        body.contains("quantité 3 → 1") && body.contains("grêle"),
        "{body}"
    );

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
    let removed = app
        .patch(&path, &json!({"quantity": "0"}), token)
        .await
        .expect(200);
    assert_eq!(removed["removed"], true);
    assert_eq!(sold(app, o.apples).await, dec!(0));
    assert_eq!(
        stock(app, farm.producer_id, o.apples, &farm.owner.token)
            .await
            .2,
        "10"
    );
    let juice = line_ids(&placed, o.juice)[0];
    app.patch(
        &format!("/api/v1/order-lines/{juice}"),
        &json!({"quantity": 0}),
        token,
    )
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
    let a = order(
        app,
        d,
        &c[0],
        &[(o.chicken, "2"), (o.apples, "1"), (other.offers[0], "1")],
    )
    .await
    .expect(201);
    let b = order(app, d, &c[1], &[(o.roast, "3")]).await.expect(201);
    let chicken = line_ids(&a, o.chicken)[0];
    let apples = line_ids(&a, o.apples)[0];
    let honey = line_ids(&a, other.offers[0])[0];
    let roasts = line_ids(&b, o.roast);
    assert_eq!(roasts.len(), 3, "multi-weight: one line per piece");
    let b_path = format!("/api/v1/orders/{}", b["id"].as_str().expect("id"));
    let before = app.get(&b_path, Some(&c[1].token)).await.expect(200);
    assert_eq!(before["total"], b["total"]);
    assert!(
        before.get("final_total").is_none(),
        "nothing weighed yet: {before}"
    );
    assert!(before["lines"][0].get("weight").is_none(), "{before}");
    let token = Some(farm.owner.token.as_str());
    let weighing = format!("/api/v1/distributions/{d}/weighing");
    app.post(
        &weighing,
        &json!({"lines": [{"line_id": chicken, "weight": "3"}]}),
        token,
    )
    .await
    .expect_problem(409, "sale_not_closed");
    app.clock.set(window.closes_at + Duration::seconds(1));

    let list = app
        .get(
            &format!("{weighing}?producer_id={}", farm.producer_id),
            token,
        )
        .await
        .expect(200);
    assert_eq!(list["lines"].as_array().map(Vec::len), Some(4), "{list}");

    // Two chickens at 12.00 €/kg weighing 3.001 kg in all → 36.012 → 36.01.
    let weighed = app
        .patch(
            &format!("/api/v1/order-lines/{chicken}"),
            &json!({"weight": "3.001"}),
            token,
        )
        .await
        .expect(200);
    assert_eq!(
        (weighed["weight"].clone(), weighed["total"].clone()),
        (json!("3.001"), json!("36.01"))
    );
    // Weights have at most 3 decimals (grams).
    app.patch(
        &format!("/api/v1/order-lines/{chicken}"),
        &json!({"weight": "1.0005"}),
        token,
    )
    .await
    .expect_problem(422, "invalid_field");
    let half = app
        .patch(
            &format!("/api/v1/order-lines/{chicken}"),
            &json!({"weight": "0.125"}),
            token,
        )
        .await
        .expect(200);
    assert_eq!(half["total"], "1.50");
    let fixed = app
        .patch(
            &format!("/api/v1/order-lines/{apples}"),
            &json!({"weight": "1.2"}),
            token,
        )
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
        [
            "lines[1].weight",
            "lines[2].line_id",
            "lines[3].line_id",
            "lines[4].weight",
            "lines[5].line_id"
        ]
    );
    assert_eq!(
        count(
            app,
            "SELECT count(*) FROM order_lines WHERE weight IS NOT NULL AND offer_id = $1",
            o.roast
        )
        .await,
        0
    );

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
        .get(
            &format!("{weighing}?producer_id={}", farm.producer_id),
            token,
        )
        .await
        .expect(200);
    assert_eq!(left["lines"].as_array().map(Vec::len), Some(0), "{left}");
    let all = app
        .get(
            &format!(
                "{weighing}?producer_id={}&include_weighed=true",
                farm.producer_id
            ),
            token,
        )
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
    // The customer's order shows what they will pay.
    let seen = app.get(&b_path, Some(&c[1].token)).await.expect(200);
    assert_eq!(seen["total"], b["total"], "as ordered: {seen}");
    assert_eq!(seen["final_total"], json!("47.66"), "{seen}");
    let mut lines: Vec<(String, String)> = seen["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| (l["weight"].to_string(), l["final_total"].to_string()))
        .collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            (r#""0.333""#.into(), r#""6.66""#.into()),
            (r#""0.8""#.into(), r#""16.00""#.into()),
            (r#""1.25""#.into(), r#""25.00""#.into())
        ]
    );
    let mine = app
        .get(
            &format!("/api/v1/distributions/{d}/orders/mine"),
            Some(&c[1].token),
        )
        .await
        .expect(200);
    assert_eq!(mine, seen, "the same view from the shop page");
    app.get(
        &format!("{weighing}?producer_id={}", farm.producer_id),
        Some(&other.owner.token),
    )
    .await
    .expect_problem(403, "forbidden");
    let audit = count(
        app,
        "SELECT count(*) FROM order_line_changes WHERE field = 'weight' AND offer_id = $1",
        o.roast,
    )
    .await;
    assert_eq!(audit, 3);
    engine.stop().await;
}
