//! Decimal plumbing shared by the numeric newtypes (money, rates, quantities).
//!
//! The API takes amounts as decimal strings *or* JSON numbers and always
//! answers with strings (`API.md`, conventions). The parsing of text and the
//! "at most N decimals" rule live here once, so each newtype only states its
//! own range. Floats never enter: JSON numbers are read exactly thanks to
//! serde_json's `arbitrary_precision` (enabled through rust_decimal).

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserializer, Serializer};

use super::error::FieldError;

/// Parses decimal text such as `"2.50"` or `" 10 "` (surrounding blanks are
/// ignored; no exponent, no thousands separators, no comma decimal mark).
pub fn parse_decimal(value: &str, field: &str) -> Result<Decimal, FieldError> {
    let text = value.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    Decimal::from_str(text)
        .map_err(|_| FieldError::new(field, format!("`{text}` is not a decimal number")))
}

/// Refuses values with more than `max` significant decimal places
/// (`2.500` counts as `2.5`).
pub fn check_scale(value: Decimal, max: u32, field: &str) -> Result<Decimal, FieldError> {
    let normalized = value.normalize();
    if normalized.scale() > max {
        let unit = if max == 1 { "place" } else { "places" };
        return Err(FieldError::new(
            field,
            format!("must have at most {max} decimal {unit}"),
        ));
    }
    Ok(normalized)
}

/// Reads a decimal from a JSON string or a JSON number, exactly.
pub fn deserialize_any<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    rust_decimal::serde::arbitrary_precision::deserialize(deserializer)
}

/// `#[serde(with = "crate::domain::decimal::string")]` for plain `Decimal`
/// fields in API documents: written as a normalized string (`"1.5"`), read
/// from a string or a number.
pub mod string {
    use super::*;

    /// Writes the normalized decimal as a JSON string.
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&value.normalize())
    }

    /// Reads a string or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        super::deserialize_any(deserializer)
    }
}

/// Same as [`string`] for `Option<Decimal>` (`null` ↔ `None`).
pub mod string_option {
    use super::*;

    /// Writes `null` or the normalized decimal as a JSON string.
    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serializer.collect_str(&v.normalize()),
            None => serializer.serialize_none(),
        }
    }

    /// Reads `null`, a string or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        rust_decimal::serde::arbitrary_precision_option::deserialize(deserializer)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde::{Deserialize, Serialize};

    #[test]
    fn parses_text() {
        assert_eq!(parse_decimal(" 2.50 ", "price").unwrap(), dec!(2.50));
        assert_eq!(parse_decimal("-1", "price").unwrap(), dec!(-1));
        let e = parse_decimal("2,50", "price").unwrap_err();
        assert_eq!(e.field, "price");
        assert!(parse_decimal("", "price").is_err());
        assert!(parse_decimal("abc", "price").is_err());
    }

    #[test]
    fn scale_is_counted_after_normalizing() {
        assert_eq!(check_scale(dec!(2.500), 2, "p").unwrap(), dec!(2.5));
        assert!(check_scale(dec!(2.505), 2, "p").is_err());
        assert_eq!(
            check_scale(dec!(2.5), 0, "q").unwrap_err().reason,
            "must have at most 0 decimal places"
        );
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Doc {
        #[serde(with = "string")]
        value: Decimal,
        #[serde(with = "string_option", default)]
        maybe: Option<Decimal>,
    }

    #[test]
    fn serde_strings_out_strings_or_numbers_in() {
        let doc: Doc = serde_json::from_str(r#"{"value": 1.50, "maybe": "3"}"#).unwrap();
        assert_eq!(doc.value, dec!(1.5));
        assert_eq!(doc.maybe, Some(dec!(3)));
        let doc: Doc = serde_json::from_str(r#"{"value": "0.1", "maybe": null}"#).unwrap();
        assert_eq!(doc.maybe, None);
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"value":"0.1","maybe":null}"#
        );
        let doc: Doc = serde_json::from_str(r#"{"value": 0.1}"#).unwrap();
        assert_eq!(doc.value, dec!(0.1));
        let value = serde_json::json!({"value": 0.3, "maybe": 2});
        let doc: Doc = serde_json::from_value(value).unwrap();
        assert_eq!((doc.value, doc.maybe), (dec!(0.3), Some(dec!(2))));
    }
}
