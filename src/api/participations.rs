//! Participations ("+ Participer"): a producer's catalog takes part in a
//! distribution of a market it is linked to, alone or many at once (bulk,
//! all or nothing), with an optional custom order window; the window can be
//! changed; withdrawing is refused once confirmed orders exist.
//!
//! Decisions where the issue is silent:
//! - Only upcoming distributions (not cancelled, not ended) can be joined, and
//!   the effective window must close in the future (else the sale would be
//!   over before it starts).
//! - Bulk accepts `{catalog_id, distribution_ids, orders_open_at?,
//!   orders_close_at?}` or `{items: [...]}`, not both; every problem of every
//!   item is a 422 naming it (`distribution_ids[i]` or `items[i].<field>`),
//!   including "already participates", and nothing is created.
//! - `PUT /participations/{id}` replaces both overrides (absent or null =
//!   the distribution's default). Refused with 409 `sale_closed` once its
//!   sale has closed; with orders, the sale may not open later than now.
//! - Withdrawing (`DELETE`) is allowed while no *confirmed* order has lines
//!   in it (lines of cancelled orders are dropped with it); otherwise 409
//!   `has_orders` with `orders: n`.
//! - After every change the distribution's actor, if active, reloads its
//!   participations and windows (the price snapshot is the engine's job).

mod bulk;

use std::collections::{HashMap, HashSet};

use actix_web::{delete, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::distributions::{distribution_changed, existing_distribution, not_upcoming};
use super::problem::ApiError;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::error::FieldError;
use crate::domain::planning::{effective_window, parse_optional_instant, DistributionStatus};
use crate::domain::window::SaleStatus;
use crate::store::participations::{
    NewParticipation, ParticipationRecord, WithdrawOutcome, NOT_LINKED,
};
use crate::store::DbError;

#[derive(Deserialize, ToSchema)]
pub struct ParticipationInput {
    catalog_id: Option<String>,
    /// Custom opening; absent or null = the distribution's.
    #[schema(schema_with = crate::api::schema::date_time_or_null)]
    orders_open_at: Option<String>,
    /// Custom closing; absent or null = the distribution's.
    #[schema(schema_with = crate::api::schema::date_time_or_null)]
    orders_close_at: Option<String>,
}

/// A custom window (`PUT`): absent or null bounds follow the distribution.
#[derive(Deserialize, ToSchema)]
pub struct WindowInput {
    #[schema(schema_with = crate::api::schema::date_time_or_null)]
    orders_open_at: Option<String>,
    #[schema(schema_with = crate::api::schema::date_time_or_null)]
    orders_close_at: Option<String>,
}

/// A participation with its effective window.
#[derive(Serialize, ToSchema)]
pub struct ParticipationView {
    id: Uuid,
    distribution_id: Uuid,
    catalog_id: Uuid,
    orders_open_at: DateTime<Utc>,
    orders_close_at: DateTime<Utc>,
    /// Whether either bound is the participation's own.
    custom_window: bool,
    /// `upcoming`, `open` or `closed`.
    #[schema(value_type = String)]
    status: SaleStatus,
}

impl ParticipationView {
    fn new(p: ParticipationRecord, now: DateTime<Utc>) -> Self {
        Self {
            status: p.status_at(now),
            custom_window: p.custom_window(),
            id: p.id,
            distribution_id: p.distribution_id,
            catalog_id: p.catalog_id,
            orders_open_at: p.orders_open_at,
            orders_close_at: p.orders_close_at,
        }
    }
}

/// Why one requested participation cannot be created.
pub(crate) enum Refusal {
    Invalid(FieldError),
    NotUpcoming(DistributionStatus),
    AlreadyParticipates,
}

fn parse_uuid(raw: Option<&str>, field: &str) -> Result<Uuid, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new(field, "is required"))?;
    raw.trim()
        .parse()
        .map_err(|_| FieldError::new(field, "must be an id (UUID)"))
}

