//! The real constraints of input fields, for the OpenAPI document
//! (`#[schema(schema_with = schema::name)]`), written once beside the
//! domain parser each one mirrors. A schema here must accept exactly what
//! the parser accepts: the schemathesis run of the test suite sends values
//! the schema allows (they must not be refused with 422) and values it
//! forbids (they must be refused).
//!
//! Character classes are spelled out (`[0-9]`, not `\d`; the blanks Rust's
//! `trim` removes, not `\s`) because regex flavours disagree on them.

use serde_json::{json, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Object, RefOr};

use crate::domain::account::{Email, Password};
use crate::domain::text::Name;

/// A blank Rust's `trim` removes (Unicode `White_Space`).
const BLANK: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// No control character (Rust's `char::is_control`: Unicode `Cc`).
const NO_CONTROL: &str = r"[^\u0000-\u001f\u007f-\u009f]";
/// Neither a control character nor a blank.
const VISIBLE: &str =
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Anything but the control characters a description refuses (tabs and
/// line breaks are welcome).
const TEXT: &str = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]";

fn from_json(value: Value) -> RefOr<Schema> {
    serde_json::from_value::<Schema>(value)
        .map(RefOr::T)
        .unwrap_or_else(|_| RefOr::T(Schema::Object(Object::new())))
}

/// One line of text ([`crate::domain::text::ShortText`]): at most `max`
/// characters as typed; once trimmed, not empty and without control
/// characters.
pub fn line_schema(max: usize) -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": max,
        "pattern": format!("^{BLANK}*{NO_CONTROL}*{VISIBLE}{NO_CONTROL}*{BLANK}*$"),
    })
}

/// An optional line: `null`, blank (taken as absent) or a line of at most
/// `max` characters.
pub fn optional_line_schema(max: usize) -> Value {
    json!({
        "type": ["string", "null"],
        "maxLength": max,
        "pattern": format!("^{BLANK}*{NO_CONTROL}*{BLANK}*$"),
    })
}

/// Multi-line text ([`crate::domain::text::LongText`]), optional: at most
/// `max` characters; tabs and line breaks allowed, other control
/// characters not.
pub fn text_schema(max: usize) -> Value {
    json!({
        "type": ["string", "null"],
        "maxLength": max,
        "pattern": format!("^{BLANK}*{TEXT}*{BLANK}*$"),
    })
}

/// A name of a person, producer, market, product or catalog.
pub fn name() -> RefOr<Schema> {
    from_json(line_schema(Name::MAX_LEN))
}

/// A VAT rate's name, a product's category (100 characters).
pub fn line100() -> RefOr<Schema> {
    from_json(line_schema(100))
}

/// A unit ("kg", "pièce"): 32 characters.
pub fn line32() -> RefOr<Schema> {
    from_json(line_schema(32))
}

/// An address or a place: 500 characters.
pub fn line500() -> RefOr<Schema> {
    from_json(line_schema(500))
}

/// An optional place: 500 characters.
pub fn optional_line500() -> RefOr<Schema> {
    from_json(optional_line_schema(500))
}

/// An optional reference: 100 characters.
pub fn optional_line100() -> RefOr<Schema> {
    from_json(optional_line_schema(100))
}

/// A photo's address ([`crate::domain::offer::photo_url`]): blank, `null`,
/// an absolute `http(s)://` URL without blanks (2048 characters), or the
/// path of a photo uploaded through the web pages (`/images/{id}/affichage`).
pub fn photo_url() -> RefOr<Schema> {
    let uploaded = "/images/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/affichage";
    from_json(json!({
        "type": ["string", "null"],
        "maxLength": 2048,
        "pattern": format!("^{BLANK}*([Hh][Tt][Tt][Pp][Ss]?://{VISIBLE}+|{uploaded})?{BLANK}*$"),
        "example": "https://photos.example/poulet.jpg",
    }))
}

/// An optional one-line description: 2000 characters.
pub fn optional_line2000() -> RefOr<Schema> {
    from_json(optional_line_schema(2000))
}

/// An optional description: 2000 characters, line breaks allowed.
pub fn text2000() -> RefOr<Schema> {
    from_json(text_schema(2000))
}

/// The role of a member added to a producer's space: `collaborator` only.
pub fn collaborator_role() -> RefOr<Schema> {
    from_json(json!({"type": "string", "enum": ["collaborator"]}))
}

/// An e-mail address ([`Email`]).
pub fn email() -> RefOr<Schema> {
    from_json(json!({
        "type": "string",
        "format": "email",
        "maxLength": Email::MAX_LEN,
        "example": "lea@example.org",
    }))
}

