//! Baskets that hold stock (`PUT|GET|DELETE /distributions/{id}/cart`),
//! through HTTP and WebSocket like a shop would: held units are taken for
//! everyone else (live), a customer sees what their basket holds, an order
//! consumes its basket, a hold that runs out is released once and pushed,
//! the producer lowering stock cuts the latest baskets first, and every
//! refusal is a problem document. The races and the restart are in `race`.

mod race;

use chrono::{DateTime, Duration, Utc};
use etal::engine::clock::Clock;
use serde_json::{json, Value};
use tokio_tungstenite::WebSocketStream;
use uuid::Uuid;

use crate::fixtures::{customers, offer, open_sale, order, shop_available};
use crate::helpers::{spawn_app, TestApp, TestUser};
use crate::live_client::{connect, connect_as, next_of_type, WAIT};

pub(crate) fn cart_path(distribution_id: Uuid) -> String {
    format!("/api/v1/distributions/{distribution_id}/cart")
}

/// `customer` sets their basket to `lines` (offer, quantity). The body is
/// built at once, so the future borrows only the app and the customer.
pub(crate) fn put_cart<'a>(
    app: &'a TestApp,
    distribution_id: Uuid,
    customer: &'a TestUser,
    lines: &[(Uuid, &str)],
) -> impl std::future::Future<Output = crate::helpers::Answer> + 'a {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(offer, q)| json!({"offer_id": offer, "quantity": q}))
        .collect();
    let (path, body) = (cart_path(distribution_id), json!({"lines": lines}));
    async move { app.put(&path, &body, Some(&customer.token)).await }
}

/// What a basket line holds, from a basket document.
pub(crate) fn held(cart: &Value, offer: Uuid) -> Option<String> {
    cart["lines"]
        .as_array()?
        .iter()
        .find(|l| l["offer_id"] == json!(offer))
        .and_then(|l| l["held"].as_str().map(str::to_owned))
}

