//! The stock endpoints, split from `offers.rs` (the offer CRUD):
//!
//! * `PUT /offers/{id}/stock` switches tracking on or off and/or sets the
//!   real stock (whole unless the product is `fractional`). The change is
//!   written by `Store::set_offer_stock` (with its `set_real` audit row), then
//!   handed to the engine (`Engine::stock_changed`) so the offer's live actor,
//!   and every shop watching it, follow at once.
//! * `GET /producers/{id}/stocks[?catalog_id=]`: the stock page,
//!   `available = real − ordered` for tracked offers, `null` = unlimited.
//!
//! Members of the producer only. Registered by `offers::configure`.

use actix_web::{get, put, web};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{managed_offer, with_held, StockView};
use crate::api::auth::Caller;
use crate::api::json::Json;
use crate::api::problem::ApiError;
use crate::api::producers::existing_producer;
use crate::api::state::AppState;
use crate::domain::offer::{real_stock, RawDecimal};
use crate::domain::quantity::StockLevel;
use crate::domain::stock::StockFigures;
use crate::store::DbError;

#[derive(Deserialize, ToSchema)]
pub struct StockSetting {
    /// `false` = unlimited.
    tracked: bool,
    /// New real stock; omitted = unchanged.
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::stock_level)]
    real: Option<RawDecimal>,
}

#[derive(Deserialize, IntoParams)]
pub struct StocksQuery {
    /// Only the offers in this catalog (of the same producer).
    catalog_id: Option<Uuid>,
}

/// `PUT /offers/{id}/stock` answer (API.md shape).
#[derive(Serialize, ToSchema)]
pub struct OfferStockView {
    offer_id: Uuid,
    #[serde(flatten)]
    stock: StockView,
}

/// A line of the stock page.
#[derive(Serialize, ToSchema)]
pub struct StockLineView {
    offer_id: Uuid,
    product_id: Uuid,
    product_name: String,
    label: String,
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    quantity: Decimal,
    unit: String,
    #[serde(flatten)]
    stock: StockView,
}

/// Switches stock tracking on or off and/or sets the real stock.
#[utoipa::path(tag = "stock", request_body = StockSetting,
    responses((status = 200, body = OfferStockView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[put("/offers/{id}/stock")]
#[tracing::instrument(name = "set_offer_stock", skip_all, fields(offer = %path))]
pub async fn set_offer_stock(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<StockSetting>,
) -> Result<web::Json<OfferStockView>, ApiError> {
    let offer = managed_offer(&state, &caller, *path).await?;
    let real = match &body.real {
        None => None,
        Some(raw) => Some(
            raw.parse("real")
                .and_then(|r| real_stock(r, offer.fractional, "real"))?,
        ),
    };
    let stock = state
        .store
        .set_offer_stock(offer.id, body.tracked, real, Some(caller.account_id))
        .await?;
    // Committed: the offer's live actor (if any) takes the new figures now.
    let level = StockLevel::parse(stock.real, "real").map_err(DbError::corrupt)?;
    state
        .engine
        .stock_changed(stock.offer_id, stock.tracked, level);
    Ok(web::Json(OfferStockView {
        offer_id: stock.offer_id,
        stock: with_held(&state, stock.offer_id, stock.figures()).into(),
    }))
}

/// The stock page: every active offer of the producer, or only those in
/// `catalog_id` (a catalog of this producer, else 422).
#[utoipa::path(tag = "stock", params(StocksQuery),
    responses((status = 200, body = [StockLineView]), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[get("/producers/{id}/stocks")]
#[tracing::instrument(name = "list_stocks", skip_all, fields(producer = %path))]
pub async fn list_stocks(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<StocksQuery>,
) -> Result<web::Json<Vec<StockLineView>>, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_member(producer_id)?;
    if let Some(catalog_id) = query.catalog_id {
        if state.store.stock_catalog_owner(catalog_id).await? != Some(producer_id) {
            return Err(ApiError::names_nothing(
                "catalog_id",
                "is not one of this producer's catalogs",
            ));
        }
    }
    let rows = state.store.stocks(producer_id, query.catalog_id).await?;
    Ok(web::Json(
        rows.into_iter()
            .map(|r| StockLineView {
                offer_id: r.offer_id,
                product_id: r.product_id,
                product_name: r.product_name,
                label: r.label,
                quantity: r.quantity.normalize(),
                unit: r.unit,
                stock: with_held(
                    &state,
                    r.offer_id,
                    StockFigures::stored(r.tracked, r.real, r.ordered),
                )
                .into(),
            })
            .collect(),
    ))
}
