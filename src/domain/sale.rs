//! One distribution's sale as plain data: participations and their windows,
//! the offers on sale with their prices (frozen once a sale opens), the
//! confirmed orders and the changes in flight. The distribution actor owns
//! one `Sale` and calls these methods one message at a time; the rules live
//! here, free of actors and SQL, and are tested directly.
//!
//! A change goes `prepare` (validated, priced, what it takes and gives back
//! worked out; one change per customer in flight) → `confirm` (windows
//! checked again at the instant of acceptance, the order numbered) →
//! `finish` (applied if committed, forgotten if not).
//!
//! Line pricing and validation (what a requested line becomes, and which
//! lines may still change) lives in [`lines`]; what a sale is made of in
//! [`parts`].

mod carts;
mod lines;
pub mod parts;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::cart::Cart;
use crate::domain::error::FieldError;
use crate::domain::order::{
    line_changes, reservation_delta, split_delta, LineChanges, OfferQuantities, Order,
    OrderChangeKind, OrderLine,
};
use crate::domain::window::SaleStatus;
pub use carts::CartPlan;
pub use parts::{SaleDistribution, SaleOffer, SaleParticipation, SaleProduct};

/// A line as the customer asked for it.
#[derive(Debug, Clone)]
pub struct RequestedLine {
    pub offer_id: Uuid,
    pub quantity: Decimal,
}

/// What a customer wants to do to their order.
#[derive(Debug, Clone)]
pub enum OrderChange {
    /// Add lines (creating the order if needed).
    Add(Vec<RequestedLine>),
    /// Replace all lines.
    Replace(Vec<RequestedLine>),
    /// Cancel the order.
    Cancel,
    /// Remove one line while its sale is open — a producer zeroing a
    /// customer's line (guide ch. 6, before withdrawing from a
    /// distribution); the last line removed cancels the order.
    RemoveLine(Uuid),
}

/// Why the sale refuses a change.
#[derive(Debug, Clone, PartialEq)]
pub enum SaleRefusal {
    /// No such distribution.
    Unknown,
    DistributionCancelled,
    SaleNotOpen {
        offer_id: Uuid,
        opens_at: DateTime<Utc>,
    },
    SaleClosed {
        offer_id: Option<Uuid>,
    },
    InvalidLines(Vec<FieldError>),
    /// Another change of the same customer's order is in flight.
    Busy,
    /// The customer has no order to change.
    NoOrder,
    /// The sale is being reloaded (a window opened): ask again.
    Retry,
}

/// A change accepted by the sale, waiting for stock and then the writer.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub kind: OrderChangeKind,
    pub order_id: Uuid,
    /// `None` for a new order until it is confirmed.
    pub number: Option<i32>,
    pub lines: Vec<OrderLine>,
    /// The rows `lines` writes over the previous version of the order.
    pub line_changes: LineChanges,
    /// Quantities to take before committing.
    pub take: OfferQuantities,
    /// Quantities given back once committed.
    pub give_back: OfferQuantities,
    /// Participations whose windows the change relies on.
    pub participations: Vec<Uuid>,
    /// Participations that must still be open when the change is
    /// confirmed (a removed line's).
    pub must_be_open: Vec<Uuid>,
}

/// Everything the distribution actor knows.
#[derive(Debug, Clone)]
pub struct Sale {
    pub distribution: SaleDistribution,
    pub participations: Vec<SaleParticipation>,
    /// Offers on sale, by offer (an offer may be sold by two catalogs).
    pub offers: HashMap<Uuid, Vec<SaleOffer>>,
    /// Confirmed orders by customer.
    pub orders: HashMap<Uuid, Order>,
    pub next_number: i32,
    /// Changes in flight, by customer (with the customer's name).
    pub in_flight: HashMap<Uuid, (String, Plan)>,
    /// Baskets, by customer (what their holds are for).
    pub carts: HashMap<Uuid, Cart>,
    /// Customers whose basket is being changed.
    pub cart_changes: HashSet<Uuid>,
}

impl Sale {
    pub fn new(
        distribution: SaleDistribution,
        participations: Vec<SaleParticipation>,
        offers: Vec<SaleOffer>,
        orders: Vec<Order>,
        max_number: i32,
    ) -> Self {
        let mut by_offer: HashMap<Uuid, Vec<SaleOffer>> = HashMap::new();
        for offer in offers {
            by_offer.entry(offer.offer_id).or_default().push(offer);
        }
        Self {
            distribution,
            participations,
            offers: by_offer,
            orders: orders.into_iter().map(|o| (o.customer_id, o)).collect(),
            next_number: max_number + 1,
            in_flight: HashMap::new(),
            carts: HashMap::new(),
            cart_changes: HashSet::new(),
        }
    }

