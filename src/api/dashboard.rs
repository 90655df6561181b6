//! A producer's read views of its sales: the planning ("PLANIFIER": every
//! upcoming distribution of the markets its catalogs are linked to, with its
//! participation if any) and the dashboard ("TABLEAU DE BORD": "MES MARCHÉS"
//! and the next sales). Members of the producer only.
//!
//! The planning has one row per (distribution, catalog): a producer with two
//! catalogs linked to one market sees each date twice, once per catalog, as
//! it may take part with either or both. A catalog that was unlinked after
//! joining still shows its participations (`linked: false`).

use std::collections::BTreeMap;

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::distributions::{DistributionView, NamedRef};
use super::problem::ApiError;
use super::producers::existing_producer;
use super::state::AppState;
use super::validate::Collect;
use crate::domain::planning::{parse_optional_instant, sale_status};
use crate::domain::window::SaleStatus;
use crate::store::participations::{PlanningFilter, PlanningRow};

/// Most planning rows one answer holds.
const PLANNING_LIMIT: i64 = 1000;
/// Next sales shown on the dashboard.
const NEXT_SALES: usize = 20;

#[derive(Deserialize, IntoParams)]
pub struct PlanningQuery {
    /// Only this market's distributions.
    market_id: Option<Uuid>,
    /// Only this catalog's rows.
    catalog_id: Option<Uuid>,
    /// Only distributions starting before this instant.
    #[param(schema_with = crate::api::schema::date_time)]
    to: Option<String>,
}

/// The catalog's participation in a planning row.
#[derive(Serialize, ToSchema)]
pub struct PlannedParticipation {
    id: Uuid,
    orders_open_at: DateTime<Utc>,
    orders_close_at: DateTime<Utc>,
    custom_window: bool,
    /// `upcoming`, `open` or `closed`.
    #[schema(value_type = String)]
    status: SaleStatus,
}

/// One distribution × one of the producer's catalogs.
#[derive(Serialize, ToSchema)]
pub struct PlanningEntry {
    distribution: DistributionView,
    market: NamedRef,
    catalog: NamedRef,
    /// Whether the catalog is (still) linked to the market.
    linked: bool,
    /// `null` = not taking part ("+ Participer").
    participation: Option<PlannedParticipation>,
}

impl PlanningEntry {
    fn new(row: PlanningRow, now: DateTime<Utc>) -> Self {
        let participation = row.participation_id.map(|id| PlannedParticipation {
            id,
            orders_open_at: row.orders_open_at,
            orders_close_at: row.orders_close_at,
            custom_window: row.custom_window,
            status: sale_status(row.orders_open_at, row.orders_close_at, now),
        });
        Self {
            market: NamedRef {
                id: row.distribution.market_id,
                name: row.market_name,
            },
            distribution: DistributionView::new(row.distribution, now),
            catalog: NamedRef {
                id: row.catalog_id,
                name: row.catalog_name,
            },
            linked: row.linked,
            participation,
        }
    }
}

/// A catalog linked to a market.
#[derive(Serialize, ToSchema)]
pub struct LinkedCatalog {
    id: Uuid,
    name: String,
    code: String,
}

/// A market of the producer ("MES MARCHÉS").
#[derive(Serialize, ToSchema)]
pub struct DashboardMarket {
    id: Uuid,
    name: String,
    address: String,
    /// ISO weekday, Monday = 1.
    usual_weekday: Option<i16>,
    online_payment: bool,
    catalogs: Vec<LinkedCatalog>,
}

#[derive(Serialize, ToSchema)]
pub struct DashboardCounts {
    /// Markets its catalogs are linked to.
    markets: usize,
    /// Upcoming participations (distribution not ended nor cancelled).
    upcoming_participations: usize,
    /// Of those, sales open now.
    open_sales: usize,
    /// Upcoming distributions of its markets it does not take part in yet.
    distributions_to_plan: usize,
}

