//! Recaps through HTTP: totals against an example worked by hand (two VAT
//! rates, a catalog price, weighed lines), the CSV and printable HTML
//! renderings, one recap across two markets of the same day, and who may
//! see what.

use chrono::{Duration, Utc};
use etal::engine::clock::Clock;
use serde_json::{json, Value};

use crate::after_sale::setup::{farm, line_ids, link_all, market_with_fee, sale, start};
use crate::fixtures::{
    customers, distribution, offer, order, participate, producer_with_catalog, window_from,
};
use crate::helpers::TestApp;

fn product<'a>(recap: &'a Value, name: &str) -> &'a Value {
    recap["products"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["product_name"] == name))
        .unwrap_or_else(|| panic!("no product {name} in {recap}"))
}

fn row(r: &Value) -> (String, String, String, String, String) {
    let s = |v: &Value| v.as_str().unwrap_or("null").to_owned();
    (
        s(&r["quantity"]),
        s(&r["weight"]),
        s(&r["total_incl"]),
        s(&r["total_excl"]),
        s(&r["vat"]),
    )
}

fn vat_rows(recap: &Value) -> Vec<(String, String, String, String)> {
    recap["vat"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|v| {
                    let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
                    (s("rate"), s("incl"), s("excl"), s("vat"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn t(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
    (a.into(), b.into(), c.into(), d.into())
}

async fn text(app: &TestApp, path: &str, token: &str) -> (String, String) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (content_type, response.text().await.expect("body"))
}

#[actix_web::test]
async fn recap_totals_match_the_example_worked_by_hand() {
    let engine = start(Utc::now()).await;
    let app = &engine.app;
    let (farm, o) = farm(app).await;
    let bakery = producer_with_catalog(app, "Boulangerie", &[offer("Pain", "3.00", None)]).await;
    let market = market_with_fee(app, "Marché de la Croix-Rousse", "2.5", true).await;
    link_all(app, &market, &[&farm, &bakery]).await;
    let (d, window) = sale(app, &market, &[&farm, &bakery]).await;
    let c = customers(app, 2).await;
    let alice = order(
        app,
        d,
        &c[0],
        &[
            (o.apples, "3"),
            (o.juice, "2"),
            (o.chicken, "1"),
            (bakery.offers[0], "1"),
        ],
    )
    .await
    .expect(201);
    let bob = order(app, d, &c[1], &[(o.apples, "1"), (o.roast, "2")])
        .await
        .expect(201);
    assert_eq!(
        alice["lines"][1]["unit_price"], "3.60",
        "the catalog's price"
    );
    app.clock.set(window.closes_at + Duration::seconds(1));

    // Weigh the chicken (12.00 €/kg × 1.537 kg = 18.44) and each roast piece
    // (20.00 €/kg × 0.8 = 16.00, × 1.25 = 25.00).
    let chicken = line_ids(&alice, o.chicken)[0];
    let roasts = line_ids(&bob, o.roast);
    assert_eq!(roasts.len(), 2, "one line per piece");
    let weighed = app
        .post(
            &format!("/api/v1/distributions/{d}/weighing"),
            &json!({"lines": [{"line_id": chicken, "weight": "1.537"},
                              {"line_id": roasts[0], "weight": 0.8},
                              {"line_id": roasts[1], "weight": "1.25"}]}),
            Some(&farm.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(weighed["weighed"], 3);

    let path = format!(
        "/api/v1/distributions/{d}/recap?producer_id={}",
        farm.producer_id
    );
    let recap = app.get(&path, Some(&farm.owner.token)).await.expect(200);
    assert_eq!(
        recap["products"].as_array().map(Vec::len),
        Some(4),
        "{recap}"
    );
    let r = |name| row(product(&recap, name));
    // Jus: 2 × 3.60 = 7.20 at 20 % → 6.00 + 1.20.
    assert_eq!(
        r("Jus de pomme"),
        (
            "2".into(),
            "null".into(),
            "7.20".into(),
            "6.00".into(),
            "1.20".into()
        )
    );
    // Pommes: 4 × 2.50 = 10.00 at 5.5 % → 9.48 + 0.52.
    assert_eq!(
        r("Pommes"),
        (
            "4".into(),
            "null".into(),
            "10.00".into(),
            "9.48".into(),
            "0.52".into()
        )
    );
    assert_eq!(
        r("Poulet"),
        (
            "1".into(),
            "1.537".into(),
            "18.44".into(),
            "17.48".into(),
            "0.96".into()
        )
    );
    assert_eq!(
        r("Rôti"),
        (
            "2".into(),
            "2.05".into(),
            "41.00".into(),
            "38.86".into(),
            "2.14".into()
        )
    );
    // 5.5 %: 10.00 + 18.44 + 41.00 = 69.44 → 65.82 + 3.62; 20 %: 7.20.
    assert_eq!(
        vat_rows(&recap),
        [
            t("5.5", "69.44", "65.82", "3.62"),
            t("20", "7.20", "6.00", "1.20")
        ]
    );
    assert_eq!(
        recap["totals"],
        json!({"incl": "76.64", "excl": "71.82", "vat": "4.82"})
    );

    let by_customer = app
        .get(&format!("{path}&view=customer"), Some(&farm.owner.token))
        .await
        .expect(200);
    let orders = by_customer["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 2);
    assert_eq!(
        (
            orders[0]["number"].clone(),
            orders[0]["customer_name"].clone()
        ),
        (json!(1), json!("Client 0"))
    );
    assert_eq!(
        orders[0]["lines"].as_array().map(Vec::len),
        Some(3),
        "no bread: not the farm's"
    );
    assert_eq!(orders[0]["total"], "33.14");
    assert_eq!(
        (orders[1]["number"].clone(), orders[1]["total"].clone()),
        (json!(2), json!("43.50"))
    );

    // The market's admin sees the whole distribution, bread included.
    let all = app
        .get(
            &format!("/api/v1/distributions/{d}/recap"),
            Some(&market.admin.token),
        )
        .await
        .expect(200);
    assert_eq!(all["products"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        vat_rows(&all),
        [
            t("5.5", "72.44", "68.66", "3.78"),
            t("20", "7.20", "6.00", "1.20")
        ]
    );
    assert_eq!(all["totals"]["incl"], "79.64");

    // A producer sees only its own lines; only admins see everything.
    app.get(&path, Some(&bakery.owner.token))
        .await
        .expect_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/distributions/{d}/recap"),
        Some(&farm.owner.token),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get(&path, Some(&c[0].token))
        .await
        .expect_problem(403, "forbidden");
    let bread = app
        .get(
            &format!(
                "/api/v1/distributions/{d}/recap?producer_id={}",
                bakery.producer_id
            ),
            Some(&bakery.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(bread["totals"]["incl"], "3.00");
    assert_eq!(bread["products"].as_array().map(Vec::len), Some(1));

    // CSV and the printable sign-off list.
    let (ct, csv) = text(app, &format!("{path}&format=csv"), &farm.owner.token).await;
    assert!(ct.starts_with("text/csv"), "{ct}");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 5, "{csv}");
    assert!(rows[0].starts_with("producer,product,offer,offer_quantity,unit,vat_rate,quantity"));
    assert_eq!(
        rows[2],
        "Ferme des Tilleuls,Pommes,1 kg,1,kg,5.5,4,,0,10.00,9.48,0.52"
    );
    let (_, csv) = text(
        app,
        &format!("{path}&view=customer&format=csv"),
        &farm.owner.token,
    )
    .await;
    assert!(
        csv.contains("1,Client 0,Poulet,1 kg,1,1.537,12.00,18.44,33.14"),
        "{csv}"
    );
    let (ct, html) = text(
        app,
        &format!("{path}&view=customer&format=html"),
        &farm.owner.token,
    )
    .await;
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.contains("<th>Signature</th>"), "{html}");
    assert!(
        html.contains("<td class=\"n\">2</td><td>Client 1</td>"),
        "{html}"
    );
    assert!(
        html.contains("1 (1,537 kg) × Poulet 1 kg — 18,44\u{202f}€"),
        "{html}"
    );
    assert!(html.contains("Marché de la Croix-Rousse"), "{html}");
    let (_, form) = text(app, &format!("{path}&format=html"), &farm.owner.token).await;
    assert!(
        form.contains("<td>Jus de pomme</td>") && form.contains("76,64\u{202f}€"),
        "{form}"
    );
    app.get(&format!("{path}&format=pdf"), Some(&farm.owner.token))
        .await
        .expect_problem(422, "invalid_field");
    engine.stop().await;
}

#[actix_web::test]
async fn one_recap_across_two_markets_of_the_same_day() {
    let engine = start(Utc::now()).await;
    let app = &engine.app;
    let (farm, o) = farm(app).await;
    let other = producer_with_catalog(app, "Voisin", &[offer("Miel", "8.00", None)]).await;
    let north = market_with_fee(app, "Marché Nord", "0", true).await;
    let south = market_with_fee(app, "Marché Sud", "0", false).await;
    link_all(app, &north, &[&farm]).await;
    link_all(app, &south, &[&farm]).await;
    let window = window_from(app.clock.now());
    let d1 = distribution(app, &north, &window).await;
    let d2 = distribution(app, &south, &window).await;
    participate(app, &farm, d1).await;
    participate(app, &farm, d2).await;
    app.clock.set(window.opens_at + Duration::seconds(1));
    let c = customers(app, 2).await;
    order(app, d1, &c[0], &[(o.apples, "2")]).await.expect(201);
    order(app, d2, &c[1], &[(o.apples, "3"), (o.juice, "1")])
        .await
        .expect(201);

    let base = format!("/api/v1/producers/{}/recap", farm.producer_id);
    let token = Some(farm.owner.token.as_str());
    let recap = app
        .get(&format!("{base}?distribution_ids={d1},{d2}"), token)
        .await
        .expect(200);
    assert_eq!(recap["distributions"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        row(product(&recap, "Pommes")).0,
        "5",
        "both markets' apples in one row"
    );
    assert_eq!(product(&recap, "Pommes")["total_incl"], "12.50");
    assert_eq!(recap["totals"]["incl"], "16.10");
    let by_customer = app
        .get(
            &format!("{base}?distribution_ids={d1},{d2}&view=customer"),
            token,
        )
        .await
        .expect(200);
    let mut numbers: Vec<(String, String)> = by_customer["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| (o["number"].to_string(), o["distribution_id"].to_string()))
        .collect();
    numbers.sort();
    let mut expected = vec![
        ("1".to_owned(), json!(d1).to_string()),
        ("1".to_owned(), json!(d2).to_string()),
    ];
    expected.sort();
    assert_eq!(numbers, expected);

    // The same by local date; restricted to the farm's catalog.
    let starts: (chrono::DateTime<Utc>,) =
        sqlx::query_as("SELECT starts_at FROM distributions WHERE id = $1")
            .bind(d1)
            .fetch_one(&app.db)
            .await
            .expect("start");
    let day = starts
        .0
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let by_day = app
        .get(
            &format!("{base}?date={day}&catalog_ids={}", farm.catalog_id),
            token,
        )
        .await
        .expect(200);
    assert_eq!(by_day["totals"], recap["totals"]);

    let bad = app
        .get(
            &format!(
                "{base}?distribution_ids={d1}&catalog_ids={}",
                other.catalog_id
            ),
            token,
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(bad["errors"][0]["field"], "catalog_ids");
    let bad = app
        .get(&format!("{base}?distribution_ids={d1},nope"), token)
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(bad["errors"][0]["field"], "distribution_ids");
    app.get(
        &format!("{base}?distribution_ids={d1}"),
        Some(&other.owner.token),
    )
    .await
    .expect_problem(403, "forbidden");
    engine.stop().await;
}