    fn participation(&self, id: Uuid) -> Option<&SaleParticipation> {
        self.participations.iter().find(|p| p.id == id)
    }

    /// Status of a participation's sale at `now`.
    pub fn status(&self, participation: &SaleParticipation, now: DateTime<Utc>) -> SaleStatus {
        if self.distribution.cancelled_at.is_some() || self.distribution.validated_at.is_some() {
            return SaleStatus::Closed;
        }
        participation.window_status(now)
    }

    fn status_of(&self, participation_id: Uuid, now: DateTime<Utc>) -> SaleStatus {
        self.participation(participation_id)
            .map_or(SaleStatus::Closed, |p| self.status(p, now))
    }

    /// Participations that are open (or past) but whose prices are not frozen.
    pub fn needs_freeze(&self, now: DateTime<Utc>) -> Vec<Uuid> {
        self.participations
            .iter()
            .filter(|p| p.snapshot_taken_at.is_none() && p.opens_at <= now)
            .map(|p| p.id)
            .collect()
    }

    /// The offer a customer may order now: the open one among the catalogs
    /// selling it, else the reason why not.
    fn orderable(&self, offer_id: Uuid, now: DateTime<Utc>) -> Result<&SaleOffer, SaleRefusal> {
        let candidates = self.offers.get(&offer_id).map(Vec::as_slice).unwrap_or(&[]);
        let mut refusal = None;
        for offer in candidates {
            let Some(participation) = self.participation(offer.participation_id) else {
                continue;
            };
            match self.status(participation, now) {
                SaleStatus::Open => return Ok(offer),
                SaleStatus::Upcoming => {
                    refusal.get_or_insert(SaleRefusal::SaleNotOpen {
                        offer_id,
                        opens_at: participation.opens_at,
                    });
                }
                SaleStatus::Closed => {
                    refusal = Some(SaleRefusal::SaleClosed {
                        offer_id: Some(offer_id),
                    });
                }
            }
        }
        Err(refusal.unwrap_or(SaleRefusal::InvalidLines(vec![])))
    }

    /// Validates a change and works out what it reserves and releases.
    pub fn prepare(
        &mut self,
        customer_id: Uuid,
        customer_name: &str,
        change: OrderChange,
        now: DateTime<Utc>,
    ) -> Result<Plan, SaleRefusal> {
        if self.distribution.cancelled_at.is_some() {
            return Err(SaleRefusal::DistributionCancelled);
        }
        if self.is_changing(customer_id) {
            return Err(SaleRefusal::Busy);
        }
        let existing = self.orders.get(&customer_id);
        let old_lines: Vec<OrderLine> = existing.map(|o| o.lines.clone()).unwrap_or_default();
        // A producer's removal keeps the customer's name as the order has it.
        let name = match (&change, existing) {
            (OrderChange::RemoveLine(_), Some(o)) => o.customer_name.clone(),
            _ => customer_name.to_owned(),
        };
        let (kind, order_id, number) = match (&change, existing) {
            (OrderChange::Add(_), None) => (OrderChangeKind::Create, Uuid::new_v4(), None),
            (OrderChange::RemoveLine(id), Some(o))
                if old_lines.len() == 1 && old_lines[0].id == *id =>
            {
                (OrderChangeKind::Cancel, o.id, Some(o.number))
            }
            (OrderChange::Add(_), Some(o))
            | (OrderChange::Replace(_), Some(o))
            | (OrderChange::RemoveLine(_), Some(o)) => {
                (OrderChangeKind::Replace, o.id, Some(o.number))
            }
            (OrderChange::Cancel, Some(o)) => (OrderChangeKind::Cancel, o.id, Some(o.number)),
            (_, None) => return Err(SaleRefusal::NoOrder),
        };
        let mut must_be_open = Vec::new();
        if let OrderChange::RemoveLine(id) = &change {
            match old_lines.iter().find(|l| l.id == *id) {
                Some(line) => must_be_open.push(line.participation_id),
                None => {
                    return Err(SaleRefusal::InvalidLines(vec![FieldError::new(
                        "line_id",
                        "this line is not in the order",
                    )]))
                }
            }
        }
        let new_lines = match &change {
            OrderChange::Add(requested) => {
                let added = self.price_lines(requested, &old_lines, false, now)?;
                self.merge_lines(old_lines.clone(), added)?
            }
            OrderChange::Replace(requested) => {
                self.price_lines(requested, &old_lines, true, now)?
            }
            OrderChange::RemoveLine(id) => {
                old_lines.iter().filter(|l| l.id != *id).cloned().collect()
            }
            OrderChange::Cancel => Vec::new(),
        };
        if kind == OrderChangeKind::Replace && new_lines.is_empty() {
            return Err(SaleRefusal::InvalidLines(vec![FieldError::new(
                "lines",
                "an order needs at least one line; cancel it instead",
            )]));
        }
        self.check_closed_lines_unchanged(&old_lines, &new_lines, now)?;
        let delta = reservation_delta(&old_lines, &new_lines);
        let (take, give_back) =
            split_delta(&delta, "lines").map_err(|e| SaleRefusal::InvalidLines(vec![e]))?;
        let mut participations: Vec<Uuid> = new_lines
            .iter()
            .chain(old_lines.iter())
            .map(|l| l.participation_id)
            .collect();
        participations.sort();
        participations.dedup();
        let line_changes = if kind == OrderChangeKind::Cancel {
            LineChanges::default() // a cancelled order keeps its lines
        } else {
            line_changes(&old_lines, &new_lines)
        };
        let plan = Plan {
            kind,
            order_id,
            number,
            lines: new_lines,
            line_changes,
            take,
            give_back,
            participations,
            must_be_open,
        };
        self.in_flight.insert(customer_id, (name, plan.clone()));
        Ok(plan)
    }

