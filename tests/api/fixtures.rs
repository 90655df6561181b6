//! Ready-made sales for the ordering tests, built through the public API
//! like a producer and a market admin would: VAT rate, products and offers,
//! a catalog linked to a market by its code, a distribution, a
//! participation, then the test clock moved into the order window.
//!
//! Only the crowd of customers is inserted with SQL (accounts and tokens),
//! because hundreds of argon2 sign-ups would dominate the run time and are
//! not what these tests are about.

// Shared test support: not every test uses every field or helper.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use etal::engine::clock::Clock;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

// By path: the browser tests include this file from another folder.
#[path = "fixtures/parts.rs"]
pub mod parts;

use crate::helpers::{parse_id, TestApp, TestUser};

/// An offer to put on sale: label, price, stock (`None` = unlimited).
pub struct OfferSpec {
    pub label: &'static str,
    pub price: &'static str,
    pub stock: Option<u32>,
}

pub fn offer(label: &'static str, price: &'static str, stock: Option<u32>) -> OfferSpec {
    OfferSpec {
        label,
        price,
        stock,
    }
}

/// `n` offers ("Légume 00"…) at 2.00 with 10 in stock each: a shop whose
/// snapshot is long (about 20 kB for 60).
pub fn many_offers(n: usize) -> Vec<OfferSpec> {
    (0..n)
        .map(|i| {
            offer(
                Box::leak(format!("Légume {i:02}").into_boxed_str()),
                "2.00",
                Some(10),
            )
        })
        .collect()
}

/// A producer with a catalog of offers.
pub struct ProducerSetup {
    pub owner: TestUser,
    pub producer_id: Uuid,
    pub catalog_id: Uuid,
    pub code: String,
    pub offers: Vec<Uuid>,
}

/// A market with an admin.
pub struct MarketSetup {
    pub admin: TestUser,
    pub market_id: Uuid,
}

