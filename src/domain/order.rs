//! Orders as plain data: lines with frozen prices, totals, and the
//! reservation difference between two versions of an order (what a change
//! must reserve more of, and what it gives back). The engine uses the
//! difference so that changing an order reserves or releases only what moved,
//! and the line changes so that the writer writes only the rows that moved.

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::money::{round_cents, Money};

/// One line of an order, its unit price frozen when it was ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub participation_id: Uuid,
    pub quantity: Decimal,
    pub unit_price: Money,
    pub vat_rate: Decimal,
}

impl OrderLine {
    /// Quantity × unit price, rounded half-up to cents.
    pub fn total(&self) -> Money {
        Money::from_rounded(round_cents(self.unit_price.amount() * self.quantity))
            .unwrap_or(Money::ZERO)
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
        *by_offer.entry(line.offer_id).or_insert(Decimal::ZERO) += line.quantity;
    }
    by_offer
}

/// What changes between two versions of an order, per offer: positive
/// quantities must be reserved before the change commits, negative ones are
/// released after it commits. Offers whose quantity did not move are absent.
pub fn reservation_delta(before: &[OrderLine], after: &[OrderLine]) -> BTreeMap<Uuid, Decimal> {
    let mut delta = quantities_by_offer(after);
    for (offer, quantity) in quantities_by_offer(before) {
        *delta.entry(offer).or_insert(Decimal::ZERO) -= quantity;
    }
    delta.retain(|_, q| !q.is_zero());
    delta
}

/// Quantities per offer, in offer order.
pub type OfferQuantities = Vec<(Uuid, Decimal)>;

/// The parts of a delta: (to reserve, to release), both with positive quantities.
pub fn split_delta(delta: &BTreeMap<Uuid, Decimal>) -> (OfferQuantities, OfferQuantities) {
    let reserve = delta
        .iter()
        .filter(|(_, q)| q.is_sign_positive())
        .map(|(o, q)| (*o, *q))
        .collect();
    let release = delta
        .iter()
        .filter(|(_, q)| q.is_sign_negative())
        .map(|(o, q)| (*o, -*q))
        .collect();
    (reserve, release)
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
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn line(offer: Uuid, quantity: Decimal, price: Decimal) -> OrderLine {
        OrderLine {
            id: Uuid::new_v4(),
            offer_id: offer,
            participation_id: Uuid::nil(),
            quantity,
            unit_price: Money::parse(price, "price").unwrap(),
            vat_rate: dec!(5.5),
        }
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
        let (reserve, release) = split_delta(&delta);
        assert_eq!(reserve, vec![(c, dec!(4))]);
        assert_eq!(release, vec![(b, dec!(1))]);
    }

    #[test]
    fn line_changes_write_only_new_and_changed_lines() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let kept = line(a, dec!(2), dec!(1));
        let grown = line(b, dec!(1), dec!(1));
        let gone = line(c, dec!(1), dec!(1));
        let before = vec![kept.clone(), grown.clone(), gone.clone()];
        let mut grown_after = grown.clone();
        grown_after.quantity = dec!(3);
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
        assert_eq!(split_delta(&delta).1, vec![(a, dec!(2))]);
    }
}