/// Checks parsed participations against the database. Refusals carry fields
/// relative to one item (`distribution_id`, `catalog_id`, `orders_*`).
pub(crate) async fn check_items(
    state: &AppState,
    items: &[NewParticipation],
    now: DateTime<Utc>,
) -> Result<Vec<(usize, Refusal)>, ApiError> {
    let mut distribution_ids: Vec<Uuid> = items.iter().map(|i| i.distribution_id).collect();
    distribution_ids.sort();
    distribution_ids.dedup();
    let mut catalog_ids: Vec<Uuid> = items.iter().map(|i| i.catalog_id).collect();
    catalog_ids.sort();
    catalog_ids.dedup();
    let distributions: HashMap<Uuid, _> = state
        .store
        .distributions_by_ids(&distribution_ids)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let links: HashSet<(Uuid, Uuid)> = state
        .store
        .catalog_links(&catalog_ids)
        .await?
        .into_iter()
        .collect();
    let existing: HashSet<(Uuid, Uuid)> = state
        .store
        .existing_participations(&distribution_ids, &catalog_ids)
        .await?
        .into_iter()
        .collect();
    let mut seen = HashSet::new();
    let mut refusals = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let pair = (item.distribution_id, item.catalog_id);
        let Some(d) = distributions.get(&item.distribution_id) else {
            let e = FieldError::new("distribution_id", "no distribution with this id");
            refusals.push((i, Refusal::Invalid(e)));
            continue;
        };
        let status = d.status(now);
        if !status.is_upcoming() {
            refusals.push((i, Refusal::NotUpcoming(status)));
        } else if !links.contains(&(item.catalog_id, d.market_id)) {
            let e = FieldError::new(
                "catalog_id",
                "is not linked to the market of this distribution; \
                 ask its admin to link it with the catalog's code",
            );
            refusals.push((i, Refusal::Invalid(e)));
        } else if existing.contains(&pair) {
            refusals.push((i, Refusal::AlreadyParticipates));
        } else if !seen.insert(pair) {
            let e = FieldError::new("distribution_id", "is listed twice for this catalog");
            refusals.push((i, Refusal::Invalid(e)));
        } else {
            let times = d.times().map_err(|_| ApiError::internal())?;
            match effective_window(&times, item.opens_override, item.closes_override) {
                Err(e) => refusals.push((i, Refusal::Invalid(e))),
                Ok(w) if w.closes_at() <= now => {
                    let e = FieldError::new(
                        "orders_close_at",
                        "is already past: the sale would be over before it starts",
                    );
                    refusals.push((i, Refusal::Invalid(e)));
                }
                Ok(_) => {}
            }
        }
    }
    Ok(refusals)
}

/// Maps the store's refusals of an insert (a race with another request).
fn insert_error(e: DbError) -> ApiError {
    match e {
        DbError::Conflict(c) if c == NOT_LINKED => ApiError::invalid_field(
            "catalog_id",
            "is not linked to the market of this distribution",
        ),
        DbError::Conflict(_) => ApiError::conflict_with(
            "already_participating",
            "this catalog already takes part in this distribution",
        ),
        other => other.into(),
    }
}

