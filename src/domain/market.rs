//! Markets and catalog codes: the pure rules behind creating a market,
//! linking a catalog to it by code, and searching the market directory.
//!
//! - [`Weekday`]: a market's usual distribution day, read as an ISO number
//!   (Monday = 1 … Sunday = 7) or an English or French day name.
//! - [`parse_timezone`]: an IANA zone name, checked against `chrono_tz`.
//! - [`CatalogCode`]: the short numeric code a producer tells a market admin
//!   ("par SMS, de vive voix"); new codes are 6 random digits without a
//!   leading zero, so a code survives being typed as a JSON number.
//! - [`DirectorySearch`]: validated directory query (point, weekday, radius,
//!   limit).

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use rand::Rng;
use serde::Serialize;
use serde_json::Value;

use super::error::FieldError;
use super::geo::Coordinates;

/// An ISO weekday, Monday = 1 … Sunday = 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Weekday(u8);

const DAY_NAMES: [(&str, &str); 7] = [
    ("monday", "lundi"),
    ("tuesday", "mardi"),
    ("wednesday", "mercredi"),
    ("thursday", "jeudi"),
    ("friday", "vendredi"),
    ("saturday", "samedi"),
    ("sunday", "dimanche"),
];

impl Weekday {
    /// From an ISO number 1..=7.
    pub fn from_iso(n: i64, field: &str) -> Result<Weekday, FieldError> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=7).contains(n))
            .map(Weekday)
            .ok_or_else(|| Self::invalid(field))
    }

    /// From text: `"4"`, `"thursday"`, `"Jeudi"`, `"thu"`.
    pub fn parse_str(value: &str, field: &str) -> Result<Weekday, FieldError> {
        let text = value.trim().to_lowercase();
        if let Ok(n) = text.parse::<i64>() {
            return Self::from_iso(n, field);
        }
        DAY_NAMES
            .iter()
            .position(|(en, fr)| {
                text == *en || text == *fr || (text.len() == 3 && en.starts_with(&text))
            })
            .map(|i| Weekday(i as u8 + 1))
            .ok_or_else(|| Self::invalid(field))
    }

    /// From a JSON number or string.
    pub fn parse_json(value: &Value, field: &str) -> Result<Weekday, FieldError> {
        match value {
            Value::Number(n) => whole_number(n)
                .ok_or_else(|| Self::invalid(field))
                .and_then(|n| Self::from_iso(n, field)),
            Value::String(s) => Self::parse_str(s, field),
            _ => Err(Self::invalid(field)),
        }
    }

    /// The ISO number (Monday = 1).
    pub fn iso(self) -> i16 {
        i16::from(self.0)
    }

    /// The English name, lowercase (`"thursday"`).
    pub fn name(self) -> &'static str {
        DAY_NAMES[usize::from(self.0 - 1)].0
    }

    fn invalid(field: &str) -> FieldError {
        FieldError::new(
            field,
            "must be an ISO weekday 1..7 (Monday = 1) or a day name such as \"thursday\"",
        )
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The zone used when a market does not name one.
pub const DEFAULT_TIMEZONE: &str = "Europe/Paris";

/// Validates an IANA time zone name (`"Europe/Paris"`).
pub fn parse_timezone(value: &str, field: &str) -> Result<Tz, FieldError> {
    Tz::from_str(value.trim())
        .map_err(|_| FieldError::new(field, "must be an IANA time zone such as \"Europe/Paris\""))
}

/// A JSON number without a fractional part (`4` or `4.0`), as JSON
/// Schema's `integer` counts them.
fn whole_number(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

/// A catalog's short numeric code: 4 to 10 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CatalogCode(String);

impl CatalogCode {
    /// Digits of a newly generated code.
    pub const NEW_LEN: u32 = 6;

    /// Validates a typed code (surrounding blanks ignored).
    pub fn parse(value: &str, field: &str) -> Result<CatalogCode, FieldError> {
        let code = value.trim();
        if (4..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
            Ok(CatalogCode(code.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "must be a catalog code of 4 to 10 digits",
            ))
        }
    }

    /// Reads a code sent as a JSON string or a (non-negative integer) number.
    pub fn parse_json(value: &Value, field: &str) -> Result<CatalogCode, FieldError> {
        match value {
            Value::String(s) => Self::parse(s, field),
            Value::Number(n) => match whole_number(n).filter(|n| *n >= 0) {
                Some(n) => Self::parse(&n.to_string(), field),
                None => Self::parse("", field),
            },
            _ => Self::parse("", field),
        }
    }

    /// A fresh random code of [`Self::NEW_LEN`] digits, never starting with 0.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> CatalogCode {
        let low = 10u32.pow(Self::NEW_LEN - 1);
        CatalogCode(rng.gen_range(low..low * 10).to_string())
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The share link path, `/catalog/<code>`.
    pub fn share_link(&self) -> String {
        share_link(&self.0)
    }
}

/// The share link path of a code: `/catalog/<code>`.
pub fn share_link(code: &str) -> String {
    format!("/catalog/{code}")
}

/// A validated directory search.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectorySearch {
    pub from: Coordinates,
    pub weekday: Option<Weekday>,
    pub radius_km: Option<f64>,
    pub limit: usize,
}

impl DirectorySearch {
    /// Results when no `limit` is given.
    pub const DEFAULT_LIMIT: usize = 20;
    /// Most results one search returns.
    pub const MAX_LIMIT: usize = 100;
    /// Half the Earth's circumference: no radius needs to be larger.
    pub const MAX_RADIUS_KM: f64 = 20_040.0;

    /// Validates raw query values, naming every bad one (`lat`, `lng`,
    /// `weekday`, `radius_km`, `limit`).
    pub fn parse(
        lat: Option<&str>,
        lng: Option<&str>,
        weekday: Option<&str>,
        radius_km: Option<&str>,
        limit: Option<&str>,
    ) -> Result<DirectorySearch, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |raw: Option<&str>, field: &str| -> Option<f64> {
            match raw.map(str::trim) {
                None | Some("") => {
                    errors.push(FieldError::new(field, "is required"));
                    None
                }
                Some(text) => match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Some(v),
                    _ => {
                        errors.push(FieldError::new(field, "must be a number"));
                        None
                    }
                },
            }
        };
        let lat = number(lat, "lat");
        let lng = number(lng, "lng");
        let radius_km = radius_km
            .filter(|r| !r.trim().is_empty())
            .and_then(|r| number(Some(r), "radius_km"));
        let from = match (lat, lng) {
            (Some(lat), Some(lng)) => Coordinates::parse(lat, lng)
                .map_err(|e| errors.push(e))
                .ok(),
            _ => None,
        };
        if let Some(r) = radius_km {
            if !(r > 0.0 && r <= Self::MAX_RADIUS_KM) {
                errors.push(FieldError::new(
                    "radius_km",
                    format!("must be greater than 0 and at most {}", Self::MAX_RADIUS_KM),
                ));
            }
        }
        let weekday = match weekday.map(str::trim).filter(|w| !w.is_empty()) {
            None => None,
            Some(w) => Weekday::parse_str(w, "weekday")
                .map_err(|e| errors.push(e))
                .ok(),
        };
        let limit = match limit.map(str::trim).filter(|l| !l.is_empty()) {
            None => Some(Self::DEFAULT_LIMIT),
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=Self::MAX_LIMIT).contains(&n) => Some(n),
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        format!("must be a whole number between 1 and {}", Self::MAX_LIMIT),
                    ));
                    None
                }
            },
        };
        match (from, limit) {
            (Some(from), Some(limit)) if errors.is_empty() => Ok(DirectorySearch {
                from,
                weekday,
                radius_km,
                limit,
            }),
            _ => Err(errors),
        }
    }
}

