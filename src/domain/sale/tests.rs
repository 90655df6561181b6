//! The sale's rules, tested without actors or a database.

#![allow(clippy::unwrap_used)]

use chrono::Duration;
use rust_decimal_macros::dec;

use super::*;
use crate::domain::money::Money;
use crate::domain::quantity::Quantity;
use crate::domain::vat::VatRate;

/// The opening instant of the test sale.
pub(super) fn opens() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000)
}

pub(super) fn open_now() -> DateTime<Utc> {
    opens() + Duration::minutes(5)
}

pub(super) fn q(value: Decimal) -> Quantity {
    Quantity::parse(value, "q").unwrap()
}

pub(super) struct Fixture {
    pub sale: Sale,
    /// Whole units at 2.50.
    pub apples: Uuid,
    /// Sold by weight at 3.00 per kg.
    pub potatoes: Uuid,
    /// One line per piece at 12.00.
    pub chicken: Uuid,
    pub participation: Uuid,
}

fn offer(
    participation: Uuid,
    label: &str,
    price: Decimal,
    fractional: bool,
    multi: bool,
) -> SaleOffer {
    SaleOffer {
        participation_id: participation,
        offer_id: Uuid::new_v4(),
        product: SaleProduct {
            id: Uuid::new_v4(),
            name: label.to_owned(),
            unit: "piece".into(),
            variable_price: multi,
            multi_weight: multi,
            fractional,
        },
        label: label.to_owned(),
        quantity: Quantity::ONE,
        unit: "piece".into(),
        price: Money::parse(price, "price").unwrap(),
        vat_rate: VatRate::parse(dec!(5.5), "vat").unwrap(),
        position: 0,
    }
}

pub(super) fn fixture() -> Fixture {
    let participation = Uuid::new_v4();
    let offers = vec![
        offer(participation, "Pommes", dec!(2.50), false, false),
        offer(participation, "Pommes de terre", dec!(3.00), true, false),
        offer(participation, "Poulet", dec!(12.00), false, true),
    ];
    let (apples, potatoes, chicken) = (offers[0].offer_id, offers[1].offer_id, offers[2].offer_id);
    let sale = Sale::new(
        SaleDistribution {
            id: Uuid::new_v4(),
            market_id: Uuid::new_v4(),
            starts_at: opens() + Duration::days(2),
            ends_at: opens() + Duration::days(2) + Duration::hours(3),
            cancelled_at: None,
            validated_at: None,
        },
        vec![SaleParticipation {
            id: participation,
            catalog_id: Uuid::new_v4(),
            catalog_name: "Catalogue".into(),
            producer_id: Uuid::new_v4(),
            producer_name: "Ferme".into(),
            opens_at: opens(),
            closes_at: opens() + Duration::days(1),
            snapshot_taken_at: Some(opens()),
        }],
        offers,
        Vec::new(),
        0,
    );
    Fixture {
        sale,
        apples,
        potatoes,
        chicken,
        participation,
    }
}

pub(super) fn lines(asked: &[(Uuid, Decimal)]) -> Vec<RequestedLine> {
    asked
        .iter()
        .map(|(offer_id, quantity)| RequestedLine {
            offer_id: *offer_id,
            quantity: *quantity,
        })
        .collect()
}

/// Prepares, confirms and commits a change; returns the committed plan.
fn commit(sale: &mut Sale, customer: Uuid, change: OrderChange) -> Plan {
    sale.prepare(customer, "Léa", change, open_now()).unwrap();
    let plan = sale.confirm(customer, open_now()).unwrap();
    sale.finish(customer, true);
    plan
}

