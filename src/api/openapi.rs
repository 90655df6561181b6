//! The OpenAPI document: collected by `utoipa-actix-web` from the very
//! routes that are served, then completed here with the answers that
//! follow from an operation's shape rather than from its handler, so no
//! operation can forget them:
//!
//! * a `security` requirement (a `Caller` extractor) → `401 unauthorized`;
//! * an id in the path → `404 not_found` (unknown, or not a valid id);
//! * a JSON body → `400` (not JSON), `413` (too large), `415` (not
//!   `application/json`) and `422` (a field named in `errors`);
//! * query parameters → `422`;
//! * under `/api/v1`, `503` + `Retry-After` (database unreachable or the
//!   engine overloaded).
//!
//! Every error answer (4xx/5xx) without a declared body gets the
//! `Problem` schema as `application/problem+json`, so a handler declares
//! only what is its own — `(status = 403)`, `(status = 409, description =
//! "vat_rate_in_use")` — and the document still says what comes back.
//! `docs/api.md` explains what an operation must declare to pass the
//! schemathesis run of the test suite.

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa_actix_web::{scope, AppExt};

use super::route_table::METHODS;
use super::{api_v1, system, ws};

/// The complete document, as served at `/api/v1/openapi.json`.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(collected()).unwrap_or_else(|_| json!({}));
    complete(&mut doc);
    doc
}

/// What `utoipa` collects from the routes.
fn collected() -> OpenApi {
    let (_, mut doc) = actix_web::App::new()
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
             documents with a stable `code`; money and quantities are decimal strings \
             (numbers are accepted on input). The contract in prose: docs/api.md.",
        ))
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}

/// Rules between the fields of a body, in JSON Schema, merged into the
/// collected schema of that name (the derive cannot say them).
fn field_rules() -> Vec<(&'static str, Value)> {
    vec![
        (
            // multi_weight ⇒ variable_price, and never fractional.
            "ProductInput",
            json!({"allOf": [{
                "if": {"properties": {"multi_weight": {"const": true}}, "required": ["multi_weight"]},
                "then": {
                    "properties": {"variable_price": {"const": true}, "fractional": {"not": {"const": true}}},
                    "required": ["variable_price"]
                }
            }]}),
        ),
        (
            // Stock has its own operation (`PUT /offers/{id}/stock`).
            "OfferUpdate",
            json!({"properties": {"stock": {"not": {}, "description": "refused: use PUT /offers/{id}/stock"}}}),
        ),
    ]
}

/// Operations whose valid bodies depend on more than JSON Schema can say
/// (the clock, other resources' state, ordering between fields): their
/// rules, in `x-etal-rules`. A schema-valid request may still get a 422
/// there; the schemathesis run checks every other property of them.
const BUSINESS_RULES: &[(&str, &str)] = &[
    ("create_distribution", "ends_at after starts_at; the order window opens before it closes, closes at the latest at ends_at; the distribution ends in the future"),
    ("update_distribution", "as for creation; an upcoming distribution only"),
    ("create_participation", "a custom window opens before it closes and within the distribution's"),
    ("update_participation", "a custom window opens before it closes and within the distribution's"),
    ("bulk_participate", "either `catalog_id` + `distribution_ids` or `items`; windows as for one participation"),
    ("place_order", "offers sold in this distribution; whole units unless the product is sold in fractions"),
    ("change_order", "offers sold in this distribution; whole units unless the product is sold in fractions"),
    ("change_order_line", "`quantity` or `weight` as the product allows; whole units unless fractional"),
    ("bulk_weighing", "lines of the caller's catalogs in this distribution, weighed products only"),
    ("producer_recap", "either `distribution_ids` or `date`; ids of the producer's catalogs"),
    ("distribution_recap", "`producer_id` required unless the caller administers the market"),
    ("set_offer_stock", "whole units unless the product is sold in fractions"),
    ("create_offer", "initial stock in whole units unless the product is sold in fractions"),
];

/// Operations with a field that may name nothing (an e-mail, a code, an
/// id of another resource): `409 unknown_reference`
/// ([`super::problem::ApiError::names_nothing`]).
const UNKNOWN_REFERENCE: &[&str] = &[
    "list_stocks",
    "create_catalog",
    "replace_catalog",
    "create_offer",
    "update_offer",
    "link_catalog",
    "add_member",
    "add_admin",
    "create_participation",
    "bulk_participate",
];