/// A distance rounded to 0.1 km for display.
pub fn round_km(km: f64) -> f64 {
    (km * 10.0).round() / 10.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn weekdays() {
        assert_eq!(Weekday::parse_json(&json!(4), "d").unwrap().iso(), 4);
        assert_eq!(
            Weekday::parse_json(&json!("thursday"), "d").unwrap().iso(),
            4
        );
        assert_eq!(
            Weekday::parse_json(&json!(" Jeudi "), "d").unwrap().iso(),
            4
        );
        assert_eq!(Weekday::parse_json(&json!("sun"), "d").unwrap().iso(), 7);
        assert_eq!(
            Weekday::parse_json(&json!("1"), "d").unwrap().name(),
            "monday"
        );
        for bad in [
            json!(0),
            json!(8),
            json!(-1),
            json!(4.5),
            json!("thurs"),
            json!(null),
        ] {
            assert_eq!(
                Weekday::parse_json(&bad, "d").unwrap_err().field,
                "d",
                "{bad}"
            );
        }
    }

    #[test]
    fn timezones() {
        assert_eq!(
            parse_timezone("Europe/Paris", "tz").unwrap(),
            chrono_tz::Europe::Paris
        );
        assert_eq!(
            parse_timezone("Mars/Olympus", "tz").unwrap_err().field,
            "tz"
        );
    }

    #[test]
    fn codes() {
        assert_eq!(
            CatalogCode::parse(" 123456 ", "code").unwrap().as_str(),
            "123456"
        );
        assert_eq!(
            CatalogCode::parse_json(&json!(123456), "code")
                .unwrap()
                .as_str(),
            "123456"
        );
        for bad in [
            json!("12a456"),
            json!("123"),
            json!(-5),
            json!("12345678901"),
            json!(true),
        ] {
            assert_eq!(
                CatalogCode::parse_json(&bad, "code").unwrap_err().field,
                "code"
            );
        }
        let mut rng = rand::thread_rng();
        for _ in 0..1000 {
            let code = CatalogCode::random(&mut rng);
            assert_eq!(code.as_str().len(), 6);
            assert!(!code.as_str().starts_with('0'));
            assert!(CatalogCode::parse(code.as_str(), "code").is_ok());
        }
        assert_eq!(
            CatalogCode::parse("424242", "c").unwrap().share_link(),
            "/catalog/424242"
        );
    }

    #[test]
    fn directory_search() {
        let s = DirectorySearch::parse(Some("48.85"), Some("2.35"), Some("thursday"), None, None)
            .unwrap();
        assert_eq!(s.weekday.map(Weekday::iso), Some(4));
        assert_eq!(s.limit, DirectorySearch::DEFAULT_LIMIT);
        let errors = DirectorySearch::parse(Some("91"), Some("x"), Some("9"), Some("0"), Some("0"))
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["lng", "radius_km", "weekday", "limit"]);
        let errors = DirectorySearch::parse(Some("91"), Some("2"), None, None, None).unwrap_err();
        assert_eq!(errors[0].field, "lat");
        let errors = DirectorySearch::parse(None, None, None, None, None).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(round_km(391.96), 392.0);
    }
}
