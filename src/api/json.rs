//! Reading request input that does not parse: JSON bodies, path ids and
//! query strings, each refused with a problem document that names the
//! field.
//!
//! [`Json`] replaces `web::Json` for request bodies: the same checks
//! (`Content-Type: application/json` → else 415, the configured size
//! limit → else 413, well-formed JSON → else 400), but a body of the
//! wrong shape is read through `serde_path_to_error`, so the 422 names the
//! exact field (`lines[2].offer_id`) rather than what serde's message
//! happens to say. A UUID field that is not a UUID says "not a valid id".

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::web::BytesMut;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use super::problem::ApiError;
use crate::domain::error::FieldError;

/// The reason given for an id (path segment or body field) that is not a UUID.
pub const NOT_A_VALID_ID: &str = "not a valid id";

/// The body size limit [`Json`] applies (put in the app data at start).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .map_or(BodyLimit(65_536).0, |l| l.0);
        let is_json = is_json(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(unsupported_media_type());
            }
            if declared.is_some_and(|length| length > limit) {
                return Err(ApiError::payload_too_large(limit));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::bad_request(format!("the body could not be read: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::payload_too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(Json)
        })
    }
}

/// `application/json` or any `+json` type (`application/merge-patch+json`).
fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Some(essence) = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
    else {
        return false;
    };
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// 415 for a body that is not declared as JSON.
pub fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "Unsupported media type",
        "send the body as `Content-Type: application/json`",
    )
}

/// Reads a body: 400 when it is not JSON at all, 422 naming the field
/// when it is JSON of the wrong shape.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(shape_error)?;
    deserializer
        .end()
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// The problem for a body that did not deserialize.
fn shape_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    if !error.inner().is_data() {
        return ApiError::bad_request(format!("the body is not valid JSON: {}", error.inner()));
    }
    let path = error.path().to_string();
    let parent = if path == "." { String::new() } else { path };
    let message = error.inner().to_string();
    // serde reports a missing or unknown field from the struct that lacks
    // it, so the path ends at that struct; the field's own name is in the
    // message only (`de::Error::missing_field`'s fixed wording).
    let (field, reason) = if let Some(name) = quoted_after(&message, "missing field `") {
        (join(&parent, &name), "is required".to_owned())
    } else if let Some(name) = quoted_after(&message, "unknown field `") {
        (
            join(&parent, &name),
            "is not a field of this request".to_owned(),
        )
    } else {
        (or_body(parent), without_position(&message))
    };
    ApiError::invalid_fields(vec![FieldError::new(field, reason)])
}

/// The text between `prefix` and the next backtick, if the message starts so.
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next().map(str::to_owned)
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

fn or_body(path: String) -> String {
    if path.is_empty() {
        "body".to_owned()
    } else {
        path
    }
}

/// serde_json's message without its " at line 1 column 17" suffix.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// `#[serde(deserialize_with = "crate::api::json::id")]` on a body's id
/// field: a hyphenated UUID, else "not a valid id".
pub fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    value
        .as_str()
        .and_then(parse_id)
        .ok_or_else(|| de::Error::custom(NOT_A_VALID_ID))
}

/// Same as [`id`] for an optional id (`null` or absent → `None`; pair it
/// with `#[serde(default)]`).
pub fn id_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Uuid>, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Null => Ok(None),
        value => value
            .as_str()
            .and_then(parse_id)
            .map(Some)
            .ok_or_else(|| de::Error::custom(NOT_A_VALID_ID)),
    }
}

/// A UUID in its hyphenated form (the only one the API writes and documents).
pub fn parse_id(text: &str) -> Option<Uuid> {
    (text.len() == 36).then(|| text.parse().ok()).flatten()
}

/// Path segments that do not parse (an id that is not a UUID): 404 — the
/// path names nothing — with the segment named in `errors`.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_err: PathError, req: &HttpRequest| path_error(req).into())
}

/// The problem for a path whose ids do not parse.
pub fn path_error(req: &HttpRequest) -> ApiError {
    let mut errors: Vec<FieldError> = req
        .match_info()
        .iter()
        .filter(|(_, value)| parse_id(value).is_none())
        .map(|(name, _)| FieldError::new(name, NOT_A_VALID_ID))
        .collect();
    if errors.is_empty() {
        errors.push(FieldError::new("path", "does not name a resource"));
    }
    let detail = errors
        .iter()
        .map(|e| format!("`{}` in the path is {}", e.field, e.reason))
        .collect::<Vec<_>>()
        .join("; ");
    let list: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| serde_json::json!({"field": e.field, "reason": e.reason}))
        .collect();
    ApiError::not_found(detail).with("errors", serde_json::Value::Array(list))
}

/// Query strings that do not parse → 422 naming the parameter.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req: &HttpRequest| {
        let QueryPayloadError::Deserialize(e) = &err else {
            return ApiError::invalid_field("query", err.to_string()).into();
        };
        let message = e.to_string();
        let error = if let Some(name) = quoted_after(&message, "missing field `") {
            FieldError::new(name, "is required")
        } else if let Some(name) = quoted_after(&message, "unknown field `") {
            FieldError::new(name, "is not a parameter of this request")
        } else {
            FieldError::new("query", message)
        };
        ApiError::invalid_fields(vec![error]).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Line {
        #[allow(dead_code)]
        #[serde(deserialize_with = "id")]
        offer_id: Uuid,
        #[allow(dead_code)]
        quantity: u32,
    }

    #[derive(Debug, Deserialize)]
    struct Order {
        #[allow(dead_code)]
        lines: Vec<Line>,
    }

    fn field_and_reason(body: &str) -> (String, String) {
        let error = parse::<Order>(body.as_bytes()).expect_err("refused");
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        let doc = error.body();
        (
            doc["errors"][0]["field"]
                .as_str()
                .unwrap_or_default()
                .into(),
            doc["errors"][0]["reason"]
                .as_str()
                .unwrap_or_default()
                .into(),
        )
    }

    const ID: &str = "5b0f3c1e-8a6b-4c52-9d1e-3a2b1c0d9e8f";

    #[test]
    fn an_id_that_is_not_a_uuid_is_named_and_said_so() {
        let body = format!(
            r#"{{"lines":[{{"offer_id":"{ID}","quantity":1}},{{"offer_id":"abc","quantity":1}}]}}"#
        );
        assert_eq!(
            field_and_reason(&body),
            ("lines[1].offer_id".into(), NOT_A_VALID_ID.into())
        );
        let body = r#"{"lines":[{"offer_id":12,"quantity":1}]}"#;
        assert_eq!(field_and_reason(body).0, "lines[0].offer_id");
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        let body = format!(r#"{{"lines":[{{"offer_id":"{ID}"}}]}}"#);
        assert_eq!(
            field_and_reason(&body),
            ("lines[0].quantity".into(), "is required".into())
        );
        assert_eq!(field_and_reason("{}").0, "lines");
    }

    #[test]
    fn a_wrong_type_names_the_field_without_serde_positions() {
        let body = format!(r#"{{"lines":[{{"offer_id":"{ID}","quantity":"x"}}]}}"#);
        let (field, reason) = field_and_reason(&body);
        assert_eq!(field, "lines[0].quantity");
        assert!(reason.starts_with("invalid type"), "{reason}");
        assert!(!reason.contains("line 1"), "{reason}");
        assert_eq!(field_and_reason("[]").0, "body");
    }

    #[test]
    fn malformed_json_is_a_400() {
        for body in ["{", r#"{"lines":[]} x"#, ""] {
            let error = parse::<Order>(body.as_bytes()).expect_err("refused");
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
        }
    }
}
