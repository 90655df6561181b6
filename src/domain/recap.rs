//! Recaps of what was ordered ("récapitulatifs", guide chapter 7): the view
//! *by product* (what to prepare: quantities, weights, totals incl. and
//! excl. VAT, VAT per rate) and the view *by customer* (order numbers to
//! label baskets, lines, totals). Built from plain order lines, so one recap
//! can span several catalogs and several markets of the same day. Rendering
//! (CSV, printable HTML, e-mail text) is in [`render`].
//!
//! A line costs its `final_total` once a producer weighed or changed it,
//! else `unit_price × quantity` (rounded half-up to the cent). VAT is split
//! once per rate on the accumulated total ([`VatBreakdown`]), as on an
//! invoice; a product row's excl./VAT split is computed the same way on the
//! row's total, so rows may differ from the per-rate figures by a cent.

pub mod render;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::money::Money;
use super::vat::{price_excl_vat, vat_amount, VatBreakdown, VatLine, VatRate, VatTotals};

/// One order line with everything a recap shows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecapLine {
    pub line_id: Uuid,
    pub order_id: Uuid,
    pub order_number: i32,
    pub distribution_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub catalog_id: Uuid,
    pub offer_id: Uuid,
    pub product_name: String,
    pub label: String,
    /// The quantity the offer's price is for (1 kg, a 10 kg bag…).
    pub offer_quantity: Decimal,
    pub unit: String,
    /// Priced after weighing ("prix variable selon pesée").
    pub variable_price: bool,
    pub quantity: Decimal,
    pub unit_price: Money,
    pub vat_rate: VatRate,
    /// Real weight once weighed.
    pub weight: Option<Decimal>,
    /// Total set by weighing; `None` = `unit_price × quantity`.
    pub final_total: Option<Money>,
}

impl RecapLine {
    /// What the line costs now (VAT included).
    pub fn total(&self) -> Money {
        self.final_total
            .unwrap_or_else(|| Money::from_non_negative(self.unit_price.amount() * self.quantity))
    }

    /// A variable-price line not weighed yet (its total is an estimate).
    pub fn to_weigh(&self) -> bool {
        self.variable_price && self.weight.is_none()
    }
}

/// One row of the view by product: everything ordered of one offer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductRow {
    pub offer_id: Uuid,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub product_name: String,
    pub label: String,
    #[serde(with = "super::decimal::string")]
    pub offer_quantity: Decimal,
    pub unit: String,
    pub vat_rate: VatRate,
    /// Units to prepare.
    #[serde(with = "super::decimal::string")]
    pub quantity: Decimal,
    /// Sum of the real weights of the weighed lines (`null` if none).
    #[serde(with = "super::decimal::string_option")]
    pub weight: Option<Decimal>,
    /// Variable-price lines still to weigh.
    pub lines_to_weigh: usize,
    pub total_incl: Money,
    pub total_excl: Money,
    pub vat: Money,
}

/// One line of an order in the view by customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRowLine {
    pub line_id: Uuid,
    pub offer_id: Uuid,
    pub producer_id: Uuid,
    pub product_name: String,
    pub label: String,
    #[serde(with = "super::decimal::string")]
    pub quantity: Decimal,
    pub unit: String,
    #[serde(with = "super::decimal::string_option")]
    pub weight: Option<Decimal>,
    pub unit_price: Money,
    pub total: Money,
    pub to_weigh: bool,
}

/// One order in the view by customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    pub order_id: Uuid,
    /// The basket label ("numéro de commande"), unique per distribution.
    pub number: i32,
    pub distribution_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub lines: Vec<OrderRowLine>,
    pub total: Money,
}

/// Both views of a set of lines, with the VAT recap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recap {
    pub products: Vec<ProductRow>,
    pub orders: Vec<OrderRow>,
    pub vat: Vec<VatLine>,
    pub totals: VatTotals,
}

