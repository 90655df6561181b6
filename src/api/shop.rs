//! The shop of a distribution (public: no account needed) and the forced
//! sync of a catalog into the sales already open.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde_json::json;
use uuid::Uuid;

use super::auth::{optional_caller, Caller};
use super::order_problem::order_problem;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::shop::ShopView;

/// What is on sale in a distribution, with live availability (held units
/// count as taken). No account needed; a signed-in customer also sees what
/// their basket holds of each offer (`held`).
#[utoipa::path(tag = "orders", responses((status = 200, description = "the shop document"),
    (status = 401, description = "the token sent is unknown, expired or revoked"),
    (status = 404)))]
#[get("/distributions/{id}/shop")]
#[tracing::instrument(name = "shop", skip_all, fields(distribution = %path))]
pub async fn shop(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<web::Json<ShopView>, ApiError> {
    let customer = optional_caller(&state, &req).await?.map(|c| c.account_id);
    state
        .engine
        .shop_for(*path, customer)
        .await
        .map_err(order_problem)?
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("no distribution with this id"))
}

/// Forced sync: pushes the catalog's current offers and prices into its
/// sales already open, for new orders (lines already ordered keep their
/// price). Members of the catalog's producer only.
#[utoipa::path(tag = "catalogs", responses((status = 200), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[post("/catalogs/{id}/sync")]
#[tracing::instrument(name = "sync_catalog", skip_all, fields(catalog = %path))]
pub async fn sync_catalog(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let catalog_id = *path;
    let producer = state
        .store
        .catalog_owner(catalog_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no catalog with this id"))?;
    caller.require_producer_member(producer)?;
    let synced = state
        .engine
        .sync_catalog(catalog_id)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(json!({
        "catalog_id": catalog_id,
        "synced_sales": synced.len(),
        "distribution_ids": synced,
    })))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(shop).service(sync_catalog);
}
