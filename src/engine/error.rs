//! Why the engine did not make a change. Plain values (no HTTP, no JSON):
//! the API turns them into problem documents.

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::quantity::Quantity;
use crate::domain::sale::SaleRefusal;

/// An offer that could not be taken.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferShortage {
    pub offer_id: Uuid,
    pub requested: Quantity,
    /// What the requester could have had (never negative).
    pub available: Decimal,
}

/// Why an order change was not made (nothing was changed).
#[derive(Debug, Clone, PartialEq)]
pub enum OrderError {
    Refused(SaleRefusal),
    InsufficientStock(Vec<OfferShortage>),
    /// An `Idempotency-Key` reused with another request.
    KeyReused,
    /// A queue or mailbox is full: retry shortly.
    Overloaded,
    /// The database is unreachable: retry shortly.
    Unavailable,
}

impl OrderError {
    /// The `outcome` label of `engine_orders_total`.
    pub fn label(&self) -> &'static str {
        match self {
            OrderError::InsufficientStock(_) => "insufficient_stock",
            OrderError::KeyReused => "idempotency_key_reused",
            OrderError::Overloaded => "overloaded",
            OrderError::Unavailable | OrderError::Refused(SaleRefusal::Retry) => "unavailable",
            OrderError::Refused(refusal) => match refusal {
                SaleRefusal::Unknown | SaleRefusal::NoOrder => "not_found",
                SaleRefusal::DistributionCancelled => "distribution_cancelled",
                SaleRefusal::SaleNotOpen { .. } => "sale_not_open",
                SaleRefusal::SaleClosed { .. } => "sale_closed",
                SaleRefusal::InvalidLines(_) => "invalid_field",
                SaleRefusal::Busy => "order_in_progress",
                SaleRefusal::Retry => "unavailable",
            },
        }
    }
}
