//! Property tests: random interleavings of every ledger operation (takes
//! with and without holds, give-backs, deliveries, commits and aborts —
//! also of finished changes —, holds, releases, clock moves and expiry
//! sweeps, producer stock changes) never oversell and always balance.
//!
//! After every step:
//! - `ordered + held + available = real` (tracked offers);
//! - `available ≥ 0`, unless the producer lowered `real` below what is
//!   ordered, and then nothing is held;
//! - `held` is the sum of the holds, none of them past due after a sweep;
//! - `ordered` is the committed takes minus what was given back or
//!   delivered (a model kept beside the ledger) plus the takes in flight;
//! - a take is granted exactly when it fits in what is available to its
//!   requester (its own hold included), and a refusal says how much that is;
//! - finishing a change twice changes nothing.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;

#[derive(Debug, Clone)]
enum Op {
    Take { quantity: u8, holder: Option<u8> },
    GiveBack { quantity: u8 },
    Deliver { quantity: u8 },
    Commit { index: usize },
    Abort { index: usize },
    Hold { holder: u8, quantity: u8, ttl: u8 },
    Release { holder: u8 },
    Advance { seconds: u8 },
    Expire,
    SetStock { tracked: bool, real: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1..5u8, proptest::option::of(0..4u8))
            .prop_map(|(quantity, holder)| Op::Take { quantity, holder }),
        1 => (1..4u8).prop_map(|quantity| Op::GiveBack { quantity }),
        1 => (1..4u8).prop_map(|quantity| Op::Deliver { quantity }),
        3 => any::<usize>().prop_map(|index| Op::Commit { index }),
        2 => any::<usize>().prop_map(|index| Op::Abort { index }),
        4 => (0..4u8, 1..6u8, 1..30u8)
            .prop_map(|(holder, quantity, ttl)| Op::Hold { holder, quantity, ttl }),
        1 => (0..4u8).prop_map(|holder| Op::Release { holder }),
        2 => (1..20u8).prop_map(|seconds| Op::Advance { seconds }),
        2 => Just(Op::Expire),
        1 => (any::<bool>(), 0..15u8).prop_map(|(tracked, real)| Op::SetStock { tracked, real }),
    ]
}

fn dec(value: u8) -> Decimal {
    Decimal::from(value)
}

fn quantity(value: u8) -> Quantity {
    Quantity::parse(dec(value), "q").unwrap()
}

/// What the test knows independently of the ledger.
struct Model {
    /// Committed takes minus committed give-backs and deliveries.
    confirmed: Decimal,
    /// Every change begun: id, its kind and quantity, finished or not.
    begun: Vec<(PendingId, char, Decimal, bool)>,
    now: DateTime<Utc>,
}

impl Model {
    fn in_flight(&self, kind: char) -> Decimal {
        self.begun
            .iter()
            .filter(|(_, k, _, done)| *k == kind && !done)
            .map(|(_, _, q, _)| *q)
            .sum()
    }
}