/// A new password ([`Password`]): 8..=128 characters, kept as typed.
pub fn password() -> RefOr<Schema> {
    from_json(json!({
        "type": "string",
        "minLength": Password::MIN_LEN,
        "maxLength": Password::MAX_LEN,
        "format": "password",
    }))
}

/// A decimal as text (`"2.50"`) or as a JSON number: `pattern` is the
/// text form (digits, a point, at most a few trailing zeros), `number` the
/// range and step of the number form.
fn decimal(pattern: &str, number: Value, description: &str) -> RefOr<Schema> {
    from_json(decimal_schema(pattern, number, description))
}

fn decimal_schema(pattern: &str, number: Value, description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [
            {"type": "string", "pattern": pattern, "example": "2.5"},
            number,
        ],
    })
}

/// `schema` or `null`.
fn or_null(mut schema: Value) -> Value {
    if let Some(any) = schema.get_mut("anyOf").and_then(Value::as_array_mut) {
        any.push(json!({"type": "null"}));
    }
    schema
}

const PERCENT_TEXT: &str = r"^(100(\.0{1,10})?|[0-9]{1,2}(\.[0-9]{1,2}0{0,10})?)$";
const MONEY_TEXT: &str = r"^[0-9]{1,9}(\.[0-9]{1,2}0{0,10})?$";

fn percent_number() -> Value {
    json!({"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.01})
}

fn money_number() -> Value {
    json!({"type": "number", "minimum": 0, "maximum": 999_999_999.99, "multipleOf": 0.01})
}

/// A percentage or `null` (the default applies).
pub fn percent_or_null() -> RefOr<Schema> {
    from_json(or_null(decimal_schema(
        PERCENT_TEXT,
        percent_number(),
        "percent, 0 to 100, at most 2 decimals; null for the default",
    )))
}

/// An amount in euros or `null` (none).
pub fn money_or_null() -> RefOr<Schema> {
    from_json(or_null(decimal_schema(
        MONEY_TEXT,
        money_number(),
        "euros, VAT included, at most 2 decimals; null for none",
    )))
}

/// A latitude in degrees.
pub fn latitude() -> RefOr<Schema> {
    from_json(json!({"type": "number", "minimum": -90, "maximum": 90, "example": 45.77}))
}

/// A longitude in degrees.
pub fn longitude() -> RefOr<Schema> {
    from_json(json!({"type": "number", "minimum": -180, "maximum": 180, "example": 4.83}))
}

/// A usual weekday ([`crate::domain::market::Weekday`]): ISO number 1..7
/// (Monday = 1), as a number or text, or a day name in English or French
/// (`"thursday"`, `"jeudi"`, `"thu"`), any case; `null` for none.
pub fn weekday_or_null() -> RefOr<Schema> {
    let names = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ];
    let any_case = |word: &str| -> String {
        word.chars()
            .map(|c| format!("[{}{}]", c, c.to_ascii_uppercase()))
            .collect()
    };
    let words: Vec<String> = names.iter().map(|n| any_case(n)).collect();
    from_json(json!({
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": 7},
            {"type": "string", "pattern": format!("^{BLANK}*([+]?0*[1-7]|{}){BLANK}*$", words.join("|"))},
            {"type": "null"},
        ],
        "example": 4,
    }))
}

/// A weekday in a query: as [`weekday_or_null`], text only.
pub fn weekday() -> RefOr<Schema> {
    let mut schema = serde_json::to_value(weekday_or_null()).unwrap_or_default();
    if let Some(any) = schema.get_mut("anyOf").and_then(Value::as_array_mut) {
        any.retain(|s| s["type"] != "null");
    }
    from_json(schema)
}

/// A search radius in kilometres: over 0, at most half the Earth's circumference.
pub fn radius_km() -> RefOr<Schema> {
    from_json(json!({"type": "number", "exclusiveMinimum": 0, "maximum": 20_040}))
}

/// How many results: 1 to 100.
pub fn limit() -> RefOr<Schema> {
    from_json(json!({"type": "integer", "minimum": 1, "maximum": 100}))
}

/// Which recap: `product` (default) or `customer`.
pub fn recap_view() -> RefOr<Schema> {
    from_json(json!({"type": "string", "enum": ["product", "customer"]}))
}

/// How a recap is written: `json` (default), `csv` or `html`.
pub fn recap_format() -> RefOr<Schema> {
    from_json(json!({"type": "string", "enum": ["json", "csv", "html"]}))
}

