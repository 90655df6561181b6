//! An order as its customer sees it: what placing or changing it answers,
//! what `GET /orders/{id}` shows, and what an `Idempotency-Key` replays.
//! Weighed lines carry their real weight and final total once a producer
//! weighed them after the sale.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OrderLine, OrderStatus, Weighing};
use crate::domain::money::Money;
use crate::domain::quantity::Quantity;

/// An order as the customer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: Uuid,
    pub number: i32,
    pub distribution_id: Uuid,
    pub status: OrderStatus,
    pub lines: Vec<LineView>,
    /// As ordered.
    pub total: Money,
    /// What the customer pays once lines were weighed after the sale (each
    /// line's `final_total`, or its `total`); absent before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_total: Option<Money>,
}

/// One line of an [`OrderView`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineView {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub total: Money,
    /// Real weight, once a producer weighed the line.
    #[serde(
        default,
        with = "crate::domain::decimal::string_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<Decimal>,
    /// The line's total after weighing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_total: Option<Money>,
}

impl LineView {
    /// A line as ordered, with its weighing if any.
    pub fn new(line: &OrderLine, weighing: Option<&Weighing>) -> Self {
        Self {
            id: line.id,
            offer_id: line.offer_id,
            quantity: line.quantity,
            unit_price: line.unit_price,
            total: line.total(),
            weight: weighing.and_then(|w| w.weight),
            final_total: weighing.and_then(|w| w.final_total),
        }
    }
}

impl OrderView {
    /// An order as ordered (nothing weighed yet).
    pub fn new(
        id: Uuid,
        number: i32,
        distribution_id: Uuid,
        status: OrderStatus,
        lines: &[OrderLine],
    ) -> Self {
        Self::after_sale(id, number, distribution_id, status, lines, &HashMap::new())
    }

    /// An order with the weighing of its lines (`weighings`, by line id).
    pub fn after_sale(
        id: Uuid,
        number: i32,
        distribution_id: Uuid,
        status: OrderStatus,
        lines: &[OrderLine],
        weighings: &HashMap<Uuid, Weighing>,
    ) -> Self {
        let lines: Vec<LineView> = lines
            .iter()
            .map(|l| LineView::new(l, weighings.get(&l.id)))
            .collect();
        let final_total = lines
            .iter()
            .any(|l| l.final_total.is_some())
            .then(|| lines.iter().map(|l| l.final_total.unwrap_or(l.total)).sum());
        Self {
            id,
            number,
            distribution_id,
            status,
            total: lines.iter().map(|l| l.total).sum(),
            final_total,
            lines,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::vat::VatRate;
    use rust_decimal_macros::dec;

    fn line(quantity: Decimal, price: Decimal) -> OrderLine {
        OrderLine {
            id: Uuid::new_v4(),
            offer_id: Uuid::new_v4(),
            participation_id: Uuid::new_v4(),
            quantity: Quantity::parse(quantity, "q").unwrap(),
            unit_price: Money::parse(price, "p").unwrap(),
            vat_rate: VatRate::parse(dec!(5.5), "r").unwrap(),
        }
    }

    #[test]
    fn the_final_total_appears_once_a_line_is_weighed() {
        let lines = vec![line(dec!(2), dec!(2.50)), line(dec!(1), dec!(12))];
        let id = Uuid::new_v4();
        let view = OrderView::new(id, 3, id, OrderStatus::Confirmed, &lines);
        assert_eq!(view.total.to_string(), "17.00");
        assert_eq!(view.final_total, None);
        let weighed = HashMap::from([(
            lines[1].id,
            Weighing {
                weight: Some(dec!(1.537)),
                final_total: Some(Money::parse(dec!(18.44), "t").unwrap()),
            },
        )]);
        let view = OrderView::after_sale(id, 3, id, OrderStatus::Confirmed, &lines, &weighed);
        assert_eq!(view.final_total.unwrap().to_string(), "23.44");
        assert_eq!(view.lines[1].weight, Some(dec!(1.537)));
    }
}