impl Recap {
    /// Builds the views. Orders keep the order of `lines` (the store sorts
    /// them by distribution then order number); products are sorted by
    /// producer, product and offer.
    pub fn build(lines: &[RecapLine]) -> Recap {
        let mut vat = VatBreakdown::new();
        let mut products: BTreeMap<(String, String, String, Uuid, VatRate), ProductRow> =
            BTreeMap::new();
        let mut orders: Vec<OrderRow> = Vec::new();
        for line in lines {
            let total = line.total();
            vat.add(line.vat_rate, total);
            let key = (
                line.producer_name.clone(),
                line.product_name.clone(),
                line.label.clone(),
                line.offer_id,
                line.vat_rate,
            );
            let row = products.entry(key).or_insert_with(|| ProductRow {
                offer_id: line.offer_id,
                producer_id: line.producer_id,
                producer_name: line.producer_name.clone(),
                product_name: line.product_name.clone(),
                label: line.label.clone(),
                offer_quantity: line.offer_quantity.normalize(),
                unit: line.unit.clone(),
                vat_rate: line.vat_rate,
                quantity: Decimal::ZERO,
                weight: None,
                lines_to_weigh: 0,
                total_incl: Money::ZERO,
                total_excl: Money::ZERO,
                vat: Money::ZERO,
            });
            row.quantity = (row.quantity + line.quantity).normalize();
            if let Some(weight) = line.weight {
                row.weight = Some((row.weight.unwrap_or_default() + weight).normalize());
            }
            if line.to_weigh() {
                row.lines_to_weigh += 1;
            }
            row.total_incl = row.total_incl + total;

            let order_line = OrderRowLine {
                line_id: line.line_id,
                offer_id: line.offer_id,
                producer_id: line.producer_id,
                product_name: line.product_name.clone(),
                label: line.label.clone(),
                quantity: line.quantity.normalize(),
                unit: line.unit.clone(),
                weight: line.weight.map(|w| w.normalize()),
                unit_price: line.unit_price,
                total,
                to_weigh: line.to_weigh(),
            };
            match orders.iter_mut().find(|o| o.order_id == line.order_id) {
                Some(order) => {
                    order.total = order.total + total;
                    order.lines.push(order_line);
                }
                None => orders.push(OrderRow {
                    order_id: line.order_id,
                    number: line.order_number,
                    distribution_id: line.distribution_id,
                    customer_id: line.customer_id,
                    customer_name: line.customer_name.clone(),
                    lines: vec![order_line],
                    total,
                }),
            }
        }
        let products = products
            .into_values()
            .map(|mut row| {
                row.total_excl = price_excl_vat(row.total_incl, row.vat_rate);
                row.vat = vat_amount(row.total_incl, row.vat_rate);
                row
            })
            .collect();
        Recap {
            products,
            orders,
            vat: vat.lines(),
            totals: vat.totals(),
        }
    }