/// Times of a distribution whose window opens at `opens`.
pub struct Window {
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

/// Creates a producer selling `offers` (one product each) in one catalog.
pub async fn producer_with_catalog(
    app: &TestApp,
    name: &str,
    offers: &[OfferSpec],
) -> ProducerSetup {
    let owner = app.user(&format!("{name} owner")).await;
    let producer_id = app.producer(&owner, name).await;
    let token = Some(owner.token.as_str());
    let vat_id = reduced_vat_rate(app, producer_id, token).await;
    let mut offer_ids = Vec::new();
    for spec in offers {
        let product = app
            .post(
                &format!("/api/v1/producers/{producer_id}/products"),
                &json!({"name": spec.label, "unit": "piece", "category": "Légumes", "organic": true,
                        "variable_price": false, "multi_weight": false, "active": true}),
                token,
            )
            .await
            .expect(201);
        let product_id = parse_id(&product["id"]);
        let body = json!({"label": spec.label, "quantity": "1", "unit": "piece",
                          "price": spec.price, "vat_rate_id": vat_id});
        offer_ids.push(add_offer(app, product_id, body, spec.stock, token).await);
    }
    with_catalog(app, owner, producer_id, name, offer_ids).await
}

/// The producer's 5.5 % VAT rate, created.
pub async fn reduced_vat_rate(app: &TestApp, producer_id: Uuid, token: Option<&str>) -> Uuid {
    let vat = app
        .post(
            &format!("/api/v1/producers/{producer_id}/vat-rates"),
            &json!({"name": "Taux réduit", "rate": "5.5"}),
            token,
        )
        .await
        .expect(201);
    parse_id(&vat["id"])
}

/// Adds an offer (`body` without stock) to a product, with limited `stock`
/// if given.
pub async fn add_offer(
    app: &TestApp,
    product_id: Uuid,
    mut body: Value,
    stock: Option<u32>,
    token: Option<&str>,
) -> Uuid {
    if let Some(stock) = stock {
        body["stock"] = json!({"real": stock.to_string()});
    }
    let created = app
        .post(
            &format!("/api/v1/products/{product_id}/offers"),
            &body,
            token,
        )
        .await
        .expect(201);
    parse_id(&created["id"])
}

/// Puts the producer's `offers` in one new catalog.
pub async fn with_catalog(
    app: &TestApp,
    owner: TestUser,
    producer_id: Uuid,
    name: &str,
    offers: Vec<Uuid>,
) -> ProducerSetup {
    let entries: Vec<Value> = offers.iter().map(|id| json!({"offer_id": id})).collect();
    let catalog = app
        .post(
            &format!("/api/v1/producers/{producer_id}/catalogs"),
            &json!({"name": format!("Catalogue {name}"), "entries": entries}),
            Some(owner.token.as_str()),
        )
        .await
        .expect(201);
    ProducerSetup {
        owner,
        producer_id,
        catalog_id: parse_id(&catalog["id"]),
        code: catalog["code"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| catalog["code"].to_string()),
        offers,
    }
}

/// Creates a market (its admin a new account).
pub async fn market(app: &TestApp, name: &str) -> MarketSetup {
    market_of(
        app,
        &json!({"name": name, "place": {"address": "Place du marché, Lyon", "lat": 45.76, "lng": 4.83},
                "online_payment": true}),
    )
    .await
}

/// Creates the market `body` describes (`POST /markets`), its admin a new
/// account named after it ("<name> admin").
pub async fn market_of(app: &TestApp, body: &Value) -> MarketSetup {
    let name = body["name"].as_str().expect("the market's name");
    let admin = app.user(&format!("{name} admin")).await;
    let market = app
        .post("/api/v1/markets", body, Some(&admin.token))
        .await
        .expect(201);
    MarketSetup {
        market_id: parse_id(&market["id"]),
        admin,
    }
}

/// Links a catalog to a market by its code (as the market admin).
pub async fn link(app: &TestApp, market: &MarketSetup, producer: &ProducerSetup) {
    app.post(
        &format!("/api/v1/markets/{}/catalogs", market.market_id),
        &json!({"code": producer.code}),
        Some(&market.admin.token),
    )
    .await
    .expect(201);
}

/// The window used by default: opens in a minute, closes in a day.
pub fn window_from(now: DateTime<Utc>) -> Window {
    Window {
        opens_at: now + Duration::minutes(1),
        closes_at: now + Duration::days(1),
    }
}

/// Plans a distribution with that window (the day after it closes).
pub async fn distribution(app: &TestApp, market: &MarketSetup, window: &Window) -> Uuid {
    let starts = window.closes_at + Duration::hours(1);
    let created = app
        .post(
            &format!("/api/v1/markets/{}/distributions", market.market_id),
            &json!({"starts_at": starts, "ends_at": starts + Duration::hours(2),
                    "orders_open_at": window.opens_at, "orders_close_at": window.closes_at}),
            Some(&market.admin.token),
        )
        .await
        .expect(201);
    parse_id(&created["id"])
}

/// The producer's catalog takes part in the distribution.
pub async fn participate(app: &TestApp, producer: &ProducerSetup, distribution_id: Uuid) {
    app.post(
        &format!("/api/v1/distributions/{distribution_id}/participations"),
        &json!({"catalog_id": producer.catalog_id}),
        Some(&producer.owner.token),
    )
    .await
    .expect(201);
}

/// One producer, one market, one distribution whose sale is open now.
pub struct OpenSale {
    pub producer: ProducerSetup,
    pub market: MarketSetup,
    pub distribution_id: Uuid,
    pub window: Window,
}

/// The producer forces a sync of its catalog into the sale: every watcher
/// of the storefront gets a fresh snapshot.
pub async fn force_sync(app: &TestApp, sale: &OpenSale) {
    app.post(
        &format!("/api/v1/catalogs/{}/sync", sale.producer.catalog_id),
        &serde_json::json!({}),
        Some(&sale.producer.owner.token),
    )
    .await
    .expect(200);
}

/// Builds a sale of `offers` and moves the clock into its window.
pub async fn open_sale(app: &TestApp, offers: &[OfferSpec]) -> OpenSale {
    let producer = producer_with_catalog(app, "Ferme des Tilleuls", offers).await;
    let market = market(app, "Marché de la Croix-Rousse").await;
    link(app, &market, &producer).await;
    let window = window_from(app.clock.now());
    let distribution_id = distribution(app, &market, &window).await;
    participate(app, &producer, distribution_id).await;
    app.clock.set(window.opens_at + Duration::seconds(1));
    OpenSale {
        producer,
        market,
        distribution_id,
        window,
    }
}

/// `n` customer accounts with live tokens, inserted directly.
pub async fn customers(app: &TestApp, n: usize) -> Vec<TestUser> {
    let mut users = Vec::with_capacity(n);
    let (mut ids, mut emails, mut names, mut hashes) = (vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let id = Uuid::new_v4();
        let token = format!("test-token-{}", Uuid::new_v4().simple());
        let hash: Vec<u8> = Sha256::digest(token.as_bytes()).to_vec();
        let email = format!("customer{i}-{}@example.org", &id.simple().to_string()[..6]);
        ids.push(id);
        emails.push(email.clone());
        names.push(format!("Client {i}"));
        hashes.push(hash);
        users.push(TestUser {
            id,
            email,
            password: String::new(),
            name: format!("Client {i}"),
            token,
        });
    }
    sqlx::query(
        "INSERT INTO accounts (id, email, name, password_hash)
         SELECT i, e, n, 'not-a-password-hash' FROM UNNEST($1::uuid[], $2::text[], $3::text[]) AS t(i, e, n)",
    )
    .bind(&ids)
    .bind(&emails)
    .bind(&names)
    .execute(&app.db)
    .await
    .expect("insert customers");
    sqlx::query(
        "INSERT INTO auth_tokens (account_id, token_hash, expires_at)
         SELECT a, h, now() + interval '30 days' FROM UNNEST($1::uuid[], $2::bytea[]) AS t(a, h)",
    )
    .bind(&ids)
    .bind(&hashes)
    .execute(&app.db)
    .await
    .expect("insert tokens");
    users
}

/// Units of an offer in confirmed, undelivered orders, from the database.
pub async fn sold(app: &TestApp, offer_id: Uuid) -> rust_decimal::Decimal {
    let (sum,): (Option<rust_decimal::Decimal>,) = sqlx::query_as(
        "SELECT sum(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id
          WHERE l.offer_id = $1 AND o.status = 'confirmed' AND l.delivered_at IS NULL",
    )
    .bind(offer_id)
    .fetch_one(&app.db)
    .await
    .expect("sum sold");
    sum.unwrap_or_default()
}

/// The shop's `available` for an offer (`None` = unlimited).
pub async fn shop_available(
    app: &TestApp,
    distribution_id: Uuid,
    offer_id: Uuid,
) -> Option<String> {
    let shop = app
        .get(
            &format!("/api/v1/distributions/{distribution_id}/shop"),
            None,
        )
        .await
        .expect(200);
    shop["offers"]
        .as_array()
        .and_then(|offers| offers.iter().find(|o| o["offer_id"] == json!(offer_id)))
        .and_then(|o| o["available"].as_str().map(str::to_owned))
}

/// The body of an order or a basket: `{"lines": [{offer_id, quantity}]}`.
pub fn lines_body(lines: &[(Uuid, &str)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(offer, q)| json!({"offer_id": offer, "quantity": q}))
        .collect();
    json!({"lines": lines})
}

/// Posts an order of `lines` (offer, quantity) for a customer. The body is
/// built at once, so the future borrows only the app and the customer.
pub fn order<'a>(
    app: &'a TestApp,
    distribution_id: Uuid,
    customer: &'a TestUser,
    lines: &[(Uuid, &str)],
) -> impl std::future::Future<Output = crate::helpers::Answer> + 'a {
    let path = format!("/api/v1/distributions/{distribution_id}/orders");
    let body = lines_body(lines);
    async move { app.post(&path, &body, Some(&customer.token)).await }
}
