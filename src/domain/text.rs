//! Free text typed by people: names, labels, units, descriptions.
//!
//! [`ShortText`] is one trimmed line (no control characters) of bounded
//! length, reused for product names, offer labels, units, categories…;
//! [`Name`] is a `ShortText` of 1..=100 characters for people, producers,
//! markets and products. [`LongText`] allows line breaks (descriptions).
//! Lengths count characters, not bytes, so "Crème fraîche" is 13 long.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::FieldError;

/// One trimmed, non-empty line of at most `max_len` characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ShortText(String);

impl ShortText {
    /// Checks at most `max_len` characters as typed, then trims and checks
    /// that something is left, without control characters.
    pub fn parse(value: &str, field: &str, max_len: usize) -> Result<ShortText, FieldError> {
        let text = value.trim();
        if text.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if value.chars().count() > max_len {
            return Err(FieldError::new(
                field,
                format!("must be at most {max_len} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(ShortText(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned text.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ShortText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A name (person, producer, market, product, catalog): 1..=100 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Name(ShortText);

impl Name {
    /// Longest accepted name, in characters.
    pub const MAX_LEN: usize = 100;

    /// Validates a name.
    pub fn parse(value: &str, field: &str) -> Result<Name, FieldError> {
        ShortText::parse(value, field, Self::MAX_LEN).map(Name)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Name::parse(&raw, "").map_err(|e| serde::de::Error::custom(e.reason))
    }
}

/// Multi-line text (a description): trimmed, at most `max_len` characters,
/// line breaks and tabs allowed, other control characters refused. May be
/// empty: callers usually map an empty description to `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct LongText(String);

impl LongText {
    /// Validates multi-line text.
    pub fn parse(value: &str, field: &str, max_len: usize) -> Result<LongText, FieldError> {
        let text = value.trim();
        if value.chars().count() > max_len {
            return Err(FieldError::new(
                field,
                format!("must be at most {max_len} characters"),
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(LongText(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for LongText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn short_text_trims_and_bounds() {
        assert_eq!(
            ShortText::parse("  Vrac ", "label", 10).unwrap().as_str(),
            "Vrac"
        );
        assert_eq!(
            ShortText::parse("   ", "label", 10).unwrap_err().field,
            "label"
        );
        assert!(ShortText::parse("a\u{0}b", "label", 10).is_err());
        assert!(ShortText::parse("a\nb", "label", 10).is_err());
        assert!(ShortText::parse("abcdefghijk", "label", 10).is_err());
        // Characters, not bytes.
        assert!(ShortText::parse("éééééééééé", "label", 10).is_ok());
        // The length is that of the text as typed, blanks included, so the
        // OpenAPI `maxLength` says exactly what is accepted.
        assert!(ShortText::parse(" abcdefghij", "label", 10).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(
            Name::parse(" Ferme des Lilas ", "name")
                .unwrap()
                .to_string(),
            "Ferme des Lilas"
        );
        assert!(Name::parse(&"a".repeat(100), "name").is_ok());
        let e = Name::parse(&"a".repeat(101), "name").unwrap_err();
        assert_eq!(e.reason, "must be at most 100 characters");
        let n: Name = serde_json::from_str(r#"" Léa ""#).unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), r#""Léa""#);
        assert!(serde_json::from_str::<Name>(r#""""#).is_err());
    }

    #[test]
    fn long_text() {
        let t = LongText::parse(
            " Poulet fermier.\nÉlevé en plein air.\t ",
            "description",
            100,
        )
        .unwrap();
        assert_eq!(t.as_str(), "Poulet fermier.\nÉlevé en plein air.");
        assert!(LongText::parse("", "description", 10).unwrap().is_empty());
        assert!(LongText::parse("a\u{7}", "description", 10).is_err());
        assert!(LongText::parse(&"a".repeat(11), "description", 10).is_err());
    }
}
