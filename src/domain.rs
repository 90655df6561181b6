//! Pure domain types and rules: parse-don't-validate newtypes, money and
//! quantity arithmetic, pricing, schedules. No I/O, no actix, no sqlx here,
//! so every rule is unit-tested beside its type.

pub mod account;
pub mod cart;
pub mod decimal;
pub mod error;
pub mod french;
pub mod geo;
pub mod legal;
pub mod market;
pub mod money;
pub mod offer;
pub mod order;
pub mod payout;
pub mod percent;
pub mod places;
pub mod planning;
pub mod pricing;
pub mod quantity;
pub mod recap;
pub mod roles;
pub mod sale;
pub mod schedule;
pub mod shop;
pub mod stock;
pub mod text;
pub mod vat;
pub mod window;

pub use account::{Email, Password};
pub use error::FieldError;
pub use geo::{haversine_km, Coordinates};
pub use money::{round_cents, Money};
pub use percent::Percent;
pub use quantity::{Quantity, StockLevel};
pub use roles::ProducerRole;
pub use text::{LongText, Name, ShortText};
pub use vat::{price_excl_vat, vat_amount, VatBreakdown, VatRate};
pub use window::{DistributionTimes, OrderWindow, SaleStatus};
