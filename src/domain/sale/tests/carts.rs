//! Baskets in a sale: checked like orders, one change at a time per
//! customer, consumed by orders, swept when they run out or their sale
//! closes.

use chrono::Duration;
use rust_decimal_macros::dec;

use super::{fixture, lines, open_now, opens, q};
use crate::domain::sale::{OrderChange, SaleRefusal};

fn hold_for() -> Duration {
    Duration::minutes(10)
}

#[test]
fn a_basket_is_checked_like_an_order_and_held_for_a_while() {
    let mut f = fixture();
    let customer = uuid::Uuid::new_v4();
    let asked = lines(&[
        (f.apples, dec!(1)),
        (f.potatoes, dec!(0.5)),
        (f.apples, dec!(2)),
    ]);
    let plan = f
        .sale
        .prepare_cart(customer, &asked, open_now(), hold_for())
        .unwrap();
    assert_eq!(plan.lines.len(), 2, "repeated offers merged");
    assert_eq!(plan.lines[0].offer_id, f.apples);
    assert_eq!(plan.lines[0].quantity, q(dec!(3)));
    assert!(plan.lines[0].whole_units);
    assert!(!plan.lines[1].whole_units, "potatoes are sold by weight");
    assert_eq!(plan.expires_at, open_now() + hold_for());
    assert!(plan.released.is_empty());
    f.sale.cart_held(customer, plan);
    assert_eq!(f.sale.cart(customer, open_now()).unwrap().lines.len(), 2);

    // A new basket drops what it no longer lists.
    let plan = f
        .sale
        .prepare_cart(
            customer,
            &lines(&[(f.chicken, dec!(1))]),
            open_now(),
            hold_for(),
        )
        .unwrap();
    let mut released = plan.released.clone();
    released.sort();
    let mut expected = vec![f.apples, f.potatoes];
    expected.sort();
    assert_eq!(released, expected);
}

#[test]
fn a_bad_basket_is_refused_naming_each_line() {
    let mut f = fixture();
    let customer = uuid::Uuid::new_v4();
    let asked = lines(&[
        (f.apples, dec!(1.5)),
        (uuid::Uuid::new_v4(), dec!(1)),
        (f.potatoes, dec!(0)),
    ]);
    let SaleRefusal::InvalidLines(errors) = f
        .sale
        .prepare_cart(customer, &asked, open_now(), hold_for())
        .unwrap_err()
    else {
        panic!("expected invalid lines");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "lines[0].quantity",
            "lines[1].offer_id",
            "lines[2].quantity"
        ]
    );
    assert!(!f.sale.is_changing(customer), "a refusal starts nothing");
    let early = f
        .sale
        .prepare_cart(
            customer,
            &lines(&[(f.apples, dec!(1))]),
            opens() - Duration::seconds(1),
            hold_for(),
        )
        .unwrap_err();
    assert!(matches!(early, SaleRefusal::SaleNotOpen { .. }));
}

#[test]
fn a_customer_changes_their_order_or_their_basket_at_a_time() {
    let mut f = fixture();
    let customer = uuid::Uuid::new_v4();
    let basket = lines(&[(f.apples, dec!(1))]);
    let plan = f
        .sale
        .prepare_cart(customer, &basket, open_now(), hold_for())
        .unwrap();
    let order = OrderChange::Add(lines(&[(f.apples, dec!(1))]));
    assert_eq!(
        f.sale
            .prepare(customer, "Léa", order.clone(), open_now())
            .unwrap_err(),
        SaleRefusal::Busy
    );
    assert_eq!(f.sale.drop_cart(customer).unwrap_err(), SaleRefusal::Busy);
    f.sale.cart_held(customer, plan);
    f.sale.prepare(customer, "Léa", order, open_now()).unwrap();
    assert_eq!(
        f.sale
            .prepare_cart(customer, &basket, open_now(), hold_for())
            .unwrap_err(),
        SaleRefusal::Busy
    );
}

#[test]
fn an_order_consumes_the_basket_and_a_failed_one_leaves_it() {
    let mut f = fixture();
    let customer = uuid::Uuid::new_v4();
    let plan = f
        .sale
        .prepare_cart(
            customer,
            &lines(&[(f.apples, dec!(3)), (f.potatoes, dec!(1))]),
            open_now(),
            hold_for(),
        )
        .unwrap();
    f.sale.cart_held(customer, plan);
    let order = || OrderChange::Add(lines(&[(f.apples, dec!(2)), (f.potatoes, dec!(1))]));
    f.sale
        .prepare(customer, "Léa", order(), open_now())
        .unwrap();
    f.sale.finish(customer, false);
    assert_eq!(f.sale.cart(customer, open_now()).unwrap().lines.len(), 2);

    f.sale
        .prepare(customer, "Léa", order(), open_now())
        .unwrap();
    f.sale.confirm(customer, open_now()).unwrap();
    f.sale.finish(customer, true);
    let cart = f.sale.cart(customer, open_now()).unwrap();
    assert_eq!(cart.lines.len(), 1);
    assert_eq!(
        (cart.lines[0].offer_id, cart.lines[0].quantity),
        (f.apples, q(dec!(1)))
    );
}

#[test]
fn baskets_run_out_and_leave_closed_sales() {
    let mut f = fixture();
    let (early, late) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    for (customer, at) in [
        (early, open_now()),
        (late, open_now() + Duration::minutes(5)),
    ] {
        let plan = f
            .sale
            .prepare_cart(customer, &lines(&[(f.apples, dec!(1))]), at, hold_for())
            .unwrap();
        f.sale.cart_held(customer, plan);
    }
    let after_first = open_now() + hold_for();
    assert!(f.sale.cart(early, after_first).is_none(), "ran out");
    assert!(f.sale.cart(late, after_first).is_some());
    assert!(f.sale.sweep_carts(after_first).is_empty());
    assert!(!f.sale.carts.contains_key(&early), "forgotten");

    // The sale closes: the basket's lines leave it, to be released.
    f.sale.participations[0].closes_at = after_first + Duration::seconds(1);
    let swept = f.sale.sweep_carts(after_first + Duration::seconds(1));
    assert_eq!(swept, vec![(late, vec![f.apples])]);
    assert!(f.sale.carts.is_empty());
    assert_eq!(f.sale.drop_cart(late).unwrap(), None);
}
