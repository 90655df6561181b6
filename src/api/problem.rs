//! RFC 9457 problem documents: every error the API returns is an
//! [`ApiError`], rendered as `application/problem+json` with a stable
//! snake_case `code` (see `docs/api.md`, "Conventions"). Handlers return
//! `Result<_, ApiError>`; store and engine errors convert into it here, so
//! no handler decides status codes for database trouble by itself.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use crate::domain::error::FieldError;
use crate::store::DbError;

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable machine-readable word (`insufficient_stock`, `invalid_field` …).
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    /// Extra members of the problem document (`errors`, `offers` …).
    pub extra: Map<String, Value>,
    /// Seconds for `Retry-After` (503 answers).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

/// The fields a 422 or a 409 names: the `detail` line ("field: reason;
/// …") and the `errors` array (`{field, reason}` each).
fn named_fields(errors: &[FieldError]) -> (String, Value) {
    let detail = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.reason))
        .collect::<Vec<_>>()
        .join("; ");
    let list = errors
        .iter()
        .map(|e| json!({"field": e.field, "reason": e.reason}))
        .collect();
    (detail, Value::Array(list))
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    /// Adds a member to the problem document.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// 400: the request could not be read at all (malformed JSON, bad header).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Bad request",
            detail,
        )
    }

    /// 422 naming one field and the reason.
    pub fn invalid_field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::invalid_fields(vec![FieldError::new(field, reason)])
    }

    /// 422 naming every invalid field.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let (detail, list) = named_fields(&errors);
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "Invalid field",
            detail,
        )
        .with("errors", list)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", what)
    }

    /// 409 `unknown_reference` for a well-formed field that names nothing
    /// (an e-mail no account has, a code no catalog has, another producer's
    /// offer): the request is valid, but the state of the data does not
    /// let it through. The field is named in `errors`. (Not 404: the
    /// resource of the path exists.)
    pub fn names_nothing(field: &str, reason: impl Into<String>) -> Self {
        Self::names_nothing_all(vec![FieldError::new(field, reason)])
    }

    /// [`ApiError::names_nothing`] for several fields.
    pub fn names_nothing_all(errors: Vec<FieldError>) -> Self {
        let (detail, list) = named_fields(&errors);
        Self::conflict_with("unknown_reference", detail).with("errors", list)
    }

    /// 409 for a business refusal with its own stable code.
    pub fn conflict_with(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::conflict_with("conflict", detail)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// 503 + `Retry-After`: the engine is overloaded.
    pub fn overloaded(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Overloaded",
            detail,
        );
        e.retry_after = Some(1);
        e
    }

    /// 503 + `Retry-After`: the database cannot be reached.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        );
        e.retry_after = Some(2);
        e
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "something went wrong on our side; it has been logged",
        )
    }

    /// The problem document's JSON body.
    pub fn body(&self) -> Value {
        let mut doc = Map::new();
        doc.insert(
            "type".into(),
            Value::String(format!(
                "https://etal.dev/problems/{}",
                self.code.replace('_', "-")
            )),
        );
        doc.insert("title".into(), Value::String(self.title.to_owned()));
        doc.insert("status".into(), Value::from(self.status.as_u16()));
        doc.insert("detail".into(), Value::String(self.detail.clone()));
        doc.insert("code".into(), Value::String(self.code.to_owned()));
        for (k, v) in &self.extra {
            doc.insert(k.clone(), v.clone());
        }
        Value::Object(doc)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        builder.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }

        builder.body(self.body().to_string())
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::invalid_fields(vec![e])
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::invalid_fields(errors)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::unavailable("the database is unreachable; try again shortly")
            }
            DbError::NotFound => Self::not_found("no such resource"),
            DbError::Conflict(detail) => Self::conflict(detail),
            DbError::Other(reason) => {
                tracing::error!(%reason, "database error");
                Self::internal()
            }
            fenced @ DbError::Fenced { .. } => {
                tracing::warn!(error = %fenced, "write refused: not the active engine any more");
                Self::unavailable("this node is no longer the ordering engine; try again shortly")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn invalid_fields_name_each_field() {
        let e = ApiError::invalid_fields(vec![
            FieldError::new("price", "must not be negative"),
            FieldError::new("lines[0].quantity", "must be greater than 0"),
        ]);
        let body = e.body();
        assert_eq!(body["status"], 422);
        assert_eq!(body["code"], "invalid_field");
        assert_eq!(body["errors"][1]["field"], "lines[0].quantity");
        assert!(e.detail.contains("price: must not be negative"));
    }

    #[test]
    fn overloaded_sets_retry_after_and_problem_content_type() {
        let resp = ApiError::overloaded("queue full").error_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            resp.headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        assert_eq!(
            resp.headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
        let bytes = resp.into_body().try_into_bytes().unwrap_or_default();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(v["code"], "overloaded");
    }
}
