//! What the shop page shows beside the shop document: each product's
//! category (the page groups offers by producer, then category), organic
//! flag and description. Public like the shop itself. Kept apart from the
//! shop document so that document (and the WebSocket snapshot built from
//! it) keeps the contract's shape.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::distributions::existing_distribution;
use super::problem::ApiError;
use super::state::AppState;

/// A product of the shop.
#[derive(Serialize, ToSchema)]
pub struct ShopProductDetails {
    /// The product id (`offers[].product.id` in the shop document).
    id: Uuid,
    category: String,
    organic: bool,
    description: Option<String>,
    photo_url: Option<String>,
}

/// Category, organic flag and description of the products a distribution
/// sells (no account needed).
#[utoipa::path(tag = "orders",
    responses((status = 200, body = [ShopProductDetails]), (status = 404)))]
#[get("/distributions/{id}/shop/products")]
#[tracing::instrument(name = "shop_products", skip_all, fields(distribution = %path))]
pub async fn shop_products(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<ShopProductDetails>>, ApiError> {
    let distribution = existing_distribution(&state, *path).await?;
    let products = state.store.shop_products(distribution.id).await?;
    Ok(web::Json(
        products
            .into_iter()
            .map(|p| ShopProductDetails {
                id: p.id,
                category: p.category,
                organic: p.organic,
                description: p.description,
                photo_url: p.photo_url,
            })
            .collect(),
    ))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(shop_products);
}
