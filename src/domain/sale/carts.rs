//! Baskets in a sale: a basket's lines are checked like an order's (each
//! offer on sale in an open window, quantities as its product allows,
//! repeated offers merged), and a customer changes either their order or
//! their basket at a time — so an order never consumes a hold that a
//! basket change is placing at the same instant. The holds themselves are
//! the stock ledgers' ([`crate::domain::cart`]).

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{RequestedLine, Sale, SaleRefusal};
use crate::domain::cart::{Cart, CartLine};
use crate::domain::error::FieldError;
use crate::domain::order::OfferQuantities;
use crate::domain::quantity::Quantity;

/// A basket change accepted by the sale: the holds to place (until
/// `expires_at`) and the offers whose holds go.
#[derive(Debug, Clone, PartialEq)]
pub struct CartPlan {
    pub lines: Vec<CartLine>,
    pub released: Vec<Uuid>,
    pub expires_at: DateTime<Utc>,
}

impl Sale {
    /// Whether a change of the customer's order or basket is in flight.
    pub fn is_changing(&self, customer_id: Uuid) -> bool {
        self.in_flight.contains_key(&customer_id) || self.cart_changes.contains(&customer_id)
    }

    /// Checks a new basket (the whole of it) and starts its change; the
    /// holds last `hold_for` from `now`.
    pub fn prepare_cart(
        &mut self,
        customer_id: Uuid,
        requested: &[RequestedLine],
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<CartPlan, SaleRefusal> {
        if self.distribution.cancelled_at.is_some() {
            return Err(SaleRefusal::DistributionCancelled);
        }
        if self.is_changing(customer_id) {
            return Err(SaleRefusal::Busy);
        }
        let lines = self.cart_lines(requested, now)?;
        let released = self
            .carts
            .get(&customer_id)
            .map_or_else(Vec::new, |cart| cart.dropped_by(&lines));
        self.cart_changes.insert(customer_id);
        Ok(CartPlan {
            lines,
            released,
            expires_at: now + hold_for,
        })
    }

    /// The basket's holds are placed: it is `plan`'s from now on (an empty
    /// basket is no basket).
    pub fn cart_held(&mut self, customer_id: Uuid, plan: CartPlan) {
        self.cart_changes.remove(&customer_id);
        if plan.lines.is_empty() {
            self.carts.remove(&customer_id);
        } else {
            self.carts.insert(
                customer_id,
                Cart {
                    lines: plan.lines,
                    expires_at: plan.expires_at,
                },
            );
        }
    }

    /// The basket change failed: the basket is gone (its holds are released).
    pub fn cart_failed(&mut self, customer_id: Uuid) -> Option<Cart> {
        self.cart_changes.remove(&customer_id);
        self.carts.remove(&customer_id)
    }

    /// The customer's basket, unless it ran out.
    pub fn cart(&self, customer_id: Uuid, now: DateTime<Utc>) -> Option<&Cart> {
        self.carts
            .get(&customer_id)
            .filter(|cart| !cart.is_expired(now))
    }

    /// Empties the customer's basket (refused while a change is in flight).
    pub fn drop_cart(&mut self, customer_id: Uuid) -> Result<Option<Cart>, SaleRefusal> {
        if self.is_changing(customer_id) {
            return Err(SaleRefusal::Busy);
        }
        Ok(self.carts.remove(&customer_id))
    }

    /// An order of the customer committed, taking `taken`: its basket keeps
    /// the rest.
    pub(super) fn cart_after_order(&mut self, customer_id: Uuid, taken: &OfferQuantities) {
        if let Some(cart) = self.carts.get_mut(&customer_id) {
            cart.after_order(taken);
            if cart.is_empty() {
                self.carts.remove(&customer_id);
            }
        }
    }

    /// Forgets baskets that ran out (their ledgers release the holds at the
    /// same deadline) and takes out of baskets the lines whose sale is no
    /// longer open: returns those lines' offers by customer, to release.
    pub fn sweep_carts(&mut self, now: DateTime<Utc>) -> Vec<(Uuid, Vec<Uuid>)> {
        self.carts.retain(|_, cart| !cart.is_expired(now));
        let mut closed = Vec::new();
        let changing = &self.cart_changes;
        let customers: Vec<Uuid> = self
            .carts
            .keys()
            .filter(|c| !changing.contains(c))
            .copied()
            .collect();
        for customer_id in customers {
            let Some(cart) = self.carts.get(&customer_id) else {
                continue;
            };
            let gone: Vec<Uuid> = cart
                .lines
                .iter()
                .map(|l| l.offer_id)
                .filter(|offer| self.orderable(*offer, now).is_err())
                .collect();
            if gone.is_empty() {
                continue;
            }
            if let Some(cart) = self.carts.get_mut(&customer_id) {
                cart.lines.retain(|l| !gone.contains(&l.offer_id));
                if cart.is_empty() {
                    self.carts.remove(&customer_id);
                }
            }
            closed.push((customer_id, gone));
        }
        closed
    }

    /// A basket's lines: offers on sale now, repeated ones merged, each
    /// quantity as its product allows. Errors name `lines[i]`.
    fn cart_lines(
        &self,
        requested: &[RequestedLine],
        now: DateTime<Utc>,
    ) -> Result<Vec<CartLine>, SaleRefusal> {
        let mut merged: Vec<(usize, Uuid, Decimal)> = Vec::new();
        for (i, line) in requested.iter().enumerate() {
            match merged.iter_mut().find(|(_, o, _)| *o == line.offer_id) {
                Some(entry) => entry.2 += line.quantity,
                None => merged.push((i, line.offer_id, line.quantity)),
            }
        }
        let mut errors = Vec::new();
        let mut window_refusal = None;
        let mut lines = Vec::new();
        for (i, offer_id, quantity) in merged {
            let offer = match self.orderable(offer_id, now) {
                Ok(offer) => offer,
                Err(SaleRefusal::InvalidLines(_)) => {
                    errors.push(FieldError::new(
                        format!("lines[{i}].offer_id"),
                        "this offer is not sold in this distribution",
                    ));
                    continue;
                }
                Err(refusal) => {
                    window_refusal.get_or_insert(refusal);
                    continue;
                }
            };
            let whole_units = offer.product.whole_units();
            let field = format!("lines[{i}].quantity");
            match Quantity::parse_for(quantity, !whole_units, &field) {
                Ok(quantity) => lines.push(CartLine {
                    offer_id,
                    quantity,
                    whole_units,
                }),
                Err(e) => errors.push(e),
            }
        }
        if let Some(refusal) = window_refusal {
            return Err(refusal);
        }
        if !errors.is_empty() {
            return Err(SaleRefusal::InvalidLines(errors));
        }
        Ok(lines)
    }
}
