//! The one error every domain parser returns: which field was wrong and why.
//!
//! Style used across `domain`: a parser of a *single value* takes the name of
//! the field it was given (`Money::parse(v, "price")`); a parser of a
//! *composite* (an order window, coordinates) names its own sub-fields
//! relative to itself (`orders_close_at`, `lat`). Callers that nest values
//! prefix the path with [`FieldError::at`] (`lines[2]` + `quantity` →
//! `lines[2].quantity`), so the API can answer a 422 naming the exact field.

/// A rejected input value: the field path and a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// Path of the offending field, e.g. `lines[2].quantity`.
    pub field: String,
    /// Why it was refused, phrased for the client ("must be positive").
    pub reason: String,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Prefixes the field path with `prefix`: `quantity` at `lines[2]`
    /// becomes `lines[2].quantity`; an empty field becomes `prefix` itself.
    #[must_use]
    pub fn at(self, prefix: &str) -> Self {
        let field = match (prefix.is_empty(), self.field.is_empty()) {
            (true, _) => self.field,
            (false, true) => prefix.to_owned(),
            (false, false) if self.field.starts_with('[') => format!("{prefix}{}", self.field),
            (false, false) => format!("{prefix}.{}", self.field),
        };
        Self { field, ..self }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn displays_field_and_reason() {
        let e = FieldError::new("price", "must not be negative");
        assert_eq!(e.to_string(), "price: must not be negative");
    }

    #[test]
    fn at_prefixes_paths() {
        let e = FieldError::new("quantity", "must be positive").at("lines[2]");
        assert_eq!(e.field, "lines[2].quantity");
        assert_eq!(e.reason, "must be positive");
        assert_eq!(FieldError::new("[0]", "x").at("lines").field, "lines[0]");
        assert_eq!(FieldError::new("", "x").at("email").field, "email");
        assert_eq!(FieldError::new("lat", "x").at("").field, "lat");
    }

    #[test]
    fn at_nests() {
        let e = FieldError::new("lat", "out of range")
            .at("place")
            .at("market");
        assert_eq!(e.field, "market.place.lat");
    }
}