#[test]
fn a_new_order_takes_what_it_orders_and_is_numbered_at_confirmation() {
    let mut f = fixture();
    let customer = Uuid::new_v4();
    let asked = lines(&[(f.apples, dec!(2)), (f.potatoes, dec!(1.5))]);
    let plan = f
        .sale
        .prepare(customer, "Léa", OrderChange::Add(asked), open_now())
        .unwrap();
    assert_eq!(plan.kind, OrderChangeKind::Create);
    assert_eq!(plan.number, None);
    let mut expected = vec![(f.apples, q(dec!(2))), (f.potatoes, q(dec!(1.5)))];
    expected.sort();
    assert_eq!(plan.take, expected, "in offer order");
    assert!(plan.give_back.is_empty());
    assert_eq!(plan.participations, vec![f.participation]);
    assert_eq!(plan.lines[0].unit_price.to_string(), "2.50");
    let confirmed = f.sale.confirm(customer, open_now()).unwrap();
    assert_eq!(confirmed.number, Some(1));
    f.sale.finish(customer, true);
    assert_eq!(f.sale.orders[&customer].number, 1);
    let other = commit(
        &mut f.sale,
        Uuid::new_v4(),
        OrderChange::Add(lines(&[(f.apples, dec!(1))])),
    );
    assert_eq!(other.number, Some(2));
}

#[test]
fn adding_grows_the_line_and_takes_only_the_difference() {
    let mut f = fixture();
    let customer = Uuid::new_v4();
    commit(
        &mut f.sale,
        customer,
        OrderChange::Add(lines(&[(f.apples, dec!(2))])),
    );
    let plan = commit(
        &mut f.sale,
        customer,
        OrderChange::Add(lines(&[(f.apples, dec!(1))])),
    );
    assert_eq!(plan.kind, OrderChangeKind::Replace);
    assert_eq!(plan.number, Some(1), "same order, same number");
    assert_eq!(plan.lines.len(), 1);
    assert_eq!(plan.lines[0].quantity, q(dec!(3)));
    assert_eq!(plan.take, vec![(f.apples, q(dec!(1)))]);
    assert_eq!(plan.line_changes.written.len(), 1);
    assert!(plan.line_changes.removed.is_empty());
}

#[test]
fn replacing_gives_back_what_shrinks_and_keeps_the_price_ordered_at() {
    let mut f = fixture();
    let customer = Uuid::new_v4();
    commit(
        &mut f.sale,
        customer,
        OrderChange::Add(lines(&[(f.apples, dec!(4))])),
    );
    // The price changed since (a forced sync): the line keeps its own.
    for offer in f.sale.offers.values_mut().flatten() {
        offer.price = Money::parse(dec!(9.99), "price").unwrap();
    }
    let plan = commit(
        &mut f.sale,
        customer,
        OrderChange::Replace(lines(&[(f.apples, dec!(1)), (f.potatoes, dec!(0.5))])),
    );
    assert_eq!(plan.give_back, vec![(f.apples, q(dec!(3)))]);
    assert_eq!(plan.take, vec![(f.potatoes, q(dec!(0.5)))]);
    let apples = plan.lines.iter().find(|l| l.offer_id == f.apples).unwrap();
    assert_eq!(apples.unit_price.to_string(), "2.50");
    let potatoes = plan
        .lines
        .iter()
        .find(|l| l.offer_id == f.potatoes)
        .unwrap();
    assert_eq!(
        potatoes.unit_price.to_string(),
        "9.99",
        "new lines take today's price"
    );
    let refused = f
        .sale
        .prepare(
            customer,
            "Léa",
            OrderChange::Replace(Vec::new()),
            open_now(),
        )
        .unwrap_err();
    assert!(matches!(refused, SaleRefusal::InvalidLines(_)));
}

#[test]
fn cancelling_gives_everything_back_and_needs_an_order() {
    let mut f = fixture();
    let customer = Uuid::new_v4();
    assert_eq!(
        f.sale
            .prepare(customer, "Léa", OrderChange::Cancel, open_now())
            .unwrap_err(),
        SaleRefusal::NoOrder
    );
    commit(
        &mut f.sale,
        customer,
        OrderChange::Add(lines(&[(f.apples, dec!(2))])),
    );
    let plan = commit(&mut f.sale, customer, OrderChange::Cancel);
    assert_eq!(plan.kind, OrderChangeKind::Cancel);
    assert_eq!(plan.give_back, vec![(f.apples, q(dec!(2)))]);
    assert_eq!(
        plan.line_changes,
        LineChanges::default(),
        "lines stay, for history"
    );
    assert!(!f.sale.orders.contains_key(&customer));
}