/// Comma-separated ids.
pub fn id_list() -> RefOr<Schema> {
    let id = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    from_json(json!({"type": "string", "pattern": format!("^{id}(,{id})*$")}))
}

/// A local date, `2023-09-09`.
pub fn date() -> RefOr<Schema> {
    from_json(json!({"type": "string", "format": "date", "example": "2023-09-09"}))
}

/// An IANA time zone, exactly as chrono-tz names it; `null` for Europe/Paris.
pub fn timezone_or_null() -> RefOr<Schema> {
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    from_json(json!({
        "type": ["string", "null"],
        "enum": names.into_iter().map(Value::from).chain([Value::Null]).collect::<Vec<_>>(),
        "example": "Europe/Paris",
    }))
}

/// An instant (RFC 3339 with an offset), required.
pub fn date_time() -> RefOr<Schema> {
    from_json(
        json!({"type": "string", "format": "date-time", "example": "2027-09-16T17:00:00+02:00"}),
    )
}

/// An instant, or `null`/absent for the default.
pub fn date_time_or_null() -> RefOr<Schema> {
    from_json(
        json!({"type": ["string", "null"], "format": "date-time", "example": "2027-09-16T17:00:00+02:00"}),
    )
}

/// An id (a hyphenated UUID).
pub fn id() -> RefOr<Schema> {
    from_json(json!({"type": "string", "format": "uuid"}))
}

/// A catalog's code ([`crate::domain::market::CatalogCode`]): 4 to 10
/// digits, as text or as a number.
pub fn catalog_code() -> RefOr<Schema> {
    from_json(json!({
        "anyOf": [
            {"type": "string", "pattern": format!("^{BLANK}*[0-9]{{4,10}}{BLANK}*$")},
            {"type": "integer", "minimum": 1000, "maximum": 9_999_999_999_u64},
        ],
        "example": "482913",
    }))
}

/// A percentage ([`crate::domain::percent::Percent`]): 0 to 100, at most 2 decimals.
pub fn percent() -> RefOr<Schema> {
    decimal(
        PERCENT_TEXT,
        percent_number(),
        "percent, 0 to 100, at most 2 decimals: \"5.5\" or 5.5",
    )
}

/// An amount in euros ([`crate::domain::money::Money`]): 0 to 999,999,999.99.
pub fn money() -> RefOr<Schema> {
    decimal(
        MONEY_TEXT,
        money_number(),
        "euros, VAT included, at most 2 decimals: \"2.50\" or 2.5",
    )
}

/// A quantity ([`crate::domain::quantity::Quantity`]): over 0, at most
/// 1,000,000, at most 3 decimals (whole units unless the product is sold
/// in fractions: that depends on the product, and is refused with 422).
pub fn quantity() -> RefOr<Schema> {
    decimal(
        r"^(1000000(\.0{1,10})?|[1-9][0-9]{0,5}(\.[0-9]{1,3}0{0,10})?|0\.[0-9]{0,2}[1-9]0{0,10})$",
        json!({"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000, "multipleOf": 0.001}),
        "quantity over 0, at most 3 decimals: \"1.5\" or 1.5",
    )
}

/// A real stock level ([`crate::domain::quantity::StockLevel`]): 0 to
/// 1,000,000,000, at most 3 decimals.
pub fn stock_level() -> RefOr<Schema> {
    decimal(
        r"^(1000000000(\.0{1,10})?|[0-9]{1,9}(\.[0-9]{1,3}0{0,10})?)$",
        json!({"type": "number", "minimum": 0, "maximum": 1_000_000_000, "multipleOf": 0.001}),
        "stock, 0 or more, at most 3 decimals: \"12\" or 12",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_converts_to_utoipa() {
        for schema in [
            name(),
            line32(),
            line100(),
            line500(),
            text2000(),
            email(),
            password(),
            percent(),
            money(),
            quantity(),
            stock_level(),
        ] {
            let back = serde_json::to_value(&schema).unwrap_or_default();
            assert!(
                back.get("type").is_some() || back.get("anyOf").is_some(),
                "lost in conversion: {back}"
            );
        }
        let line = serde_json::to_value(name()).unwrap_or_default();
        assert_eq!(line["maxLength"], 100);
        assert!(line["pattern"].as_str().is_some());
        let rate = serde_json::to_value(percent()).unwrap_or_default();
        assert_eq!(rate["anyOf"][1]["maximum"], 100.0);
    }
}
