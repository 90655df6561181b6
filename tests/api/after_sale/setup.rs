//! Set-ups for the after-sale tests: an engine whose jobs the test runs
//! itself (and that it can stop, to restart another on the same database),
//! a farm selling at two VAT rates with a catalog price, a variable-price
//! and a piece-by-piece weighed product, and a market with a fee.

// Shared test support: not every test uses every helper.
#![allow(dead_code)]

use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use chrono::{DateTime, Utc};
use etal::configuration::Settings;
use etal::engine::clock::{Clock, ManualClock};
use etal::engine::jobs::{JobReport, Jobs};
use etal::startup::Application;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::fixtures::{
    distribution, link, market_of, participate, window_from, MarketSetup, ProducerSetup, Window,
};
use crate::helpers::{fresh_database, parse_id, test_settings, TestApp};

/// An engine with its jobs in the test's hands.
pub struct Running {
    pub app: TestApp,
    pub jobs: Jobs,
    handle: ServerHandle,
    task: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
}

/// Settings whose background pass practically never comes round: the test
/// runs the jobs itself and awaits what they did.
pub fn quiet_settings(url: &str) -> Settings {
    let mut settings = test_settings(url);
    settings.engine.jobs_interval_ms = 3_600_000;
    settings
}

/// Starts an engine on a fresh database, its clock at `now`.
pub async fn start(now: DateTime<Utc>) -> Running {
    let url = fresh_database().await;
    start_with(quiet_settings(&url), now).await
}

/// Starts an engine with these settings (e.g. on an existing database).
pub async fn start_with(settings: Settings, now: DateTime<Utc>) -> Running {
    let clock = ManualClock::new(now);
    let database_url = settings.database.url.expose_secret().to_owned();
    let app = Application::build_with_clock(settings.clone(), Arc::new(clock.clone()))
        .await
        .expect("application builds");
    let jobs = Jobs::new(app.state().engine.clone(), &settings);
    let handle = app.server_handle();
    let port = app.port();
    let task = actix_web::rt::spawn(app.run_until_stopped());
    let db = PgPool::connect(&database_url).await.expect("test pool");
    Running {
        app: TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            db,
            database_url,
            clock,
        },
        jobs,
        handle,
        task,
    }
}

impl Running {
    /// Runs the due jobs now.
    pub async fn run_jobs(&self) -> JobReport {
        self.jobs.run_due().await
    }

    /// Stops the server and waits until the engine released its lock.
    pub async fn stop(self) {
        let Running {
            app,
            jobs,
            handle,
            task,
            ..
        } = self;
        drop(jobs);
        handle.stop(true).await;
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("engine stops in time")
            .expect("engine task")
            .expect("engine ran");
        app.db.close().await;
    }
}

/// The offers of [`farm`], by name.
pub struct FarmOffers {
    /// Pommes, 2.50 € per 1 kg, VAT 5.5 %, 10 in stock.
    pub apples: Uuid,
    /// Jus de pomme, 4.00 € (3.60 € in the catalog), VAT 20 %.
    pub juice: Uuid,
    /// Poulet, variable price, 12.00 € per 1 kg, VAT 5.5 %.
    pub chicken: Uuid,
    /// Rôti, weighed piece by piece, 20.00 € per 1 kg, VAT 5.5 %.
    pub roast: Uuid,
}

async fn product(
    app: &TestApp,
    p: &ProducerSetup,
    name: &str,
    variable: bool,
    multi: bool,
) -> Uuid {
    let body = app
        .post(
            &format!("/api/v1/producers/{}/products", p.producer_id),
            &json!({"name": name, "unit": "kg", "category": "Ferme", "organic": false,
                    "variable_price": variable, "multi_weight": multi, "active": true}),
            Some(&p.owner.token),
        )
        .await
        .expect(201);
    parse_id(&body["id"])
}

async fn offer(app: &TestApp, p: &ProducerSetup, product: Uuid, body: Value) -> Uuid {
    let created = app
        .post(
            &format!("/api/v1/products/{product}/offers"),
            &body,
            Some(&p.owner.token),
        )
        .await
        .expect(201);
    parse_id(&created["id"])
}

