//! Customers' orders: place (or add to) the order of a distribution, read,
//! change and cancel it. Input is parsed here; every rule of the sale is the
//! engine's (see `engine::ordering`), whose refusals become problem
//! documents in [`super::order_problem`].

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::admission::admission_ticket;
use super::auth::Caller;
use super::order_problem::order_problem;
use super::problem::ApiError;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::error::FieldError;
use crate::domain::offer::RawDecimal;
use crate::domain::order::{OrderStatus, OrderView};
use crate::domain::sale::{OrderChange, RequestedLine};
use crate::engine::idempotency::IdempotencyKey;
use crate::engine::ordering::Customer;
use crate::store::sale::OrderRecord;

/// Most lines in one request.
const MAX_LINES: usize = 200;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct OrderInput {
    /// 1 to 200 lines; an offer may appear once.
    #[schema(min_items = 1, max_items = 200)]
    lines: Vec<LineInput>,
}

/// One line: an offer of the distribution and how many (orders and baskets).
#[derive(Deserialize, Serialize, ToSchema)]
pub struct LineInput {
    /// Read as text so every bad line is named at once.
    #[schema(schema_with = crate::api::schema::id)]
    offer_id: String,
    /// Whole units unless the product is sold in fractions.
    #[schema(schema_with = crate::api::schema::quantity)]
    quantity: RawDecimal,
}

/// Parses the lines of an order or a basket, naming every bad field.
pub(super) fn parse_lines(input: &[LineInput]) -> Result<Vec<RequestedLine>, ApiError> {
    if input.len() > MAX_LINES {
        return Err(ApiError::invalid_field(
            "lines",
            format!("at most {MAX_LINES} lines per request"),
        ));
    }
    let mut check = Collect::default();
    let lines: Vec<RequestedLine> = input
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let offer_id = crate::api::json::parse_id(&line.offer_id);
            if offer_id.is_none() {
                check.push(FieldError::new(
                    format!("lines[{i}].offer_id"),
                    crate::api::json::NOT_A_VALID_ID,
                ));
            }
            let quantity = check.field(line.quantity.parse(&format!("lines[{i}].quantity")));
            Some(RequestedLine {
                offer_id: offer_id?,
                quantity: quantity?,
            })
        })
        .collect();
    check.finish()?;
    Ok(lines)
}

/// The `Idempotency-Key` of a request, bound to the caller and the request.
fn idempotency_key(
    req: &HttpRequest,
    caller: &Caller,
    scope: Uuid,
    body: &OrderInput,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            )
        })?;
    let mut hasher = Sha256::new();
    hasher.update(scope.as_bytes());
    hasher.update(serde_json::to_vec(&body.lines).unwrap_or_default());
    Ok(Some(IdempotencyKey {
        account_id: caller.account_id,
        key: key.to_owned(),
        request_hash: hasher.finalize().to_vec(),
    }))
}

/// The caller as the engine knows them, with their waiting-room ticket.
fn customer(caller: &Caller, req: &HttpRequest) -> Result<Customer, ApiError> {
    Ok(Customer {
        id: caller.account_id,
        name: caller.name.clone(),
        admission_ticket: admission_ticket(req)?,
    })
}

/// Places an order, or adds lines to the caller's order in this distribution.
#[utoipa::path(tag = "orders", request_body = OrderInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 200, pattern = "^[!-~]([ -~]{0,198}[!-~])?$",
        description = "1 to 200 visible ASCII characters; retries with the same key return the first answer"),
        ("Admission-Ticket" = Option<Uuid>, Header,
        description = "the caller's waiting-room ticket, needed (admitted) while the sale's waiting room is active")),
    responses((status = 201, description = "the order after the change"),
        (status = 409, description = "insufficient_stock, sale_not_open, sale_closed, not_admitted (the waiting room is active and the caller is not admitted: `position`, `estimated_wait_s`)"),
        (status = 422), (status = 404), (status = 503)),
    security(("bearer" = [])))]
#[post("/distributions/{id}/orders")]
#[tracing::instrument(name = "place_order", skip_all, fields(distribution = %path, account = %caller.account_id))]
pub async fn place_order(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    req: HttpRequest,
    body: Json<OrderInput>,
) -> Result<HttpResponse, ApiError> {
    let distribution_id = *path;
    let lines = parse_lines(&body.lines)?;
    let key = idempotency_key(&req, &caller, distribution_id, &body)?;
    let view = state
        .engine
        .change_order(
            distribution_id,
            customer(&caller, &req)?,
            OrderChange::Add(lines),
            key,
        )
        .await
        .map_err(order_problem)?;
    Ok(HttpResponse::Created().json(view))
}

/// The caller's order, owned orders only.
async fn own_order(state: &AppState, caller: &Caller, id: Uuid) -> Result<OrderRecord, ApiError> {
    state
        .store
        .order_record(id)
        .await?
        .filter(|o| o.order.customer_id == caller.account_id)
        .ok_or_else(|| ApiError::not_found("no order with this id"))
}

/// An order of the caller.
#[utoipa::path(tag = "orders", responses((status = 200), (status = 404)), security(("bearer" = [])))]
#[get("/orders/{id}")]
#[tracing::instrument(name = "get_order", skip_all, fields(order = %path))]
pub async fn get_order(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<OrderView>, ApiError> {
    let record = own_order(&state, &caller, *path).await?;
    Ok(web::Json(record_view(&record)))
}

/// A stored order as its customer sees it, weighing included.
pub(super) fn record_view(record: &OrderRecord) -> OrderView {
    OrderView::after_sale(
        record.order.id,
        record.order.number,
        record.distribution_id,
        record.status,
        &record.order.lines,
        &record.weighings,
    )
}

/// Replaces the lines of the caller's order (until the sale closes).
#[utoipa::path(tag = "orders", request_body = OrderInput,
    params(("Admission-Ticket" = Option<Uuid>, Header,
        description = "the caller's waiting-room ticket, needed (admitted) while the sale's waiting room is active")),
    responses((status = 200), (status = 404), (status = 409), (status = 422), (status = 503)),
    security(("bearer" = [])))]
#[patch("/orders/{id}")]
#[tracing::instrument(name = "change_order", skip_all, fields(order = %path))]
pub async fn change_order(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    req: HttpRequest,
    body: Json<OrderInput>,
) -> Result<web::Json<OrderView>, ApiError> {
    let record = own_order(&state, &caller, *path).await?;
    if record.status == OrderStatus::Cancelled {
        return Err(ApiError::conflict_with(
            "order_cancelled",
            "this order was cancelled",
        ));
    }
    let lines = parse_lines(&body.lines)?;
    let view = state
        .engine
        .change_order(
            record.distribution_id,
            customer(&caller, &req)?,
            OrderChange::Replace(lines),
            None,
        )
        .await
        .map_err(order_problem)?;
    Ok(web::Json(view))
}

/// Cancels the caller's order (until the sale closes).
#[utoipa::path(tag = "orders", responses((status = 204), (status = 404), (status = 409), (status = 503)),
    security(("bearer" = [])))]
#[delete("/orders/{id}")]
#[tracing::instrument(name = "cancel_order", skip_all, fields(order = %path))]
pub async fn cancel_order(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let record = own_order(&state, &caller, *path).await?;
    if record.status == OrderStatus::Cancelled {
        return Ok(HttpResponse::NoContent().finish());
    }
    state
        .engine
        .change_order(
            record.distribution_id,
            customer(&caller, &req)?,
            OrderChange::Cancel,
            None,
        )
        .await
        .map_err(order_problem)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(place_order)
        .service(get_order)
        .service(change_order)
        .service(cancel_order);
}
