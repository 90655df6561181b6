//! The stock page through HTTP: setting real stock (audited in
//! `stock_movements`), switching tracking on and off, `available = real −
//! ordered` against orders placed, cancelled and delivered through the
//! engine, whole units unless the product is fractional, and the catalog
//! filter.

use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::market;
use crate::fixtures::parts::{api_cancel, api_catalog, api_link, api_order, open_distribution};
use crate::helpers::{parse_id, spawn_app, TestApp};
use crate::products::{catalog_of, farm, offer, product, Farm};

/// A fresh sale of `offers` through the API: a market, a catalog linked
/// to it, a distribution whose sale is open (the test clock moves into it).
async fn sale_of(app: &TestApp, farm: &Farm, offers: &[Uuid]) -> Uuid {
    let market = market(app, "Marché du village").await;
    let catalog = api_catalog(app, &farm.owner, farm.producer, "Catalogue", offers).await;
    api_link(app, &market.admin, market.market_id, &catalog).await;
    let catalog = parse_id(&catalog["id"]);
    open_distribution(app, &market.admin, &farm.owner, market.market_id, catalog).await
}

/// Waits until the background jobs settled `distribution` as delivered.
async fn delivered(app: &TestApp, distribution: Uuid) {
    for _ in 0..200 {
        let at: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("SELECT delivered_at FROM distributions WHERE id = $1")
                .bind(distribution)
                .fetch_one(&app.db)
                .await
                .expect("distribution");
        if at.is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the distribution was never settled as delivered");
}

/// `(kind, quantity, real_after, account_id)` of a stock movement.
type Movement = (String, String, Option<String>, Option<Uuid>);
type MovementRow = (String, Decimal, Option<Decimal>, Option<Uuid>);

/// An offer's stock movements, oldest first.
async fn movements(app: &TestApp, offer: Uuid) -> Vec<Movement> {
    let rows: Vec<MovementRow> = sqlx::query_as(
        "SELECT kind, quantity, real_after, account_id FROM stock_movements
          WHERE offer_id = $1 ORDER BY id",
    )
    .bind(offer)
    .fetch_all(&app.db)
    .await
    .expect("movements");
    let text = |d: Decimal| d.normalize().to_string();
    rows.into_iter()
        .map(|(kind, quantity, real, account)| (kind, text(quantity), real.map(text), account))
        .collect()
}

fn stock_of(answer: &Value) -> Value {
    json!({"tracked": answer["tracked"], "real": answer["real"], "ordered": answer["ordered"],
           "held": answer["held"], "available": answer["available"]})
}

#[actix_web::test]
async fn setting_real_stock_and_switching_tracking() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let eggs = product(&app, &farm, json!({"name": "Oeufs", "unit": "boîte"})).await;
    let box6 = parse_id(
        &offer(
            &app,
            &farm,
            eggs,
            json!({"label": "Boîte de 6", "unit": "pièce", "quantity": 6}),
        )
        .await["id"],
    );
    let path = format!("/api/v1/offers/{box6}/stock");

    let set = app
        .put(&path, &json!({"tracked": true, "real": 12}), token)
        .await
        .expect(200);
    assert_eq!(
        set,
        json!({"offer_id": box6, "tracked": true, "real": "12", "ordered": "0", "held": "0", "available": "12"})
    );
    // Tracking off keeps the real stock, shows no limit, writes no movement.
    let off = app
        .put(&path, &json!({"tracked": false}), token)
        .await
        .expect(200);
    assert_eq!(
        stock_of(&off),
        json!({"tracked": false, "real": "12", "ordered": "0", "held": "0", "available": null})
    );
    let on = app
        .put(&path, &json!({"tracked": true, "real": "10"}), token)
        .await
        .expect(200);
    assert_eq!(on["available"], "10");
    let offer_view = app
        .get(&format!("/api/v1/offers/{box6}"), token)
        .await
        .expect(200);
    assert_eq!(
        offer_view["stock"],
        json!({"tracked": true, "real": "10", "ordered": "0", "held": "0", "available": "10"})
    );

    let owner = Some(farm.owner.id);
    assert_eq!(
        movements(&app, box6).await,
        vec![
            ("set_real".into(), "12".into(), Some("12".into()), owner),
            ("set_real".into(), "-2".into(), Some("10".into()), owner),
        ]
    );

    // Invalid: nothing changes.
    for (body, field) in [
        (json!({"tracked": true, "real": -1}), "real"),
        (json!({"tracked": true, "real": "beaucoup"}), "real"),
        (json!({"real": 3}), "tracked"),
    ] {
        let problem = app
            .put(&path, &body, token)
            .await
            .expect_problem(422, "invalid_field");
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    app.put(
        &format!("/api/v1/offers/{}/stock", Uuid::new_v4()),
        &json!({"tracked": true}),
        token,
    )
    .await
    .expect_problem(404, "not_found");
    assert_eq!(movements(&app, box6).await.len(), 2);

    // An offer created with `stock` is tracked from the start (and audited).
    let limited = offer(
        &app,
        &farm,
        eggs,
        json!({"label": "Plateau", "quantity": 30, "stock": {"real": 4}}),
    )
    .await;
    assert_eq!(
        limited["stock"],
        json!({"tracked": true, "real": "4", "ordered": "0", "held": "0", "available": "4"})
    );
    assert_eq!(
        movements(&app, parse_id(&limited["id"])).await,
        vec![("set_real".into(), "4".into(), Some("4".into()), owner)]
    );
}

#[actix_web::test]
async fn available_is_real_minus_undelivered_confirmed_orders() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let chickens = product(&app, &farm, json!({"name": "Poulet", "unit": "pièce"})).await;
    let chicken = parse_id(
        &offer(
            &app,
            &farm,
            chickens,
            json!({"label": "Entier", "unit": "pièce", "price": 15, "stock": {"real": 14}}),
        )
        .await["id"],
    );
    let unlimited = parse_id(
        &offer(
            &app,
            &farm,
            chickens,
            json!({"label": "Découpé", "unit": "pièce", "price": 18}),
        )
        .await["id"],
    );

    // 4 delivered: out of real stock (14 → 10) and of what is ordered.
    let past = sale_of(&app, &farm, &[chicken]).await;
    api_order(&app, past, &app.user("Ana").await, chicken, "4").await;
    let ends: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT ends_at FROM distributions WHERE id = $1")
            .bind(past)
            .fetch_one(&app.db)
            .await
            .expect("distribution");
    app.clock.set(ends + chrono::Duration::minutes(20));
    delivered(&app, past).await;
    // 3 confirmed, 2 cancelled, 5 of an offer without limited stock.
    let sale = sale_of(&app, &farm, &[chicken, unlimited]).await;
    api_order(&app, sale, &app.user("Ben").await, chicken, "3").await;
    let cid = app.user("Cid").await;
    let cancelled = api_order(&app, sale, &cid, chicken, "2").await;
    api_cancel(&app, &cid, cancelled).await;
    api_order(&app, sale, &app.user("Dan").await, unlimited, "5").await;

    let view = app
        .get(&format!("/api/v1/offers/{chicken}"), token)
        .await
        .expect(200);
    assert_eq!(
        view["stock"],
        json!({"tracked": true, "real": "10", "ordered": "3", "held": "0", "available": "7"})
    );

    let page = app
        .get(
            &format!("/api/v1/producers/{}/stocks", farm.producer),
            token,
        )
        .await
        .expect(200);
    let lines = page.as_array().expect("lines");
    assert_eq!(lines.len(), 2);
    let line = lines
        .iter()
        .find(|l| l["offer_id"] == json!(chicken))
        .expect("chicken line");
    assert_eq!(line["product_id"], json!(chickens));
    assert_eq!(line["product_name"], "Poulet");
    assert_eq!(line["label"], "Entier");
    assert_eq!(
        stock_of(line),
        json!({"tracked": true, "real": "10", "ordered": "3", "held": "0", "available": "7"})
    );
    let other = lines
        .iter()
        .find(|l| l["offer_id"] == json!(unlimited))
        .expect("unlimited line");
    assert_eq!(
        stock_of(other),
        json!({"tracked": false, "real": "0", "ordered": "5", "held": "0", "available": null})
    );

    // Lowering real stock below what is ordered shows a negative availability.
    let set = app
        .put(
            &format!("/api/v1/offers/{chicken}/stock"),
            &json!({"tracked": true, "real": 2}),
            token,
        )
        .await
        .expect(200);
    assert_eq!(
        stock_of(&set),
        json!({"tracked": true, "real": "2", "ordered": "3", "held": "0", "available": "-1"})
    );
    // Tracking an unlimited offer counts what is already ordered.
    let set = app
        .put(
            &format!("/api/v1/offers/{unlimited}/stock"),
            &json!({"tracked": true, "real": 8}),
            token,
        )
        .await
        .expect(200);
    assert_eq!(set["available"], "3");
}