    /// Whether nothing was ordered.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    pub(crate) fn line(
        number: i32,
        customer: &str,
        product: &str,
        quantity: Decimal,
        price: Decimal,
        rate: Decimal,
    ) -> RecapLine {
        let id = |s: &str| {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(s.as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            Uuid::from_bytes(bytes)
        };
        RecapLine {
            line_id: Uuid::new_v4(),
            order_id: id(&format!("order{number}")),
            order_number: number,
            distribution_id: id("d"),
            customer_id: id(customer),
            customer_name: customer.to_owned(),
            producer_id: id("p"),
            producer_name: "Ferme des Tilleuls".into(),
            catalog_id: id("c"),
            offer_id: id(product),
            product_name: product.to_owned(),
            label: "1 kg".into(),
            offer_quantity: dec!(1),
            unit: "kg".into(),
            variable_price: false,
            quantity,
            unit_price: Money::parse(price, "p").unwrap(),
            vat_rate: VatRate::parse(rate, "r").unwrap(),
            weight: None,
            final_total: None,
        }
    }

    /// The example worked by hand in the module's API tests too: two VAT
    /// rates, a catalog price (3.60 instead of 4.00) and weighed lines.
    pub(crate) fn example() -> Vec<RecapLine> {
        let mut chicken = line(1, "Alice", "Poulet", dec!(1), dec!(12.00), dec!(5.5));
        chicken.variable_price = true;
        chicken.weight = Some(dec!(1.537));
        chicken.final_total = Some(Money::parse(dec!(18.44), "t").unwrap());
        let mut roast = line(2, "Bob", "Rôti", dec!(1), dec!(20.00), dec!(5.5));
        roast.variable_price = true;
        let mut roast_weighed = roast.clone();
        roast_weighed.line_id = Uuid::new_v4();
        roast_weighed.weight = Some(dec!(1.25));
        roast_weighed.final_total = Some(Money::parse(dec!(25.00), "t").unwrap());
        vec![
            line(1, "Alice", "Pommes", dec!(3), dec!(2.50), dec!(5.5)),
            line(1, "Alice", "Jus", dec!(2), dec!(3.60), dec!(20)),
            chicken,
            line(2, "Bob", "Pommes", dec!(1), dec!(2.50), dec!(5.5)),
            roast,
            roast_weighed,
        ]
    }

    fn s(m: Money) -> String {
        m.to_string()
    }

    #[test]
    fn by_product_with_several_rates_an_override_and_weighing() {
        let recap = Recap::build(&example());
        let names: Vec<&str> = recap
            .products
            .iter()
            .map(|p| p.product_name.as_str())
            .collect();
        assert_eq!(names, ["Jus", "Pommes", "Poulet", "Rôti"]);
        let juice = &recap.products[0];
        assert_eq!(juice.quantity, dec!(2));
        assert_eq!(
            (s(juice.total_incl), s(juice.total_excl)),
            ("7.20".into(), "6.00".into())
        );
        assert_eq!(s(juice.vat), "1.20");
        let apples = &recap.products[1];
        assert_eq!(apples.quantity, dec!(4));
        assert_eq!(s(apples.total_incl), "10.00");
        assert_eq!(s(apples.total_excl), "9.48");
        let chicken = &recap.products[2];
        assert_eq!(
            (chicken.weight, chicken.lines_to_weigh),
            (Some(dec!(1.537)), 0)
        );
        assert_eq!(s(chicken.total_incl), "18.44");
        let roast = &recap.products[3];
        assert_eq!((roast.quantity, roast.weight), (dec!(2), Some(dec!(1.25))));
        assert_eq!(roast.lines_to_weigh, 1);
        // 20.00 estimated for the piece still to weigh + 25.00 weighed.
        assert_eq!(s(roast.total_incl), "45.00");
    }

    #[test]
    fn vat_per_rate_and_totals() {
        let recap = Recap::build(&example());
        // 5.5 %: 10.00 + 18.44 + 45.00 = 73.44 → excl 69.61, VAT 3.83.
        // 20 %: 7.20 → excl 6.00, VAT 1.20.
        let rows: Vec<(String, String, String, String)> = recap
            .vat
            .iter()
            .map(|v| (v.rate.to_string(), s(v.incl), s(v.excl), s(v.vat)))
            .collect();
        assert_eq!(
            rows,
            [
                ("5.5".into(), "73.44".into(), "69.61".into(), "3.83".into()),
                ("20".into(), "7.20".into(), "6.00".into(), "1.20".into())
            ]
        );
        assert_eq!(s(recap.totals.incl), "80.64");
        assert_eq!(s(recap.totals.excl), "75.61");
        assert_eq!(s(recap.totals.vat), "5.03");
    }

    #[test]
    fn by_customer_keeps_order_numbers_and_totals() {
        let recap = Recap::build(&example());
        assert_eq!(recap.orders.len(), 2);
        let alice = &recap.orders[0];
        assert_eq!((alice.number, alice.customer_name.as_str()), (1, "Alice"));
        assert_eq!(alice.lines.len(), 3);
        // 7.50 + 7.20 + 18.44
        assert_eq!(s(alice.total), "33.14");
        let bob = &recap.orders[1];
        assert_eq!(bob.number, 2);
        // 2.50 + 20.00 (estimate) + 25.00
        assert_eq!(s(bob.total), "47.50");
        assert!(bob.lines[1].to_weigh && !bob.lines[2].to_weigh);
        assert!(Recap::build(&[]).is_empty());
    }

    #[test]
    fn line_totals_round_half_up() {
        let l = line(1, "A", "Vrac", dec!(1.235), dec!(2.00), dec!(5.5));
        assert_eq!(s(l.total()), "2.47");
    }
}
