//! The stock of an offer, as one ledger: every change to it — a customer's
//! order, a producer's adjustment, a basket's hold, its expiry, a delivery —
//! goes through a [`Ledger`], and nothing else computes availability.
//!
//! An offer's figures ([`StockFigures`]):
//!
//! - `real`: what the producer has (the stock page);
//! - `ordered`: confirmed, undelivered orders *plus* reservations of orders
//!   on their way to the database (counted at once, so two customers never
//!   both get the last unit);
//! - `held`: what baskets hold for a while ([`holds`]), per holder, each
//!   with its deadline;
//! - `available = real − ordered − held`, for tracked offers; untracked
//!   offers are unlimited.
//!
//! `ordered + held + available = real` always holds. Taking stock (a
//! reservation, a hold) never makes `available` negative; only the
//! producer lowering `real` below what is already *ordered* can, and then
//! no basket holds anything (holds give way first, the last placed first).
//!
//! Changes that commit to the database later are *pending* ([`ledger`]):
//! begun (a take counts at once and may be refused), then committed or
//! aborted exactly once. This module is pure — no actors, no SQL, no JSON
//! — so its rules are unit- and property-tested here.

pub mod figures;
pub mod holds;
pub mod ledger;

pub use figures::StockFigures;
pub use holds::Holds;
pub use ledger::{Ledger, PendingId, Shortage, StockChange};
