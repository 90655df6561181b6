//! Baskets that hold stock: `PUT|GET|DELETE /distributions/{id}/cart`.
//! A signed-in customer sends the whole basket; each line holds as much as
//! is available (what the basket already held counts as available to it)
//! for `engine.cart_hold_seconds` after the last change, and everyone else
//! sees held units as taken. Placing an order consumes the basket's holds.
//! The rules are the engine's (`engine::carts`); refusals are the order
//! refusals (`order_problem`).

use actix_web::{delete, get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::admission::admission_ticket;
use super::auth::Caller;
use super::order_problem::order_problem;
use super::orders::{parse_lines, LineInput};
use super::problem::ApiError;
use super::state::AppState;
use crate::api::json::Json;
use crate::domain::cart::CartView;

/// A basket: the whole of it.
#[derive(Deserialize, ToSchema)]
pub struct CartInput {
    /// One line per offer (repeated offers are added up); no line empties
    /// the basket.
    #[schema(max_items = 200)]
    lines: Vec<LineInput>,
}

/// A basket as its customer sees it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CartDocument {
    lines: Vec<CartLineDocument>,
    /// When the holds run out (`engine.cart_hold_seconds` after the last
    /// change); `null` for an empty basket.
    expires_at: Option<DateTime<Utc>>,
}

/// One line of a [`CartDocument`].
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CartLineDocument {
    offer_id: Uuid,
    /// What was asked for.
    #[schema(value_type = String, example = "3")]
    quantity: String,
    /// What is held: never more than was available.
    #[schema(value_type = String, example = "2")]
    held: String,
}

/// Sets the caller's basket in a distribution and holds what is available
/// of it. A line that could not be held in full says so (`held` below
/// `quantity`); held units count as taken for everyone else until
/// `expires_at`.
#[utoipa::path(tag = "orders", request_body = CartInput,
    params(("Admission-Ticket" = Option<Uuid>, Header,
        description = "the caller's waiting-room ticket, needed (admitted) while the sale's waiting room is active")),
    responses((status = 200, body = CartDocument, description = "the basket and what it holds"),
        (status = 409, description = "sale_not_open, sale_closed, distribution_cancelled, order_in_progress (another change of the caller's order or basket is being recorded), not_admitted (the waiting room is active and the caller is not admitted: `position`, `estimated_wait_s`)"),
        (status = 422, description = "invalid_field: each bad line named (`lines[i].offer_id`, `lines[i].quantity`), or the Admission-Ticket")),
    security(("bearer" = [])))]
#[put("/distributions/{id}/cart")]
#[tracing::instrument(name = "put_cart", skip_all, fields(distribution = %path, account = %caller.account_id))]
pub async fn put_cart(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    req: HttpRequest,
    body: Json<CartInput>,
) -> Result<web::Json<CartView>, ApiError> {
    let lines = parse_lines(&body.lines)?;
    let ticket = admission_ticket(&req)?;
    state
        .engine
        .put_cart(*path, caller.account_id, lines, ticket)
        .await
        .map(web::Json)
        .map_err(order_problem)
}

/// The caller's basket in a distribution, with what each line holds (empty
/// when there is none or its holds ran out).
#[utoipa::path(tag = "orders",
    responses((status = 200, body = CartDocument)),
    security(("bearer" = [])))]
#[get("/distributions/{id}/cart")]
#[tracing::instrument(name = "get_cart", skip_all, fields(distribution = %path, account = %caller.account_id))]
pub async fn get_cart(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<CartView>, ApiError> {
    state
        .engine
        .cart(*path, caller.account_id)
        .await
        .map(web::Json)
        .map_err(order_problem)
}

/// Empties the caller's basket and releases what it held.
#[utoipa::path(tag = "orders",
    responses((status = 204, description = "emptied (also when it was empty)"),
        (status = 409, description = "order_in_progress: another change of the caller's order or basket is being recorded")),
    security(("bearer" = [])))]
#[delete("/distributions/{id}/cart")]
#[tracing::instrument(name = "delete_cart", skip_all, fields(distribution = %path, account = %caller.account_id))]
pub async fn delete_cart(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .engine
        .drop_cart(*path, caller.account_id)
        .await
        .map_err(order_problem)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_cart).service(get_cart).service(delete_cart);
}
