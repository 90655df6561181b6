//! etal — a real-time ordering engine for producer markets.
//!
//! Layout (see `DESIGN.md` §4): [`domain`] holds pure types and rules (no I/O),
//! [`store`] every SQL query and the embedded private PostgreSQL cluster,
//! [`engine`] the actors that serialise reservations, [`api`] the HTTP and
//! WebSocket transport, [`cluster`] several nodes on NATS and a lease.
//! Dependencies point inward: api → cluster → engine → domain; store speaks
//! domain types and is used by engine, cluster and api.

pub mod api;
pub mod cluster;
pub mod configuration;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod images;
pub mod startup;
pub mod store;
pub mod telemetry;
