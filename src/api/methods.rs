//! Requests no route takes: `405 Method Not Allowed` with an `Allow`
//! header when the path exists under another method (a `TRACE` or a
//! `PATCH` where only `GET` is served), else `404 no such route`.
//!
//! actix-web tries each `#[get]`/`#[post]` handler as a route of its own,
//! so a path served for one method falls through to the default service
//! for the others. The paths and methods come from the OpenAPI document
//! (every operation it lists is served), plus the few routes it does not
//! list.

use actix_web::dev::ResourceDef;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, ResponseError};
use serde_json::Value;

use super::openapi::METHODS;
use super::problem::ApiError;
use super::state::AppState;

/// Served routes outside the OpenAPI document, with their methods.
const UNLISTED: &[(&str, &str)] = &[
    ("/api/v1/openapi.json", "GET"),
    ("/metrics", "GET"),
    ("/shop/{id}", "GET"),
    ("/board/{id}", "GET"),
    ("/assets/{name}", "GET"),
];

/// Which methods each served path pattern answers.
#[derive(Debug, Default)]
pub struct MethodTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

impl MethodTable {
    /// The table of an OpenAPI document's paths (plus [`UNLISTED`]).
    pub fn from_document(doc: &Value) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<String>)> = Vec::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, item) in paths {
                let methods = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                routes.push((ResourceDef::new(path.as_str()), methods));
            }
        }
        for (path, method) in UNLISTED {
            routes.push((ResourceDef::new(*path), vec![(*method).to_owned()]));
        }
        Self { routes }
    }

    /// The methods served at `path` (every route matching it), sorted.
    pub fn allowed(&self, path: &str) -> Vec<String> {
        let mut methods: Vec<String> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        methods.sort();
        methods.dedup();
        methods
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_path_answers_the_union_of_its_operations() {
        let doc = json!({"paths": {
            "/api/v1/vat-rates/{id}": {"get": {}, "put": {}, "delete": {}},
            "/api/v1/producers": {"post": {}}
        }});
        let table = MethodTable::from_document(&doc);
        let id = "5b0f3c1e-8a6b-4c52-9d1e-3a2b1c0d9e8f";
        assert_eq!(
            table.allowed(&format!("/api/v1/vat-rates/{id}")),
            ["DELETE", "GET", "PUT"]
        );
        assert_eq!(table.allowed("/api/v1/producers"), ["POST"]);
        assert!(table.allowed("/api/v1/nothing").is_empty());
        assert_eq!(table.allowed("/metrics"), ["GET"]);
    }
}
