//! Unit tests of the ledger, one rule each.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;

fn q(value: Decimal) -> Quantity {
    Quantity::parse(value, "q").unwrap()
}

fn level(value: Decimal) -> StockLevel {
    StockLevel::parse(value, "real").unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(seconds)
}

fn take(quantity: Decimal) -> StockChange<u32> {
    StockChange::Take {
        quantity: q(quantity),
        from_hold: None,
    }
}

fn take_held(quantity: Decimal, holder: u32) -> StockChange<u32> {
    StockChange::Take {
        quantity: q(quantity),
        from_hold: Some(holder),
    }
}

fn tracked(real: Decimal, ordered: Decimal) -> Ledger<u32> {
    Ledger::new(true, real, ordered)
}

#[test]
fn a_take_counts_at_once_and_is_refused_beyond_what_is_left() {
    let mut ledger = tracked(dec!(5), dec!(2));
    assert_eq!(ledger.available(), Some(dec!(3)));
    let id = ledger.begin(take(dec!(2))).unwrap();
    assert_eq!(ledger.figures().ordered, dec!(4));
    assert_eq!(ledger.available(), Some(dec!(1)));
    assert_eq!(
        ledger.begin(take(dec!(2))),
        Err(Shortage { available: dec!(1) })
    );
    assert_eq!(
        ledger.available(),
        Some(dec!(1)),
        "a refusal changes nothing"
    );
    assert!(ledger.commit(id));
    assert_eq!(ledger.confirmed(), dec!(4));
    assert_eq!(ledger.figures().ordered, dec!(4));
    assert!(!ledger.is_busy());
}

#[test]
fn an_untracked_offer_is_never_short() {
    let mut ledger: Ledger<u32> = Ledger::new(false, dec!(0), dec!(7));
    assert_eq!(ledger.available(), None);
    let id = ledger.begin(take(dec!(1000))).unwrap();
    assert!(ledger.commit(id));
    assert_eq!(ledger.confirmed(), dec!(1007));
    assert_eq!(ledger.figures().shown_available(), None);
}

#[test]
fn an_aborted_take_gives_its_units_back() {
    let mut ledger = tracked(dec!(1), dec!(0));
    let id = ledger.begin(take(dec!(1))).unwrap();
    assert_eq!(ledger.available(), Some(dec!(0)));
    assert!(ledger.is_busy());
    assert!(ledger.abort(id));
    assert_eq!(ledger.available(), Some(dec!(1)));
    assert_eq!(ledger.confirmed(), dec!(0));
    assert!(!ledger.is_busy());
}

#[test]
fn a_change_finishes_exactly_once() {
    let mut ledger = tracked(dec!(3), dec!(0));
    let id = ledger.begin(take(dec!(1))).unwrap();
    assert!(ledger.commit(id));
    assert!(!ledger.commit(id), "twice");
    assert!(!ledger.abort(id), "after a commit");
    assert_eq!(ledger.confirmed(), dec!(1));
    let id = ledger.begin(take(dec!(1))).unwrap();
    assert!(ledger.abort(id));
    assert!(!ledger.abort(id));
    assert!(!ledger.commit(id));
    assert_eq!(ledger.figures().ordered, dec!(1));
}

#[test]
fn given_back_units_return_only_when_the_change_commits() {
    let mut ledger = tracked(dec!(4), dec!(4));
    let id = ledger
        .begin(StockChange::GiveBack {
            quantity: q(dec!(3)),
        })
        .unwrap();
    assert_eq!(ledger.available(), Some(dec!(0)), "not offered twice");
    assert!(ledger.is_busy());
    assert!(ledger.commit(id));
    assert_eq!(ledger.available(), Some(dec!(3)));
    let id = ledger
        .begin(StockChange::GiveBack {
            quantity: q(dec!(1)),
        })
        .unwrap();
    assert!(ledger.abort(id));
    assert_eq!(
        ledger.available(),
        Some(dec!(3)),
        "a failed change gives nothing"
    );
}

#[test]
fn delivery_lowers_real_and_ordered_together() {
    let mut ledger = tracked(dec!(10), dec!(6));
    let id = ledger
        .begin(StockChange::Deliver {
            quantity: level(dec!(6)),
        })
        .unwrap();
    assert_eq!(
        ledger.available(),
        Some(dec!(4)),
        "nothing moves before the commit"
    );
    assert!(ledger.commit(id));
    let figures = ledger.figures();
    assert_eq!((figures.real, figures.ordered), (dec!(4), dec!(0)));
    assert_eq!(ledger.available(), Some(dec!(4)));

    // Real stock never goes below zero; untracked real stock stays.
    let mut short = tracked(dec!(2), dec!(5));
    let id = short
        .begin(StockChange::Deliver {
            quantity: level(dec!(5)),
        })
        .unwrap();
    short.commit(id);
    assert_eq!(
        (short.figures().real, short.confirmed()),
        (dec!(0), dec!(0))
    );
    let mut free: Ledger<u32> = Ledger::new(false, dec!(3), dec!(5));
    let id = free
        .begin(StockChange::Deliver {
            quantity: level(dec!(5)),
        })
        .unwrap();
    free.commit(id);
    assert_eq!((free.figures().real, free.confirmed()), (dec!(3), dec!(0)));
}

