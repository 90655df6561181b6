//! Orders as plain data: lines with frozen prices, totals, the status and
//! kinds of change of an order, and the reservation difference between two
//! versions of an order (what a change must take more of, and what it gives
//! back). The engine uses the difference so that changing an order takes or
//! gives back only what moved, and the line changes so that the writer
//! writes only the rows that moved. How a customer sees an order is
//! [`view`].

pub mod view;

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::FieldError;
use super::money::Money;
use super::pricing::line_total;
use super::quantity::Quantity;
use super::vat::VatRate;

pub use view::{LineView, OrderView};

/// One line of an order, its unit price frozen when it was ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub participation_id: Uuid,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub vat_rate: VatRate,
}

impl OrderLine {
    /// Quantity × unit price, rounded half-up to cents.
    pub fn total(&self) -> Money {
        line_total(self.unit_price, self.quantity)
    }
}

/// A customer's confirmed order in a distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub number: i32,
    pub lines: Vec<OrderLine>,
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Confirmed,
    Cancelled,
}

impl OrderStatus {
    /// `"confirmed"` or `"cancelled"` (as stored).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Reads a stored status.
    pub fn parse(value: &str) -> Result<OrderStatus, FieldError> {
        match value {
            "confirmed" => Ok(OrderStatus::Confirmed),
            "cancelled" => Ok(OrderStatus::Cancelled),
            _ => Err(FieldError::new("status", "must be confirmed or cancelled")),
        }
    }
}

impl TryFrom<String> for OrderStatus {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        OrderStatus::parse(&value)
    }
}

/// What happens to an order in a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderChangeKind {
    /// A new order with its lines.
    Create,
    /// The order's lines change.
    Replace,
    /// The order is cancelled (its lines stay, for history).
    Cancel,
}

impl OrderChangeKind {
    /// The order's status after the change.
    pub fn status(self) -> OrderStatus {
        match self {
            OrderChangeKind::Cancel => OrderStatus::Cancelled,
            OrderChangeKind::Create | OrderChangeKind::Replace => OrderStatus::Confirmed,
        }
    }
}

/// What weighing recorded on a variable-price line after the sale: its
/// real weight and the total that follows. `None` until it is weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weighing {
    pub weight: Option<Decimal>,
    pub final_total: Option<Money>,
}

/// Sum of the line totals.
pub fn order_total(lines: &[OrderLine]) -> Money {
    lines.iter().map(OrderLine::total).sum()
}

/// Quantity per offer of a set of lines.
pub fn quantities_by_offer(lines: &[OrderLine]) -> BTreeMap<Uuid, Decimal> {
    let mut by_offer = BTreeMap::new();
    for line in lines {
        *by_offer.entry(line.offer_id).or_insert(Decimal::ZERO) += line.quantity.value();
    }
    by_offer
}

/// What changes between two versions of an order, per offer: positive
/// quantities must be taken before the change commits, negative ones are
/// given back once it commits. Offers whose quantity did not move are absent.
pub fn reservation_delta(before: &[OrderLine], after: &[OrderLine]) -> BTreeMap<Uuid, Decimal> {
    let mut delta = quantities_by_offer(after);
    for (offer, quantity) in quantities_by_offer(before) {
        *delta.entry(offer).or_insert(Decimal::ZERO) -= quantity;
    }
    delta.retain(|_, q| !q.is_zero());
    delta
}

/// Quantities per offer, in offer order.
pub type OfferQuantities = Vec<(Uuid, Quantity)>;

/// The parts of a delta: (to take, to give back), both positive; an offer
/// moving more than [`Quantity::MAX`] at once is refused, naming `field`.
pub fn split_delta(
    delta: &BTreeMap<Uuid, Decimal>,
    field: &str,
) -> Result<(OfferQuantities, OfferQuantities), FieldError> {
    let (mut take, mut give_back) = (Vec::new(), Vec::new());
    for (offer, q) in delta {
        let quantity = Quantity::parse(q.abs(), field)?;
        if q.is_sign_positive() {
            take.push((*offer, quantity));
        } else {
            give_back.push((*offer, quantity));
        }
    }
    Ok((take, give_back))
}

/// What a new version of an order's lines writes: the lines that are new
/// or changed, and the ids of the lines that are gone. Lines keep their id
/// across versions, so adding one line to a long order writes one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineChanges {
    pub written: Vec<OrderLine>,
    pub removed: Vec<Uuid>,
}

