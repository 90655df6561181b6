//! What an order line costs: fixed-price lines and weighed lines.
//!
//! Prices are VAT included and frozen on the line at order time. A line of a
//! fixed-price product costs `unit_price × quantity`. A product with a
//! variable price ("prix variable selon pesée") is re-priced after weighing
//! from the offer's price per offered quantity: a 12.00 € offer of 1 kg
//! weighed at 1.537 kg costs `12.00 × 1.537 ÷ 1 = 18.44`. Both round half-up
//! to the cent, once, on the line.

use rust_decimal::Decimal;

use super::money::Money;
use super::quantity::Quantity;

/// `unit_price × quantity`, rounded half-up to the cent.
pub fn line_total(unit_price: Money, quantity: Quantity) -> Money {
    Money::from_non_negative(unit_price.amount() * quantity.value())
}

/// Price of a weighed item: `offer_price × real_weight ÷ offer_quantity`,
/// rounded half-up to the cent. `offer_quantity` is the quantity the offer's
/// price is for (1 kg, 500 g…), in the same unit as `real_weight`.
pub fn weighed_total(offer_price: Money, offer_quantity: Quantity, real_weight: Quantity) -> Money {
    let weight: Decimal = real_weight.value();
    Money::from_non_negative(offer_price.amount() * weight / offer_quantity.value())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn money(v: Decimal) -> Money {
        Money::parse(v, "price").unwrap()
    }

    fn qty(v: Decimal) -> Quantity {
        Quantity::parse(v, "quantity").unwrap()
    }

    #[test]
    fn weighed_chicken() {
        let total = weighed_total(money(dec!(12.00)), qty(dec!(1)), qty(dec!(1.537)));
        assert_eq!(total.to_string(), "18.44");
    }

    #[test]
    fn weighed_per_other_quantities() {
        // 4.50 € for 500 g, weighed 0.750 → 6.75.
        assert_eq!(
            weighed_total(money(dec!(4.50)), qty(dec!(0.5)), qty(dec!(0.75))).to_string(),
            "6.75"
        );
        // 20 € for a 10 kg bag weighing 10.003 kg → 20.006 → 20.01.
        assert_eq!(
            weighed_total(money(dec!(20)), qty(dec!(10)), qty(dec!(10.003))).to_string(),
            "20.01"
        );
        // 3.00 € per 1 kg at 0.005 kg → 0.015 → 0.02 (half-up).
        assert_eq!(
            weighed_total(money(dec!(3)), qty(dec!(1)), qty(dec!(0.005))).to_string(),
            "0.02"
        );
        // 10.00 € per 3 kg at 1 kg → 3.333… → 3.33.
        assert_eq!(
            weighed_total(money(dec!(10)), qty(dec!(3)), qty(dec!(1))).to_string(),
            "3.33"
        );
    }

    #[test]
    fn line_totals() {
        assert_eq!(
            line_total(money(dec!(2.50)), qty(dec!(3))).to_string(),
            "7.50"
        );
        assert_eq!(
            line_total(money(dec!(2.50)), qty(dec!(1.25))).to_string(),
            "3.13"
        );
        assert_eq!(
            line_total(money(dec!(0.99)), qty(dec!(1.5))).to_string(),
            "1.49"
        );
        assert_eq!(line_total(Money::ZERO, qty(dec!(4))), Money::ZERO);
        // The largest values cannot overflow.
        let big = line_total(money(Money::MAX), qty(Quantity::MAX));
        assert_eq!(big.amount(), Money::MAX * Quantity::MAX);
    }
}
