//! Quantities ordered or offered, and stock levels.
//!
//! A quantity is positive, has at most three decimals (grams of a kilo) and
//! at most [`Quantity::MAX`]. Customers order whole units unless the product
//! is sold by weight (`variable_price`, bulk), which [`Quantity::parse_for`]
//! enforces. A stock level is what a producer has (≥ 0); what is available
//! of it is the stock ledger's ([`crate::domain::stock`]).

use std::fmt;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decimal::{check_scale, deserialize_any, parse_decimal};
use super::error::FieldError;

/// Most decimals a quantity or stock level may carry.
pub const QUANTITY_SCALE: u32 = 3;

/// A positive quantity, normalized (`1.500` is held as `1.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(Decimal);

impl Quantity {
    /// Largest quantity accepted in one line or offer.
    pub const MAX: Decimal = dec!(1_000_000);

    /// One unit.
    pub const ONE: Quantity = Quantity(Decimal::ONE);

    /// Validates a quantity that may be fractional: `0 < q ≤ MAX`, ≤ 3 decimals.
    pub fn parse(value: Decimal, field: &str) -> Result<Quantity, FieldError> {
        if value <= Decimal::ZERO {
            return Err(FieldError::new(field, "must be greater than 0"));
        }
        if value > Self::MAX {
            return Err(FieldError::new(
                field,
                format!("must be at most {}", Self::MAX),
            ));
        }
        Ok(Quantity(check_scale(value, QUANTITY_SCALE, field)?))
    }

    /// Validates an ordered quantity: whole units unless the product allows
    /// fractional quantities (sold by weight).
    pub fn parse_for(
        value: Decimal,
        fractional_allowed: bool,
        field: &str,
    ) -> Result<Quantity, FieldError> {
        let quantity = Quantity::parse(value, field)?;
        if !fractional_allowed && !quantity.is_whole() {
            return Err(FieldError::new(field, "must be a whole number of units"));
        }
        Ok(quantity)
    }

    /// Parses decimal text such as `"1.5"`.
    pub fn parse_str(value: &str, field: &str) -> Result<Quantity, FieldError> {
        Quantity::parse(parse_decimal(value, field)?, field)
    }

    /// The quantity as a decimal.
    pub fn value(self) -> Decimal {
        self.0
    }

    /// Whether the quantity is a whole number.
    pub fn is_whole(self) -> bool {
        self.0.fract().is_zero()
    }

    /// `self + other`, or `None` beyond [`Quantity::MAX`].
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        let sum = self.0 + other.0;
        (sum <= Self::MAX).then(|| Quantity(sum.normalize()))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<Quantity> for Decimal {
    fn from(value: Quantity) -> Decimal {
        value.0
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads a string or number and allows fractions; apply the whole-unit rule
/// with [`Quantity::parse_for`] once the product is known.
impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = deserialize_any(deserializer)?;
        Quantity::parse(value, "").map_err(|e| serde::de::Error::custom(e.reason))
    }
}

/// A real stock level: `0 ≤ s ≤ MAX`, ≤ 3 decimals (bulk stock in kg).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StockLevel(Decimal);

impl StockLevel {
    /// Largest stock level accepted.
    pub const MAX: Decimal = dec!(1_000_000_000);

    /// Validates a stock level.
    pub fn parse(value: Decimal, field: &str) -> Result<StockLevel, FieldError> {
        if value < Decimal::ZERO {
            return Err(FieldError::new(field, "must not be negative"));
        }
        if value > Self::MAX {
            return Err(FieldError::new(
                field,
                format!("must be at most {}", Self::MAX),
            ));
        }
        Ok(StockLevel(check_scale(value, QUANTITY_SCALE, field)?))
    }

    /// The level as a decimal.
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for StockLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for StockLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StockLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = deserialize_any(deserializer)?;
        StockLevel::parse(value, "").map_err(|e| serde::de::Error::custom(e.reason))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn quantity_bounds_and_scale() {
        assert_eq!(
            Quantity::parse(dec!(1.500), "q").unwrap().to_string(),
            "1.5"
        );
        assert_eq!(
            Quantity::parse(dec!(0.001), "q").unwrap().value(),
            dec!(0.001)
        );
        assert!(Quantity::parse(Quantity::MAX, "q").is_ok());
        for bad in [dec!(0), dec!(-1), dec!(0.0001), dec!(1000000.001)] {
            assert_eq!(
                Quantity::parse(bad, "quantity").unwrap_err().field,
                "quantity"
            );
        }
        assert_eq!(Quantity::parse_str("2", "q").unwrap().to_string(), "2");
        assert!(Quantity::parse_str("deux", "q").is_err());
    }

    #[test]
    fn sums_stay_within_bounds() {
        let a = Quantity::parse(dec!(1.5), "q").unwrap();
        assert_eq!(a.checked_add(Quantity::ONE).unwrap().value(), dec!(2.5));
        let max = Quantity::parse(Quantity::MAX, "q").unwrap();
        assert_eq!(max.checked_add(Quantity::ONE), None);
    }

    #[test]
    fn whole_units_unless_fractional_allowed() {
        assert!(Quantity::parse_for(dec!(3), false, "q").is_ok());
        assert!(Quantity::parse_for(dec!(3.000), false, "q").is_ok());
        let e = Quantity::parse_for(dec!(1.5), false, "quantity").unwrap_err();
        assert_eq!(e.reason, "must be a whole number of units");
        assert_eq!(
            Quantity::parse_for(dec!(1.5), true, "q").unwrap().value(),
            dec!(1.5)
        );
    }

    #[test]
    fn quantity_serde() {
        let q: Quantity = serde_json::from_str("1.50").unwrap();
        assert_eq!(serde_json::to_string(&q).unwrap(), r#""1.5""#);
        let q: Quantity = serde_json::from_str(r#""10""#).unwrap();
        assert_eq!(q.value(), dec!(10));
        assert!(serde_json::from_str::<Quantity>("0").is_err());
    }

    #[test]
    fn stock_levels() {
        assert_eq!(StockLevel::parse(dec!(0), "real").unwrap().value(), dec!(0));
        assert_eq!(
            StockLevel::parse(dec!(12.50), "real").unwrap().to_string(),
            "12.5"
        );
        assert_eq!(
            StockLevel::parse(dec!(-1), "real").unwrap_err().field,
            "real"
        );
        assert!(StockLevel::parse(dec!(0.0005), "real").is_err());
        let s: StockLevel = serde_json::from_str("3").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""3""#);
    }
}