/// Takes part in a distribution with a catalog (member of its producer).
#[utoipa::path(tag = "participations", request_body = ParticipationInput,
    responses((status = 201, body = ParticipationView), (status = 403), (status = 404),
        (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[post("/distributions/{id}/participations")]
#[tracing::instrument(name = "create_participation", skip_all, fields(distribution = %path))]
pub async fn create_participation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<ParticipationInput>,
) -> Result<HttpResponse, ApiError> {
    let distribution = existing_distribution(&state, *path).await?;
    let mut check = Collect::default();
    let catalog_id = check.field(parse_uuid(body.catalog_id.as_deref(), "catalog_id"));
    let opens = check.field(parse_optional_instant(
        body.orders_open_at.as_deref(),
        "orders_open_at",
    ));
    let closes = check.field(parse_optional_instant(
        body.orders_close_at.as_deref(),
        "orders_close_at",
    ));
    let (Some(catalog_id), Some(opens), Some(closes)) = (catalog_id, opens, closes) else {
        return Err(check.into_error());
    };
    let catalog = state
        .store
        .planning_catalogs(&[catalog_id])
        .await?
        .pop()
        .ok_or_else(|| ApiError::names_nothing("catalog_id", "no catalog with this id"))?;
    caller.require_producer_member(catalog.producer_id)?;
    let item = NewParticipation {
        distribution_id: distribution.id,
        catalog_id,
        opens_override: opens,
        closes_override: closes,
    };
    let now = state.clock.now();
    let items = [item];
    let mut errors = Vec::new();
    for (_, refusal) in check_items(&state, &items, now).await? {
        match refusal {
            Refusal::Invalid(e) => errors.push(e),
            Refusal::NotUpcoming(status) => return Err(not_upcoming(status)),
            Refusal::AlreadyParticipates => {
                return Err(ApiError::conflict_with(
                    "already_participating",
                    "this catalog already takes part in this distribution",
                ))
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let created = state
        .store
        .create_participations(&items)
        .await
        .map_err(insert_error)?
        .pop()
        .ok_or_else(ApiError::internal)?;
    distribution_changed(&state, created.distribution_id);
    Ok(HttpResponse::Created().json(ParticipationView::new(created, now)))
}

/// Loads a participation and checks the caller belongs to its producer.
async fn own_participation(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<ParticipationRecord, ApiError> {
    let p = state
        .store
        .participation(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no participation with this id"))?;
    caller.require_producer_member(p.producer_id)?;
    Ok(p)
}

/// Changes a participation's custom window (member of its producer).
#[utoipa::path(tag = "participations", request_body = WindowInput,
    responses((status = 200, body = ParticipationView), (status = 403), (status = 404),
        (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[put("/participations/{id}")]
#[tracing::instrument(name = "update_participation", skip_all, fields(participation = %path))]
pub async fn update_participation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<WindowInput>,
) -> Result<web::Json<ParticipationView>, ApiError> {
    let current = own_participation(&state, &caller, *path).await?;
    let distribution = existing_distribution(&state, current.distribution_id).await?;
    let now = state.clock.now();
    let status = distribution.status(now);
    if !status.is_upcoming() {
        return Err(not_upcoming(status));
    }
    if current.status_at(now) == SaleStatus::Closed {
        return Err(ApiError::conflict_with(
            "sale_closed",
            "this sale has closed; its window can no longer change",
        ));
    }
    let mut check = Collect::default();
    let opens = check.field(parse_optional_instant(
        body.orders_open_at.as_deref(),
        "orders_open_at",
    ));
    let closes = check.field(parse_optional_instant(
        body.orders_close_at.as_deref(),
        "orders_close_at",
    ));
    let (Some(opens), Some(closes)) = (opens, closes) else {
        return Err(check.into_error());
    };
    let times = distribution.times().map_err(|_| ApiError::internal())?;
    let window = effective_window(&times, opens, closes)?;
    if window.closes_at() <= now {
        return Err(ApiError::invalid_field(
            "orders_close_at",
            "must be in the future",
        ));
    }
    if window.opens_at() > now
        && state
            .store
            .participation_confirmed_orders(current.id)
            .await?
            > 0
    {
        return Err(ApiError::invalid_field(
            "orders_open_at",
            "orders were already placed: the sale cannot open later than now",
        ));
    }
    let updated = state
        .store
        .set_participation_window(current.id, opens, closes)
        .await?
        .ok_or_else(|| ApiError::not_found("no participation with this id"))?;
    distribution_changed(&state, updated.distribution_id);
    Ok(web::Json(ParticipationView::new(updated, now)))
}

/// Withdraws a participation without confirmed orders (member).
#[utoipa::path(tag = "participations",
    responses((status = 204), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
#[delete("/participations/{id}")]
#[tracing::instrument(name = "withdraw_participation", skip_all, fields(participation = %path))]
pub async fn withdraw_participation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let current = own_participation(&state, &caller, *path).await?;
    match state.store.withdraw_participation(current.id).await? {
        None => Err(ApiError::not_found("no participation with this id")),
        Some(WithdrawOutcome::Withdrawn) => {
            distribution_changed(&state, current.distribution_id);
            Ok(HttpResponse::NoContent().finish())
        }
        Some(WithdrawOutcome::HasOrders(n)) => Err(ApiError::conflict_with(
            "has_orders",
            format!(
                "{n} confirmed order(s) include this catalog; deliver them, or contact the \
                 customers and set their quantities to 0, before withdrawing"
            ),
        )
        .with("orders", json!(n))),
    }
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_participation)
        .service(bulk::bulk_participate)
        .service(update_participation)
        .service(withdraw_participation);
}
