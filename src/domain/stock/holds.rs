//! Basket holds of one offer: what each holder holds and until when.
//!
//! A holder holds one quantity with one deadline; setting it again replaces
//! both. Holds are kept twice — by holder, and ordered by deadline — so an
//! expiry sweep takes the due holds in deadline order without looking at
//! the others, and giving way (when real stock drops) takes the latest
//! deadlines first: the basket changed last gives way first.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// One holder's hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub quantity: Decimal,
    pub deadline: DateTime<Utc>,
}

/// The holds of one offer, by holder and by deadline.
#[derive(Debug, Clone)]
pub struct Holds<H> {
    by_holder: HashMap<H, Hold>,
    by_deadline: BTreeSet<(DateTime<Utc>, H)>,
    total: Decimal,
}

impl<H> Default for Holds<H> {
    fn default() -> Self {
        Self {
            by_holder: HashMap::new(),
            by_deadline: BTreeSet::new(),
            total: Decimal::ZERO,
        }
    }
}

impl<H: Copy + Eq + Hash + Ord> Holds<H> {
    /// Everything held.
    pub fn total(&self) -> Decimal {
        self.total
    }

    /// Number of holders.
    pub fn len(&self) -> usize {
        self.by_holder.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_holder.is_empty()
    }

    /// The holder's hold, if any.
    pub fn get(&self, holder: H) -> Option<Hold> {
        self.by_holder.get(&holder).copied()
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.by_deadline.first().map(|(deadline, _)| *deadline)
    }

    /// Sets the holder's hold (a zero quantity removes it); returns the
    /// previous one.
    pub fn set(&mut self, holder: H, hold: Hold) -> Option<Hold> {
        let previous = self.remove(holder);
        if hold.quantity > Decimal::ZERO {
            self.by_deadline.insert((hold.deadline, holder));
            self.by_holder.insert(holder, hold);
            self.total += hold.quantity;
        }
        previous
    }

    /// Removes the holder's hold.
    pub fn remove(&mut self, holder: H) -> Option<Hold> {
        let hold = self.by_holder.remove(&holder)?;
        self.by_deadline.remove(&(hold.deadline, holder));
        self.total -= hold.quantity;
        Some(hold)
    }

    /// Takes up to `quantity` out of the holder's hold (an order consuming
    /// it); returns how much was taken and the hold it came from.
    pub fn take(&mut self, holder: H, quantity: Decimal) -> Option<(Decimal, Hold)> {
        let hold = self.get(holder)?;
        let taken = quantity.min(hold.quantity);
        self.set(
            holder,
            Hold {
                quantity: hold.quantity - taken,
                deadline: hold.deadline,
            },
        );
        Some((taken, hold))
    }

    /// Removes every hold due at `now` (deadline ≤ now), in deadline order.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Vec<(H, Decimal)> {
        let mut expired = Vec::new();
        while let Some(&(deadline, holder)) = self.by_deadline.first() {
            if deadline > now {
                break;
            }
            if let Some(hold) = self.remove(holder) {
                expired.push((holder, hold.quantity));
            }
        }
        expired
    }

    /// Shrinks holds, latest deadline first, until at most `keep` is held;
    /// returns each holder cut with what it still holds.
    pub fn give_way(&mut self, keep: Decimal) -> Vec<(H, Decimal)> {
        let keep = keep.max(Decimal::ZERO);
        let mut cut = Vec::new();
        while self.total > keep {
            let Some(&(deadline, holder)) = self.by_deadline.last() else {
                break;
            };
            let Some(hold) = self.by_holder.get(&holder).copied() else {
                self.by_deadline.remove(&(deadline, holder));
                continue;
            };
            let left = (hold.quantity - (self.total - keep)).max(Decimal::ZERO);
            self.set(
                holder,
                Hold {
                    quantity: left,
                    deadline,
                },
            );
            cut.push((holder, left));
        }
        cut
    }

    /// Every hold (tests and checks).
    pub fn iter(&self) -> impl Iterator<Item = (H, Hold)> + '_ {
        self.by_holder.iter().map(|(h, hold)| (*h, *hold))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Duration;
    use rust_decimal_macros::dec;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(seconds)
    }

    fn hold(quantity: Decimal, deadline: i64) -> Hold {
        Hold {
            quantity,
            deadline: at(deadline),
        }
    }

    #[test]
    fn setting_replaces_quantity_and_deadline() {
        let mut holds = Holds::default();
        holds.set(1, hold(dec!(2), 10));
        holds.set(2, hold(dec!(3), 5));
        assert_eq!(holds.total(), dec!(5));
        assert_eq!(holds.next_deadline(), Some(at(5)));
        let previous = holds.set(2, hold(dec!(1), 20));
        assert_eq!(previous, Some(hold(dec!(3), 5)));
        assert_eq!(holds.total(), dec!(3));
        assert_eq!(holds.next_deadline(), Some(at(10)));
        holds.set(1, hold(dec!(0), 30));
        assert_eq!(holds.get(1), None, "zero removes");
        assert_eq!(holds.total(), dec!(1));
        assert_eq!(holds.len(), 1);
    }

    #[test]
    fn expiry_takes_due_holds_in_deadline_order_once() {
        let mut holds = Holds::default();
        holds.set(3, hold(dec!(1), 30));
        holds.set(1, hold(dec!(2), 10));
        holds.set(2, hold(dec!(4), 20));
        assert_eq!(holds.expire(at(9)), vec![]);
        assert_eq!(holds.expire(at(20)), vec![(1, dec!(2)), (2, dec!(4))]);
        assert_eq!(holds.expire(at(20)), vec![], "released once");
        assert_eq!(holds.total(), dec!(1));
        assert_eq!(holds.expire(at(100)), vec![(3, dec!(1))]);
        assert!(holds.is_empty());
        assert_eq!(holds.total(), dec!(0));
    }

    #[test]
    fn taking_consumes_part_of_a_hold() {
        let mut holds = Holds::default();
        holds.set(1, hold(dec!(3), 10));
        assert_eq!(holds.take(1, dec!(2)), Some((dec!(2), hold(dec!(3), 10))));
        assert_eq!(holds.get(1), Some(hold(dec!(1), 10)));
        assert_eq!(holds.take(1, dec!(5)).map(|t| t.0), Some(dec!(1)));
        assert_eq!(holds.get(1), None);
        assert_eq!(holds.take(1, dec!(1)), None);
        assert_eq!(holds.total(), dec!(0));
    }

    #[test]
    fn the_latest_basket_gives_way_first() {
        let mut holds = Holds::default();
        holds.set(1, hold(dec!(3), 10));
        holds.set(2, hold(dec!(2), 30));
        holds.set(3, hold(dec!(2), 20));
        assert_eq!(holds.give_way(dec!(4)), vec![(2, dec!(0)), (3, dec!(1))]);
        assert_eq!(holds.total(), dec!(4));
        assert_eq!(holds.get(1), Some(hold(dec!(3), 10)));
        assert_eq!(holds.give_way(dec!(10)), vec![]);
        assert_eq!(holds.give_way(dec!(-1)).len(), 2);
        assert!(holds.is_empty());
    }
}