#[test]
fn a_hold_is_taken_from_everyone_else() {
    let mut ledger = tracked(dec!(3), dec!(0));
    assert_eq!(ledger.hold(1, q(dec!(2)), true, at(600)), dec!(2));
    assert_eq!(ledger.available(), Some(dec!(1)));
    assert_eq!(ledger.figures().held, dec!(2));
    // Another basket gets only what is left; an order too.
    assert_eq!(ledger.hold(2, q(dec!(5)), true, at(600)), dec!(1));
    assert_eq!(ledger.available(), Some(dec!(0)));
    assert_eq!(
        ledger.begin(take(dec!(1))),
        Err(Shortage { available: dec!(0) })
    );
    // A holder's own hold counts as available to it.
    assert_eq!(ledger.hold(1, q(dec!(3)), true, at(700)), dec!(2));
    assert_eq!(ledger.hold(1, q(dec!(1)), true, at(700)), dec!(1));
    assert_eq!(ledger.available(), Some(dec!(1)));
    assert_eq!(ledger.release_hold(2), dec!(1));
    assert_eq!(ledger.release_hold(2), dec!(0), "released once");
    assert_eq!(ledger.available(), Some(dec!(2)));
}

#[test]
fn holds_are_whole_units_unless_fractional() {
    let mut ledger = tracked(dec!(2.5), dec!(0));
    assert_eq!(ledger.hold(1, q(dec!(3)), true, at(600)), dec!(2));
    assert_eq!(ledger.hold(2, q(dec!(3)), false, at(600)), dec!(0.5));
    assert_eq!(ledger.hold(3, q(dec!(1)), true, at(600)), dec!(0));
    assert_eq!(ledger.held_by(3), dec!(0));
    assert_eq!(ledger.holds().len(), 2, "nothing granted, nothing kept");
}

#[test]
fn expired_holds_are_released_once_in_deadline_order() {
    let mut ledger = tracked(dec!(5), dec!(0));
    ledger.hold(1, q(dec!(1)), true, at(20));
    ledger.hold(2, q(dec!(2)), true, at(10));
    ledger.hold(3, q(dec!(1)), true, at(30));
    assert_eq!(ledger.next_deadline(), Some(at(10)));
    assert_eq!(ledger.expire(at(20)), vec![(2, dec!(2)), (1, dec!(1))]);
    assert_eq!(ledger.expire(at(20)), vec![]);
    assert_eq!(ledger.available(), Some(dec!(4)));
    assert_eq!(
        ledger.release_hold(1),
        dec!(0),
        "expired: nothing to release"
    );
}

#[test]
fn an_order_consumes_its_hold_and_covered_units_are_never_refused() {
    let mut ledger = tracked(dec!(3), dec!(0));
    ledger.hold(1, q(dec!(2)), true, at(600));
    ledger.hold(2, q(dec!(1)), true, at(600));
    assert_eq!(ledger.available(), Some(dec!(0)));
    let id = ledger.begin(take_held(dec!(2), 1)).unwrap();
    assert_eq!(ledger.held_by(1), dec!(0));
    assert_eq!(ledger.available(), Some(dec!(0)), "held became ordered");
    assert!(ledger.commit(id));
    assert_eq!(ledger.confirmed(), dec!(2));
    // Beyond the hold, the rest must be available.
    assert_eq!(
        ledger.begin(take_held(dec!(2), 2)),
        Err(Shortage { available: dec!(1) })
    );
    assert_eq!(ledger.held_by(2), dec!(1), "a refusal keeps the hold");
    let id = ledger.begin(take_held(dec!(1), 2)).unwrap();
    assert!(ledger.abort(id));
    assert_eq!(
        ledger.held_by(2),
        dec!(1),
        "an aborted order gives the hold back"
    );
    assert_eq!(ledger.next_deadline(), Some(at(600)));
}

#[test]
fn part_of_an_order_comes_from_the_hold_and_the_rest_from_stock() {
    let mut ledger = tracked(dec!(5), dec!(0));
    ledger.hold(1, q(dec!(2)), true, at(600));
    let id = ledger.begin(take_held(dec!(4), 1)).unwrap();
    assert_eq!(ledger.available(), Some(dec!(1)));
    assert_eq!(ledger.figures().held, dec!(0));
    assert!(ledger.abort(id));
    assert_eq!(ledger.held_by(1), dec!(2));
    assert_eq!(ledger.available(), Some(dec!(3)));
}

#[test]
fn lowering_real_stock_cuts_the_latest_holds_first() {
    let mut ledger = tracked(dec!(6), dec!(1));
    ledger.hold(1, q(dec!(2)), true, at(100));
    ledger.hold(2, q(dec!(2)), true, at(200));
    let cut = ledger.set_stock(true, level(dec!(4)));
    assert_eq!(cut, vec![(2, dec!(1))]);
    assert_eq!(ledger.available(), Some(dec!(0)));
    // Below what is ordered: no hold survives; available shows the gap.
    let cut = ledger.set_stock(true, level(dec!(0)));
    assert_eq!(cut, vec![(2, dec!(0)), (1, dec!(0))]);
    assert_eq!(ledger.available(), Some(dec!(-1)));
    assert_eq!(ledger.figures().shown_available(), Some(dec!(0)));
    // Untracked: holds stay, nothing is short.
    ledger.set_stock(false, level(dec!(0)));
    assert_eq!(ledger.hold(1, q(dec!(9)), true, at(100)), dec!(9));
    assert_eq!(ledger.available(), None);
}

#[test]
fn busy_while_anything_is_in_flight_or_held() {
    let mut ledger = tracked(dec!(3), dec!(0));
    assert!(!ledger.is_busy());
    ledger.hold(1, q(dec!(1)), true, at(10));
    assert!(ledger.is_busy());
    ledger.expire(at(10));
    assert!(!ledger.is_busy());
    let id = ledger
        .begin(StockChange::GiveBack {
            quantity: q(dec!(1)),
        })
        .unwrap();
    assert_eq!(ledger.pending_count(), 1);
    assert!(ledger.is_busy());
    ledger.abort(id);
    assert!(!ledger.is_busy());
}
