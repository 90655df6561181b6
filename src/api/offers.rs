//! Offers (one way a product is sold: "Sac", 10 kg, 20.00 € incl. VAT) and
//! the stock page. Members of the producer only.
//!
//! * `GET/POST /products/{id}/offers`, `GET/PUT/DELETE /offers/{id}`: the
//!   price is entered VAT included; answers add `price_excl_vat` and
//!   `vat_amount` (half-up to the cent) and the offer's `stock`. DELETE only
//!   deactivates (order lines refer to offers) and removes it from catalogs.
//! * `PUT /offers/{id}/stock`, `GET /producers/{id}/stocks[?catalog_id=]`:
//!   the stock endpoints, in the `stock` submodule (registered by
//!   [`configure`] here).
//!
//! This file keeps the offers themselves, the access check they share
//! (`managed_offer`) and the `StockView` every answer embeds.

pub mod stock;

use actix_web::{delete, get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::products::managed_product;
use super::schema;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::error::FieldError;
use crate::domain::money::Money;
use crate::domain::offer::{real_stock, OfferPrice, OfferSpec, RawDecimal};
use crate::domain::quantity::StockLevel;
use crate::domain::stock::StockFigures;
use crate::domain::vat::VatRate;
use crate::store::offers::{OfferRecord, OfferSave};

#[derive(Deserialize, ToSchema)]
pub struct InitialStock {
    /// Whole units unless the product is sold in fractions.
    #[schema(schema_with = schema::stock_level)]
    real: RawDecimal,
}

/// A new offer; without `stock` it is unlimited.
#[derive(Deserialize, ToSchema)]
pub struct OfferInput {
    #[schema(schema_with = schema::line100)]
    label: String,
    #[schema(schema_with = schema::quantity)]
    quantity: RawDecimal,
    #[schema(schema_with = schema::line32)]
    unit: String,
    /// Price incl. VAT for `quantity` `unit`.
    #[schema(schema_with = schema::money)]
    price: RawDecimal,
    /// One of the producer's VAT rates (404 otherwise).
    #[serde(deserialize_with = "crate::api::json::id")]
    vat_rate_id: Uuid,
    #[serde(default)]
    #[schema(schema_with = schema::optional_line100)]
    reference: Option<String>,
    #[serde(default)]
    stock: Option<InitialStock>,
}

/// Replaces an offer's fields. Stock is changed with `PUT /offers/{id}/stock`.
#[derive(Deserialize, ToSchema)]
pub struct OfferUpdate {
    #[schema(schema_with = schema::line100)]
    label: String,
    #[schema(schema_with = schema::quantity)]
    quantity: RawDecimal,
    #[schema(schema_with = schema::line32)]
    unit: String,
    #[schema(schema_with = schema::money)]
    price: RawDecimal,
    /// One of the producer's VAT rates (404 otherwise).
    #[serde(deserialize_with = "crate::api::json::id")]
    vat_rate_id: Uuid,
    #[serde(default)]
    #[schema(schema_with = schema::optional_line100)]
    reference: Option<String>,
    /// Omitted = unchanged; `false` also removes the offer from catalogs.
    #[serde(default)]
    active: Option<bool>,
    /// Refused here (422): use `PUT /offers/{id}/stock`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    stock: Option<serde_json::Value>,
}
#[derive(Serialize, ToSchema)]
pub struct StockView {
    tracked: bool,
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    real: Decimal,
    /// Σ undelivered quantities of confirmed orders.
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    ordered: Decimal,
    /// What customers' baskets hold of it for a few minutes.
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    held: Decimal,
    /// `real − ordered − held` when tracked (may be negative); `null` =
    /// unlimited.
    #[serde(with = "crate::domain::decimal::string_option")]
    #[schema(value_type = Option<String>)]
    available: Option<Decimal>,
}

impl From<StockFigures> for StockView {
    fn from(s: StockFigures) -> Self {
        Self {
            tracked: s.tracked,
            real: s.real,
            ordered: s.ordered,
            held: s.held,
            available: s.available(),
        }
    }
}

/// An offer's stored figures with what baskets hold of it right now.
pub(crate) fn with_held(
    state: &AppState,
    offer_id: Uuid,
    mut figures: StockFigures,
) -> StockFigures {
    figures.held = state.engine.live_held(offer_id);
    figures
}

#[derive(Serialize, ToSchema)]
pub struct OfferView {
    id: Uuid,
    product_id: Uuid,
    label: String,
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    quantity: Decimal,
    unit: String,
    /// Incl. VAT.
    #[schema(value_type = String, example = "20.00")]
    price: Money,
    #[schema(value_type = String, example = "18.96")]
    price_excl_vat: Money,
    #[schema(value_type = String, example = "1.04")]
    vat_amount: Money,
    /// Percent (`"5.5"`).
    #[schema(value_type = String, example = "5.5")]
    vat_rate: VatRate,
    vat_rate_id: Uuid,
    reference: Option<String>,
    active: bool,
    stock: StockView,
}

/// An offer after a change, with the catalog entries its deactivation removed.
#[derive(Serialize, ToSchema)]
pub struct OfferChangeView {
    #[serde(flatten)]
    offer: OfferView,
    removed_from_catalogs: u64,
}
fn offer_view(state: &AppState, o: OfferRecord) -> Result<OfferView, ApiError> {
    let stock = with_held(state, o.id, o.stock()).into();
    let (Ok(price), Ok(rate)) = (
        Money::parse(o.price, "price"),
        VatRate::parse(o.vat_rate, "vat_rate"),
    ) else {
        tracing::error!(offer = %o.id, "stored price or VAT rate out of range");
        return Err(ApiError::internal());
    };
    let split = OfferPrice::new(price, rate);
    Ok(OfferView {
        id: o.id,
        product_id: o.product_id,
        label: o.label,
        quantity: o.quantity.normalize(),
        unit: o.unit,
        price: split.price,
        price_excl_vat: split.price_excl_vat,
        vat_amount: split.vat_amount,
        vat_rate: rate,
        vat_rate_id: o.vat_rate_id,
        reference: o.reference,
        active: o.active,
        stock,
    })
}

/// The fields shared by creation and replacement, checked together.
fn parse_offer(
    (label, quantity, unit, price): (&str, &RawDecimal, &str, &RawDecimal),
    reference: Option<&str>,
    vat_rate_id: Uuid,
    check: &mut Collect,
) -> Option<(OfferSpec, Uuid)> {
    let spec = match OfferSpec::parse(label, quantity, unit, price, reference) {
        Ok(spec) => Some(spec),
        Err(errors) => {
            errors.into_iter().for_each(|e| check.push(e));
            None
        }
    };
    Some((spec?, vat_rate_id))
}

fn saved(state: &AppState, outcome: OfferSave) -> Result<OfferChangeView, ApiError> {
    match outcome {
        OfferSave::Saved {
            offer,
            removed_from_catalogs,
        } => Ok(OfferChangeView {
            offer: offer_view(state, *offer)?,
            removed_from_catalogs,
        }),
        OfferSave::ForeignVatRate => Err(ApiError::names_nothing(
            "vat_rate_id",
            "is not one of this producer's VAT rates",
        )),
        OfferSave::NotFound => Err(ApiError::not_found("no offer with this id")),
    }
}

/// Loads an offer the caller may manage: 404 if unknown, 403 if the caller
/// is not a member of its producer.
async fn managed_offer(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<OfferRecord, ApiError> {
    let offer = state
        .store
        .offer(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no offer with this id"))?;
    caller.require_producer_member(offer.producer_id)?;
    Ok(offer)
}

/// A product's offers, active or not (members only).
#[utoipa::path(tag = "offers",
    responses((status = 200, body = [OfferView]), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/products/{id}/offers")]
#[tracing::instrument(name = "list_offers", skip_all, fields(product = %path))]
pub async fn list_offers(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<OfferView>>, ApiError> {
    let product = managed_product(&state, &caller, *path).await?;
    let offers = state.store.offers_of_product(product.id).await?;
    Ok(web::Json(
        offers
            .into_iter()
            .map(|o| offer_view(&state, o))
            .collect::<Result<_, _>>()?,
    ))
}

/// Adds an offer to a product; `stock: {real}` limits it from the start.
#[utoipa::path(tag = "offers", request_body = OfferInput,
    responses((status = 201, body = OfferView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[post("/products/{id}/offers")]
#[tracing::instrument(name = "create_offer", skip_all, fields(product = %path))]
pub async fn create_offer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<OfferInput>,
) -> Result<HttpResponse, ApiError> {
    let product = managed_product(&state, &caller, *path).await?;
    let mut check = Collect::default();
    let parsed = parse_offer(
        (&body.label, &body.quantity, &body.unit, &body.price),
        body.reference.as_deref(),
        body.vat_rate_id,
        &mut check,
    );
    let stock: Option<Option<StockLevel>> = match &body.stock {
        None => Some(None),
        Some(s) => check
            .field(
                s.real
                    .parse("stock.real")
                    .and_then(|r| real_stock(r, product.fractional, "stock.real")),
            )
            .map(Some),
    };
    let (Some((spec, vat_rate_id)), Some(stock)) = (parsed, stock) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let outcome = state
        .store
        .create_offer(
            product.id,
            &spec,
            vat_rate_id,
            stock,
            Some(caller.account_id),
        )
        .await?;
    Ok(HttpResponse::Created().json(saved(&state, outcome)?.offer))
}

/// One offer (members only).
#[utoipa::path(tag = "offers",
    responses((status = 200, body = OfferView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/offers/{id}")]
#[tracing::instrument(name = "get_offer", skip_all, fields(offer = %path))]
pub async fn get_offer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<OfferView>, ApiError> {
    let offer = managed_offer(&state, &caller, *path).await?;
    Ok(web::Json(offer_view(&state, offer)?))
}

/// Replaces an offer's label, quantity, unit, price, VAT rate and
/// reference (and `active` when given).
#[utoipa::path(tag = "offers", request_body = OfferUpdate,
    responses((status = 200, body = OfferChangeView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[put("/offers/{id}")]
#[tracing::instrument(name = "update_offer", skip_all, fields(offer = %path))]
pub async fn update_offer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<OfferUpdate>,
) -> Result<web::Json<OfferChangeView>, ApiError> {
    let offer = managed_offer(&state, &caller, *path).await?;
    let mut check = Collect::default();
    let parsed = parse_offer(
        (&body.label, &body.quantity, &body.unit, &body.price),
        body.reference.as_deref(),
        body.vat_rate_id,
        &mut check,
    );
    if body.stock.is_some() {
        check.push(FieldError::new(
            "stock",
            "change the stock with PUT /api/v1/offers/{id}/stock",
        ));
    }
    let Some((spec, vat_rate_id)) = parsed else {
        return Err(check.into_error());
    };
    check.finish()?;
    let outcome = state
        .store
        .update_offer(offer.id, &spec, vat_rate_id, body.active)
        .await?;
    Ok(web::Json(saved(&state, outcome)?))
}

/// Deactivates an offer (it stays for the orders that refer to it) and
/// removes it from every catalog.
#[utoipa::path(tag = "offers",
    responses((status = 200, body = OfferChangeView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[delete("/offers/{id}")]
#[tracing::instrument(name = "delete_offer", skip_all, fields(offer = %path))]
pub async fn delete_offer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<OfferChangeView>, ApiError> {
    let offer = managed_offer(&state, &caller, *path).await?;
    let (offer, removed) = state
        .store
        .deactivate_offer(offer.id)
        .await?
        .ok_or_else(|| ApiError::not_found("no offer with this id"))?;
    Ok(web::Json(OfferChangeView {
        offer: offer_view(&state, offer)?,
        removed_from_catalogs: removed,
    }))
}
/// Registers this module's routes (the stock ones included).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_offers)
        .service(create_offer)
        .service(get_offer)
        .service(update_offer)
        .service(delete_offer)
        .service(stock::set_offer_stock)
        .service(stock::list_stocks);
}