/// An offer of a shop document.
fn shop_offer(shop: &Value, offer: Uuid) -> Value {
    shop["offers"]
        .as_array()
        .and_then(|offers| offers.iter().find(|o| o["offer_id"] == json!(offer)))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Waits for an `availability` frame saying `offer` has `available` left.
pub(crate) async fn until_available<S>(ws: &mut WebSocketStream<S>, offer: Uuid, available: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(WAIT, async {
        loop {
            let frame = next_of_type(ws, "availability").await;
            let offers = frame["offers"].as_array().cloned().unwrap_or_default();
            if offers
                .iter()
                .any(|o| o["offer_id"] == json!(offer) && o["available"] == available)
            {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("offer {offer} shown with {available} left"));
}

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an instant: {value}"))
}

#[actix_web::test]
async fn a_basket_holds_stock_that_everyone_else_sees_taken() {
    let app = spawn_app().await;
    let sale = open_sale(
        &app,
        &[
            offer("Poulet", "12.00", Some(3)),
            offer("Pain", "4.00", None),
        ],
    )
    .await;
    let (chicken, bread) = (sale.producer.offers[0], sale.producer.offers[1]);
    let d = sale.distribution_id;
    let crowd = customers(&app, 2).await;
    let (lea, hugo) = (&crowd[0], &crowd[1]);
    let mut watcher = connect(&app, &format!("/ws/distributions/{d}")).await;
    next_of_type(&mut watcher, "snapshot").await;

    let cart = put_cart(&app, d, lea, &[(chicken, "2"), (bread, "5")])
        .await
        .expect(200);
    assert_eq!(held(&cart, chicken).as_deref(), Some("2"));
    assert_eq!(
        held(&cart, bread).as_deref(),
        Some("5"),
        "unlimited: all held"
    );
    assert_eq!(cart["lines"][0]["quantity"], "2");
    assert_eq!(
        instant(&cart["expires_at"]),
        app.clock.now() + Duration::seconds(600)
    );
    until_available(&mut watcher, chicken, "1").await;

    // Everyone sees the held units taken; Léa sees what she holds.
    let anonymous = app
        .get(&format!("/api/v1/distributions/{d}/shop"), None)
        .await
        .expect(200);
    assert_eq!(shop_offer(&anonymous, chicken)["available"], "1");
    assert!(shop_offer(&anonymous, chicken).get("held").is_none());
    let hers = app
        .get(&format!("/api/v1/distributions/{d}/shop"), Some(&lea.token))
        .await
        .expect(200);
    assert_eq!(shop_offer(&hers, chicken)["available"], "1");
    assert_eq!(shop_offer(&hers, chicken)["held"], "2");
    assert_eq!(shop_offer(&hers, bread)["held"], "5");
    let his = app
        .get(
            &format!("/api/v1/distributions/{d}/shop"),
            Some(&hugo.token),
        )
        .await
        .expect(200);
    assert_eq!(shop_offer(&his, chicken)["held"], "0");
    let mut her_feed = connect_as(&app, &format!("/ws/distributions/{d}"), &lea.token)
        .await
        .expect("her storefront");
    let snapshot = next_of_type(&mut her_feed, "snapshot").await;
    assert_eq!(shop_offer(&snapshot, chicken)["held"], "2");

    // Hugo gets only what is left, and is told so by `held`.
    let his_cart = put_cart(&app, d, hugo, &[(chicken, "5")]).await.expect(200);
    assert_eq!(held(&his_cart, chicken).as_deref(), Some("1"));
    assert_eq!(his_cart["lines"][0]["quantity"], "5");
    until_available(&mut watcher, chicken, "0").await;

    // Léa's basket shrinks: what she no longer holds is free again.
    let cart = put_cart(&app, d, lea, &[(chicken, "1")]).await.expect(200);
    assert_eq!(held(&cart, chicken).as_deref(), Some("1"));
    assert_eq!(
        cart["lines"].as_array().map(Vec::len),
        Some(1),
        "the bread left"
    );
    until_available(&mut watcher, chicken, "1").await;
    let again = app.get(&cart_path(d), Some(&lea.token)).await.expect(200);
    assert_eq!(held(&again, chicken).as_deref(), Some("1"));

    app.delete(&cart_path(d), Some(&lea.token))
        .await
        .expect(204);
    until_available(&mut watcher, chicken, "2").await;
    app.delete(&cart_path(d), Some(&lea.token))
        .await
        .expect(204);
    let empty = app.get(&cart_path(d), Some(&lea.token)).await.expect(200);
    assert_eq!(empty, json!({"lines": [], "expires_at": null}));
    assert_eq!(shop_available(&app, d, chicken).await.as_deref(), Some("2"));
}

#[actix_web::test]
async fn an_order_consumes_its_basket_and_nobody_else_can_take_what_it_holds() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.00", Some(2))]).await;
    let chicken = sale.producer.offers[0];
    let d = sale.distribution_id;
    let crowd = customers(&app, 2).await;
    let (lea, hugo) = (&crowd[0], &crowd[1]);
    put_cart(&app, d, lea, &[(chicken, "3")]).await.expect(200);

    let refused = order(&app, d, hugo, &[(chicken, "1")])
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(refused["offers"][0]["available"], "0");
    // Léa's own hold counts as hers: 2 held, nothing else left → 3 refused.
    let refused = order(&app, d, lea, &[(chicken, "3")])
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(refused["offers"][0]["available"], "2");
    let cart = app.get(&cart_path(d), Some(&lea.token)).await.expect(200);
    assert_eq!(
        held(&cart, chicken).as_deref(),
        Some("2"),
        "a refusal keeps the hold"
    );

    let placed = order(&app, d, lea, &[(chicken, "2")]).await.expect(201);
    assert_eq!(placed["lines"][0]["quantity"], "2");
    assert_eq!(
        crate::fixtures::sold(&app, chicken).await,
        rust_decimal::Decimal::from(2)
    );
    assert_eq!(shop_available(&app, d, chicken).await.as_deref(), Some("0"));
    // What the order did not take stays in the basket (and holds nothing).
    let cart = app.get(&cart_path(d), Some(&lea.token)).await.expect(200);
    assert_eq!(cart["lines"][0]["quantity"], "1");
    assert_eq!(held(&cart, chicken).as_deref(), Some("0"));
}

#[actix_web::test]
async fn an_expired_hold_is_released_once_and_pushed() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.00", Some(3))]).await;
    let chicken = sale.producer.offers[0];
    let d = sale.distribution_id;
    let crowd = customers(&app, 2).await;
    let (lea, hugo) = (&crowd[0], &crowd[1]);
    let mut watcher = connect(&app, &format!("/ws/distributions/{d}")).await;
    next_of_type(&mut watcher, "snapshot").await;
    let cart = put_cart(&app, d, lea, &[(chicken, "2")]).await.expect(200);
    until_available(&mut watcher, chicken, "1").await;

    // One second short of the deadline nothing moves; at it, the hold goes.
    app.clock
        .set(instant(&cart["expires_at"]) - Duration::seconds(1));
    let still = app.get(&cart_path(d), Some(&lea.token)).await.expect(200);
    assert_eq!(held(&still, chicken).as_deref(), Some("2"));
    app.clock.set(instant(&cart["expires_at"]));
    until_available(&mut watcher, chicken, "3").await;
    let gone = app.get(&cart_path(d), Some(&lea.token)).await.expect(200);
    assert_eq!(gone, json!({"lines": [], "expires_at": null}));

    // Released once: Hugo takes all of it, and Léa's late release or order
    // finds nothing of hers.
    let his = put_cart(&app, d, hugo, &[(chicken, "3")]).await.expect(200);
    assert_eq!(held(&his, chicken).as_deref(), Some("3"));
    until_available(&mut watcher, chicken, "0").await;
    app.delete(&cart_path(d), Some(&lea.token))
        .await
        .expect(204);
    assert_eq!(shop_available(&app, d, chicken).await.as_deref(), Some("0"));
    order(&app, d, lea, &[(chicken, "1")])
        .await
        .expect_problem(409, "insufficient_stock");
    let metrics = app.get("/metrics", None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    // (The counter is the process's: other tests may add to it.)
    let expired: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("engine_holds_expired_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no expiry counted: {text}"));
    assert!(expired >= 1.0, "{expired}");
}

#[actix_web::test]
async fn lowering_real_stock_cuts_the_latest_baskets_first() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.00", Some(5))]).await;
    let chicken = sale.producer.offers[0];
    let d = sale.distribution_id;
    let crowd = customers(&app, 2).await;
    put_cart(&app, d, &crowd[0], &[(chicken, "3")])
        .await
        .expect(200);
    app.clock.set(app.clock.now() + Duration::seconds(5));
    put_cart(&app, d, &crowd[1], &[(chicken, "2")])
        .await
        .expect(200);
    app.put(
        &format!("/api/v1/offers/{chicken}/stock"),
        &json!({"tracked": true, "real": 4}),
        Some(&sale.producer.owner.token),
    )
    .await
    .expect(200);
    let first = app
        .get(&cart_path(d), Some(&crowd[0].token))
        .await
        .expect(200);
    let second = app
        .get(&cart_path(d), Some(&crowd[1].token))
        .await
        .expect(200);
    assert_eq!(held(&first, chicken).as_deref(), Some("3"));
    assert_eq!(held(&second, chicken).as_deref(), Some("1"));
    assert_eq!(shop_available(&app, d, chicken).await.as_deref(), Some("0"));
    // The producer's stock page shows what baskets hold.
    let page = app
        .get(
            &format!("/api/v1/producers/{}/stocks", sale.producer.producer_id),
            Some(&sale.producer.owner.token),
        )
        .await
        .expect(200);
    let line = page[0].clone();
    assert_eq!(
        (
            &line["real"],
            &line["ordered"],
            &line["held"],
            &line["available"]
        ),
        (&json!("4"), &json!("0"), &json!("4"), &json!("0"))
    );
}