/// The [`LineChanges`] from `before` to `after`.
pub fn line_changes(before: &[OrderLine], after: &[OrderLine]) -> LineChanges {
    let previous: HashMap<Uuid, &OrderLine> = before.iter().map(|l| (l.id, l)).collect();
    let kept: HashSet<Uuid> = after.iter().map(|l| l.id).collect();
    LineChanges {
        written: after
            .iter()
            .filter(|l| previous.get(&l.id) != Some(l))
            .cloned()
            .collect(),
        removed: before
            .iter()
            .filter(|l| !kept.contains(&l.id))
            .map(|l| l.id)
            .collect(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn line(offer: Uuid, quantity: Decimal, price: Decimal) -> OrderLine {
        OrderLine {
            id: Uuid::new_v4(),
            offer_id: offer,
            participation_id: Uuid::nil(),
            quantity: Quantity::parse(quantity, "quantity").unwrap(),
            unit_price: Money::parse(price, "price").unwrap(),
            vat_rate: VatRate::parse(dec!(5.5), "rate").unwrap(),
        }
    }

    fn q(value: Decimal) -> Quantity {
        Quantity::parse(value, "q").unwrap()
    }

    #[test]
    fn totals_round_half_up_per_line() {
        let a = Uuid::new_v4();
        let lines = vec![
            line(a, dec!(1.235), dec!(2.00)),
            line(a, dec!(3), dec!(2.50)),
        ];
        assert_eq!(lines[0].total().amount(), dec!(2.47));
        assert_eq!(order_total(&lines).amount(), dec!(9.97));
    }

    #[test]
    fn delta_reserves_growth_and_releases_shrinkage() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let before = vec![line(a, dec!(2), dec!(1)), line(b, dec!(1), dec!(1))];
        let after = vec![
            line(a, dec!(1), dec!(1)),
            line(a, dec!(1), dec!(1)),
            line(c, dec!(4), dec!(1)),
        ];
        let delta = reservation_delta(&before, &after);
        assert_eq!(delta.get(&a), None, "unchanged total quantity for a");
        assert_eq!(delta.get(&b), Some(&dec!(-1)));
        assert_eq!(delta.get(&c), Some(&dec!(4)));
        let (take, give_back) = split_delta(&delta, "lines").unwrap();
        assert_eq!(take, vec![(c, q(dec!(4)))]);
        assert_eq!(give_back, vec![(b, q(dec!(1)))]);
    }

    #[test]
    fn line_changes_write_only_new_and_changed_lines() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let kept = line(a, dec!(2), dec!(1));
        let grown = line(b, dec!(1), dec!(1));
        let gone = line(c, dec!(1), dec!(1));
        let before = vec![kept.clone(), grown.clone(), gone.clone()];
        let mut grown_after = grown.clone();
        grown_after.quantity = q(dec!(3));
        let added = line(c, dec!(5), dec!(2));
        let after = vec![kept, grown_after.clone(), added.clone()];
        let changes = line_changes(&before, &after);
        assert_eq!(changes.written, vec![grown_after, added]);
        assert_eq!(changes.removed, vec![gone.id]);
        assert_eq!(line_changes(&after, &after), LineChanges::default());
        assert_eq!(line_changes(&[], &after).written, after);
    }

    #[test]
    fn cancelling_releases_everything() {
        let a = Uuid::new_v4();
        let before = vec![line(a, dec!(2), dec!(1))];
        let delta = reservation_delta(&before, &[]);
        assert_eq!(
            split_delta(&delta, "lines").unwrap().1,
            vec![(a, q(dec!(2)))]
        );
    }

    #[test]
    fn an_offer_cannot_move_more_than_the_largest_quantity_at_once() {
        let a = Uuid::new_v4();
        let delta = BTreeMap::from([(a, Quantity::MAX + dec!(1))]);
        assert_eq!(split_delta(&delta, "lines").unwrap_err().field, "lines");
    }

    #[test]
    fn statuses_and_kinds() {
        assert_eq!(
            OrderStatus::parse("cancelled").unwrap(),
            OrderStatus::Cancelled
        );
        assert_eq!(OrderStatus::Confirmed.as_str(), "confirmed");
        assert!(OrderStatus::parse("lost").is_err());
        assert_eq!(OrderChangeKind::Cancel.status(), OrderStatus::Cancelled);
        assert_eq!(OrderChangeKind::Replace.status(), OrderStatus::Confirmed);
    }
}
