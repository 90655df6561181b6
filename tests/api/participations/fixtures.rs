//! Fixtures shared by the distribution and participation tests, all
//! through the API: markets, catalogs and links, orders, and a small world
//! of one market, one producer selling one offer in one catalog, and two
//! distributions.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::parts::{api_catalog, api_link, api_offer, api_order};
use crate::helpers::{parse_id, Answer, TestApp, TestUser};

/// `days` from today at `hour`:00 UTC (whole seconds, so it round-trips).
pub fn day(days: i64, hour: u32) -> DateTime<Utc> {
    (Utc::now().date_naive() + Duration::days(days))
        .and_hms_opt(hour, 0, 0)
        .expect("valid hour")
        .and_utc()
}

/// RFC 3339 as the API writes it.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A market (Europe/Paris, Thursdays) administered by `admin`, created
/// through the API: role changes must go through the engine, which caches
/// who may do what.
pub async fn api_market(app: &TestApp, admin: &TestUser, name: &str) -> Uuid {
    let market = app
        .post(
            "/api/v1/markets",
            &json!({"name": name,
                    "place": {"address": "1 place du Marché, Lyon", "lat": 45.76, "lng": 4.83},
                    "usual_weekday": 4, "timezone": "Europe/Paris"}),
            Some(&admin.token),
        )
        .await
        .expect(201);
    parse_id(&market["id"])
}

/// A catalog of `producer` listing `offers`, through the API (`owner`
/// acting): its id and code.
pub async fn catalog(
    app: &TestApp,
    owner: &TestUser,
    producer: Uuid,
    name: &str,
    offers: &[Uuid],
) -> (Uuid, String) {
    let doc = api_catalog(app, owner, producer, name, offers).await;
    let code = doc["code"].as_str().map(str::to_owned).unwrap_or_default();
    (parse_id(&doc["id"]), code)
}

/// Links the catalog with `code` to a market (`admin` acting).
pub async fn link(app: &TestApp, admin: &TestUser, market: Uuid, code: &str) {
    api_link(app, admin, market, &json!({"code": code})).await;
}

/// A new customer's confirmed order of one unit of `offer` in
/// `distribution` (whose sale is open), through the API: the customer and
/// the order's id.
pub async fn order(app: &TestApp, distribution: Uuid, offer: Uuid) -> (TestUser, Uuid) {
    let customer = app.user("Cliente").await;
    let id = api_order(app, distribution, &customer, offer, "1").await;
    (customer, id)
}

/// Plans a distribution through the API: starts `days` from today at
/// 15:00 UTC for two hours; orders from `open_days` 06:00 to the day
/// before 20:00.
pub async fn plan(
    app: &TestApp,
    admin: &TestUser,
    market: Uuid,
    days: i64,
    open_days: i64,
) -> Value {
    app.post(
        &format!("/api/v1/markets/{market}/distributions"),
        &json!({
            "starts_at": ts(day(days, 15)), "ends_at": ts(day(days, 17)),
            "orders_open_at": ts(day(open_days, 6)), "orders_close_at": ts(day(days - 1, 20)),
        }),
        Some(&admin.token),
    )
    .await
    .expect(201)
}

/// A market with its admin, a producer with its owner and one catalog (of
/// one offer) linked to the market, and two distributions: one whose sale
/// is open now (in 3 days) and one whose sale opens later (in 10 days).
pub struct World {
    pub admin: TestUser,
    pub owner: TestUser,
    pub market: Uuid,
    pub producer: Uuid,
    pub offer: Uuid,
    pub catalog: Uuid,
    pub catalog_code: String,
    pub open_now: Uuid,
    pub later: Uuid,
}

pub async fn world(app: &TestApp) -> World {
    let admin = app.user("Admin").await;
    let owner = app.user("Paysanne").await;
    let market = api_market(app, &admin, "Marché de la Croix-Rousse").await;
    let producer = app.producer(&owner, "Ferme des Lilas").await;
    let offer = api_offer(app, &owner, producer, "Pommes", "Vrac", "2.50", None).await;
    let (catalog, catalog_code) = catalog(app, &owner, producer, "Légumes", &[offer]).await;
    link(app, &admin, market, &catalog_code).await;
    let open_now = parse_id(&plan(app, &admin, market, 3, -1).await["id"]);
    let later = parse_id(&plan(app, &admin, market, 10, 5).await["id"]);
    World {
        admin,
        owner,
        market,
        producer,
        offer,
        catalog,
        catalog_code,
        open_now,
        later,
    }
}

pub async fn participate(
    app: &TestApp,
    user: &TestUser,
    distribution: Uuid,
    body: &Value,
) -> Answer {
    app.post(
        &format!("/api/v1/distributions/{distribution}/participations"),
        body,
        Some(&user.token),
    )
    .await
}

pub async fn participations_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM participations")
        .fetch_one(&app.db)
        .await
        .expect("count")
}
