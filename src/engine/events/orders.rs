//! Order events for producers and market admins, published by the
//! distribution actor when a change has committed (`Finish { committed:
//! true }`), never before and never for a refused change.
//!
//! A producer sees only its own lines and their total, and only the changes
//! that touch them: an order placed with its lines, a modification that
//! changed its lines (lines empty if it lost them all), a cancellation of an
//! order that had its lines (the cancelled lines). A market admin sees every
//! change of the market's orders, with all lines.

use std::collections::BTreeSet;
use std::time::Instant;

use uuid::Uuid;

use super::live::{LiveEvent, OrderEvent, OrderEventKind, OrderEventLine, Push};
use super::{Audience, EventHub};
use crate::domain::money::Money;
use crate::domain::order::{OrderChangeKind, OrderLine};
use crate::domain::quantity::Quantity;
use crate::domain::sale::Sale;

/// A line with the catalog and producer it belongs to.
struct Placed<'a> {
    line: &'a OrderLine,
    catalog_id: Uuid,
    producer_id: Uuid,
}

fn placed<'a>(sale: &Sale, lines: &'a [OrderLine]) -> Vec<Placed<'a>> {
    lines
        .iter()
        .filter_map(|line| {
            let p = sale
                .participations
                .iter()
                .find(|p| p.id == line.participation_id)?;
            Some(Placed {
                line,
                catalog_id: p.catalog_id,
                producer_id: p.producer_id,
            })
        })
        .collect()
}

/// What a producer's lines look like, to tell whether a change touched them.
fn fingerprint(lines: &[Placed<'_>], producer_id: Uuid) -> Vec<(Uuid, Uuid, Quantity, Money)> {
    let mut print: Vec<_> = lines
        .iter()
        .filter(|l| l.producer_id == producer_id)
        .map(|l| {
            (
                l.line.offer_id,
                l.line.participation_id,
                l.line.quantity,
                l.line.unit_price,
            )
        })
        .collect();
    print.sort();
    print
}

impl EventHub {
    /// The change in flight for `customer_id` has committed: tell the
    /// producers it touches and the market. Call before `Sale::finish`.
    pub fn order_committed(&self, sale: &Sale, customer_id: Uuid) {
        let market_id = sale.distribution.market_id;
        let market = self.inner.markets.get(&market_id).map(|tx| tx.clone());
        let publisher = self.publisher();
        if market.is_none() && self.inner.producers.is_empty() && publisher.is_none() {
            return;
        }
        let Some((name, plan)) = sale.in_flight.get(&customer_id) else {
            return;
        };
        let at = Instant::now();
        let old_lines = sale
            .orders
            .get(&customer_id)
            .map_or(&[][..], |o| o.lines.as_slice());
        let (kind, shown) = match plan.kind {
            OrderChangeKind::Create => (OrderEventKind::Placed, plan.lines.as_slice()),
            OrderChangeKind::Replace => (OrderEventKind::Modified, plan.lines.as_slice()),
            OrderChangeKind::Cancel => (OrderEventKind::Cancelled, old_lines),
        };
        let before = placed(sale, old_lines);
        let after = placed(sale, shown);
        let event = |lines: Vec<&Placed<'_>>| {
            LiveEvent::Order(OrderEvent {
                kind,
                order_id: plan.order_id,
                number: plan.number.unwrap_or(0),
                distribution_id: sale.distribution.id,
                customer_id,
                customer_name: name.clone(),
                total: lines.iter().map(|l| l.line.total()).sum(),
                lines: lines
                    .iter()
                    .map(|l| OrderEventLine {
                        id: l.line.id,
                        offer_id: l.line.offer_id,
                        catalog_id: l.catalog_id,
                        producer_id: l.producer_id,
                        quantity: l.line.quantity,
                        unit_price: l.line.unit_price,
                        total: l.line.total(),
                    })
                    .collect(),
            })
        };

        let producers: BTreeSet<Uuid> = before
            .iter()
            .chain(after.iter())
            .map(|l| l.producer_id)
            .collect();
        for producer_id in producers {
            let tx = self.inner.producers.get(&producer_id).map(|tx| tx.clone());
            if tx.is_none() && publisher.is_none() {
                continue;
            }
            let touched = plan.kind != OrderChangeKind::Replace
                || fingerprint(&before, producer_id) != fingerprint(&after, producer_id);
            if !touched {
                continue;
            }
            let own = after
                .iter()
                .filter(|l| l.producer_id == producer_id)
                .collect();
            if let Some(frame) = self.frame(&event(own), Some(at)) {
                if let Some(publisher) = &publisher {
                    publisher.order_frame(Audience::Producer(producer_id), frame.text.clone());
                }
                if let Some(tx) = tx {
                    let _ = tx.send(Push::one(frame));
                }
            }
        }
        if market.is_none() && publisher.is_none() {
            return;
        }
        if let Some(frame) = self.frame(&event(after.iter().collect()), Some(at)) {
            if let Some(publisher) = &publisher {
                publisher.order_frame(Audience::Market(market_id), frame.text.clone());
            }
            if let Some(tx) = market {
                let _ = tx.send(Push::one(frame));
            }
        }
    }
}
