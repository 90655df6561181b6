//! "My order in this distribution": the shop page asks for it on load, so a
//! customer finds their order (to change or cancel it) from any browser or
//! device once signed in, without having to remember its id.

use actix_web::{get, web};
use uuid::Uuid;

use super::auth::Caller;
use super::orders::record_view;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::order::{OrderStatus, OrderView};

/// The caller's confirmed order in a distribution (same shape as
/// `GET /orders/{id}`); 404 when they have none.
#[utoipa::path(tag = "orders",
    responses((status = 200, description = "the caller's order"), (status = 401),
        (status = 404, description = "no confirmed order of the caller in this distribution")),
    security(("bearer" = [])))]
#[get("/distributions/{id}/orders/mine")]
#[tracing::instrument(name = "my_order", skip_all, fields(distribution = %path, account = %caller.account_id))]
pub async fn my_order(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<OrderView>, ApiError> {
    let none = || ApiError::not_found("you have no order in this distribution");
    let id = state
        .store
        .customer_order_id(*path, caller.account_id)
        .await?
        .ok_or_else(none)?;
    // The order may have been cancelled between the two reads.
    let record = state
        .store
        .order_record(id)
        .await?
        .filter(|r| r.status == OrderStatus::Confirmed && r.order.customer_id == caller.account_id)
        .ok_or_else(none)?;
    Ok(web::Json(record_view(&record)))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(my_order);
}