/// Adds the answers every operation of a kind gives, and the `Problem` schema.
pub fn complete(doc: &mut Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components")
        .and_then(Value::as_object_mut)
        .map(|c| c.entry("schemas").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    {
        schemas.insert("Problem".into(), problem_schema());
        for (name, rules) in field_rules() {
            if let Some(schema) = schemas.get_mut(name) {
                merge(schema, rules);
            }
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let under_api = path.starts_with("/api/v1/");
        for method in METHODS {
            if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) {
                if path.starts_with("/ws/") {
                    websocket_handshake(operation);
                }
                complete_operation(operation, under_api);
                let id = operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let id = id.as_deref();
                if id == Some("link_catalog") {
                    // The link answered names the catalog to unlink (schemathesis's
                    // guess from the names alone picked any catalog id).
                    operation["responses"]["201"]["links"] = json!({"Unlink": {
                        "operationId": "unlink_catalog",
                        "parameters": {"id": "$request.path.id", "catalog_id": "$response.body#/catalog_id"}
                    }});
                }
                if id.is_some_and(|id| UNKNOWN_REFERENCE.contains(&id)) {
                    add_unknown_reference(operation);
                }
                if let Some((_, rules)) = BUSINESS_RULES.iter().find(|(op, _)| Some(*op) == id) {
                    operation.insert("x-etal-rules".into(), Value::String((*rules).to_owned()));
                }
            }
        }
    }
}

/// A live feed's `GET` is a WebSocket handshake (RFC 6455, as actix-http
/// checks it): its headers are required parameters, and a request without
/// them is refused with 400.
fn websocket_handshake(operation: &mut Map<String, Value>) {
    let header = |name: &str, pattern: &str, description: &str| {
        json!({"name": name, "in": "header", "required": true, "description": description,
               "schema": {"type": "string", "pattern": pattern}})
    };
    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
    if let Some(list) = parameters.as_array_mut() {
        list.extend([
            header(
                "Upgrade",
                "[Ww][Ee][Bb][Ss][Oo][Cc][Kk][Ee][Tt]",
                "contains `websocket`",
            ),
            header(
                "Connection",
                "^[ \t]*[Uu][Pp][Gg][Rr][Aa][Dd][Ee][ \t]*$",
                "`Upgrade`",
            ),
            header("Sec-WebSocket-Version", "^13$", "13"),
            header(
                "Sec-WebSocket-Key",
                "^[A-Za-z0-9+/]{21}[AQgw]==$",
                "16 random bytes in base64",
            ),
        ]);
    }
    if let Some(responses) = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        responses
            .entry("400")
            .or_insert_with(|| json!({"description": "`bad_request`: not a WebSocket handshake"}));
    }
}

/// Documents `409 unknown_reference` beside the operation's own 409s.
fn add_unknown_reference(operation: &mut Map<String, Value>) {
    let text = "`unknown_reference`: a field names nothing (named in `errors`)";
    if let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    {
        let response = responses
            .entry("409")
            .or_insert_with(|| json!({"description": ""}));
        let description = response["description"].as_str().unwrap_or_default();
        response["description"] = Value::String(if description.is_empty() {
            text.to_owned()
        } else {
            format!("{description}; {text}")
        });
    }
}

/// Merges `extra` into `target`: objects key by key, anything else replaced.
fn merge(target: &mut Value, extra: Value) {
    match (target, extra) {
        (Value::Object(target), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, extra) => *target = extra,
    }
}

