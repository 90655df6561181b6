//! Black-box tests of the engine through HTTP and WebSocket, one binary so
//! the test cluster and template are set up once per run.

mod fixtures;
mod helpers;
mod live_client;

mod accounts;
mod after_sale;
mod audit;
mod carts;
mod catalogs;
mod concurrency;
mod demo;
mod distributions;
mod idempotency;
mod live;
mod live_feeds;
mod live_limits;
mod markets;
mod nodes;
mod ordering;
mod outage;
mod participations;
mod products;
mod recaps;
mod recovery;
mod shutdown;
mod stock;
mod storefront;
mod system;
mod web;
mod web_account;
mod web_client;
mod web_markets;
mod web_orders;
