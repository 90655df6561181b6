//! Distributions (market days), planned by a market's admins: one, or a
//! weekly series keeping local wall-clock times in the market's time zone;
//! listing a market's (public), one with its participations (public),
//! editing and cancelling an upcoming one.
//!
//! Decisions where the issue is silent:
//! - Only an *upcoming* distribution (not cancelled, not validated, `ends_at`
//!   in the future) may be edited or cancelled: 409 `distribution_not_upcoming`.
//! - An edit (`PUT`) replaces place and times. It never deletes anything:
//!   participations and orders stay, even when orders exist. A participation's
//!   custom window must still fit the new times, and once confirmed orders
//!   exist the default sale may not open later than now (its orders would
//!   sit in a sale that has not opened); else 422 naming the field and
//!   nothing changes.
//! - Cancelling (`DELETE`) sets `cancelled_at`; refused with 409 `has_orders`
//!   and `orders: n` while it has confirmed orders (the customers must be
//!   dealt with first). Cancelling a cancelled one again is a no-op (204).
//! - New times must end in the future (`ends_at`).
//! - After an edit or a cancellation the distribution's actor, if active,
//!   reloads it, so the ordering engine never works on stale windows.

mod public;

pub use public::{DistributionView, NamedRef};

use actix_web::{delete, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::error::FieldError;
use crate::domain::planning::{parse_instant, weekly_count, DistributionStatus};
use crate::domain::schedule::weekly_series;
use crate::domain::text::ShortText;
use crate::domain::window::{DistributionTimes, OrderWindow};
use crate::store::distributions::{CancelOutcome, DistributionRecord, EditOutcome, PlanningMarket};

/// A distribution to create or the new state of one (`PUT`). Times are
/// RFC 3339 with an offset.
#[derive(Deserialize, ToSchema)]
pub struct DistributionInput {
    #[schema(schema_with = crate::api::schema::date_time, required = true)]
    starts_at: Option<String>,
    #[schema(schema_with = crate::api::schema::date_time, required = true)]
    ends_at: Option<String>,
    /// Default opening of the sale of every participating catalog.
    #[schema(schema_with = crate::api::schema::date_time, required = true)]
    orders_open_at: Option<String>,
    /// Default closing (excluded); at the latest `ends_at`.
    #[schema(schema_with = crate::api::schema::date_time, required = true)]
    orders_close_at: Option<String>,
    /// Overrides the market's address for this day.
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_line500)]
    place: Option<String>,
    /// Create a weekly series instead of one distribution (creation only).
    #[serde(default)]
    repeat: Option<RepeatInput>,
}

#[derive(Deserialize, ToSchema)]
pub struct RepeatInput {
    /// Number of weekly occurrences, the first included: 1..=52.
    #[schema(minimum = 1, maximum = 52)]
    weekly: i64,
}

/// A weekly series just created.
#[derive(Serialize, ToSchema)]
pub struct SeriesView {
    series_id: Uuid,
    distributions: Vec<DistributionView>,
}

/// Validated input: place, first occurrence, and the repeat count if any.
struct Planned {
    place: Option<String>,
    times: DistributionTimes,
    weekly: Option<u32>,
}

/// Parses the input, naming every bad field; times must end after `now`.
fn parse_input(input: &DistributionInput, now: DateTime<Utc>) -> Result<Planned, ApiError> {
    let mut check = Collect::default();
    let starts = check.field(parse_instant(input.starts_at.as_deref(), "starts_at"));
    let ends = check.field(parse_instant(input.ends_at.as_deref(), "ends_at"));
    let opens = check.field(parse_instant(
        input.orders_open_at.as_deref(),
        "orders_open_at",
    ));
    let closes = check.field(parse_instant(
        input.orders_close_at.as_deref(),
        "orders_close_at",
    ));
    let place = match input.place.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => check
            .field(ShortText::parse(text, "place", 500))
            .map(ShortText::into_string),
    };
    let weekly = input
        .repeat
        .as_ref()
        .and_then(|r| check.field(weekly_count(r.weekly)));
    let (Some(starts), Some(ends), Some(opens), Some(closes)) = (starts, ends, opens, closes)
    else {
        return Err(check.into_error());
    };
    if ends <= starts {
        check.push(FieldError::new("ends_at", "must be after starts_at"));
    } else if ends <= now {
        check.push(FieldError::new("ends_at", "must be in the future"));
    }
    if let Err(e) = OrderWindow::parse(opens, closes) {
        check.push(e);
    }
    if !check.is_ok() {
        return Err(check.into_error());
    }
    let times = DistributionTimes::parse(starts, ends, opens, closes)?;
    Ok(Planned {
        place,
        times,
        weekly,
    })
}