#[actix_web::test]
async fn fractional_stock_only_for_products_sold_in_bulk() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let jars = product(&app, &farm, json!({"name": "Miel", "unit": "pot"})).await;
    let jar = parse_id(
        &offer(
            &app,
            &farm,
            jars,
            json!({"label": "Pot 500 g", "unit": "pot", "price": 8, "stock": {"real": 5}}),
        )
        .await["id"],
    );

    let problem = app
        .put(
            &format!("/api/v1/offers/{jar}/stock"),
            &json!({"tracked": true, "real": "2.5"}),
            token,
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "real");
    let problem = app
        .post(
            &format!("/api/v1/products/{jars}/offers"),
            &json!({"label": "Pot 1 kg", "quantity": 1, "unit": "pot", "price": 15,
                    "vat_rate_id": farm.vat, "stock": {"real": 1.5}}),
            token,
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "stock.real");
    let (real, count): (Decimal, i64) = sqlx::query_as(
        "SELECT (SELECT real_stock FROM offers WHERE id = $1), (SELECT count(*) FROM offers)",
    )
    .bind(jar)
    .fetch_one(&app.db)
    .await
    .expect("unchanged");
    assert_eq!((real.normalize().to_string(), count), ("5".into(), 1));

    // Bulk: variable price (fractional by default), or fractional explicitly.
    let flour = product(
        &app,
        &farm,
        json!({"name": "Farine", "variable_price": true}),
    )
    .await;
    let kg = parse_id(&offer(&app, &farm, flour, json!({"stock": {"real": "12.5"}})).await["id"]);
    let set = app
        .put(
            &format!("/api/v1/offers/{kg}/stock"),
            &json!({"tracked": true, "real": 3.25}),
            token,
        )
        .await
        .expect(200);
    assert_eq!(set["real"], "3.25");
    let lentils = product(
        &app,
        &farm,
        json!({"name": "Lentilles", "fractional": true}),
    )
    .await;
    let bag = parse_id(&offer(&app, &farm, lentils, json!({})).await["id"]);
    app.put(
        &format!("/api/v1/offers/{bag}/stock"),
        &json!({"tracked": true, "real": 0.5}),
        token,
    )
    .await
    .expect(200);
    // At most three decimals (grams of a kilo).
    app.put(
        &format!("/api/v1/offers/{bag}/stock"),
        &json!({"tracked": true, "real": "0.0005"}),
        token,
    )
    .await
    .expect_problem(422, "invalid_field");
}

