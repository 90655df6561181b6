//! One offer's stock ledger (see the module doc of [`super`]).
//!
//! Changes that wait for a database commit are begun, then committed or
//! aborted, each exactly once (an unknown or finished [`PendingId`] changes
//! nothing):
//!
//! - [`StockChange::Take`] — an order grows: counted in `ordered` at once,
//!   refused when short. With `from_hold`, the holder's hold covers it
//!   first (an order consuming its basket's hold: covered units are never
//!   refused); aborted, the hold comes back.
//! - [`StockChange::GiveBack`] — an order shrinks or is cancelled: `ordered`
//!   drops only at commit, so the units are never offered twice.
//! - [`StockChange::Deliver`] — delivered orders leave the books at commit:
//!   `ordered` drops, and `real` for tracked offers (never below zero).
//!
//! Immediate changes: holds ([`Ledger::hold`], [`Ledger::release_hold`],
//! [`Ledger::expire`]) and the producer's stock ([`Ledger::set_stock`]).

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::figures::StockFigures;
use super::holds::{Hold, Holds};
use crate::domain::quantity::{Quantity, StockLevel};

/// A change that commits later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange<H> {
    /// Take units (an order grows); `from_hold`: whose hold covers it first.
    Take {
        quantity: Quantity,
        from_hold: Option<H>,
    },
    /// Give units back once committed (an order shrinks).
    GiveBack { quantity: Quantity },
    /// Units delivered (a distribution's total, which may exceed one
    /// line's largest quantity): out of `ordered` and (tracked) `real` once
    /// committed.
    Deliver { quantity: StockLevel },
}

/// A begun change, to commit or abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PendingId(u64);

/// A take refused: `available` is what the requester could have had (its
/// own hold included), never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortage {
    pub available: Decimal,
}

#[derive(Debug, Clone, Copy)]
enum Pending<H> {
    Take {
        quantity: Decimal,
        /// The part a hold covered: given back to it on abort.
        covered: Option<(H, Decimal, DateTime<Utc>)>,
    },
    GiveBack {
        quantity: Decimal,
    },
    Deliver {
        quantity: Decimal,
    },
}

/// The stock ledger of one offer; `H` names a holder (a basket).
#[derive(Debug, Clone)]
pub struct Ledger<H> {
    tracked: bool,
    real: Decimal,
    /// Confirmed, undelivered (what the database counts as ordered).
    confirmed: Decimal,
    /// Takes begun and not yet committed.
    reserved: Decimal,
    pending: HashMap<PendingId, Pending<H>>,
    next_pending: u64,
    holds: Holds<H>,
}

impl<H: Copy + Eq + Hash + Ord> Ledger<H> {
    /// A ledger starting from the database's figures.
    pub fn new(tracked: bool, real: Decimal, ordered: Decimal) -> Self {
        Self {
            tracked,
            real,
            confirmed: ordered,
            reserved: Decimal::ZERO,
            pending: HashMap::new(),
            next_pending: 0,
            holds: Holds::default(),
        }
    }

    /// The current figures.
    pub fn figures(&self) -> StockFigures {
        StockFigures {
            tracked: self.tracked,
            real: self.real,
            ordered: self.confirmed + self.reserved,
            held: self.holds.total(),
        }
    }

    /// What is left to take: `real − ordered − held` (`None`: unlimited).
    pub fn available(&self) -> Option<Decimal> {
        self.figures().available()
    }

    /// Confirmed, undelivered units (the database's `ordered`).
    pub fn confirmed(&self) -> Decimal {
        self.confirmed
    }

    /// Whether changes are in flight or baskets hold units: the ledger
    /// cannot be rebuilt from the database right now.
    pub fn is_busy(&self) -> bool {
        !self.pending.is_empty() || !self.holds.is_empty()
    }

    /// Changes begun and not finished.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// The baskets' holds.
    pub fn holds(&self) -> &Holds<H> {
        &self.holds
    }

    /// What `holder` holds.
    pub fn held_by(&self, holder: H) -> Decimal {
        self.holds.get(holder).map_or(Decimal::ZERO, |h| h.quantity)
    }

