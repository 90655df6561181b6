//! The ready-to-try French demo (`etal seed demo`, `etal serve --demo`,
//! `./scripts/run`): two Lyon markets, four producers with about thirty
//! products, catalogs linked, a sale open now, one next week, customers
//! with orders, and the logins and URLs to try it.
//!
//! It sits beside [`crate::startup`] rather than in `engine` or `store`
//! because, like the HTTP handlers, it is a *client* of the library: it
//! writes through the store functions the API uses (after the domain's
//! parsers), hashes passwords with the API's argon2 settings, and places
//! orders through [`Engine::change_order`] — so the demo obeys every rule
//! of data typed by users, and its stock and order numbers are coherent.
//!
//! Running it again changes nothing (see `build` and `sales`): the demo is
//! recognised by its admin's email ([`data::ADMIN`]), every piece is found
//! by its natural key before being created, and only the open sale is
//! renewed when the previous one has closed.
//!
//! - [`data`]: the content (people, producers, products, markets, orders);
//! - `build`: accounts, producers, VAT, products, offers, catalogs, markets;
//! - `sales`: the open and the upcoming distribution, participations, orders;
//! - `history`: last week's distribution (weighed, changed, validated,
//!   payouts) and messages with the markets' admin;
//! - `summary`: what is printed.

mod build;
pub mod data;
mod history;
mod looks;
mod paint;
mod sales;
mod summary;

use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

pub use build::{DemoAccount, DemoProducer, Setup};
pub use sales::{DemoDistribution, Sales};
pub use summary::Demo;

use crate::configuration::Settings;
use crate::domain::error::FieldError;
use crate::engine::clock::{SharedClock, SystemClock};
use crate::engine::Engine;
use crate::startup::{resolve_database, StartError};
use crate::store::engine_lock::EngineLock;
use crate::store::{DbError, Store};

/// Why the demo could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A value of the demo's data broke a domain rule (a bug in `data`).
    #[error("demo data refused: {0}")]
    Data(String),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The engine refused a demo order.
    #[error("demo order: {0}")]
    Order(String),
    #[error(transparent)]
    Start(#[from] StartError),
}

impl From<FieldError> for DemoError {
    fn from(e: FieldError) -> Self {
        DemoError::Data(e.to_string())
    }
}

impl DemoError {
    fn from_fields(errors: &[FieldError]) -> Self {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        DemoError::Data(text.join("; "))
    }
}

/// Makes sure the demo is in the engine's database, with a sale open at the
/// engine's "now" (`serve --demo`: called on the engine just built, before
/// it serves).
pub async fn ensure(engine: &Engine) -> Result<Demo, DemoError> {
    let setup = build::setup(engine.store()).await?;
    looks::dress(engine.store(), &setup).await?;
    // Last week before this week: its stock is settled and recounted
    // before this week's orders activate any offer actor.
    history::ensure(engine, &setup).await?;
    let sales = sales::ensure(engine, &setup).await?;
    let order_numbers = engine
        .store()
        .confirmed_orders(sales.open.record.id)
        .await?
        .into_iter()
        .map(|order| (order.customer_id, order.number))
        .collect();
    Ok(Demo {
        setup,
        sales,
        order_numbers,
    })
}

/// `etal seed demo`: seeds without serving. Takes the one-engine lock (the
/// demo's orders go through an engine, and two engines must never share a
/// database), migrates, seeds, then stops everything it started — the
/// private cluster included. Must run inside an actix system.
pub async fn seed(settings: &Settings) -> Result<Demo, DemoError> {
    seed_with_clock(settings, Arc::new(SystemClock)).await
}

/// [`seed`] with an injected clock (tests move "now" to check renewals).
pub async fn seed_with_clock(settings: &Settings, clock: SharedClock) -> Result<Demo, DemoError> {
    let database = resolve_database(settings).await?;
    let outcome = seed_in(settings, database.url.expose_secret(), clock).await;
    if let Some(cluster) = database.started_cluster {
        let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await;
        if !matches!(stopped, Ok(Ok(()))) {
            tracing::warn!("stopping the private PostgreSQL cluster failed");
        }
    }
    outcome
}

async fn seed_in(settings: &Settings, url: &str, clock: SharedClock) -> Result<Demo, DemoError> {
    let lock = EngineLock::acquire(url).await.map_err(StartError::from)?;
    let timeout = Duration::from_secs(settings.database.connect_timeout_secs);
    let store = Store::connect_lazy(url, 4, timeout)?;
    let writer_store = Store::connect_lazy(url, 2, timeout)?;
    store.migrate().await?;
    let engine = Engine::start(
        store.clone(),
        writer_store.clone(),
        clock,
        &settings.engine,
        Arc::new(crate::api::ws::messages::JsonEvents),
        crate::engine::fence::Fence::single(),
    );
    let outcome = ensure(&engine).await;
    engine.stop();
    lock.release().await;
    store.close().await;
    writer_store.close().await;
    outcome
}
