//! Products, offers and their stock: the rules of what a producer sells.
//!
//! A product says *what* is sold (name, unit, category, how it is weighed);
//! an offer says *how* (label, quantity + unit, price incl. VAT, VAT rate,
//! optional limited stock). This module holds the validated forms of both
//! ([`ProductSpec`], [`OfferSpec`]) and the rules the guide states about them:
//!
//! * `multi_weight` ("multi-pesée", every unit weighed on its own) implies
//!   `variable_price` ("prix variable selon pesée") — [`SaleFlags::parse`];
//! * `fractional` (bulk sold by weight: 1.5 kg of potatoes) says whether
//!   quantities and real stock may be non-integer. It defaults to
//!   `variable_price`, except for multi-weight products, whose units are
//!   counted one by one and so are always whole;
//! * real stock is ≥ 0 and whole unless the product is fractional
//!   ([`real_stock`]); what is available of it is the stock ledger's
//!   business ([`crate::domain::stock`]);
//! * the price is entered VAT included; the excluded part and the VAT are
//!   derived, rounded half-up to the cent ([`OfferPrice`]).
//!
//! [`RawDecimal`] lets request bodies carry decimals as strings or numbers
//! while still naming the field when the text is not a number at all.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use super::decimal::parse_decimal;
use super::error::FieldError;
use super::money::Money;
use super::quantity::{Quantity, StockLevel};
use super::text::{LongText, Name, ShortText};
use super::vat::{price_excl_vat, vat_amount, VatRate};

/// A decimal as the client sent it (JSON string or number), parsed later so
/// an unreadable value is reported under its own field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawDecimal {
    /// A JSON number, exactly as written (serde_json `arbitrary_precision`).
    Number(String),
    /// A JSON string.
    Text(String),
    /// Anything else (`true`, `null`, an object …).
    Invalid,
}

impl RawDecimal {
    /// The decimal, or an error naming `field`.
    pub fn parse(&self, field: &str) -> Result<Decimal, FieldError> {
        match self {
            RawDecimal::Text(text) => parse_decimal(text, field),
            RawDecimal::Number(text) => Decimal::from_str(text)
                .or_else(|_| Decimal::from_scientific(text))
                .map_err(|_| FieldError::new(field, format!("`{text}` is out of range"))),
            RawDecimal::Invalid => Err(FieldError::new(
                field,
                "must be a decimal number (string or number)",
            )),
        }
    }
}

impl Serialize for RawDecimal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawDecimal::Number(text) | RawDecimal::Text(text) => serializer.serialize_str(text),
            RawDecimal::Invalid => serializer.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for RawDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => RawDecimal::Text(text),
            serde_json::Value::Number(n) => RawDecimal::Number(n.to_string()),
            _ => RawDecimal::Invalid,
        })
    }
}

/// How a product is weighed and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleFlags {
    pub variable_price: bool,
    pub multi_weight: bool,
    /// Quantities and real stock may be non-integer (bulk).
    pub fractional: bool,
}

