//! Validation and payouts (guide ch. 7, "Quand recevrez-vous votre
//! règlement ?"):
//!
//! - `POST /distributions/{id}/validation` — a market admin validates the
//!   distribution once it has ended: its orders become immutable and each
//!   producer's payout is computed (gross, platform fee at the market's
//!   `fee_rate`, net). With online payment the money is available 3 days
//!   later and paid on the first Monday on or after that day (market time
//!   zone); without it the payout is `offline` (settled directly).
//! - `GET /distributions/{id}/payouts` (market admins),
//!   `GET /producers/{id}/payouts` (the producer's members).

use actix_web::{get, post, web, HttpResponse};
use serde_json::{json, Value};
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::money::Money;
use crate::store::settlement::{PayoutRecord, ValidateRefusal};

fn money(value: rust_decimal::Decimal) -> Money {
    Money::from_rounded(value).unwrap_or(Money::ZERO)
}

fn payout_json(p: &PayoutRecord) -> Value {
    json!({
        "id": p.id,
        "distribution_id": p.distribution_id,
        "distribution_starts_at": p.distribution_starts_at,
        "producer": {"id": p.producer_id, "name": p.producer_name},
        "market": {"id": p.market_id, "name": p.market_name},
        "gross": money(p.gross),
        "fee": money(p.fee),
        "net": money(p.net),
        "validated_at": p.validated_at,
        "available_on": p.available_on,
        "paid_on": p.paid_on,
        "status": p.status,
    })
}

/// The distribution's market, or 404.
async fn market_of(state: &AppState, distribution_id: Uuid) -> Result<Uuid, ApiError> {
    state
        .store
        .recap_distributions(&[distribution_id])
        .await?
        .pop()
        .map(|d| d.market_id)
        .ok_or_else(|| ApiError::not_found("no distribution with this id"))
}

/// Validates an ended distribution and schedules the producers' payouts.
#[utoipa::path(tag = "payouts",
    responses((status = 201, description = "`{distribution_id, validated_at, payouts}`"),
        (status = 403), (status = 404),
        (status = 409, description = "not_ended, already_validated, distribution_cancelled")),
    security(("bearer" = [])))]
#[post("/distributions/{id}/validation")]
#[tracing::instrument(name = "validate_distribution", skip_all, fields(distribution = %path))]
pub async fn validate_distribution(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let distribution_id = *path;
    let market_id = market_of(&state, distribution_id).await?;
    caller.require_market_admin(market_id)?;
    let now = state.clock.now();
    let payouts = match state
        .store
        .validate_distribution(distribution_id, caller.account_id, now)
        .await?
    {
        Ok(payouts) => payouts,
        Err(ValidateRefusal::Unknown) => {
            return Err(ApiError::not_found("no distribution with this id"))
        }
        Err(ValidateRefusal::Cancelled) => {
            return Err(ApiError::conflict_with(
                "distribution_cancelled",
                "this distribution was cancelled",
            ))
        }
        Err(ValidateRefusal::AlreadyValidated(at)) => {
            return Err(ApiError::conflict_with(
                "already_validated",
                format!("this distribution was validated at {}", at.to_rfc3339()),
            )
            .with("validated_at", json!(at)))
        }
        Err(ValidateRefusal::NotEnded(ends_at)) => {
            return Err(ApiError::conflict_with(
                "not_ended",
                format!(
                    "a distribution is validated after it ends ({})",
                    ends_at.to_rfc3339()
                ),
            )
            .with("ends_at", json!(ends_at)))
        }
    };
    state.engine.reload_distribution(distribution_id);
    tracing::info!(distribution = %distribution_id, producers = payouts.len(), "distribution validated");
    Ok(HttpResponse::Created().json(json!({
        "distribution_id": distribution_id,
        "validated_at": now,
        "payouts": payouts.iter().map(payout_json).collect::<Vec<_>>(),
    })))
}

/// The payouts of a distribution, for its market's admins.
#[utoipa::path(tag = "payouts", responses((status = 200), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/distributions/{id}/payouts")]
#[tracing::instrument(name = "distribution_payouts", skip_all, fields(distribution = %path))]
pub async fn distribution_payouts(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<Value>>, ApiError> {
    let market_id = market_of(&state, *path).await?;
    caller.require_market_admin(market_id)?;
    let payouts = state.store.distribution_payouts(*path).await?;
    Ok(web::Json(payouts.iter().map(payout_json).collect()))
}

/// A producer's payouts, most recent first.
#[utoipa::path(tag = "payouts", responses((status = 200), (status = 403)),
    security(("bearer" = [])))]
#[get("/producers/{id}/payouts")]
#[tracing::instrument(name = "producer_payouts", skip_all, fields(producer = %path))]
pub async fn producer_payouts(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<Value>>, ApiError> {
    caller.require_producer_member(*path)?;
    let payouts = state.store.producer_payouts(*path).await?;
    Ok(web::Json(payouts.iter().map(payout_json).collect()))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(validate_distribution)
        .service(distribution_payouts)
        .service(producer_payouts);
}
