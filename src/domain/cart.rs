//! Baskets that hold stock. A customer's basket in one distribution (named
//! by its [`CartKey`], which is also the holder's name in every offer's
//! stock ledger, [`crate::domain::stock`]) lists what the customer wants;
//! each offer's ledger holds as much of it as is available, until the
//! basket's deadline — `engine.cart_hold_seconds` after its last change.
//! Everyone else sees held units as taken.
//!
//! The basket itself is plain data kept by the distribution's sale
//! (`domain::sale`, which checks its lines like an order's); what is held
//! is the ledgers' business, so the two never disagree about stock. An
//! order consumes the basket: the ledgers turn the held units into ordered
//! ones, and the basket keeps only what the order did not take. Baskets are
//! not persisted: after a restart they are simply gone, and stock is right.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::quantity::Quantity;

/// A customer's basket in one distribution (an offer sold in several
/// markets may be held by the same customer's baskets in each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CartKey {
    pub distribution_id: Uuid,
    pub customer_id: Uuid,
}

/// One line of a basket: how much of an offer the customer wants held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartLine {
    pub offer_id: Uuid,
    pub quantity: Quantity,
    /// Held in whole units only (the product is not sold in fractions).
    pub whole_units: bool,
}

/// A basket: its lines, held until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    pub expires_at: DateTime<Utc>,
}

impl Cart {
    /// Whether its holds have run out at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }

    /// The offers it holds that `next` no longer lists (their holds go).
    pub fn dropped_by(&self, next: &[CartLine]) -> Vec<Uuid> {
        self.lines
            .iter()
            .map(|l| l.offer_id)
            .filter(|offer| !next.iter().any(|n| n.offer_id == *offer))
            .collect()
    }

    /// An order took these quantities: the basket keeps what is left of
    /// each line (a line fully taken goes).
    pub fn after_order(&mut self, taken: &[(Uuid, Quantity)]) {
        for (offer_id, quantity) in taken {
            let Some(at) = self.lines.iter().position(|l| l.offer_id == *offer_id) else {
                continue;
            };
            let left = self.lines[at].quantity.value() - quantity.value();
            match Quantity::parse(left, "quantity") {
                Ok(left) => self.lines[at].quantity = left,
                Err(_) => {
                    self.lines.remove(at);
                }
            }
        }
    }

    /// Whether nothing is left in it.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// A basket as its customer sees it: what each line asked for and how much
/// is held (never more than was available), and until when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartView {
    pub lines: Vec<CartViewLine>,
    /// `null` when the basket is empty.
    pub expires_at: Option<DateTime<Utc>>,
}

/// One line of a [`CartView`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartViewLine {
    pub offer_id: Uuid,
    pub quantity: Quantity,
    #[serde(with = "crate::domain::decimal::string")]
    pub held: Decimal,
}

impl CartView {
    /// An empty basket.
    pub fn empty() -> Self {
        Self {
            lines: Vec::new(),
            expires_at: None,
        }
    }

    /// A basket with what each line holds (`held`, in the lines' order).
    pub fn of(cart: &Cart, held: impl IntoIterator<Item = Decimal>) -> Self {
        Self {
            lines: cart
                .lines
                .iter()
                .zip(held)
                .map(|(line, held)| CartViewLine {
                    offer_id: line.offer_id,
                    quantity: line.quantity,
                    held,
                })
                .collect(),
            expires_at: (!cart.is_empty()).then_some(cart.expires_at),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn line(offer: Uuid, quantity: Decimal) -> CartLine {
        CartLine {
            offer_id: offer,
            quantity: Quantity::parse(quantity, "q").unwrap(),
            whole_units: true,
        }
    }

    fn q(value: Decimal) -> Quantity {
        Quantity::parse(value, "q").unwrap()
    }

    #[test]
    fn an_order_takes_its_quantities_out_of_the_basket() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut cart = Cart {
            lines: vec![line(a, dec!(3)), line(b, dec!(1)), line(c, dec!(2))],
            expires_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        cart.after_order(&[
            (a, q(dec!(2))),
            (b, q(dec!(4))),
            (Uuid::new_v4(), q(dec!(1))),
        ]);
        assert_eq!(cart.lines, vec![line(a, dec!(1)), line(c, dec!(2))]);
        cart.after_order(&[(a, q(dec!(1))), (c, q(dec!(2)))]);
        assert!(cart.is_empty());
    }

    #[test]
    fn a_new_basket_drops_the_offers_it_no_longer_lists() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let cart = Cart {
            lines: vec![line(a, dec!(1)), line(b, dec!(1))],
            expires_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        assert_eq!(cart.dropped_by(&[line(b, dec!(5))]), vec![a]);
        assert_eq!(cart.dropped_by(&[]), vec![a, b]);
        assert!(cart.is_expired(DateTime::<Utc>::UNIX_EPOCH));
    }

    #[test]
    fn a_view_shows_what_is_held_and_no_deadline_when_empty() {
        let a = Uuid::new_v4();
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let cart = Cart {
            lines: vec![line(a, dec!(3))],
            expires_at: at,
        };
        let view = CartView::of(&cart, [dec!(2)]);
        assert_eq!(view.lines[0].held, dec!(2));
        assert_eq!(view.expires_at, Some(at));
        let empty = Cart {
            lines: vec![],
            expires_at: at,
        };
        assert_eq!(CartView::of(&empty, []), CartView::empty());
    }
}
