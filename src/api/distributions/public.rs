//! What anyone may read about distributions, without an account: a
//! market's distributions (upcoming by default) and one distribution with
//! its participations, each with its effective window and sale status at
//! the engine's clock.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{existing_distribution, existing_market};
use crate::api::problem::ApiError;
use crate::api::state::AppState;
use crate::api::validate::Collect;
use crate::domain::planning::{parse_optional_instant, sale_status};
use crate::domain::window::SaleStatus;
use crate::store::distributions::DistributionRecord;

/// Most distributions one listing returns.
const LIST_LIMIT: i64 = 500;

/// A distribution.
#[derive(Serialize, ToSchema)]
pub struct DistributionView {
    pub id: Uuid,
    pub market_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub orders_open_at: DateTime<Utc>,
    pub orders_close_at: DateTime<Utc>,
    /// `null` = the market's address.
    pub place: Option<String>,
    /// Set when created as part of a weekly series.
    pub series_id: Option<Uuid>,
    /// `upcoming`, `ended`, `validated` or `cancelled`.
    pub status: String,
    /// Status of the default sale window: `upcoming`, `open` or `closed`.
    #[schema(value_type = String)]
    pub sale_status: SaleStatus,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl DistributionView {
    pub fn new(d: DistributionRecord, now: DateTime<Utc>) -> Self {
        Self {
            status: d.status(now).as_str().to_owned(),
            sale_status: sale_status(d.orders_open_at, d.orders_close_at, now),
            id: d.id,
            market_id: d.market_id,
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            orders_open_at: d.orders_open_at,
            orders_close_at: d.orders_close_at,
            place: d.place,
            series_id: d.series_id,
            cancelled_at: d.cancelled_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NamedRef {
    pub id: Uuid,
    pub name: String,
}

/// A catalog taking part in a distribution, with its effective window.
#[derive(Serialize, ToSchema)]
pub struct DistributionParticipationView {
    id: Uuid,
    catalog: NamedRef,
    producer: NamedRef,
    orders_open_at: DateTime<Utc>,
    orders_close_at: DateTime<Utc>,
    custom_window: bool,
    /// `upcoming`, `open` or `closed`.
    #[schema(value_type = String)]
    status: SaleStatus,
}

/// A distribution with its market and participations.
#[derive(Serialize, ToSchema)]
pub struct DistributionDetail {
    #[serde(flatten)]
    distribution: DistributionView,
    market: NamedRef,
    participations: Vec<DistributionParticipationView>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Distributions ending after this instant (default: now).
    #[param(schema_with = crate::api::schema::date_time)]
    from: Option<String>,
    /// Distributions starting before this instant.
    #[param(schema_with = crate::api::schema::date_time)]
    to: Option<String>,
    /// Include cancelled ones (default false).
    include_cancelled: Option<bool>,
}

/// A market's distributions (public): upcoming by default, soonest first.
#[utoipa::path(tag = "distributions", params(ListQuery),
    responses((status = 200, body = [DistributionView]), (status = 404), (status = 422)))]
#[get("/markets/{id}/distributions")]
#[tracing::instrument(name = "list_distributions", skip_all, fields(market = %path))]
pub async fn list_distributions(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    query: web::Query<ListQuery>,
) -> Result<web::Json<Vec<DistributionView>>, ApiError> {
    let market = existing_market(&state, *path).await?;
    let now = state.clock.now();
    // A '+' of an offset arrives as a space when not percent-encoded.
    let instant = |raw: &Option<String>, field: &str| {
        let raw = raw.as_deref().map(|s| s.trim().replace(' ', "+"));
        parse_optional_instant(raw.as_deref(), field)
    };
    let mut check = Collect::default();
    let from = check.field(instant(&query.from, "from"));
    let to = check.field(instant(&query.to, "to"));
    check.finish()?;
    let list = state
        .store
        .market_distributions(
            market.id,
            from.flatten().unwrap_or(now),
            to.flatten(),
            query.include_cancelled.unwrap_or(false),
            LIST_LIMIT,
        )
        .await?;
    Ok(web::Json(
        list.into_iter()
            .map(|d| DistributionView::new(d, now))
            .collect(),
    ))
}

/// One distribution with its participations (public).
#[utoipa::path(tag = "distributions",
    responses((status = 200, body = DistributionDetail), (status = 404)))]
#[get("/distributions/{id}")]
#[tracing::instrument(name = "get_distribution", skip_all, fields(distribution = %path))]
pub async fn get_distribution(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<web::Json<DistributionDetail>, ApiError> {
    let distribution = existing_distribution(&state, *path).await?;
    let market = existing_market(&state, distribution.market_id).await?;
    let now = state.clock.now();
    let participations = state
        .store
        .distribution_participations(distribution.id)
        .await?
        .into_iter()
        .map(|l| DistributionParticipationView {
            id: l.participation.id,
            status: l.participation.status_at(now),
            custom_window: l.participation.custom_window(),
            catalog: NamedRef {
                id: l.participation.catalog_id,
                name: l.catalog_name,
            },
            producer: NamedRef {
                id: l.participation.producer_id,
                name: l.producer_name,
            },
            orders_open_at: l.participation.orders_open_at,
            orders_close_at: l.participation.orders_close_at,
        })
        .collect();
    Ok(web::Json(DistributionDetail {
        distribution: DistributionView::new(distribution, now),
        market: NamedRef {
            id: market.id,
            name: market.name,
        },
        participations,
    }))
}