/// "Ferme des Tilleuls": the four offers of [`FarmOffers`] in one catalog.
pub async fn farm(app: &TestApp) -> (ProducerSetup, FarmOffers) {
    let owner = app.user("Farm owner").await;
    let producer_id = app.producer(&owner, "Ferme des Tilleuls").await;
    let token_text = owner.token.clone();
    let token = Some(token_text.as_str());
    let mut rates = Vec::new();
    for (name, rate) in [("Réduit", "5.5"), ("Normal", "20")] {
        let vat = app
            .post(
                &format!("/api/v1/producers/{producer_id}/vat-rates"),
                &json!({"name": name, "rate": rate}),
                token,
            )
            .await
            .expect(201);
        rates.push(parse_id(&vat["id"]));
    }
    let mut setup = ProducerSetup {
        owner,
        producer_id,
        catalog_id: Uuid::nil(),
        code: String::new(),
        offers: vec![],
    };
    let kg = |price: &str, vat: Uuid| json!({"label": "1 kg", "quantity": "1", "unit": "kg", "price": price, "vat_rate_id": vat});
    let apples_p = product(app, &setup, "Pommes", false, false).await;
    let mut apples_body = kg("2.50", rates[0]);
    apples_body["stock"] = json!({"real": "10"});
    let apples = offer(app, &setup, apples_p, apples_body).await;
    let juice_p = product(app, &setup, "Jus de pomme", false, false).await;
    let juice = offer(
        app,
        &setup,
        juice_p,
        json!({"label": "Bouteille 1 L", "quantity": "1", "unit": "L", "price": "4.00",
               "vat_rate_id": rates[1]}),
    )
    .await;
    let chicken_p = product(app, &setup, "Poulet", true, false).await;
    let chicken = offer(app, &setup, chicken_p, kg("12.00", rates[0])).await;
    let roast_p = product(app, &setup, "Rôti", true, true).await;
    let roast = offer(app, &setup, roast_p, kg("20.00", rates[0])).await;
    let catalog = app
        .post(
            &format!("/api/v1/producers/{producer_id}/catalogs"),
            &json!({"name": "Catalogue de la ferme", "entries": [
                {"offer_id": apples}, {"offer_id": juice, "price": "3.60"},
                {"offer_id": chicken}, {"offer_id": roast}]}),
            token,
        )
        .await
        .expect(201);
    setup.catalog_id = parse_id(&catalog["id"]);
    setup.code = catalog["code"].as_str().unwrap_or_default().to_owned();
    setup.offers = vec![apples, juice, chicken, roast];
    (
        setup,
        FarmOffers {
            apples,
            juice,
            chicken,
            roast,
        },
    )
}

/// A market with a platform fee, online payment or not, in Paris.
pub async fn market_with_fee(app: &TestApp, name: &str, fee: &str, online: bool) -> MarketSetup {
    market_of(
        app,
        &json!({"name": name, "place": {"address": "Place de la mairie", "lat": 45.76, "lng": 4.83},
                "online_payment": online, "fee_rate": fee, "timezone": "Europe/Paris"}),
    )
    .await
}

/// Links the producers' catalogs to the market.
pub async fn link_all(app: &TestApp, market: &MarketSetup, producers: &[&ProducerSetup]) {
    for p in producers {
        link(app, market, p).await;
    }
}

/// Producers' catalogs (linked to the market) taking part in a new
/// distribution whose window opens a minute after the clock; the clock is
/// moved into the window.
pub async fn sale(
    app: &TestApp,
    market: &MarketSetup,
    producers: &[&ProducerSetup],
) -> (Uuid, Window) {
    let window = window_from(app.clock.now());
    let distribution_id = distribution(app, market, &window).await;
    for p in producers {
        participate(app, p, distribution_id).await;
    }
    app.clock
        .set(window.opens_at + chrono::Duration::seconds(1));
    (distribution_id, window)
}

/// The distribution's end, from the database.
pub async fn ends_at(db: &PgPool, distribution_id: Uuid) -> DateTime<Utc> {
    let (ends,): (DateTime<Utc>,) =
        sqlx::query_as("SELECT ends_at FROM distributions WHERE id = $1")
            .bind(distribution_id)
            .fetch_one(db)
            .await
            .expect("distribution end");
    ends
}

/// Ids of an order's lines of one offer, in line order.
pub fn line_ids(order: &Value, offer: Uuid) -> Vec<Uuid> {
    order["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter(|l| l["offer_id"] == json!(offer))
                .map(|l| parse_id(&l["id"]))
                .collect()
        })
        .unwrap_or_default()
}