#[test]
fn one_change_per_customer_at_a_time_and_a_failed_one_is_forgotten() {
    let mut f = fixture();
    let customer = Uuid::new_v4();
    let asked = || OrderChange::Add(lines(&[(f.apples, dec!(1))]));
    f.sale
        .prepare(customer, "Léa", asked(), open_now())
        .unwrap();
    assert_eq!(
        f.sale
            .prepare(customer, "Léa", asked(), open_now())
            .unwrap_err(),
        SaleRefusal::Busy
    );
    f.sale.finish(customer, false);
    assert!(f.sale.orders.is_empty(), "nothing applied");
    assert!(f.sale.in_flight.is_empty());
    f.sale
        .prepare(customer, "Léa", asked(), open_now())
        .unwrap();
}

#[test]
fn quantities_follow_the_product() {
    let mut f = fixture();
    let customer = Uuid::new_v4();
    let refused = f
        .sale
        .prepare(
            customer,
            "Léa",
            OrderChange::Add(lines(&[(f.potatoes, dec!(0.25)), (f.apples, dec!(1.5))])),
            open_now(),
        )
        .unwrap_err();
    let SaleRefusal::InvalidLines(errors) = refused else {
        panic!("expected invalid lines");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "lines[1].quantity");
    assert_eq!(errors[0].reason, "must be a whole number of units");

    // Each piece weighed on its own is its own line.
    let plan = commit(
        &mut f.sale,
        customer,
        OrderChange::Add(lines(&[(f.chicken, dec!(3))])),
    );
    assert_eq!(plan.lines.len(), 3);
    assert!(plan.lines.iter().all(|l| l.quantity == Quantity::ONE));
    assert_eq!(plan.take, vec![(f.chicken, q(dec!(3)))]);
    let too_many = f
        .sale
        .prepare(
            Uuid::new_v4(),
            "Hugo",
            OrderChange::Add(lines(&[(f.chicken, dec!(101))])),
            open_now(),
        )
        .unwrap_err();
    assert!(matches!(too_many, SaleRefusal::InvalidLines(_)));
}

#[test]
fn an_offer_not_on_sale_is_named_by_its_index() {
    let mut f = fixture();
    let refused = f
        .sale
        .prepare(
            Uuid::new_v4(),
            "Léa",
            OrderChange::Add(lines(&[(f.apples, dec!(1)), (Uuid::new_v4(), dec!(1))])),
            open_now(),
        )
        .unwrap_err();
    let SaleRefusal::InvalidLines(errors) = refused else {
        panic!("expected invalid lines");
    };
    assert_eq!(errors[0].field, "lines[1].offer_id");
}

#[test]
fn orders_are_taken_only_inside_the_window() {
    let mut f = fixture();
    let asked = || OrderChange::Add(lines(&[(f.apples, dec!(1))]));
    let before = f
        .sale
        .prepare(
            Uuid::new_v4(),
            "Léa",
            asked(),
            opens() - Duration::seconds(1),
        )
        .unwrap_err();
    assert_eq!(
        before,
        SaleRefusal::SaleNotOpen {
            offer_id: f.apples,
            opens_at: opens()
        }
    );
    let closes = opens() + Duration::days(1);
    assert!(matches!(
        f.sale
            .prepare(Uuid::new_v4(), "Léa", asked(), closes)
            .unwrap_err(),
        SaleRefusal::SaleClosed { .. }
    ));
    // Prepared just before closing, confirmed at the closing instant: refused.
    let customer = Uuid::new_v4();
    f.sale
        .prepare(customer, "Léa", asked(), closes - Duration::seconds(1))
        .unwrap();
    assert!(matches!(
        f.sale.confirm(customer, closes).unwrap_err(),
        SaleRefusal::SaleClosed { .. }
    ));
    assert!(
        f.sale.in_flight.is_empty(),
        "a refused confirmation forgets the change"
    );
}