/// Loads a market (name and time zone) or answers 404.
async fn existing_market(state: &AppState, id: Uuid) -> Result<PlanningMarket, ApiError> {
    state
        .store
        .planning_market(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no market with this id"))
}

/// Loads a distribution or answers 404.
pub async fn existing_distribution(
    state: &AppState,
    id: Uuid,
) -> Result<DistributionRecord, ApiError> {
    state
        .store
        .distribution(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no distribution with this id"))
}

/// Tells the distribution's actor, if active, to re-read it from the
/// database (times, windows, participations) after a change made here.
pub fn distribution_changed(state: &AppState, id: Uuid) {
    state.engine.reload_distribution(id);
}

/// The 409 for a distribution that is not upcoming any more.
pub fn not_upcoming(status: DistributionStatus) -> ApiError {
    ApiError::conflict_with(
        "distribution_not_upcoming",
        format!(
            "this distribution is {}; only an upcoming one can be changed",
            status.as_str()
        ),
    )
    .with("distribution_status", json!(status.as_str()))
}

/// Plans one distribution, or a weekly series with `repeat.weekly` (admin).
#[utoipa::path(tag = "distributions", request_body = DistributionInput,
    responses((status = 201, body = DistributionView, description = "one distribution, or {series_id, distributions} with repeat"),
        (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[post("/markets/{id}/distributions")]
#[tracing::instrument(name = "create_distribution", skip_all, fields(market = %path))]
pub async fn create_distribution(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<DistributionInput>,
) -> Result<HttpResponse, ApiError> {
    let market = existing_market(&state, *path).await?;
    caller.require_market_admin(market.id)?;
    let now = state.clock.now();
    let planned = parse_input(&body, now)?;
    let Some(weeks) = planned.weekly else {
        let mut created = state
            .store
            .create_distributions(market.id, planned.place.as_deref(), &[planned.times], None)
            .await?;
        let one = created.pop().ok_or_else(ApiError::internal)?;
        return Ok(HttpResponse::Created().json(DistributionView::new(one, now)));
    };
    let tz: Tz = market.timezone.parse().map_err(|_| {
        tracing::error!(timezone = %market.timezone, "market has an unknown time zone");
        ApiError::internal()
    })?;
    let occurrences = weekly_series(&planned.times, weeks, tz).map_err(|e| {
        // A DST shift made one occurrence inconsistent (e.g. a window of minutes).
        ApiError::invalid_field("repeat.weekly", e.to_string())
    })?;
    let series_id = Uuid::new_v4();
    let created = state
        .store
        .create_distributions(
            market.id,
            planned.place.as_deref(),
            &occurrences,
            Some(series_id),
        )
        .await?;
    Ok(HttpResponse::Created().json(SeriesView {
        series_id,
        distributions: created
            .into_iter()
            .map(|d| DistributionView::new(d, now))
            .collect(),
    }))
}

/// Edits an upcoming distribution's place and times (admin).
#[utoipa::path(tag = "distributions", request_body = DistributionInput,
    responses((status = 200, body = DistributionView), (status = 403), (status = 404),
        (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[put("/distributions/{id}")]
#[tracing::instrument(name = "update_distribution", skip_all, fields(distribution = %path))]
pub async fn update_distribution(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<DistributionInput>,
) -> Result<web::Json<DistributionView>, ApiError> {
    let current = existing_distribution(&state, *path).await?;
    caller.require_market_admin(current.market_id)?;
    if body.repeat.is_some() {
        return Err(ApiError::invalid_field(
            "repeat",
            "a distribution is edited alone; plan a new series instead",
        ));
    }
    let now = state.clock.now();
    let planned = parse_input(&body, now)?;
    let outcome = state
        .store
        .edit_distribution(current.id, planned.place.as_deref(), &planned.times, now)
        .await?
        .ok_or_else(|| ApiError::not_found("no distribution with this id"))?;
    match outcome {
        EditOutcome::Updated(d) => {
            distribution_changed(&state, d.id);
            Ok(web::Json(DistributionView::new(d, now)))
        }
        EditOutcome::NotUpcoming(status) => Err(not_upcoming(status)),
        EditOutcome::OpensAfterOrders(n) => Err(ApiError::invalid_field(
            "orders_open_at",
            format!(
                "{n} confirmed order(s) were already placed: the sale cannot open later than now"
            ),
        )
        .with("orders", json!(n))),
        EditOutcome::Misfits(misfits) => {
            let ids: Vec<Uuid> = misfits.iter().map(|m| m.participation_id).collect();
            let errors = misfits
                .into_iter()
                .map(|m| {
                    FieldError::new(
                        m.error.field,
                        format!(
                            "the participation of catalog «{}» has its own order window, \
                             which would no longer fit: {}",
                            m.catalog_name, m.error.reason
                        ),
                    )
                })
                .collect();
            Err(ApiError::invalid_fields(errors).with("participations", json!(ids)))
        }
    }
}

/// Cancels an upcoming distribution without confirmed orders (admin).
#[utoipa::path(tag = "distributions",
    responses((status = 204), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
#[delete("/distributions/{id}")]
#[tracing::instrument(name = "cancel_distribution", skip_all, fields(distribution = %path))]
pub async fn cancel_distribution(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let current = existing_distribution(&state, *path).await?;
    caller.require_market_admin(current.market_id)?;
    let outcome = state
        .store
        .cancel_distribution(current.id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("no distribution with this id"))?;
    match outcome {
        CancelOutcome::Cancelled(d) => {
            distribution_changed(&state, d.id);
            Ok(HttpResponse::NoContent().finish())
        }
        CancelOutcome::NotUpcoming(DistributionStatus::Cancelled) => {
            Ok(HttpResponse::NoContent().finish())
        }
        CancelOutcome::NotUpcoming(status) => Err(not_upcoming(status)),
        CancelOutcome::HasOrders(n) => Err(ApiError::conflict_with(
            "has_orders",
            format!(
                "this distribution has {n} confirmed order(s); they must be cancelled \
                 before the distribution can be"
            ),
        )
        .with("orders", json!(n))),
    }
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_distribution)
        .service(public::list_distributions)
        .service(public::get_distribution)
        .service(update_distribution)
        .service(cancel_distribution);
}
