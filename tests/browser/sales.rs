//! Sales for the browser tests, built through the API like the API tests'
//! fixtures, but on real time: the pages count down with the browser's own
//! clock, so the engine's `ManualClock` follows the wall clock (set to
//! `Utc::now()` every 10 ms by a task of the test) and windows are placed
//! relative to now.

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{self, ProducerSetup, Window};
use crate::helpers::{parse_id, TestApp};

/// Keeps the engine's clock on the wall clock until dropped.
pub struct RealTime(tokio::task::JoinHandle<()>);

impl Drop for RealTime {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub fn follow_real_time(app: &TestApp) -> RealTime {
    let clock = app.clock.clone();
    clock.set(Utc::now());
    RealTime(tokio::spawn(async move {
        loop {
            clock.set(Utc::now());
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }))
}

/// An offer of a product: label, quantity, unit, price, stock (None = unlimited).
pub struct Pack(
    pub &'static str,
    pub &'static str,
    pub &'static str,
    pub &'static str,
    pub Option<u32>,
);

/// A product with its offers.
pub struct Product {
    pub name: &'static str,
    pub category: &'static str,
    pub organic: bool,
    pub variable_price: bool,
    pub packs: Vec<Pack>,
}

/// A producer selling `products` in one catalog; offers in order.
pub async fn farm(app: &TestApp, name: &str, products: &[Product]) -> ProducerSetup {
    let owner = app.user(&format!("{name} owner")).await;
    let producer_id = app.producer(&owner, name).await;
    let token = Some(owner.token.as_str());
    let vat_id = fixtures::reduced_vat_rate(app, producer_id, token).await;
    let mut offers = Vec::new();
    for product in products {
        let created = app
            .post(
                &format!("/api/v1/producers/{producer_id}/products"),
                &json!({"name": product.name, "unit": "piece", "category": product.category,
                        "organic": product.organic, "variable_price": product.variable_price,
                        "multi_weight": false, "active": true}),
                token,
            )
            .await
            .expect(201);
        let product_id = parse_id(&created["id"]);
        for Pack(label, quantity, unit, price, stock) in &product.packs {
            let body = json!({"label": label, "quantity": quantity, "unit": unit,
                              "price": price, "vat_rate_id": vat_id});
            offers.push(fixtures::add_offer(app, product_id, body, *stock, token).await);
        }
    }
    fixtures::with_catalog(app, owner, producer_id, name, offers).await
}

/// The farm of most tests: one chicken left, potatoes by the sack, eggs.
pub fn tilleuls() -> Vec<Product> {
    vec![
        Product {
            name: "Poulet fermier",
            category: "Volailles",
            organic: true,
            variable_price: true,
            packs: vec![Pack("Entier", "1.8", "kg", "16.90", Some(1))],
        },
        Product {
            name: "Pommes de terre",
            category: "Légumes",
            organic: true,
            variable_price: false,
            packs: vec![
                Pack("Vrac", "1", "kg", "2.50", Some(40)),
                Pack("Sac", "10", "kg", "20.00", Some(3)),
            ],
        },
        Product {
            name: "Œufs",
            category: "Œufs et produits laitiers",
            organic: false,
            variable_price: false,
            packs: vec![Pack("Boîte de 6", "6", "piece", "3.20", None)],
        },
    ]
}

/// A second producer, so the shop shows grouping by producer.
pub fn chevrerie() -> Vec<Product> {
    vec![Product {
        name: "Tomme de chèvre",
        category: "Fromages",
        organic: false,
        variable_price: false,
        packs: vec![Pack("Pièce", "300", "g", "7.50", Some(12))],
    }]
}

/// A distribution of the given farms whose orders open `opens_in` from now
/// (negative: already open) and close `closes_in` from now.
pub struct LiveSale {
    pub farms: Vec<ProducerSetup>,
    pub market: fixtures::MarketSetup,
    pub distribution_id: Uuid,
    pub window: Window,
}

pub async fn live_sale(
    app: &TestApp,
    farms: Vec<ProducerSetup>,
    opens_in: Duration,
    closes_in: Duration,
) -> LiveSale {
    let market = fixtures::market(app, "Marché de la Croix-Rousse").await;
    for farm in &farms {
        fixtures::link(app, &market, farm).await;
    }
    let now = Utc::now();
    let window = Window {
        opens_at: now + opens_in,
        closes_at: now + closes_in,
    };
    let distribution_id = fixtures::distribution(app, &market, &window).await;
    for farm in &farms {
        fixtures::participate(app, farm, distribution_id).await;
    }
    LiveSale {
        farms,
        market,
        distribution_id,
        window,
    }
}
