//! A percentage between 0 and 100 with at most two decimals (`"5.5"`, `"20"`).
//!
//! Shared by VAT rates and the platform fee rate, which obey the same input
//! rules; each use wraps or names it so the two are not mixed up by accident.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decimal::{check_scale, deserialize_any, parse_decimal};
use super::error::FieldError;

/// A percentage in `0..=100`, normalized (`5.50` is held as `5.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(Decimal);

impl Percent {
    /// Validates a percentage: `0..=100`, at most two decimals.
    pub fn parse(value: Decimal, field: &str) -> Result<Percent, FieldError> {
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            return Err(FieldError::new(field, "must be between 0 and 100"));
        }
        Ok(Percent(check_scale(value, 2, field)?))
    }

    /// Parses decimal text such as `"5.5"`.
    pub fn parse_str(value: &str, field: &str) -> Result<Percent, FieldError> {
        Percent::parse(parse_decimal(value, field)?, field)
    }

    /// The percentage itself (`5.5` for 5.5 %).
    pub fn value(self) -> Decimal {
        self.0
    }

    /// `value / 100` (`0.055` for 5.5 %).
    pub fn fraction(self) -> Decimal {
        self.0 / Decimal::ONE_HUNDRED
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = deserialize_any(deserializer)?;
        Percent::parse(value, "").map_err(|e| serde::de::Error::custom(e.reason))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parses_and_normalizes() {
        assert_eq!(
            Percent::parse(dec!(5.50), "rate").unwrap().to_string(),
            "5.5"
        );
        assert_eq!(Percent::parse_str("20", "rate").unwrap().to_string(), "20");
        assert_eq!(Percent::parse(dec!(0), "rate").unwrap().value(), dec!(0));
        assert_eq!(
            Percent::parse(dec!(100), "rate").unwrap().fraction(),
            dec!(1)
        );
        assert_eq!(
            Percent::parse(dec!(5.5), "rate").unwrap().fraction(),
            dec!(0.055)
        );
    }

    #[test]
    fn refuses_out_of_range_and_overprecise() {
        for bad in [dec!(-0.01), dec!(100.01), dec!(5.555)] {
            assert_eq!(Percent::parse(bad, "rate").unwrap_err().field, "rate");
        }
        assert!(Percent::parse_str("cinq", "rate").is_err());
    }

    #[test]
    fn serde() {
        let p: Percent = serde_json::from_str("5.5").unwrap();
        let q: Percent = serde_json::from_str(r#""5.50""#).unwrap();
        assert_eq!(p, q);
        assert_eq!(serde_json::to_string(&p).unwrap(), r#""5.5""#);
        assert!(serde_json::from_str::<Percent>("101").is_err());
    }
}
