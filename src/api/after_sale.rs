//! Producers' changes after the sale (guide ch. 7):
//!
//! - `PATCH /order-lines/{id}` `{quantity?, weight?, reason?}` — change or
//!   zero a line (stock problem; the customer is told), or weigh it; while
//!   the sale is open, only zeroing (the engine removes the line from the
//!   order, as a customer's change would);
//! - `GET /distributions/{id}/weighing?producer_id=[&include_weighed=true]`
//!   — the variable-price lines still to weigh ("pesée en masse");
//! - `POST /distributions/{id}/weighing` `{lines: [{line_id, weight}]}` —
//!   weighs many at once: all or nothing, 422 naming each bad entry.
//!
//! A producer only ever sees and changes its own catalogs' lines; another
//! producer's line answers 404, as if it did not exist.

use actix_web::{get, patch, post, web, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::order_problem::order_problem;
use super::problem::ApiError;
use super::state::AppState;
use crate::api::json::Json;
use crate::domain::decimal::parse_decimal;
use crate::domain::error::FieldError;
use crate::domain::money::Money;
use crate::domain::recap::RecapLine;
use crate::engine::after_sale::{AfterSaleError, LineChange};
use crate::store::after_sale::LineContext;

/// Most lines in one bulk weighing.
const MAX_WEIGHED: usize = 500;

/// Maps the engine's refusals to problem documents.
pub fn after_sale_problem(error: AfterSaleError) -> ApiError {
    match error {
        AfterSaleError::Invalid(errors) => ApiError::invalid_fields(errors),
        AfterSaleError::Refused(code, detail) => ApiError::conflict_with(code, detail),
        AfterSaleError::Stock(e) => order_problem(e),
        AfterSaleError::Db(e) => e.into(),
    }
}

/// A decimal from a JSON string or number, named by `field`.
fn decimal(value: &Value, field: &str) -> Result<Decimal, FieldError> {
    match value {
        Value::String(s) => parse_decimal(s, field),
        Value::Number(n) => parse_decimal(&n.to_string(), field),
        _ => Err(FieldError::new(field, "must be a decimal number")),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineChangeInput {
    /// New quantity (`0` removes the line).
    #[schema(value_type = Option<String>)]
    quantity: Option<Value>,
    /// Real weight, for variable-price products.
    #[schema(value_type = Option<String>)]
    weight: Option<Value>,
    /// Told to the customer with a quantity change.
    reason: Option<String>,
}

fn line_json(ctx: Option<&LineContext>, line_id: Uuid) -> Value {
    let Some(ctx) = ctx else {
        return json!({"line_id": line_id, "removed": true, "quantity": "0", "total": "0.00"});
    };
    let total = ctx.final_total.unwrap_or(ctx.unit_price * ctx.quantity);
    json!({
        "line_id": ctx.line_id, "order_id": ctx.order_id, "order_number": ctx.order_number,
        "offer_id": ctx.offer_id, "product_name": ctx.product_name, "label": ctx.label,
        "quantity": ctx.quantity.normalize().to_string(),
        "weight": ctx.weight.map(|w| w.normalize().to_string()),
        "unit_price": Money::from_rounded(ctx.unit_price).unwrap_or(Money::ZERO),
        "total": Money::from_rounded(total).unwrap_or(Money::ZERO),
        "delivered": ctx.delivered_at.is_some(),
        "removed": false,
    })
}

/// Changes a line of one of the caller's catalogs after the sale closed;
/// while it is open, only `quantity: 0` (the line leaves the order, its
/// stock comes back, the customer is told).
#[utoipa::path(tag = "after-sale", request_body = LineChangeInput,
    responses((status = 200, description = "the line after the change"),
        (status = 404), (status = 409, description = "sale_not_closed (a change other than 0 while the sale is open), delivered, distribution_validated, insufficient_stock, conflict"),
        (status = 422)),
    security(("bearer" = [])))]
#[patch("/order-lines/{id}")]
#[tracing::instrument(name = "change_order_line", skip_all, fields(line = %path))]
pub async fn change_order_line(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<LineChangeInput>,
) -> Result<web::Json<Value>, ApiError> {
    let line_id = *path;
    let ctx = state
        .store
        .line_context(line_id)
        .await?
        .filter(|c| caller.producer_role(c.producer_id).is_some())
        .ok_or_else(|| ApiError::not_found("no order line of yours with this id"))?;
    let mut errors = Vec::new();
    let mut read = |v: &Option<Value>, field| {
        v.as_ref()
            .and_then(|v| decimal(v, field).map_err(|e| errors.push(e)).ok())
    };
    let change = LineChange {
        quantity: read(&body.quantity, "quantity"),
        weight: read(&body.weight, "weight"),
        reason: body.reason.clone(),
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    state
        .engine
        .producer_change(&ctx, caller.account_id, change)
        .await
        .map_err(after_sale_problem)?;
    let now = state.store.line_context(line_id).await?;
    Ok(web::Json(line_json(now.as_ref(), line_id)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WeighingQuery {
    /// The producer whose lines to list.
    producer_id: Uuid,
    /// Also list lines already weighed.
    include_weighed: Option<bool>,
}

fn weighing_json(l: &RecapLine) -> Value {
    json!({
        "line_id": l.line_id, "order_id": l.order_id, "order_number": l.order_number,
        "customer_name": l.customer_name, "offer_id": l.offer_id,
        "product_name": l.product_name, "label": l.label,
        "offer_quantity": l.offer_quantity.normalize().to_string(), "unit": l.unit,
        "quantity": l.quantity.normalize().to_string(), "unit_price": l.unit_price,
        "weight": l.weight.map(|w| w.normalize().to_string()), "total": l.total(),
        "to_weigh": l.to_weigh(),
    })
}

/// Variable-price lines of a producer in a distribution, still to weigh.
#[utoipa::path(tag = "after-sale", params(WeighingQuery),
    responses((status = 200, description = "`{distribution_id, producer_id, lines}`"),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/distributions/{id}/weighing")]
#[tracing::instrument(name = "weighing_list", skip_all, fields(distribution = %path))]
pub async fn weighing_list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<WeighingQuery>,
) -> Result<web::Json<Value>, ApiError> {
    let distribution_id = *path;
    let distribution = state
        .store
        .recap_distributions(&[distribution_id])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("no distribution with this id"))?;
    if caller.producer_role(query.producer_id).is_none()
        && !caller.is_market_admin(distribution.market_id)
    {
        return Err(ApiError::forbidden(
            "only the producer's members and the market's admins see these lines",
        ));
    }
    let lines = state
        .store
        .weighing_lines(
            distribution_id,
            query.producer_id,
            query.include_weighed.unwrap_or(false),
        )
        .await?;
    Ok(web::Json(json!({
        "distribution_id": distribution_id,
        "producer_id": query.producer_id,
        "lines": lines.iter().map(weighing_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeighingInput {
    /// `[{line_id, weight}]`, weight as a decimal string or number.
    #[schema(value_type = Vec<Object>)]
    lines: Vec<Value>,
}

/// Weighs many lines of the caller's catalogs at once, all or nothing.
#[utoipa::path(tag = "after-sale", request_body = WeighingInput,
    responses((status = 200, description = "`{weighed}`: lines whose weight changed"),
        (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[post("/distributions/{id}/weighing")]
#[tracing::instrument(name = "bulk_weighing", skip_all, fields(distribution = %path))]
pub async fn bulk_weighing(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<WeighingInput>,
) -> Result<HttpResponse, ApiError> {
    let distribution_id = *path;
    if state
        .store
        .recap_distributions(&[distribution_id])
        .await?
        .is_empty()
    {
        return Err(ApiError::not_found("no distribution with this id"));
    }
    if body.lines.is_empty() || body.lines.len() > MAX_WEIGHED {
        return Err(ApiError::invalid_field(
            "lines",
            format!("must hold 1 to {MAX_WEIGHED} lines"),
        ));
    }
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    for (i, raw) in body.lines.iter().enumerate() {
        let line = raw
            .get("line_id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<Uuid>().ok());
        if line.is_none() {
            errors.push(FieldError::new(
                format!("lines[{i}].line_id"),
                "is required (an order line id)",
            ));
        }
        let field = format!("lines[{i}].weight");
        let weight = match raw.get("weight") {
            Some(v) => decimal(v, &field).map_err(|e| errors.push(e)).ok(),
            None => {
                errors.push(FieldError::new(field, "is required (a decimal number)"));
                None
            }
        };
        if let (Some(line), Some(weight)) = (line, weight) {
            entries.push((line, weight));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let producers: Vec<Uuid> = caller.producers.iter().map(|(id, _)| *id).collect();
    let weighed = state
        .engine
        .weigh_lines(distribution_id, caller.account_id, &producers, &entries)
        .await
        .map_err(after_sale_problem)?;
    Ok(HttpResponse::Ok().json(json!({"weighed": weighed})))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(change_order_line)
        .service(weighing_list)
        .service(bulk_weighing);
}
