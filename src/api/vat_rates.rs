//! A producer's VAT rates: list, add, change, remove ("Gérer les taux de
//! TVA"). Any member of the producer may read and manage them. Removing a
//! rate that an offer uses is refused with `409 vat_rate_in_use` listing
//! those offers, so the producer knows what to change first.

use actix_web::{delete, get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::producers::existing_producer;
use super::schema;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::offer::RawDecimal;
use crate::domain::text::ShortText;
use crate::domain::vat::VatRate;
use crate::store::vat_rates::{VatRateRecord, VatRateRemoval};
use crate::store::DbError;

#[derive(Deserialize, ToSchema)]
pub struct VatRateInput {
    /// e.g. "Taux réduit".
    #[schema(schema_with = schema::line100)]
    name: String,
    /// Percent, 0..=100, at most 2 decimals: `"5.5"` or `5.5`.
    #[schema(schema_with = schema::percent)]
    rate: RawDecimal,
}

#[derive(Serialize, ToSchema)]
pub struct VatRateView {
    id: Uuid,
    producer_id: Uuid,
    name: String,
    /// Percent, normalized: `"5.5"`.
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String, example = "5.5")]
    rate: Decimal,
}

impl From<VatRateRecord> for VatRateView {
    fn from(r: VatRateRecord) -> Self {
        Self {
            id: r.id,
            producer_id: r.producer_id,
            name: r.name,
            rate: r.rate,
        }
    }
}

fn parse_input(input: &VatRateInput) -> Result<(ShortText, VatRate), ApiError> {
    let mut check = Collect::default();
    let name = check.field(ShortText::parse(&input.name, "name", 100));
    let rate = check.field(
        input
            .rate
            .parse("rate")
            .and_then(|r| VatRate::parse(r, "rate")),
    );
    match (name, rate) {
        (Some(name), Some(rate)) => Ok((name, rate)),
        _ => Err(check.into_error()),
    }
}

fn name_taken(e: DbError) -> ApiError {
    match e {
        DbError::Conflict(_) => ApiError::conflict_with(
            "vat_rate_name_taken",
            "this producer already has a VAT rate with this name",
        ),
        other => other.into(),
    }
}

/// Loads a VAT rate the caller may manage: 404 if unknown, 403 if the
/// caller is not a member of its producer.
async fn managed_vat_rate(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<VatRateRecord, ApiError> {
    let rate = state
        .store
        .vat_rate(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no VAT rate with this id"))?;
    caller.require_producer_member(rate.producer_id)?;
    Ok(rate)
}

/// The producer's VAT rates, lowest first (members only).
#[utoipa::path(tag = "vat rates",
    responses((status = 200, body = [VatRateView]), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/producers/{id}/vat-rates")]
#[tracing::instrument(name = "list_vat_rates", skip_all, fields(producer = %path))]
pub async fn list_vat_rates(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<VatRateView>>, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_member(producer_id)?;
    let rates = state.store.vat_rates(producer_id).await?;
    Ok(web::Json(rates.into_iter().map(Into::into).collect()))
}

/// Adds a VAT rate (members only); names are unique per producer.
#[utoipa::path(tag = "vat rates", request_body = VatRateInput,
    responses((status = 201, body = VatRateView), (status = 403), (status = 404),
              (status = 409, description = "vat_rate_name_taken"), (status = 422)),
    security(("bearer" = [])))]
#[post("/producers/{id}/vat-rates")]
#[tracing::instrument(name = "create_vat_rate", skip_all, fields(producer = %path))]
pub async fn create_vat_rate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<VatRateInput>,
) -> Result<HttpResponse, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_member(producer_id)?;
    let (name, rate) = parse_input(&body)?;
    let created = state
        .store
        .create_vat_rate(producer_id, &name, rate)
        .await
        .map_err(name_taken)?;
    Ok(HttpResponse::Created().json(VatRateView::from(created)))
}

/// One VAT rate (members only).
#[utoipa::path(tag = "vat rates",
    responses((status = 200, body = VatRateView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/vat-rates/{id}")]
#[tracing::instrument(name = "get_vat_rate", skip_all, fields(vat_rate = %path))]
pub async fn get_vat_rate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<VatRateView>, ApiError> {
    Ok(web::Json(
        managed_vat_rate(&state, &caller, *path).await?.into(),
    ))
}

/// Renames or changes a VAT rate. Offers using it follow at once: their
/// VAT-excluded price is derived from the current rate.
#[utoipa::path(tag = "vat rates", request_body = VatRateInput,
    responses((status = 200, body = VatRateView), (status = 403), (status = 404),
              (status = 409, description = "vat_rate_name_taken"), (status = 422)),
    security(("bearer" = [])))]
#[put("/vat-rates/{id}")]
#[tracing::instrument(name = "update_vat_rate", skip_all, fields(vat_rate = %path))]
pub async fn update_vat_rate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<VatRateInput>,
) -> Result<web::Json<VatRateView>, ApiError> {
    let id = *path;
    managed_vat_rate(&state, &caller, id).await?;
    let (name, rate) = parse_input(&body)?;
    let updated = state
        .store
        .update_vat_rate(id, &name, rate)
        .await
        .map_err(name_taken)?
        .ok_or_else(|| ApiError::not_found("no VAT rate with this id"))?;
    Ok(web::Json(updated.into()))
}

/// Removes a VAT rate; `409 vat_rate_in_use` with
/// `offers: [{offer_id, label, product_id, product_name, active}]` while
/// offers (even deactivated ones) use it.
#[utoipa::path(tag = "vat rates",
    responses((status = 204), (status = 403), (status = 404),
              (status = 409, description = "vat_rate_in_use, with `offers`")),
    security(("bearer" = [])))]
#[delete("/vat-rates/{id}")]
#[tracing::instrument(name = "delete_vat_rate", skip_all, fields(vat_rate = %path))]
pub async fn delete_vat_rate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = *path;
    managed_vat_rate(&state, &caller, id).await?;
    match state.store.delete_vat_rate(id).await? {
        VatRateRemoval::Removed => Ok(HttpResponse::NoContent().finish()),
        VatRateRemoval::NotFound => Err(ApiError::not_found("no VAT rate with this id")),
        VatRateRemoval::InUse(offers) => {
            let list: Vec<_> = offers
                .iter()
                .map(|o| {
                    json!({"offer_id": o.offer_id, "label": o.label, "product_id": o.product_id,
                           "product_name": o.product_name, "active": o.active})
                })
                .collect();
            Err(ApiError::conflict_with(
                "vat_rate_in_use",
                format!(
                    "{} offer(s) use this VAT rate; give them another rate first",
                    list.len()
                ),
            )
            .with("offers", list.into()))
        }
    }
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_vat_rates)
        .service(create_vat_rate)
        .service(get_vat_rate)
        .service(update_vat_rate)
        .service(delete_vat_rate);
}