    /// Last check before the writer, at the instant of acceptance: every
    /// sale the change relies on is still open. Allocates the order number.
    pub fn confirm(&mut self, customer_id: Uuid, now: DateTime<Utc>) -> Result<Plan, SaleRefusal> {
        let Some((_, plan)) = self.in_flight.get(&customer_id) else {
            return Err(SaleRefusal::NoOrder);
        };
        let moved: Vec<Uuid> = plan
            .take
            .iter()
            .chain(plan.give_back.iter())
            .map(|(o, _)| *o)
            .collect();
        let closed = plan
            .lines
            .iter()
            .filter(|l| moved.contains(&l.offer_id))
            .map(|l| l.participation_id)
            .chain(if plan.kind == OrderChangeKind::Cancel {
                plan.participations.clone()
            } else {
                Vec::new()
            })
            .chain(plan.must_be_open.iter().copied())
            .any(|p| self.status_of(p, now) != SaleStatus::Open);
        if closed || self.distribution.cancelled_at.is_some() {
            self.in_flight.remove(&customer_id);
            return Err(SaleRefusal::SaleClosed { offer_id: None });
        }
        let next = self.next_number;
        let Some((_, plan)) = self.in_flight.get_mut(&customer_id) else {
            return Err(SaleRefusal::NoOrder);
        };
        if plan.number.is_none() {
            plan.number = Some(next);
            self.next_number += 1;
        }
        Ok(plan.clone())
    }

    /// The change committed (apply it: what it took leaves the customer's
    /// basket) or failed (forget it).
    pub fn finish(&mut self, customer_id: Uuid, committed: bool) {
        let Some((name, plan)) = self.in_flight.remove(&customer_id) else {
            return;
        };
        if !committed {
            return;
        }
        self.cart_after_order(customer_id, &plan.take);
        match plan.kind {
            OrderChangeKind::Cancel => {
                self.orders.remove(&customer_id);
            }
            OrderChangeKind::Create | OrderChangeKind::Replace => {
                self.orders.insert(
                    customer_id,
                    Order {
                        id: plan.order_id,
                        customer_id,
                        customer_name: name,
                        number: plan.number.unwrap_or(0),
                        lines: plan.lines,
                    },
                );
            }
        }
    }

    /// Offers on sale to show in the shop, in catalog order.
    pub fn shop_offers(&self) -> Vec<&SaleOffer> {
        let mut offers: Vec<&SaleOffer> = self.offers.values().flatten().collect();
        offers.sort_by(|a, b| {
            (a.participation_id, a.position, &a.product.name, &a.label).cmp(&(
                b.participation_id,
                b.position,
                &b.product.name,
                &b.label,
            ))
        });
        offers
    }
}

#[cfg(test)]
mod tests;