/// The answers that follow from one operation's shape.
fn complete_operation(operation: &mut Map<String, Value>, under_api: bool) {
    let parameters = operation
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has_param_in = |place: &str| parameters.iter().any(|p| p["in"] == place);
    let secured = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|alternatives| {
            !alternatives.is_empty()
                && alternatives
                    .iter()
                    .all(|a| a.as_object().is_some_and(|a| !a.is_empty()))
        });
    let has_body = operation.contains_key("requestBody");

    let mut common: Vec<(&str, &str)> = Vec::new();
    if secured {
        common.push((
            "401",
            "`unauthorized`: no bearer token, or one that is unknown, expired or revoked",
        ));
    }
    if has_param_in("path") {
        common.push((
            "404",
            "`not_found`: nothing has this id, or an id in the path is not a valid id \
             (named in `errors`)",
        ));
    }
    if has_body {
        common.extend([
            ("400", "`bad_request`: the body is not valid JSON"),
            (
                "413",
                "`payload_too_large`: the body is over `server.body_limit_bytes`",
            ),
            (
                "415",
                "`unsupported_media_type`: the body is not sent as `application/json`",
            ),
        ]);
    }
    if has_body || has_param_in("query") {
        common.push((
            "422",
            "`invalid_field`: every invalid field named in `errors` (`field`, `reason`)",
        ));
    }
    if under_api {
        common.push((
            "503",
            "`unavailable` or `overloaded`: the database is unreachable or the engine is \
             busy; retry after `Retry-After` seconds",
        ));
    }

    let responses = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else {
        return;
    };
    for (status, description) in common {
        let response = responses
            .entry(status)
            .or_insert_with(|| json!({"description": ""}));
        if response["description"].as_str().is_some_and(str::is_empty) {
            response["description"] = Value::String(description.to_owned());
        }
    }
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && !response.contains_key("content") {
            response.insert(
                "content".into(),
                json!({"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}
                }}),
            );
        }
        if status == "503" {
            response.insert(
                "headers".into(),
                json!({"Retry-After": {
                    "description": "seconds to wait before retrying",
                    "schema": {"type": "integer", "minimum": 0}
                }}),
            );
        }
        if response
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(str::is_empty)
        {
            let text = default_description(status);
            response.insert("description".into(), Value::String(text.to_owned()));
        }
    }
}

/// A description for an answer declared without one.
fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "created",
        "204" => "done; no content",
        "400" => "`bad_request`",
        "403" => "`forbidden`: the caller's roles do not allow this",
        "404" => "`not_found`",
        "409" => "`conflict`: a business rule refused the change",
        "422" => "`invalid_field`: every invalid field named in `errors`",
        _ => "see the problem document's `code`",
    }
}

/// RFC 9457 problem document, with the members this API adds.
fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem document (`application/problem+json`).",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "description": "https://etal.dev/problems/<code>"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "code": {
                "type": "string",
                "description": "stable snake_case word: `invalid_field`, `not_found`, \
                                `insufficient_stock` …"
            },
            "errors": {
                "type": "array",
                "description": "the invalid fields (422, and 404 for a path id)",
                "items": {
                    "type": "object",
                    "required": ["field", "reason"],
                    "properties": {
                        "field": {"type": "string", "example": "lines[0].offer_id"},
                        "reason": {"type": "string", "example": "not a valid id"}
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(doc: &Value, path: &str, method: &str) -> Value {
        doc["paths"][path][method].clone()
    }

    #[test]
    fn secured_operations_with_a_path_id_and_a_body_list_every_common_answer() {
        let doc = document();
        let op = operation(&doc, "/api/v1/producers/{id}/vat-rates", "post");
        for status in ["401", "404", "400", "413", "415", "422", "503"] {
            let answer = &op["responses"][status];
            assert!(answer.is_object(), "{status} missing: {op}");
            assert_eq!(
                answer["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem"
            );
            assert!(answer["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()));
        }
        assert!(op["responses"]["503"]["headers"]["Retry-After"].is_object());
        assert!(doc["components"]["schemas"]["Problem"].is_object());
    }

    #[test]
    fn public_operations_get_no_401_and_bodiless_ones_no_415() {
        let doc = document();
        let share = operation(&doc, "/api/v1/catalogs/by-code/{code}", "get");
        assert!(share["responses"]["401"].is_null(), "{share}");
        assert!(share["responses"]["415"].is_null(), "{share}");
        // The shop reads an optional token (a signed-in customer sees its
        // basket), so a bad one is a 401 there — and it has no body.
        let shop = operation(&doc, "/api/v1/distributions/{id}/shop", "get");
        assert!(shop["responses"]["401"].is_object(), "{shop}");
        assert!(shop["responses"]["415"].is_null(), "{shop}");
        assert!(shop["responses"]["404"].is_object());
        let health = operation(&doc, "/health", "get");
        assert!(health["responses"]["503"].is_null());
    }

    #[test]
    fn required_query_parameters_are_marked_required() {
        let doc = document();
        let directory = operation(&doc, "/api/v1/directory/markets", "get");
        let required: Vec<&str> = directory["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(required, ["lat", "lng"], "{directory}");
    }
}