/// The producer's dashboard.
#[derive(Serialize, ToSchema)]
pub struct Dashboard {
    producer: NamedRef,
    markets: Vec<DashboardMarket>,
    /// Its upcoming participations, soonest distribution first.
    next_sales: Vec<PlanningEntry>,
    counts: DashboardCounts,
}

/// The producer's planning ("PLANIFIER"), soonest first (members).
#[utoipa::path(tag = "participations", params(PlanningQuery),
    responses((status = 200, body = [PlanningEntry]), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[get("/producers/{id}/planning")]
#[tracing::instrument(name = "producer_planning", skip_all, fields(producer = %path))]
pub async fn producer_planning(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<PlanningQuery>,
) -> Result<web::Json<Vec<PlanningEntry>>, ApiError> {
    let producer = existing_producer(&state, *path).await?;
    caller.require_producer_member(producer.id)?;
    let mut check = Collect::default();
    let raw_to = query.to.as_deref().map(|s| s.trim().replace(' ', "+"));
    let to = check.field(parse_optional_instant(raw_to.as_deref(), "to"));
    check.finish()?;
    let filter = PlanningFilter {
        market_id: query.market_id,
        catalog_id: query.catalog_id,
        to: to.flatten(),
    };
    let now = state.clock.now();
    let rows = state
        .store
        .producer_planning(producer.id, now, &filter, PLANNING_LIMIT)
        .await?;
    Ok(web::Json(
        rows.into_iter()
            .map(|r| PlanningEntry::new(r, now))
            .collect(),
    ))
}

/// The producer's dashboard: its markets and next sales (members).
#[utoipa::path(tag = "participations",
    responses((status = 200, body = Dashboard), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/producers/{id}/dashboard")]
#[tracing::instrument(name = "producer_dashboard", skip_all, fields(producer = %path))]
pub async fn producer_dashboard(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Dashboard>, ApiError> {
    let producer = existing_producer(&state, *path).await?;
    caller.require_producer_member(producer.id)?;
    let now = state.clock.now();
    let mut markets: Vec<DashboardMarket> = Vec::new();
    for link in state.store.producer_market_links(producer.id).await? {
        let catalog = LinkedCatalog {
            id: link.catalog_id,
            name: link.catalog_name,
            code: link.catalog_code,
        };
        match markets.last_mut() {
            Some(m) if m.id == link.market_id => m.catalogs.push(catalog),
            _ => markets.push(DashboardMarket {
                id: link.market_id,
                name: link.market_name,
                address: link.address,
                usual_weekday: link.usual_weekday,
                online_payment: link.online_payment,
                catalogs: vec![catalog],
            }),
        }
    }
    let planning = state
        .store
        .producer_planning(producer.id, now, &PlanningFilter::default(), PLANNING_LIMIT)
        .await?;
    // A distribution counts once to plan, even when several catalogs could join it.
    let mut to_plan: BTreeMap<Uuid, bool> = BTreeMap::new();
    let mut next_sales = Vec::new();
    for row in planning {
        let joined = to_plan.entry(row.distribution.id).or_insert(false);
        *joined |= row.participation_id.is_some();
        if row.participation_id.is_some() {
            next_sales.push(PlanningEntry::new(row, now));
        }
    }
    let open_sales = next_sales
        .iter()
        .filter(|e| {
            e.participation
                .as_ref()
                .is_some_and(|p| p.status == SaleStatus::Open)
        })
        .count();
    let counts = DashboardCounts {
        markets: markets.len(),
        upcoming_participations: next_sales.len(),
        open_sales,
        distributions_to_plan: to_plan.values().filter(|joined| !**joined).count(),
    };
    next_sales.truncate(NEXT_SALES);
    Ok(web::Json(Dashboard {
        producer: NamedRef {
            id: producer.id,
            name: producer.name,
        },
        markets,
        next_sales,
        counts,
    }))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(producer_planning).service(producer_dashboard);
}