#[actix_web::test]
async fn stock_page_filters_by_catalog() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let potatoes = product(&app, &farm, json!({})).await;
    let vrac = parse_id(&offer(&app, &farm, potatoes, json!({})).await["id"]);
    let sac = parse_id(
        &offer(
            &app,
            &farm,
            potatoes,
            json!({"label": "Sac", "quantity": 10, "price": 20}),
        )
        .await["id"],
    );
    let filet = parse_id(
        &offer(
            &app,
            &farm,
            potatoes,
            json!({"label": "Filet", "quantity": 5, "price": 11}),
        )
        .await["id"],
    );
    let old = parse_id(&offer(&app, &farm, potatoes, json!({"label": "Ancien"})).await["id"]);
    app.delete(&format!("/api/v1/offers/{old}"), token)
        .await
        .expect(200);
    let catalog = catalog_of(&app, &farm, &[vrac, filet]).await;

    let ids = |page: &Value| -> Vec<Uuid> {
        page.as_array()
            .map(|lines| lines.iter().map(|l| parse_id(&l["offer_id"])).collect())
            .unwrap_or_default()
    };
    let path = format!("/api/v1/producers/{}/stocks", farm.producer);
    let all = app.get(&path, token).await.expect(200);
    // Ordered by product then label; deactivated offers are not listed.
    assert_eq!(ids(&all), vec![filet, sac, vrac]);
    let filtered = app
        .get(&format!("{path}?catalog_id={catalog}"), token)
        .await
        .expect(200);
    assert_eq!(ids(&filtered), vec![filet, vrac]);

    let other = farm_of_other(&app).await;
    for catalog in [other, Uuid::new_v4()] {
        let problem = app
            .get(&format!("{path}?catalog_id={catalog}"), token)
            .await
            .expect_problem(409, "unknown_reference");
        assert_eq!(problem["errors"][0]["field"], "catalog_id");
    }
    app.get(&format!("{path}?catalog_id=nope"), token)
        .await
        .expect_problem(422, "invalid_field");
}

/// A catalog of another producer.
async fn farm_of_other(app: &TestApp) -> Uuid {
    let other = farm(app, "Ferme voisine").await;
    let product = product(app, &other, json!({})).await;
    let offer = parse_id(&offer(app, &other, product, json!({})).await["id"]);
    catalog_of(app, &other, &[offer]).await
}