fn check(ledger: &Ledger<u8>, model: &Model) -> Result<(), TestCaseError> {
    let f = ledger.figures();
    let held: Decimal = ledger.holds().iter().map(|(_, h)| h.quantity).sum();
    prop_assert_eq!(f.held, held, "held is the sum of the holds");
    prop_assert!(ledger
        .holds()
        .iter()
        .all(|(_, h)| h.quantity > Decimal::ZERO));
    prop_assert_eq!(
        f.ordered,
        model.confirmed + model.in_flight('T'),
        "ordered = confirmed + takes in flight"
    );
    prop_assert_eq!(ledger.confirmed(), model.confirmed);
    if let Some(available) = f.available() {
        prop_assert_eq!(f.ordered + f.held + available, f.real, "balance");
        if available < Decimal::ZERO {
            prop_assert!(f.real < f.ordered, "only real below ordered goes negative");
            prop_assert_eq!(f.held, Decimal::ZERO, "and then nothing is held");
        }
    }
    prop_assert_eq!(
        ledger.pending_count(),
        model.begun.iter().filter(|b| !b.3).count()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_interleavings_never_oversell_and_always_balance(
        tracked in any::<bool>(),
        real in 0..12u8,
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        let mut ledger: Ledger<u8> = Ledger::new(tracked, dec(real), Decimal::ZERO);
        let mut model = Model {
            confirmed: Decimal::ZERO,
            begun: Vec::new(),
            now: DateTime::<Utc>::UNIX_EPOCH,
        };
        for op in ops {
            match op {
                Op::Take { quantity: q, holder } => {
                    let before = ledger.available();
                    let own = holder.map_or(Decimal::ZERO, |h| ledger.held_by(h).min(dec(q)));
                    let held_before = ledger.figures().held;
                    let outcome = ledger.begin(StockChange::Take { quantity: quantity(q), from_hold: holder });
                    match (before, outcome) {
                        (None, Ok(id)) => model.begun.push((id, 'T', dec(q), false)),
                        (Some(available), Ok(id)) => {
                            prop_assert!(dec(q) - own <= available, "granted beyond what was left");
                            prop_assert_eq!(ledger.figures().held, held_before - own, "the hold was consumed");
                            model.begun.push((id, 'T', dec(q), false));
                        }
                        (Some(available), Err(shortage)) => {
                            prop_assert!(dec(q) - own > available, "refused though it fitted");
                            prop_assert_eq!(shortage.available, available.max(Decimal::ZERO) + own);
                            prop_assert_eq!(ledger.figures().held, held_before, "a refusal keeps holds");
                        }
                        (None, Err(_)) => prop_assert!(false, "an untracked offer refused a take"),
                    }
                }
                Op::GiveBack { quantity: q } | Op::Deliver { quantity: q } => {
                    // Only what is confirmed and not already on its way back.
                    let leaving = model.in_flight('G') + model.in_flight('D');
                    if dec(q) > model.confirmed - leaving {
                        continue;
                    }
                    let (kind, change) = match op {
                        Op::GiveBack { .. } => ('G', StockChange::GiveBack { quantity: quantity(q) }),
                        _ => ('D', StockChange::Deliver { quantity: StockLevel::parse(dec(q), "q").unwrap() }),
                    };
                    let before = ledger.figures();
                    let id = ledger.begin(change).unwrap();
                    prop_assert_eq!(ledger.figures(), before, "nothing moves before the commit");
                    model.begun.push((id, kind, dec(q), false));
                }
                Op::Commit { index } | Op::Abort { index } => {
                    if model.begun.is_empty() {
                        continue;
                    }
                    let slot = index % model.begun.len();
                    let (id, kind, q, done) = model.begun[slot];
                    let commit = matches!(op, Op::Commit { .. });
                    let before = ledger.figures();
                    let finished = if commit { ledger.commit(id) } else { ledger.abort(id) };
                    prop_assert_eq!(finished, !done, "a change finishes exactly once");
                    if done {
                        prop_assert_eq!(ledger.figures(), before, "finishing twice changes nothing");
                        continue;
                    }
                    model.begun[slot].3 = true;
                    if commit {
                        match kind {
                            'T' => model.confirmed += q,
                            _ => model.confirmed = (model.confirmed - q).max(Decimal::ZERO),
                        }
                    }
                }
                Op::Hold { holder, quantity: q, ttl } => {
                    let available = ledger.available();
                    let own = ledger.held_by(holder);
                    let deadline = model.now + Duration::seconds(i64::from(ttl));
                    let granted = ledger.hold(holder, quantity(q), true, deadline);
                    prop_assert!(granted <= dec(q));
                    if let Some(available) = available {
                        prop_assert!(granted <= (available + own).max(Decimal::ZERO));
                        prop_assert_eq!(granted.fract(), Decimal::ZERO, "whole units");
                    } else {
                        prop_assert_eq!(granted, dec(q), "unlimited");
                    }
                    prop_assert_eq!(ledger.held_by(holder), granted);
                }
                Op::Release { holder } => {
                    let held = ledger.held_by(holder);
                    prop_assert_eq!(ledger.release_hold(holder), held);
                    prop_assert_eq!(ledger.held_by(holder), Decimal::ZERO);
                }
                Op::Advance { seconds } => model.now += Duration::seconds(i64::from(seconds)),
                Op::Expire => {
                    let due: HashMap<u8, (Decimal, DateTime<Utc>)> = ledger
                        .holds()
                        .iter()
                        .filter(|(_, h)| h.deadline <= model.now)
                        .map(|(holder, h)| (holder, (h.quantity, h.deadline)))
                        .collect();
                    let expired = ledger.expire(model.now);
                    prop_assert_eq!(expired.len(), due.len(), "each due hold once");
                    let mut previous = None;
                    for (holder, q) in &expired {
                        let Some((held, deadline)) = due.get(holder) else {
                            return Err(TestCaseError::fail("a hold not due was released"));
                        };
                        prop_assert_eq!(held, q);
                        prop_assert!(previous.map_or(true, |p| p <= *deadline), "deadline order");
                        previous = Some(*deadline);
                    }
                    prop_assert!(ledger.next_deadline().map_or(true, |d| d > model.now));
                    prop_assert!(ledger.expire(model.now).is_empty(), "released once");
                }
                Op::SetStock { tracked, real } => {
                    let level = StockLevel::parse(dec(real), "real").unwrap();
                    ledger.set_stock(tracked, level);
                }
            }
            check(&ledger, &model)?;
        }
        // Everything finished and expired: only what committed remains.
        let open: Vec<PendingId> = model.begun.iter().filter(|b| !b.3).map(|b| b.0).collect();
        for id in open {
            prop_assert!(ledger.abort(id));
        }
        ledger.expire(model.now + Duration::days(1));
        let f = ledger.figures();
        prop_assert_eq!(f.ordered, model.confirmed);
        prop_assert_eq!(f.held, Decimal::ZERO);
        prop_assert!(!ledger.is_busy());
    }

    #[test]
    fn concurrent_baskets_never_hold_more_than_the_stock(
        real in 0..10u8,
        asks in proptest::collection::vec((0..50u8, 1..4u8), 1..200),
    ) {
        let mut ledger: Ledger<u8> = Ledger::new(true, dec(real), Decimal::ZERO);
        let deadline = DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(10);
        for (holder, q) in asks {
            ledger.hold(holder, quantity(q), true, deadline);
            prop_assert!(ledger.figures().held <= dec(real));
            prop_assert!(ledger.available().is_some_and(|a| a >= Decimal::ZERO));
        }
    }
}

#[test]
fn expiry_order_follows_deadlines() {
    let mut ledger: Ledger<u8> = Ledger::new(true, dec(10), Decimal::ZERO);
    let start = DateTime::<Utc>::UNIX_EPOCH;
    for (holder, ttl) in [(1u8, 30i64), (2, 10), (3, 20), (4, 10)] {
        ledger.hold(holder, quantity(1), true, start + Duration::seconds(ttl));
    }
    let order: Vec<u8> = ledger
        .expire(start + Duration::seconds(60))
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(order, vec![2, 4, 3, 1]);
}