impl SaleFlags {
    /// Checks the combination; `fractional` defaults to `variable_price`
    /// unless the product is multi-weight (whole units, one line each).
    pub fn parse(
        variable_price: bool,
        multi_weight: bool,
        fractional: Option<bool>,
    ) -> Result<SaleFlags, Vec<FieldError>> {
        let mut errors = Vec::new();
        if multi_weight && !variable_price {
            errors.push(FieldError::new(
                "variable_price",
                "must be true when multi_weight is true (each unit is weighed and priced)",
            ));
        }
        if multi_weight && fractional == Some(true) {
            errors.push(FieldError::new(
                "fractional",
                "must be false when multi_weight is true (each unit is its own order line)",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(SaleFlags {
            variable_price,
            multi_weight,
            fractional: fractional.unwrap_or(variable_price && !multi_weight),
        })
    }
}

/// A photo address: an absolute `http(s)` URL of at most 2048 characters.
pub fn photo_url(value: &str, field: &str) -> Result<ShortText, FieldError> {
    let url = ShortText::parse(value, field, 2048)?;
    if uploaded_photo_path(url.as_str()) {
        return Ok(url);
    }
    let lower = url.as_str().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !url.as_str().contains(char::is_whitespace) => Ok(url),
        _ => Err(FieldError::new(
            field,
            "must be an absolute http:// or https:// URL",
        )),
    }
}

/// The path of a photo uploaded to this site (`/images/{uuid}/affichage`).
pub fn uploaded_photo_url(image_id: uuid::Uuid) -> String {
    format!("/images/{image_id}/affichage")
}

/// Whether `url` is the path of a photo uploaded to this site.
fn uploaded_photo_path(url: &str) -> bool {
    url.strip_prefix("/images/")
        .and_then(|rest| rest.strip_suffix("/affichage"))
        .is_some_and(|id| id.len() == 36 && uuid::Uuid::parse_str(id).is_ok())
}

/// A validated product: what `POST`/`PUT` of a product store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSpec {
    pub name: Name,
    pub unit: ShortText,
    pub category: ShortText,
    pub description: Option<LongText>,
    pub photo_url: Option<ShortText>,
    pub organic: bool,
    pub active: bool,
    pub flags: SaleFlags,
}

/// A validated offer (its VAT rate is checked against the producer apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferSpec {
    pub label: ShortText,
    pub quantity: Quantity,
    pub unit: ShortText,
    pub price: Money,
    pub reference: Option<ShortText>,
}

