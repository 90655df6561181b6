//! The sale every benchmark starts from, written with SQL on a fresh
//! database of the private cluster under `target/bench-cluster`: one
//! producer, offer, market, distribution and participation with its frozen
//! snapshot row, and customers.

// Each bench uses its own part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use etal::configuration::{Settings, Sources};
use etal::store::cluster::PrivateCluster;
use etal::store::Store;
use rust_decimal::Decimal;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

/// Ids of a minimal sale created with SQL.
pub struct Fixture {
    pub url: String,
    pub offer: Uuid,
    pub distribution: Uuid,
    pub participation: Uuid,
    pub customer: Uuid,
    /// More customers (the writer benches need one order per customer).
    pub customers: Vec<Uuid>,
}

pub fn settings(url: &str) -> Settings {
    let mut s = Settings::load_from(&Sources::default()).expect("settings");
    s.database.url = url.into();
    s
}

pub async fn database(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-cluster");
    let cluster = PrivateCluster::new(&dir).expect("bench cluster dir");
    cluster.ensure_started().expect("bench cluster");
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("admin");
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create");
    let url = cluster.url(name);
    let store = Store::connect_lazy(&url, 4, Duration::from_secs(10)).expect("store");
    store.migrate().await.expect("migrate");
    url
}

/// One producer, offer (stock `stock`), market, distribution, participation
/// with its snapshot row, a customer and `customers` more.
pub async fn fixture(name: &str, stock: i64, customers: i64) -> Fixture {
    let url = database(name).await;
    let mut c = PgConnection::connect(&url).await.expect("connect");
    let row: (Uuid, Uuid, Uuid, Uuid, Uuid) = sqlx::query_as(
        "WITH p AS (INSERT INTO producers (name) VALUES ('Ferme') RETURNING id),
              v AS (INSERT INTO vat_rates (producer_id, name, rate) SELECT id, 'r', 5.5 FROM p RETURNING id, producer_id),
              pr AS (INSERT INTO products (producer_id, name, category, unit, organic, active, variable_price, multi_weight, fractional)
                     SELECT producer_id, 'Poulet', 'Volaille', 'piece', true, true, false, false, false FROM v RETURNING id, producer_id),
              o AS (INSERT INTO offers (product_id, label, quantity, unit, price, vat_rate_id, stock_tracked, real_stock, active)
                    SELECT pr.id, 'Entier', 1, 'piece', 12.00, v.id, true, $1, true FROM pr, v RETURNING id, product_id),
              cat AS (INSERT INTO catalogs (producer_id, name, code) SELECT id, 'Cat', '123456' FROM p RETURNING id),
              ce AS (INSERT INTO catalog_entries (catalog_id, offer_id) SELECT cat.id, o.id FROM cat, o RETURNING catalog_id),
              m AS (INSERT INTO markets (name, address, lat, lng) VALUES ('Marché', 'Lyon', 45.7, 4.8) RETURNING id),
              mc AS (INSERT INTO market_catalogs (market_id, catalog_id) SELECT m.id, cat.id FROM m, cat RETURNING market_id),
              d AS (INSERT INTO distributions (market_id, starts_at, ends_at, orders_open_at, orders_close_at)
                    SELECT id, now() + interval '2 days', now() + interval '2 days 2 hours', now() - interval '1 hour', now() + interval '1 day' FROM m RETURNING id),
              a AS (INSERT INTO accounts (email, name, password_hash) VALUES ('bench@example.org', 'Bench', 'x') RETURNING id)
         SELECT o.id, d.id, cat.id, a.id, o.product_id FROM o, d, cat, a, mc, ce",
    )
    .bind(Decimal::from(stock))
    .fetch_one(&mut c)
    .await
    .expect("fixture");
    let (offer, distribution, catalog, customer, product) = row;
    let (participation,): (Uuid,) = sqlx::query_as(
        "INSERT INTO participations (distribution_id, catalog_id, snapshot_taken_at) VALUES ($1, $2, now()) RETURNING id",
    )
    .bind(distribution)
    .bind(catalog)
    .fetch_one(&mut c)
    .await
    .expect("participation");
    sqlx::query(
        "INSERT INTO participation_offers (participation_id, offer_id, product_id, product_name, product_unit,
                variable_price, multi_weight, fractional, label, quantity, unit, price, vat_rate)
         VALUES ($1, $2, $3, 'Poulet', 'piece', false, false, false, 'Entier', 1, 'piece', 12.00, 5.5)",
    )
    .bind(participation)
    .bind(offer)
    .bind(product)
    .execute(&mut c)
    .await
    .expect("snapshot");
    let customers: Vec<(Uuid,)> = sqlx::query_as(
        "INSERT INTO accounts (email, name, password_hash)
         SELECT 'c' || g || '@example.org', 'C' || g, 'x' FROM generate_series(1, $1) g RETURNING id",
    )
    .bind(customers)
    .fetch_all(&mut c)
    .await
    .expect("customers");
    Fixture {
        url,
        offer,
        distribution,
        participation,
        customer,
        customers: customers.into_iter().map(|(id,)| id).collect(),
    }
}
