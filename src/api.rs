//! HTTP and WebSocket transport: routes, the caller extractor, problem
//! documents, metrics middleware. Handlers parse input into domain types,
//! check the caller's role, then call the store or the engine; they hold no
//! SQL and no business rule of their own.
//!
//! Each resource module exposes `configure`, which registers its handlers
//! with `utoipa-actix-web`, so the OpenAPI document is collected from the
//! very routes that are served ([`openapi`] completes it with the answers
//! common to operations of a kind). Input that does not parse — bodies,
//! path ids, query strings — is refused in [`json`]; requests no route
//! takes in [`methods`] (405 or 404).

pub mod accounts;
pub mod admission;
pub mod after_sale;
pub mod auth;
pub mod board;
pub mod carts;
pub mod catalogs;
pub mod credentials;
pub mod dashboard;
pub mod distributions;
pub mod forwarding;
pub mod json;
pub mod markets;
pub mod methods;
pub mod metrics;
pub mod my_orders;
pub mod offers;
pub mod openapi;
pub mod order_problem;
pub mod orders;
pub mod pages;
pub mod participations;
pub mod problem;
pub mod producers;
pub mod products;
pub mod recaps;
pub mod request_span;
pub mod route_table;
pub mod schema;
pub mod settlement;
pub mod shop;
pub mod state;
pub mod storefront;
pub mod system;
pub mod upgraded;
pub mod validate;
pub mod vat_rates;
pub mod webapp;
pub mod ws;

use actix_web::error::JsonPayloadError;
use actix_web::{web, HttpRequest};
use utoipa_actix_web::service_config::ServiceConfig;

use problem::ApiError;

/// Every route under `/api/v1`. actix tries the routes in this order, each
/// dynamic one with a regex, so the rush's routes (orders, the shop) come
/// first: at the end of the list, routing took ~18 % of the engine's CPU
/// under a rush. Route patterns match whole paths, so the order changes no
/// route's meaning.
pub fn api_v1(cfg: &mut ServiceConfig) {
    orders::configure(cfg);
    carts::configure(cfg);
    admission::configure(cfg);
    shop::configure(cfg);
    accounts::configure(cfg);
    producers::configure(cfg);
    vat_rates::configure(cfg);
    products::configure(cfg);
    offers::configure(cfg);
    catalogs::configure(cfg);
    markets::configure(cfg);
    distributions::configure(cfg);
    participations::configure(cfg);
    dashboard::configure(cfg);
    recaps::configure(cfg);
    after_sale::configure(cfg);
    settlement::configure(cfg);
    storefront::configure(cfg);
    my_orders::configure(cfg);
    board::configure(cfg);
}

/// `web::Json` bodies (handlers take [`json::Json`], which names the
/// field; this keeps any `web::Json` left to the same problem documents):
/// malformed → 400, too large → 413, wrong content type → 415, wrong
/// shape → 422.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req: &HttpRequest| json_error(err, limit).into())
}

fn json_error(err: JsonPayloadError, limit: usize) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::payload_too_large(limit)
        }
        JsonPayloadError::ContentType => json::unsupported_media_type(),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::invalid_field("body", e.to_string())
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request(format!("the body is not valid JSON: {e}"))
        }
        other => ApiError::bad_request(other.to_string()),
    }
}
