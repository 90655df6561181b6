//! Test fixtures shared by the catalog and market tests, all through the
//! API: offers, catalogs, markets, a distribution in which a catalog takes
//! part, and orders (the pieces are `fixtures::parts`).

use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::parts::{api_offer, api_order, open_distribution};
use crate::helpers::{parse_id, TestApp, TestUser};

/// An offer of `producer` (its `owner` acting), with its product and VAT rate.
pub async fn fixture_offer(
    app: &TestApp,
    owner: &TestUser,
    producer: Uuid,
    product: &str,
    label: &str,
    price: &str,
) -> Uuid {
    api_offer(app, owner, producer, product, label, price, None).await
}

/// A distribution of `market` (planned by `admin`) in which `catalog`
/// (already linked) takes part (`owner` acting), its sale open now.
pub async fn fixture_participation(
    app: &TestApp,
    admin: &TestUser,
    owner: &TestUser,
    market: Uuid,
    catalog: Uuid,
) -> Uuid {
    open_distribution(app, admin, owner, market, catalog).await
}

/// `customer` orders one unit of `offer` in `distribution`.
pub async fn fixture_order(
    app: &TestApp,
    distribution: Uuid,
    offer: Uuid,
    customer: &TestUser,
) -> Uuid {
    api_order(app, distribution, customer, offer, "1").await
}

/// Creates a catalog through the API; returns its document.
pub async fn create_catalog(
    app: &TestApp,
    user: &TestUser,
    producer: Uuid,
    entries: Value,
) -> Value {
    app.post(
        &format!("/api/v1/producers/{producer}/catalogs"),
        &json!({"name": "Marché du jeudi", "entries": entries}),
        Some(&user.token),
    )
    .await
    .expect(201)
}

/// Creates a market through the API; returns its id.
pub async fn create_market(
    app: &TestApp,
    admin: &TestUser,
    name: &str,
    lat: f64,
    lng: f64,
    weekday: Value,
) -> Uuid {
    let body = app
        .post(
            "/api/v1/markets",
            &json!({"name": name, "place": {"address": format!("Place de {name}"), "lat": lat, "lng": lng},
                    "online_payment": true, "usual_weekday": weekday}),
            Some(&admin.token),
        )
        .await
        .expect(201);
    parse_id(&body["id"])
}

pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str().map(str::to_owned))
        .collect()
}