#[actix_web::test]
async fn bad_baskets_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.00", Some(3))]).await;
    let chicken = sale.producer.offers[0];
    let d = sale.distribution_id;
    let lea = &customers(&app, 1).await[0];
    let body = json!({"lines": [{"offer_id": chicken, "quantity": "1"}]});

    app.put(&cart_path(d), &body, None)
        .await
        .expect_problem(401, "unauthorized");
    app.get(&cart_path(d), None)
        .await
        .expect_problem(401, "unauthorized");
    let unknown = cart_path(Uuid::new_v4());
    app.put(&unknown, &body, Some(&lea.token))
        .await
        .expect_problem(404, "not_found");
    app.get(&unknown, Some(&lea.token))
        .await
        .expect_problem(404, "not_found");
    app.delete(&unknown, Some(&lea.token))
        .await
        .expect_problem(404, "not_found");

    let problem = app
        .put(
            &cart_path(d),
            &json!({"lines": [{"offer_id": chicken, "quantity": "1.5"},
                              {"offer_id": Uuid::new_v4(), "quantity": 1},
                              {"offer_id": chicken}]}),
            Some(&lea.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["lines[2].quantity"], "unreadable lines first");
    let problem = app
        .put(
            &cart_path(d),
            &json!({"lines": [{"offer_id": chicken, "quantity": "1.5"},
                              {"offer_id": Uuid::new_v4(), "quantity": 1}]}),
            Some(&lea.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["lines[0].quantity", "lines[1].offer_id"]);
    let many: Vec<Value> = (0..201)
        .map(|_| json!({"offer_id": chicken, "quantity": 1}))
        .collect();
    app.put(&cart_path(d), &json!({"lines": many}), Some(&lea.token))
        .await
        .expect_problem(422, "invalid_field");
    let raw = app
        .client
        .put(app.url(&cart_path(d)))
        .bearer_auth(&lea.token)
        .header("content-type", "text/plain")
        .body("lines")
        .send()
        .await
        .expect("sent");
    assert_eq!(raw.status().as_u16(), 415);
    assert_eq!(shop_available(&app, d, chicken).await.as_deref(), Some("3"));

    // Outside the sale's window.
    app.clock.set(sale.window.closes_at);
    app.put(&cart_path(d), &body, Some(&lea.token))
        .await
        .expect_problem(409, "sale_closed");
    app.clock.set(sale.window.opens_at - Duration::seconds(1));
    let problem = app
        .put(&cart_path(d), &body, Some(&lea.token))
        .await
        .expect_problem(409, "sale_not_open");
    assert_eq!(problem["offer_id"], json!(chicken));
    let empty = app.get(&cart_path(d), Some(&lea.token)).await.expect(200);
    assert_eq!(empty["lines"], json!([]));
}