    /// Begins a change; a take is refused when short.
    pub fn begin(&mut self, change: StockChange<H>) -> Result<PendingId, Shortage> {
        let pending = match change {
            StockChange::Take {
                quantity,
                from_hold,
            } => self.take(quantity.value(), from_hold)?,
            StockChange::GiveBack { quantity } => Pending::GiveBack {
                quantity: quantity.value(),
            },
            StockChange::Deliver { quantity } => Pending::Deliver {
                quantity: quantity.value(),
            },
        };
        let id = PendingId(self.next_pending);
        self.next_pending += 1;
        self.pending.insert(id, pending);
        Ok(id)
    }

    fn take(&mut self, quantity: Decimal, from_hold: Option<H>) -> Result<Pending<H>, Shortage> {
        let own = from_hold.map_or(Decimal::ZERO, |holder| self.held_by(holder).min(quantity));
        if let Some(available) = self.available() {
            if quantity - own > available {
                return Err(Shortage {
                    available: available.max(Decimal::ZERO) + own,
                });
            }
        }
        let covered = from_hold
            .and_then(|holder| self.holds.take(holder, quantity).map(|t| (holder, t)))
            .map(|(holder, (taken, hold))| (holder, taken, hold.deadline));
        self.reserved += quantity;
        Ok(Pending::Take { quantity, covered })
    }

    fn give_back_to_hold(&mut self, holder: H, quantity: Decimal, deadline: DateTime<Utc>) {
        let current = self.holds.get(holder);
        self.holds.set(
            holder,
            Hold {
                quantity: current.map_or(Decimal::ZERO, |h| h.quantity) + quantity,
                deadline: current.map_or(deadline, |h| h.deadline.max(deadline)),
            },
        );
    }

    /// The change's write committed: apply it. `false` if unknown or done.
    pub fn commit(&mut self, id: PendingId) -> bool {
        let Some(pending) = self.pending.remove(&id) else {
            return false;
        };
        match pending {
            Pending::Take { quantity, .. } => {
                self.reserved -= quantity;
                self.confirmed += quantity;
            }
            Pending::GiveBack { quantity } => {
                self.confirmed = (self.confirmed - quantity).max(Decimal::ZERO);
            }
            Pending::Deliver { quantity } => {
                self.confirmed = (self.confirmed - quantity).max(Decimal::ZERO);
                if self.tracked {
                    self.real = (self.real - quantity).max(Decimal::ZERO);
                }
                self.give_way();
            }
        }
        true
    }

    /// The change's write failed: undo it. `false` if unknown or done.
    pub fn abort(&mut self, id: PendingId) -> bool {
        let Some(pending) = self.pending.remove(&id) else {
            return false;
        };
        if let Pending::Take { quantity, covered } = pending {
            self.reserved -= quantity;
            if let Some((holder, taken, deadline)) = covered {
                self.give_back_to_hold(holder, taken, deadline);
                // Real stock may have dropped meanwhile.
                self.give_way();
            }
        }
        true
    }

    /// Sets `holder`'s hold to as much of `wanted` as is available (what it
    /// already holds counts as available to it), in whole units when
    /// `whole_units`, until `deadline`. Returns what is now held.
    pub fn hold(
        &mut self,
        holder: H,
        wanted: Quantity,
        whole_units: bool,
        deadline: DateTime<Utc>,
    ) -> Decimal {
        let own = self.held_by(holder);
        let mut granted = match self.available() {
            Some(available) => wanted.value().min((available + own).max(Decimal::ZERO)),
            None => wanted.value(),
        };
        if whole_units {
            granted = granted.floor();
        }
        self.holds.set(
            holder,
            Hold {
                quantity: granted,
                deadline,
            },
        );
        granted
    }

    /// Releases `holder`'s hold; returns what it held.
    pub fn release_hold(&mut self, holder: H) -> Decimal {
        self.holds
            .remove(holder)
            .map_or(Decimal::ZERO, |h| h.quantity)
    }

    /// Releases every hold due at `now`, in deadline order, each once.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Vec<(H, Decimal)> {
        self.holds.expire(now)
    }

    /// The earliest hold deadline.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.holds.next_deadline()
    }

    /// The producer set the stock (already written). Holds give way if the
    /// new real stock no longer covers them; returns the holders cut, with
    /// what each still holds.
    pub fn set_stock(&mut self, tracked: bool, real: StockLevel) -> Vec<(H, Decimal)> {
        self.tracked = tracked;
        self.real = real.value();
        self.give_way()
    }

    fn give_way(&mut self) -> Vec<(H, Decimal)> {
        if !self.tracked {
            return Vec::new();
        }
        let room = self.real - self.confirmed - self.reserved;
        self.holds.give_way(room)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
