//! Money: euros with exactly two decimals, never a float.
//!
//! Inputs with more than two decimals are *refused* rather than rounded, so a
//! producer never sees a price they did not type. Computed amounts (weighing,
//! VAT, fees) are rounded half-up to the cent with [`round_cents`], the only
//! rounding rule of the engine. On the wire money is the string `"2.50"`; it is
//! read from a string or a JSON number.

use std::fmt;
use std::iter::Sum;
use std::ops::Add;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decimal::{check_scale, deserialize_any, parse_decimal};
use super::error::FieldError;

/// Rounds to the cent, half away from zero (`0.125 → 0.13`).
pub fn round_cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A non-negative amount of money, held at scale 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// Zero euros.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Largest accepted input: fits a `NUMERIC(12, 2)` column.
    pub const MAX: Decimal = rust_decimal_macros::dec!(999_999_999.99);

    /// Validates an amount: ≥ 0, at most two decimals, at most [`Money::MAX`].
    pub fn parse(value: Decimal, field: &str) -> Result<Money, FieldError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(FieldError::new(field, "must not be negative"));
        }
        let value = check_scale(value, 2, field)?;
        if value > Self::MAX {
            return Err(FieldError::new(
                field,
                format!("must be at most {}", Self::MAX),
            ));
        }
        Ok(Money::at_scale_2(value))
    }

    /// Parses decimal text such as `"2.5"`.
    pub fn parse_str(value: &str, field: &str) -> Result<Money, FieldError> {
        Money::parse(parse_decimal(value, field)?, field)
    }

    /// Rounds a computed amount half-up to the cent; `None` when negative.
    pub fn from_rounded(value: Decimal) -> Option<Money> {
        let rounded = round_cents(value);
        if rounded.is_sign_negative() && !rounded.is_zero() {
            None
        } else {
            Some(Money::at_scale_2(rounded))
        }
    }

    /// Rounds a computed amount known to be non-negative (products and
    /// quotients of non-negative values); a negative value clamps to zero.
    pub(crate) fn from_non_negative(value: Decimal) -> Money {
        Money::from_rounded(value).unwrap_or(Money::ZERO)
    }

    /// `self − other`, or `None` if that would be negative.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        let diff = self.0.checked_sub(other.0)?;
        if diff.is_sign_negative() && !diff.is_zero() {
            None
        } else {
            Some(Money::at_scale_2(diff))
        }
    }

    /// The amount as a decimal with scale 2.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Whether the amount is zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    fn at_scale_2(mut value: Decimal) -> Money {
        // -0.00 and 0.00 are the same amount; keep the sign bit clean.
        value.set_sign_positive(true);
        value.rescale(2);
        Money(value)
    }
}

impl Add for Money {
    type Output = Money;

    fn add(self, rhs: Money) -> Money {
        Money::at_scale_2(self.0 + rhs.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl From<Money> for Decimal {
    fn from(value: Money) -> Decimal {
        value.0
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = deserialize_any(deserializer)?;
        Money::parse(value, "").map_err(|e| serde::de::Error::custom(e.reason))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parses_valid_amounts() {
        assert_eq!(
            Money::parse(dec!(2.5), "price").unwrap().to_string(),
            "2.50"
        );
        assert_eq!(
            Money::parse(dec!(20), "price").unwrap().to_string(),
            "20.00"
        );
        assert_eq!(Money::parse(dec!(0), "price").unwrap().to_string(), "0.00");
        assert_eq!(Money::parse(dec!(-0), "price").unwrap().to_string(), "0.00");
        assert_eq!(
            Money::parse(dec!(2.500), "price").unwrap().amount(),
            dec!(2.50)
        );
        assert_eq!(
            Money::parse_str(" 2.5 ", "price").unwrap().to_string(),
            "2.50"
        );
        assert_eq!(Money::MAX, dec!(999999999.99));
        assert!(Money::parse(Money::MAX, "price").is_ok());
    }

    #[test]
    fn refuses_negative_overprecise_and_huge() {
        let e = Money::parse(dec!(-0.01), "price").unwrap_err();
        assert_eq!(e, FieldError::new("price", "must not be negative"));
        let e = Money::parse(dec!(2.505), "price").unwrap_err();
        assert_eq!(e.reason, "must have at most 2 decimal places");
        assert!(Money::parse(dec!(1000000000), "price").is_err());
        assert_eq!(Money::parse_str("x", "price").unwrap_err().field, "price");
    }

    #[test]
    fn rounds_half_up_to_cents() {
        assert_eq!(round_cents(dec!(0.125)), dec!(0.13));
        assert_eq!(round_cents(dec!(0.124)), dec!(0.12));
        assert_eq!(round_cents(dec!(18.444)), dec!(18.44));
        assert_eq!(round_cents(dec!(18.445)), dec!(18.45));
        assert_eq!(round_cents(dec!(-0.125)), dec!(-0.13));
        assert_eq!(
            Money::from_rounded(dec!(2.3696)).unwrap().to_string(),
            "2.37"
        );
        assert_eq!(Money::from_rounded(dec!(-0.001)).unwrap(), Money::ZERO);
        assert_eq!(Money::from_rounded(dec!(-0.01)), None);
    }

    #[test]
    fn arithmetic() {
        let a = Money::parse(dec!(2.5), "a").unwrap();
        let b = Money::parse(dec!(0.75), "b").unwrap();
        assert_eq!((a + b).to_string(), "3.25");
        assert_eq!(a.checked_sub(b).unwrap().to_string(), "1.75");
        assert_eq!(b.checked_sub(a), None);
        assert!(a.checked_sub(a).unwrap().is_zero());
        let total: Money = [a, b, b].into_iter().sum();
        assert_eq!(total.to_string(), "4.00");
    }

    #[test]
    fn serde_string_out_string_or_number_in() {
        let m = Money::parse(dec!(2.5), "p").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#""2.50""#);
        let from_str: Money = serde_json::from_str(r#""2.5""#).unwrap();
        let from_num: Money = serde_json::from_str("2.50").unwrap();
        let from_int: Money = serde_json::from_str("2").unwrap();
        assert_eq!(from_str, m);
        assert_eq!(from_num, m);
        assert_eq!(from_int.to_string(), "2.00");
        let err = serde_json::from_str::<Money>("-1").unwrap_err();
        assert!(err.to_string().contains("must not be negative"), "{err}");
        assert!(serde_json::from_str::<Money>("2.505").is_err());
        assert!(serde_json::from_str::<Money>("true").is_err());
    }
}
