//! Offers (one way a product is sold: "Sac", 10 kg, 20.00 € incl. VAT) and
//! the stock page. Members of the producer only.
//!
//! * `GET/POST /products/{id}/offers`, `GET/PUT/DELETE /offers/{id}`: the
//!   price is entered VAT included; answers add `price_excl_vat` and
//!   `vat_amount` (half-up to the cent) and the offer's `stock`. DELETE only
//!   deactivates (order lines refer to offers) and removes it from catalogs.
//! * `PUT /offers/{id}/stock`, `GET /producers/{id}/stocks[?catalog_id=]`:
//!   `available = real − ordered` for tracked offers, `null` = unlimited.
//!   Real stock is whole unless the product is `fractional`. A change is
//!   written by `Store::set_offer_stock` (with its `set_real` audit row),
//!   then handed to the engine (`Engine::stock_changed`) so the offer's live
//!   actor, and every shop watching it, follow at once.

use actix_web::{delete, get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::producers::existing_producer;
use super::products::managed_product;
use super::state::AppState;
use super::validate::Collect;
use crate::domain::error::FieldError;
use crate::domain::money::Money;
use crate::domain::offer::{real_stock, OfferPrice, OfferSpec, RawDecimal, StockFigures};
use crate::domain::quantity::StockLevel;
use crate::domain::vat::VatRate;
use crate::store::offers::{OfferRecord, OfferSave};

#[derive(Deserialize, ToSchema)]
pub struct InitialStock {
    #[schema(value_type = String, example = "12")]
    real: RawDecimal,
}

/// A new offer; without `stock` it is unlimited.
#[derive(Deserialize, ToSchema)]
pub struct OfferInput {
    label: String,
    #[schema(value_type = String, example = "10")]
    quantity: RawDecimal,
    unit: String,
    /// Price incl. VAT for `quantity` `unit`.
    #[schema(value_type = String, example = "20.00")]
    price: RawDecimal,
    vat_rate_id: String,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    stock: Option<InitialStock>,
}

/// Replaces an offer's fields. Stock is changed with `PUT /offers/{id}/stock`.
#[derive(Deserialize, ToSchema)]
pub struct OfferUpdate {
    label: String,
    #[schema(value_type = String, example = "10")]
    quantity: RawDecimal,
    unit: String,
    #[schema(value_type = String, example = "20.00")]
    price: RawDecimal,
    vat_rate_id: String,
    #[serde(default)]
    reference: Option<String>,
    /// Omitted = unchanged; `false` also removes the offer from catalogs.
    #[serde(default)]
    active: Option<bool>,
    /// Refused here (422): use `PUT /offers/{id}/stock`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    stock: Option<serde_json::Value>,
}

#[derive(Deserialize, ToSchema)]
pub struct StockSetting {
    /// `false` = unlimited.
    tracked: bool,
    /// New real stock; omitted = unchanged.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "12")]
    real: Option<RawDecimal>,
}

#[derive(Deserialize, IntoParams)]
pub struct StocksQuery {
    /// Only the offers in this catalog (of the same producer).
    catalog_id: Option<Uuid>,
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
    /// `real − ordered` when tracked (may be negative); `null` = unlimited.
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
            available: s.available(),
        }
    }
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

fn offer_view(o: OfferRecord) -> Result<OfferView, ApiError> {
    let stock = o.stock().into();
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
    vat_rate_id: &str,
    check: &mut Collect,
) -> Option<(OfferSpec, Uuid)> {
    let spec = match OfferSpec::parse(label, quantity, unit, price, reference) {
        Ok(spec) => Some(spec),
        Err(errors) => {
            errors.into_iter().for_each(|e| check.push(e));
            None
        }
    };
    let vat_rate_id =
        check.field(vat_rate_id.trim().parse::<Uuid>().map_err(|_| {
            FieldError::new("vat_rate_id", "must be the id of one of your VAT rates")
        }));
    Some((spec?, vat_rate_id?))
}

fn saved(outcome: OfferSave) -> Result<OfferChangeView, ApiError> {
    match outcome {
        OfferSave::Saved {
            offer,
            removed_from_catalogs,
        } => Ok(OfferChangeView {
            offer: offer_view(*offer)?,
            removed_from_catalogs,
        }),
        OfferSave::ForeignVatRate => Err(ApiError::invalid_field(
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
            .map(offer_view)
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
    body: web::Json<OfferInput>,
) -> Result<HttpResponse, ApiError> {
    let product = managed_product(&state, &caller, *path).await?;
    let mut check = Collect::default();
    let parsed = parse_offer(
        (&body.label, &body.quantity, &body.unit, &body.price),
        body.reference.as_deref(),
        &body.vat_rate_id,
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
    Ok(HttpResponse::Created().json(saved(outcome)?.offer))
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
    Ok(web::Json(offer_view(offer)?))
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
    body: web::Json<OfferUpdate>,
) -> Result<web::Json<OfferChangeView>, ApiError> {
    let offer = managed_offer(&state, &caller, *path).await?;
    let mut check = Collect::default();
    let parsed = parse_offer(
        (&body.label, &body.quantity, &body.unit, &body.price),
        body.reference.as_deref(),
        &body.vat_rate_id,
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
    Ok(web::Json(saved(outcome)?))
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
        offer: offer_view(offer)?,
        removed_from_catalogs: removed,
    }))
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
    body: web::Json<StockSetting>,
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
    state
        .engine
        .stock_changed(stock.offer_id, stock.tracked, stock.real);
    Ok(web::Json(OfferStockView {
        offer_id: stock.offer_id,
        stock: stock.figures().into(),
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
            return Err(ApiError::invalid_field(
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
                stock: StockFigures {
                    tracked: r.tracked,
                    real: r.real,
                    ordered: r.ordered,
                }
                .into(),
            })
            .collect(),
    ))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_offers)
        .service(create_offer)
        .service(get_offer)
        .service(update_offer)
        .service(delete_offer)
        .service(set_offer_stock)
        .service(list_stocks);
}
