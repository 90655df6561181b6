//! Requests no route takes: `405 Method Not Allowed` with an `Allow`
//! header when the path exists under another method (a `TRACE` or a
//! `PATCH` where only `GET` is served), else `404 no such route`.
//!
//! actix-web tries each `#[get]`/`#[post]` handler as a route of its own,
//! so a path served for one method falls through to the default service
//! for the others. The paths and methods come from the OpenAPI document
//! (every operation it lists is served), plus the few routes it does not
//! list ([`super::route_table`]).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, ResponseError};

use super::problem::ApiError;
use super::state::AppState;

/// The default service: 405 + `Allow` for a known path, else 404.
pub async fn unmatched(req: HttpRequest) -> actix_web::HttpResponse {
    let allowed = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.routes.allowed(req.path()))
        .unwrap_or_default();
    if allowed.is_empty() || allowed.iter().any(|m| m == req.method().as_str()) {
        return ApiError::not_found("no such route").error_response();
    }
    let allow = allowed.join(", ");
    let mut answer = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
        format!(
            "{} is not served here; this path answers {allow}",
            req.method()
        ),
    )
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        answer.headers_mut().insert(header::ALLOW, value);
    }
    answer
}
