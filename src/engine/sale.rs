//! One distribution's sale as plain data: participations and their windows,
//! the offers on sale with their prices (frozen once a sale opens), the
//! confirmed orders and the changes in flight. The distribution actor owns
//! one `Sale` and calls these methods one message at a time; keeping the
//! rules here, free of actix, lets them be read and tested directly.
//!
//! Line pricing and validation (what a requested line becomes, and which
//! lines may still change) lives in `lines`.

mod lines;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::error::FieldError;
use crate::domain::order::{line_changes, reservation_delta, split_delta, LineChanges, OrderLine};
use crate::domain::window::{OrderWindow, SaleStatus};
use crate::store::order_writes::OrderWriteKind;
use crate::store::sale::{DistributionRecord, SaleOffer, SaleParticipation, StoredOrder};

/// A line as the customer asked for it.
#[derive(Debug, Clone)]
pub struct RequestedLine {
    pub offer_id: Uuid,
    pub quantity: Decimal,
}

/// What a customer wants to do to their order.
#[derive(Debug, Clone)]
pub enum Change {
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
#[derive(Debug, Clone)]
pub struct Plan {
    pub kind: OrderWriteKind,
    pub order_id: Uuid,
    /// `None` for a new order until it is confirmed.
    pub number: Option<i32>,
    pub lines: Vec<OrderLine>,
    /// The rows `lines` writes over the previous version of the order.
    pub line_changes: LineChanges,
    /// Quantities to reserve before committing.
    pub reserve: Vec<(Uuid, Decimal)>,
    /// Quantities given back once committed.
    pub release: Vec<(Uuid, Decimal)>,
    /// Participations whose windows the change relies on.
    pub participations: Vec<Uuid>,
    /// Participations that must still be open when the change is
    /// confirmed (a removed line's).
    pub must_be_open: Vec<Uuid>,
}

/// Everything the distribution actor knows.
#[derive(Debug, Clone)]
pub struct Sale {
    pub distribution: DistributionRecord,
    pub participations: Vec<SaleParticipation>,
    /// Offers on sale, by offer (an offer may be sold by two catalogs).
    pub offers: HashMap<Uuid, Vec<SaleOffer>>,
    /// Confirmed orders by customer.
    pub orders: HashMap<Uuid, StoredOrder>,
    pub next_number: i32,
    /// Changes in flight, by customer.
    pub in_flight: HashMap<Uuid, (String, Plan)>,
}

impl Sale {
    pub fn new(
        distribution: DistributionRecord,
        participations: Vec<SaleParticipation>,
        offers: Vec<SaleOffer>,
        orders: Vec<StoredOrder>,
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
        match OrderWindow::parse(participation.opens_at, participation.closes_at) {
            Ok(window) => window.status_at(now),
            Err(_) => SaleStatus::Closed,
        }
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
        change: Change,
        now: DateTime<Utc>,
    ) -> Result<Plan, SaleRefusal> {
        if self.distribution.cancelled_at.is_some() {
            return Err(SaleRefusal::DistributionCancelled);
        }
        if self.in_flight.contains_key(&customer_id) {
            return Err(SaleRefusal::Busy);
        }
        let existing = self.orders.get(&customer_id);
        let old_lines: Vec<OrderLine> = existing.map(|o| o.lines.clone()).unwrap_or_default();
        // A producer's removal keeps the customer's name as the order has it.
        let name = match (&change, existing) {
            (Change::RemoveLine(_), Some(o)) => o.customer_name.clone(),
            _ => customer_name.to_owned(),
        };
        let (kind, order_id, number) = match (&change, existing) {
            (Change::Add(_), None) => (OrderWriteKind::Create, Uuid::new_v4(), None),
            (Change::RemoveLine(id), Some(o)) if old_lines.len() == 1 && old_lines[0].id == *id => {
                (OrderWriteKind::Cancel, o.id, Some(o.number))
            }
            (Change::Add(_), Some(o))
            | (Change::Replace(_), Some(o))
            | (Change::RemoveLine(_), Some(o)) => (OrderWriteKind::Replace, o.id, Some(o.number)),
            (Change::Cancel, Some(o)) => (OrderWriteKind::Cancel, o.id, Some(o.number)),
            (_, None) => return Err(SaleRefusal::NoOrder),
        };
        let mut must_be_open = Vec::new();
        if let Change::RemoveLine(id) = &change {
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
            Change::Add(requested) => {
                let added = self.price_lines(requested, &old_lines, false, now)?;
                self.merge_lines(old_lines.clone(), added)
            }
            Change::Replace(requested) => self.price_lines(requested, &old_lines, true, now)?,
            Change::RemoveLine(id) => old_lines.iter().filter(|l| l.id != *id).cloned().collect(),
            Change::Cancel => Vec::new(),
        };
        if kind == OrderWriteKind::Replace && new_lines.is_empty() {
            return Err(SaleRefusal::InvalidLines(vec![FieldError::new(
                "lines",
                "an order needs at least one line; cancel it instead",
            )]));
        }
        self.check_closed_lines_unchanged(&old_lines, &new_lines, now)?;
        let delta = reservation_delta(&old_lines, &new_lines);
        let (reserve, release) = split_delta(&delta);
        let mut participations: Vec<Uuid> = new_lines
            .iter()
            .chain(old_lines.iter())
            .map(|l| l.participation_id)
            .collect();
        participations.sort();
        participations.dedup();
        let line_changes = if kind == OrderWriteKind::Cancel {
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
            reserve,
            release,
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
            .reserve
            .iter()
            .chain(plan.release.iter())
            .map(|(o, _)| *o)
            .collect();
        let closed = plan
            .lines
            .iter()
            .filter(|l| moved.contains(&l.offer_id))
            .map(|l| l.participation_id)
            .chain(if plan.kind == OrderWriteKind::Cancel {
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

    /// The change committed (apply it) or failed (forget it).
    pub fn finish(&mut self, customer_id: Uuid, committed: bool) {
        let Some((name, plan)) = self.in_flight.remove(&customer_id) else {
            return;
        };
        if !committed {
            return;
        }
        match plan.kind {
            OrderWriteKind::Cancel => {
                self.orders.remove(&customer_id);
            }
            OrderWriteKind::Create | OrderWriteKind::Replace => {
                self.orders.insert(
                    customer_id,
                    StoredOrder {
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
            (a.participation_id, a.position, &a.product_name, &a.label).cmp(&(
                b.participation_id,
                b.position,
                &b.product_name,
                &b.label,
            ))
        });
        offers
    }
}