#[test]
fn a_cancelled_distribution_takes_no_order() {
    let mut f = fixture();
    f.sale.distribution.cancelled_at = Some(opens());
    assert_eq!(
        f.sale
            .prepare(
                Uuid::new_v4(),
                "Léa",
                OrderChange::Add(lines(&[(f.apples, dec!(1))])),
                open_now()
            )
            .unwrap_err(),
        SaleRefusal::DistributionCancelled
    );
    let participation = f.sale.participations[0].clone();
    assert_eq!(
        f.sale.status(&participation, open_now()),
        SaleStatus::Closed
    );
}

#[test]
fn prices_freeze_when_a_sale_opens() {
    let mut f = fixture();
    f.sale.participations[0].snapshot_taken_at = None;
    assert_eq!(
        f.sale.needs_freeze(opens() - Duration::seconds(1)),
        Vec::<Uuid>::new()
    );
    assert_eq!(f.sale.needs_freeze(opens()), vec![f.participation]);
}

#[test]
fn a_producer_removes_one_line_during_the_sale_and_the_last_one_cancels() {
    let mut f = fixture();
    let lea = Uuid::new_v4();
    let asked = lines(&[(f.apples, dec!(2)), (f.chicken, dec!(2))]);
    commit(&mut f.sale, lea, OrderChange::Add(asked));
    let order = f.sale.orders[&lea].clone();
    let chicken_piece = order
        .lines
        .iter()
        .find(|l| l.offer_id == f.chicken)
        .map(|l| l.id)
        .unwrap();
    // One chicken piece goes: the rest stays, one piece is given back.
    let plan = commit(&mut f.sale, lea, OrderChange::RemoveLine(chicken_piece));
    assert_eq!(plan.kind, OrderChangeKind::Replace);
    assert_eq!(plan.give_back, vec![(f.chicken, q(dec!(1)))]);
    assert!(plan.take.is_empty());
    assert_eq!(plan.line_changes.removed, vec![chicken_piece]);
    let kept = &f.sale.orders[&lea];
    assert_eq!(kept.lines.len(), 2);
    assert_eq!(kept.number, order.number);
    assert_eq!(
        kept.customer_name, order.customer_name,
        "the order keeps its customer's name"
    );
    // A line that is not in the order is refused.
    let refused = f
        .sale
        .prepare(lea, "", OrderChange::RemoveLine(Uuid::new_v4()), open_now())
        .unwrap_err();
    assert!(matches!(refused, SaleRefusal::InvalidLines(_)));
    // The last lines go one by one; the last one cancels the order.
    let ids: Vec<Uuid> = f.sale.orders[&lea].lines.iter().map(|l| l.id).collect();
    commit(&mut f.sale, lea, OrderChange::RemoveLine(ids[0]));
    let last = commit(&mut f.sale, lea, OrderChange::RemoveLine(ids[1]));
    assert_eq!(last.kind, OrderChangeKind::Cancel);
    assert!(!f.sale.orders.contains_key(&lea));
}

#[test]
fn a_removal_is_refused_once_its_sale_closed() {
    let mut f = fixture();
    let lea = Uuid::new_v4();
    commit(
        &mut f.sale,
        lea,
        OrderChange::Add(lines(&[(f.apples, dec!(2)), (f.potatoes, dec!(1))])),
    );
    let line = f.sale.orders[&lea].lines[0].id;
    let after = opens() + Duration::days(1) + Duration::minutes(1);
    let refused = f
        .sale
        .prepare(lea, "", OrderChange::RemoveLine(line), after)
        .unwrap_err();
    assert!(
        matches!(refused, SaleRefusal::SaleClosed { .. }),
        "{refused:?}"
    );
    // Prepared while open, confirmed after the close: refused too.
    f.sale
        .prepare(lea, "", OrderChange::RemoveLine(line), open_now())
        .unwrap();
    let late = f.sale.confirm(lea, after).unwrap_err();
    assert!(matches!(late, SaleRefusal::SaleClosed { .. }), "{late:?}");
    assert_eq!(f.sale.orders[&lea].lines.len(), 2);
}

mod carts;
