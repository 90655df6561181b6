//! Turning what a customer asked for into priced order lines: merging
//! repeated offers, checking each against the open sale and its quantity
//! rules, keeping the price (and id) of lines already ordered, splitting
//! multi-weight products into one line per piece (at most `MAX_PIECES`),
//! growing existing lines on an "add", and refusing changes to lines whose
//! sale has closed. Split from `sale.rs`, which keeps the order life
//! cycle (prepare → confirm → finish) that calls these.

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{RequestedLine, Sale, SaleRefusal};
use crate::domain::error::FieldError;
use crate::domain::order::{reservation_delta, OrderLine};
use crate::domain::quantity::Quantity;
use crate::domain::window::SaleStatus;

/// Most pieces of a multi-weight product in one order (each is its own line).
const MAX_PIECES: usize = 100;

impl Sale {
    /// Prices requested lines from the sale (keeping the price of lines the
    /// customer already had, and their ids when `reuse_ids`), checking
    /// windows and quantities.
    pub(super) fn price_lines(
        &self,
        requested: &[RequestedLine],
        old_lines: &[OrderLine],
        reuse_ids: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<OrderLine>, SaleRefusal> {
        if requested.is_empty() {
            return Err(SaleRefusal::InvalidLines(vec![FieldError::new(
                "lines",
                "must contain at least one line",
            )]));
        }
        let mut errors = Vec::new();
        let mut lines = Vec::new();
        let mut window_refusal = None;
        let mut merged: Vec<(usize, Uuid, Decimal)> = Vec::new();
        for (i, line) in requested.iter().enumerate() {
            match merged.iter_mut().find(|(_, o, _)| *o == line.offer_id) {
                Some(entry) => entry.2 += line.quantity,
                None => merged.push((i, line.offer_id, line.quantity)),
            }
        }
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
            let field = format!("lines[{i}].quantity");
            let whole_only = offer.product.whole_units();
            let quantity = match Quantity::parse_for(quantity, !whole_only, &field) {
                Ok(q) => q,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            // A replaced line keeps the price it was ordered at; added
            // quantities take the sale's current price.
            let kept_price = old_lines
                .iter()
                .find(|l| {
                    reuse_ids
                        && l.offer_id == offer_id
                        && l.participation_id == offer.participation_id
                })
                .map(|l| l.unit_price);
            let unit_price = kept_price.unwrap_or(offer.price);
            let pieces = if offer.product.multi_weight {
                // One line per piece: each is weighed on its own.
                match quantity.value().to_usize().filter(|n| *n <= MAX_PIECES) {
                    Some(n) => vec![Quantity::ONE; n],
                    None => {
                        errors.push(FieldError::new(
                            field,
                            format!(
                                "at most {MAX_PIECES} pieces of a product weighed piece by piece"
                            ),
                        ));
                        continue;
                    }
                }
            } else {
                vec![quantity]
            };
            for piece in pieces {
                let reused = old_lines.iter().find(|l| {
                    reuse_ids
                        && l.offer_id == offer_id
                        && l.participation_id == offer.participation_id
                        && !lines.iter().any(|n: &OrderLine| n.id == l.id)
                });
                let id = reused.map_or_else(Uuid::new_v4, |l| l.id);
                lines.push(OrderLine {
                    id,
                    offer_id,
                    participation_id: offer.participation_id,
                    quantity: piece,
                    unit_price,
                    vat_rate: offer.vat_rate,
                });
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

    /// Lines of sales already closed cannot change any more.
    pub(super) fn check_closed_lines_unchanged(
        &self,
        old_lines: &[OrderLine],
        new_lines: &[OrderLine],
        now: DateTime<Utc>,
    ) -> Result<(), SaleRefusal> {
        let delta = reservation_delta(old_lines, new_lines);
        for offer_id in delta.keys() {
            let touched = old_lines
                .iter()
                .chain(new_lines.iter())
                .filter(|l| l.offer_id == *offer_id);
            for line in touched {
                if self.status_of(line.participation_id, now) != SaleStatus::Open {
                    return Err(SaleRefusal::SaleClosed {
                        offer_id: Some(*offer_id),
                    });
                }
            }
        }
        Ok(())
    }

    /// Adds lines to an order, growing an existing line of the same offer and
    /// price instead of duplicating it (multi-weight pieces stay separate).
    pub(super) fn merge_lines(
        &self,
        mut lines: Vec<OrderLine>,
        added: Vec<OrderLine>,
    ) -> Result<Vec<OrderLine>, SaleRefusal> {
        for new in added {
            let multi_weight = self
                .offers
                .get(&new.offer_id)
                .is_some_and(|offers| offers.iter().any(|o| o.product.multi_weight));
            let same = lines.iter_mut().find(|l| {
                !multi_weight
                    && l.offer_id == new.offer_id
                    && l.participation_id == new.participation_id
                    && l.unit_price == new.unit_price
            });
            match same {
                Some(line) => {
                    line.quantity = line.quantity.checked_add(new.quantity).ok_or_else(|| {
                        SaleRefusal::InvalidLines(vec![FieldError::new(
                            "lines",
                            format!("an order line holds at most {}", Quantity::MAX),
                        )])
                    })?;
                }
                None => lines.push(new),
            }
        }
        Ok(lines)
    }
}