impl OfferSpec {
    /// Checks every field of an offer at once, naming each bad one.
    pub fn parse(
        label: &str,
        quantity: &RawDecimal,
        unit: &str,
        price: &RawDecimal,
        reference: Option<&str>,
    ) -> Result<OfferSpec, Vec<FieldError>> {
        let label = ShortText::parse(label, "label", 100);
        let quantity = quantity
            .parse("quantity")
            .and_then(|q| Quantity::parse(q, "quantity"));
        let unit = ShortText::parse(unit, "unit", 32);
        let price = price.parse("price").and_then(|p| Money::parse(p, "price"));
        let reference = match reference.map(str::trim) {
            None | Some("") => Ok(None),
            Some(r) => ShortText::parse(r, "reference", 100).map(Some),
        };
        match (label, quantity, unit, price, reference) {
            (Ok(label), Ok(quantity), Ok(unit), Ok(price), Ok(reference)) => Ok(OfferSpec {
                label,
                quantity,
                unit,
                price,
                reference,
            }),
            (label, quantity, unit, price, reference) => Err([
                label.err(),
                quantity.err(),
                unit.err(),
                price.err(),
                reference.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// Real stock typed by the producer: ≥ 0, ≤ 3 decimals, and whole units
/// unless the product is sold in fractional quantities.
pub fn real_stock(value: Decimal, fractional: bool, field: &str) -> Result<StockLevel, FieldError> {
    let level = StockLevel::parse(value, field)?;
    if !fractional && !level.value().fract().is_zero() {
        return Err(FieldError::new(
            field,
            "must be a whole number of units: this product is not sold in fractional quantities",
        ));
    }
    Ok(level)
}

/// An offer's price incl. VAT with its derived parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OfferPrice {
    pub price: Money,
    pub price_excl_vat: Money,
    pub vat_amount: Money,
}

impl OfferPrice {
    /// Splits a VAT-included price: `excl + vat == price` to the cent.
    pub fn new(price: Money, rate: VatRate) -> OfferPrice {
        OfferPrice {
            price,
            price_excl_vat: price_excl_vat(price, rate),
            vat_amount: vat_amount(price, rate),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn raw_decimals_name_their_field() {
        let n: RawDecimal = serde_json::from_str("2.50").unwrap();
        assert_eq!(n.parse("price").unwrap(), dec!(2.50));
        let t: RawDecimal = serde_json::from_str(r#""-1""#).unwrap();
        assert_eq!(t.parse("price").unwrap(), dec!(-1));
        let e: RawDecimal = serde_json::from_str("1e2").unwrap();
        assert_eq!(e.parse("price").unwrap(), dec!(100));
        let bad: RawDecimal = serde_json::from_str(r#""abc""#).unwrap();
        assert_eq!(bad.parse("price").unwrap_err().field, "price");
        let bad: RawDecimal = serde_json::from_str("true").unwrap();
        assert_eq!(bad.parse("real").unwrap_err().field, "real");
    }

    #[test]
    fn multi_weight_implies_variable_price() {
        let e = SaleFlags::parse(false, true, None).unwrap_err();
        assert_eq!(e[0].field, "variable_price");
        let f = SaleFlags::parse(true, true, None).unwrap();
        assert!(!f.fractional, "multi-weight units are whole");
        let e = SaleFlags::parse(true, true, Some(true)).unwrap_err();
        assert_eq!(e[0].field, "fractional");
    }

    #[test]
    fn fractional_defaults_to_variable_price() {
        assert!(SaleFlags::parse(true, false, None).unwrap().fractional);
        assert!(!SaleFlags::parse(false, false, None).unwrap().fractional);
        assert!(
            SaleFlags::parse(false, false, Some(true))
                .unwrap()
                .fractional
        );
        assert!(
            !SaleFlags::parse(true, false, Some(false))
                .unwrap()
                .fractional
        );
    }

    #[test]
    fn photo_urls() {
        assert!(photo_url(" https://img.example/p.jpg ", "photo_url").is_ok());
        assert!(photo_url("HTTP://img.example/p.jpg", "photo_url").is_ok());
        for bad in ["ftp://x", "https://", "img.jpg", "https://a b"] {
            assert_eq!(photo_url(bad, "photo_url").unwrap_err().field, "photo_url");
        }
        // A photo uploaded to this site, and nothing else of the site.
        let id = uuid::Uuid::new_v4();
        assert_eq!(
            photo_url(&uploaded_photo_url(id), "photo_url")
                .unwrap()
                .as_str(),
            format!("/images/{id}/affichage")
        );
        let simple = format!("/images/{}/affichage", id.simple());
        for bad in [
            "/images/x/affichage",
            "/images/../affichage",
            "/etc/passwd",
            &simple,
        ] {
            assert!(photo_url(bad, "photo_url").is_err(), "{bad}");
        }
    }

    #[test]
    fn offers_name_every_bad_field() {
        let raw = |v: &str| RawDecimal::Text(v.to_owned());
        let spec = OfferSpec::parse(" Sac ", &raw("10"), "kg", &raw("20"), Some(" ")).unwrap();
        assert_eq!(
            (spec.label.as_str(), spec.price.to_string()),
            ("Sac", "20.00".into())
        );
        assert_eq!(spec.reference, None);
        let errors = OfferSpec::parse("", &raw("0"), "kg", &raw("-1"), None).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["label", "quantity", "price"]);
    }

    #[test]
    fn real_stock_whole_unless_fractional() {
        assert_eq!(real_stock(dec!(3), false, "real").unwrap().value(), dec!(3));
        assert_eq!(
            real_stock(dec!(3.000), false, "real").unwrap().value(),
            dec!(3)
        );
        let e = real_stock(dec!(2.5), false, "real").unwrap_err();
        assert_eq!(e.field, "real");
        assert_eq!(
            real_stock(dec!(2.5), true, "real").unwrap().value(),
            dec!(2.5)
        );
        assert!(real_stock(dec!(-1), true, "real").is_err());
        assert!(real_stock(dec!(0), false, "real").is_ok());
    }

    #[test]
    fn guide_potatoes() {
        let rate = VatRate::parse(dec!(5.5), "rate").unwrap();
        let vrac = OfferPrice::new(Money::parse(dec!(2.50), "p").unwrap(), rate);
        assert_eq!(vrac.price_excl_vat.to_string(), "2.37");
        assert_eq!(vrac.vat_amount.to_string(), "0.13");
        let sac = OfferPrice::new(Money::parse(dec!(20), "p").unwrap(), rate);
        assert_eq!(sac.price_excl_vat.to_string(), "18.96");
        assert_eq!(sac.vat_amount.to_string(), "1.04");
    }
}
