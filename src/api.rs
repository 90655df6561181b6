//! HTTP and WebSocket transport: routes, the caller extractor, problem
//! documents, metrics middleware. Handlers parse input into domain types,
//! check the caller's role, then call the store or the engine; they hold no
//! SQL and no business rule of their own.
//!
//! Each resource module exposes `configure`, which registers its handlers
//! with `utoipa-actix-web`, so the OpenAPI document is collected from the
//! very routes that are served.

pub mod accounts;
pub mod after_sale;
pub mod auth;
pub mod board;
pub mod catalogs;
pub mod credentials;
pub mod dashboard;
pub mod distributions;
pub mod forwarding;
pub mod markets;
pub mod metrics;
pub mod my_orders;
pub mod offers;
pub mod orders;
pub mod pages;
pub mod participations;
pub mod problem;
pub mod producers;
pub mod products;
pub mod recaps;
pub mod request_span;
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

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, App, HttpRequest};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};

use problem::ApiError;

/// Every route under `/api/v1`. actix tries the routes in this order, each
/// dynamic one with a regex, so the rush's routes (orders, the shop) come
/// first: at the end of the list, routing took ~18 % of the engine's CPU
/// under a rush. Route patterns match whole paths, so the order changes no
/// route's meaning.
pub fn api_v1(cfg: &mut ServiceConfig) {
    orders::configure(cfg);
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

/// JSON bodies: size limit from the configuration; malformed → 400, too
/// large → 413, wrong content type → 415, wrong shape → 422 naming the field.
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
        JsonPayloadError::ContentType => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as `Content-Type: application/json`",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => shape_error(&e),
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request(format!("the body is not valid JSON: {e}"))
        }
        other => ApiError::bad_request(other.to_string()),
    }
}

/// A well-formed body of the wrong shape: name the field serde names.
fn shape_error(e: &serde_json::Error) -> ApiError {
    let message = e.to_string();
    let field = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"))
        .unwrap_or("body")
        .to_owned();
    ApiError::invalid_field(field, message)
}

/// Path segments that do not parse (an id that is not a UUID) → 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req: &HttpRequest| {
        ApiError::not_found(format!("no such resource ({err})")).into()
    })
}

/// Query strings that do not parse → 422.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req: &HttpRequest| {
        ApiError::invalid_field("query", err.to_string()).into()
    })
}

/// The OpenAPI document, collected from the registered routes.
pub fn openapi_document() -> OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .service(scope("/api/v1").configure(api_v1))
        .service(system::health)
        .service(system::ready)
        // Served by `ws::configure`; listed here so the document shows them.
        .service(ws::storefront::watch_distribution)
        .service(ws::producer::watch_producer)
        .service(ws::market::watch_market)
        .split_for_parts();
    doc.info = InfoBuilder::new()
        .title("etal")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Real-time ordering engine for producer markets. Errors are RFC 9457 problem \
             documents with a stable `code`; money and quantities are decimal strings.",
        ))
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}
