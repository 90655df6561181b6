//! Baskets: a customer's basket in one distribution holds stock for a
//! while. A basket is named by its [`CartKey`], which is also the holder
//! name in every offer's stock ledger ([`crate::domain::stock`]).

use uuid::Uuid;

/// A customer's basket in one distribution (an offer sold in several
/// markets may be held by the same customer's baskets in each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CartKey {
    pub distribution_id: Uuid,
    pub customer_id: Uuid,
}
