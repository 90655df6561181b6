//! What a catalog's share link shows (`GET /catalogs/by-code/{code}`, no
//! account needed): its name, producer and active offers at catalog
//! prices, so a market admin can look before linking it by code.

use actix_web::{get, web};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{EntryView, Ref};
use crate::api::problem::ApiError;
use crate::api::state::AppState;
use crate::domain::market::{share_link, CatalogCode};
use crate::domain::money::Money;

#[derive(Serialize, ToSchema)]
pub struct PublicOfferView {
    offer_id: Uuid,
    product_id: Uuid,
    product_name: String,
    label: String,
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    quantity: Decimal,
    unit: String,
    #[schema(value_type = String)]
    price: Money,
}

/// What a share link shows: the catalog's active offers at catalog prices.
#[derive(Serialize, ToSchema)]
pub struct PublicCatalogView {
    id: Uuid,
    code: String,
    share_link: String,
    name: String,
    producer: Ref,
    offers: Vec<PublicOfferView>,
}

/// The content of a catalog's share link.
#[utoipa::path(tag = "catalogs",
    responses((status = 200, body = PublicCatalogView), (status = 404)))]
#[get("/catalogs/by-code/{code}")]
#[tracing::instrument(name = "catalog_by_code", skip_all)]
pub async fn catalog_by_code(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<PublicCatalogView>, ApiError> {
    let unknown = || ApiError::not_found("no catalog has this code");
    let code = CatalogCode::parse(&path, "code").map_err(|_| unknown())?;
    let catalog = state
        .store
        .catalog_by_code(&code)
        .await?
        .ok_or_else(unknown)?;
    let offers = state
        .store
        .catalog_entries(&[catalog.id])
        .await?
        .into_iter()
        .filter(|e| e.active)
        .map(|e| {
            let entry = EntryView::from(e);
            PublicOfferView {
                offer_id: entry.offer_id,
                product_id: entry.product_id,
                product_name: entry.product_name,
                label: entry.label,
                quantity: entry.quantity,
                unit: entry.unit,
                price: entry.price,
            }
        })
        .collect();
    Ok(web::Json(PublicCatalogView {
        id: catalog.id,
        share_link: share_link(&catalog.code),
        code: catalog.code,
        name: catalog.name,
        producer: Ref {
            id: catalog.producer_id,
            name: catalog.producer_name,
        },
        offers,
    }))
}
