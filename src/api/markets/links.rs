//! Catalogs linked to a market: an admin links one by the code its
//! producer shared ("par SMS, de vive voix"), which lets the producer take
//! part in the market's distributions; anyone may list them.
//!
//! Unlinking is allowed to the market's admins *and* to the members of the
//! catalog's producer, so a producer can leave a market on its own.
//! Participations already planned stay: the schema checks the link only
//! when a participation is created, and withdrawing is the participation's
//! own rule (refused once it has orders).

use actix_web::{delete, get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::existing_market;
use crate::api::auth::Caller;
use crate::api::catalogs::{existing_catalog, Ref};
use crate::api::json::Json;
use crate::api::problem::ApiError;
use crate::api::state::AppState;
use crate::domain::market::CatalogCode;
use crate::store::markets::MarketCatalogRecord;
use crate::store::DbError;

#[derive(Deserialize, ToSchema)]
pub struct LinkInput {
    /// The catalog's numeric code, as a string or a number.
    #[schema(schema_with = crate::api::schema::catalog_code)]
    code: Value,
}

#[derive(Serialize, ToSchema)]
pub struct LinkView {
    market_id: Uuid,
    catalog_id: Uuid,
    code: String,
    name: String,
    producer: Ref,
    linked_at: chrono::DateTime<chrono::Utc>,
}

impl From<MarketCatalogRecord> for LinkView {
    fn from(l: MarketCatalogRecord) -> Self {
        Self {
            market_id: l.market_id,
            catalog_id: l.catalog_id,
            code: l.code,
            name: l.name,
            producer: Ref {
                id: l.producer_id,
                name: l.producer_name,
            },
            linked_at: l.linked_at,
        }
    }
}

/// Links a catalog to the market by its code (admins): its producer may
/// then take part in the market's distributions.
#[utoipa::path(tag = "markets", request_body = LinkInput,
    responses((status = 201, body = LinkView), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[post("/markets/{id}/catalogs")]
#[tracing::instrument(name = "link_catalog", skip_all, fields(market = %path))]
pub async fn link_catalog(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<LinkInput>,
) -> Result<HttpResponse, ApiError> {
    let market_id = *path;
    existing_market(&state, market_id).await?;
    caller.require_market_admin(market_id)?;
    let code = CatalogCode::parse_json(&body.code, "code")?;
    let catalog = state
        .store
        .catalog_by_code(&code)
        .await?
        .ok_or_else(|| ApiError::names_nothing("code", "no catalog has this code"))?;
    state
        .store
        .link_catalog(market_id, catalog.id)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => ApiError::conflict_with(
                "already_linked",
                "this catalog is already linked to this market",
            ),
            other => other.into(),
        })?;
    let link = state
        .store
        .market_catalog_links(market_id, Some(catalog.id))
        .await?
        .pop()
        .ok_or_else(ApiError::internal)?;
    Ok(HttpResponse::Created().json(LinkView::from(link)))
}

/// Unlinks a catalog (the market's admins, or members of the catalog's
/// producer). Already planned participations are kept.
#[utoipa::path(tag = "markets",
    params(("id" = Uuid, Path, description = "market id"), ("catalog_id" = Uuid, Path, description = "catalog id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[delete("/markets/{id}/catalogs/{catalog_id}")]
#[tracing::instrument(name = "unlink_catalog", skip_all, fields(market = %path.0, catalog = %path.1))]
pub async fn unlink_catalog(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (market_id, catalog_id) = *path;
    existing_market(&state, market_id).await?;
    let catalog = existing_catalog(&state, catalog_id).await?;
    if !caller.is_market_admin(market_id) && caller.producer_role(catalog.producer_id).is_none() {
        return Err(ApiError::forbidden(
            "only the market's admins or the catalog's producer may unlink it",
        ));
    }
    if state.store.unlink_catalog(market_id, catalog_id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(
            "this catalog is not linked to this market",
        ))
    }
}

/// The catalogs linked to a market, with their producers (no account needed).
#[utoipa::path(tag = "markets", responses((status = 200, body = [LinkView]), (status = 404)))]
#[get("/markets/{id}/catalogs")]
#[tracing::instrument(name = "list_market_catalogs", skip_all, fields(market = %path))]
pub async fn list_links(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<LinkView>>, ApiError> {
    let market_id = *path;
    existing_market(&state, market_id).await?;
    let links = state.store.market_catalog_links(market_id, None).await?;
    Ok(web::Json(links.into_iter().map(Into::into).collect()))
}
