//! Forms posted by the pages, validated on the server.
//!
//! The pattern every page follows: the handler takes a [`Posted<T>`] (the
//! CSRF token is checked before the body is read into `T`, whose fields are
//! plain strings), parses each field with the domain's parsers, and on any
//! refusal shows the same page again with a [`FormState`]: what was typed
//! (so nothing is lost) and, next to each wrong field, the reason in
//! French. Nothing is changed until every field is valid. The domain's
//! reasons are English phrases for the API; [`french`] says them in French.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::csrf;
use super::page::PageError;
use crate::domain::error::FieldError;

/// A form's values as typed and its errors by field name.
#[derive(Debug, Default, Clone)]
pub struct FormState {
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl FormState {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets what a field shows.
    #[must_use]
    pub fn with(mut self, field: &str, value: impl Into<String>) -> Self {
        self.values.insert(field.to_owned(), value.into());
        self
    }

    /// Sets what a field shows.
    pub fn set(&mut self, field: &str, value: impl Into<String>) {
        self.values.insert(field.to_owned(), value.into());
    }

    /// What the field shows ("" when nothing).
    pub fn value(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    /// What the field shows, or `default` when it was not set.
    pub fn value_or<'a>(&'a self, field: &str, default: &'a str) -> &'a str {
        self.values.get(field).map_or(default, String::as_str)
    }

    /// Whether a checkbox field is ticked.
    pub fn checked(&self, field: &str) -> bool {
        matches!(self.value(field), "on" | "true" | "1")
    }

    /// The French reason a field was refused, if it was.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    /// Records a refusal in French, next to `field` (the first one wins).
    pub fn refuse(&mut self, field: &str, reason: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_insert_with(|| reason.into());
    }

    /// Keeps a parsed value, or records the domain's refusal (in French)
    /// next to its field and yields `None`.
    pub fn check<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                let reason = french(&e.reason);
                self.refuse(&e.field, reason);
                None
            }
        }
    }

    /// Whether every field was accepted.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many fields were refused (the summary at the top of the form).
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }
}

/// The domain's refusal, said in French. Every phrase the domain's parsers
/// use is here; an unknown one reads "valeur refusée : …" with the original.
pub fn french(reason: &str) -> String {
    let fixed = match reason {
        "is required" | "must not be empty" => Some("Ce champ est obligatoire."),
        "must be a number" => Some("Indiquez un nombre."),
        "must be a whole number of units" => Some("Indiquez un nombre entier."),
        "must be greater than 0" | "must be positive" => Some("Indiquez un nombre supérieur à 0."),
        "must not be negative" => Some("Indiquez un nombre positif ou nul."),
        "must not contain control characters" => {
            Some("Ce texte contient des caractères non permis.")
        }
        "must not contain spaces" => Some("L'adresse ne doit pas contenir d'espace."),
        "must look like name@example.org" => {
            Some("Indiquez une adresse e-mail valide, comme nom@exemple.fr.")
        }
        "must be at least 8 characters" => {
            Some("Le mot de passe doit faire au moins 8 caractères.")
        }
        "must be at most 128 characters" => {
            Some("Le mot de passe doit faire au plus 128 caractères.")
        }
        "must be between 0 and 100" => Some("Indiquez un nombre entre 0 et 100."),
        "must be after starts_at" => Some("La fin doit venir après le début."),
        _ => None,
    };
    if let Some(fixed) = fixed {
        return fixed.to_owned();
    }
    if let Some(n) = reason
        .strip_prefix("must be at most ")
        .and_then(|rest| rest.strip_suffix(" characters"))
    {
        return format!("{n} caractères au plus.");
    }
    if let Some(n) = reason.strip_prefix("must be at most ") {
        return format!("Indiquez au plus {n}.");
    }
    if let Some(rest) = reason.strip_prefix("must have at most ") {
        let (n, unit) = rest.split_once(' ').unwrap_or((rest, ""));
        return if unit.starts_with("decimal") {
            format!("{n} chiffres après la virgule au plus.")
        } else {
            format!("Valeur refusée : {reason}.")
        };
    }
    if reason.ends_with("is not a decimal number") {
        return "Indiquez un nombre, comme 2,50.".to_owned();
    }
    if reason.ends_with("is out of range") {
        return "Ce nombre est hors des limites permises.".to_owned();
    }
    if let Some(range) = reason.strip_prefix("must be between ") {
        return format!(
            "Indiquez un nombre entre {}.",
            range.replace(" and ", " et ")
        );
    }
    format!("Valeur refusée : {reason}.")
}

/// Decimal numbers as French people type them: `2,50` is `2.50`.
pub fn decimal_input(value: &str) -> String {
    value
        .trim()
        .replace(',', ".")
        .replace([' ', '\u{a0}', '\u{202f}'], "")
}

/// A form posted by one of our pages: its CSRF token checked first
/// (a forgery → 403, nothing read further), then read into `T`.
/// `T`'s fields should be `String`s with `#[serde(default)]`, so a
/// missing field is an empty one, refused by the page's own checks.
#[derive(Debug)]
pub struct Posted<T>(pub T);

/// A form posted with nothing but its CSRF token: a button that removes,
/// leaves or confirms (`Posted<NoFields>`).
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct TokenOnly {
    csrf: Option<String>,
}

impl<T: DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let urlencoded = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if !urlencoded {
                // Checked before the token: a forged post of another type
                // is refused all the same, and nothing is read.
                return Err(PageError::UnsupportedMedia);
            }
            let body = body.await.map_err(|_| PageError::TooLarge)?;
            let token: TokenOnly =
                serde_html_form::from_bytes(&body).unwrap_or(TokenOnly { csrf: None });
            if !csrf::verify(&req, token.csrf.as_deref()) {
                tracing::warn!(path = %req.path(), "form refused: CSRF token missing or wrong");
                return Err(PageError::Forged);
            }
            serde_html_form::from_bytes(&body)
                .map(Posted)
                .map_err(|e| PageError::BadForm(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_reasons_are_said_in_french() {
        assert_eq!(french("must not be empty"), "Ce champ est obligatoire.");
        assert_eq!(
            french("must be at most 100 characters"),
            "100 caractères au plus."
        );
        assert_eq!(
            french("`abc` is not a decimal number"),
            "Indiquez un nombre, comme 2,50."
        );
        assert_eq!(
            french("must have at most 2 decimal places"),
            "2 chiffres après la virgule au plus."
        );
        assert_eq!(
            french("must be between 1 and 52"),
            "Indiquez un nombre entre 1 et 52."
        );
        assert!(french("something new").starts_with("Valeur refusée"));
    }

    #[test]
    fn a_form_keeps_values_and_the_first_error_per_field() {
        let mut form = FormState::new().with("name", "Léa");
        assert!(form.is_valid());
        let parsed: Option<u8> = form.check(Err(FieldError::new("email", "must not be empty")));
        assert_eq!(parsed, None);
        form.refuse("email", "second");
        assert_eq!(form.error("email"), Some("Ce champ est obligatoire."));
        assert_eq!(form.value("name"), "Léa");
        assert_eq!(form.value("missing"), "");
        assert_eq!(form.error_count(), 1);
        assert!(!form.is_valid());
    }

    #[test]
    fn french_decimals_are_read() {
        assert_eq!(decimal_input(" 2,50 "), "2.50");
        assert_eq!(decimal_input("1\u{202f}000,5"), "1000.5");
    }
}
