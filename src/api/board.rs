//! The producer's live board, first load: its sales of distributions not
//! ended yet, its offers by name, and the orders already holding its lines.
//! The board page then follows `/ws/producers/{id}` (orders as they are
//! committed, stock changes) and `GET /producers/{id}/stocks` for stock.
//! Members of the producer only.

use std::collections::HashSet;

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::distributions::NamedRef;
use super::problem::ApiError;
use super::producers::existing_producer;
use super::state::AppState;
use crate::domain::money::Money;
use crate::domain::order::order_total;
use crate::domain::order::LineView;
use crate::domain::planning::sale_status;
use crate::domain::window::SaleStatus;
use crate::store::storefront::{BoardOffer, BoardOrder, BoardSale};

/// Most sales one board shows.
const SALES_LIMIT: i64 = 50;

/// One sale of the producer: a catalog in a distribution.
#[derive(Serialize, ToSchema)]
pub struct BoardSaleView {
    participation_id: Uuid,
    distribution_id: Uuid,
    catalog: NamedRef,
    market: BoardMarket,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    orders_open_at: DateTime<Utc>,
    orders_close_at: DateTime<Utc>,
    /// `upcoming`, `open` or `closed` at the engine's clock.
    #[schema(value_type = String)]
    status: SaleStatus,
}

/// The market of a sale, with the time zone its times are shown in.
#[derive(Serialize, ToSchema)]
pub struct BoardMarket {
    id: Uuid,
    name: String,
    /// IANA zone, e.g. `Europe/Paris`.
    timezone: String,
}

/// One offer of the producer.
#[derive(Serialize, ToSchema)]
pub struct BoardOfferView {
    offer_id: Uuid,
    product_name: String,
    category: String,
    label: String,
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    quantity: Decimal,
    unit: String,
    active: bool,
}

/// A confirmed order, with the producer's lines only.
#[derive(Serialize, ToSchema)]
pub struct BoardOrderView {
    id: Uuid,
    number: i32,
    distribution_id: Uuid,
    customer: NamedRef,
    updated_at: DateTime<Utc>,
    /// `[{id, offer_id, quantity, unit_price, total}]`.
    #[schema(value_type = Vec<Object>)]
    lines: Vec<LineView>,
    /// Total of these lines.
    #[schema(value_type = String)]
    total: Money,
}

/// The board's first load.
#[derive(Serialize, ToSchema)]
pub struct BoardView {
    producer: NamedRef,
    /// The engine's clock when this was read.
    now: DateTime<Utc>,
    sales: Vec<BoardSaleView>,
    offers: Vec<BoardOfferView>,
    /// Oldest first.
    orders: Vec<BoardOrderView>,
}

fn sale_view(s: BoardSale, now: DateTime<Utc>) -> BoardSaleView {
    BoardSaleView {
        status: sale_status(s.opens_at, s.closes_at, now),
        participation_id: s.participation_id,
        distribution_id: s.distribution_id,
        catalog: NamedRef {
            id: s.catalog_id,
            name: s.catalog_name,
        },
        market: BoardMarket {
            id: s.market_id,
            name: s.market_name,
            timezone: s.market_timezone,
        },
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        orders_open_at: s.opens_at,
        orders_close_at: s.closes_at,
    }
}

fn offer_view(o: BoardOffer) -> BoardOfferView {
    BoardOfferView {
        offer_id: o.offer_id,
        product_name: o.product_name,
        category: o.category,
        label: o.label,
        quantity: o.quantity,
        unit: o.unit,
        active: o.active,
    }
}

fn order_view(o: BoardOrder) -> BoardOrderView {
    BoardOrderView {
        total: order_total(&o.lines),
        lines: o.lines.iter().map(|l| LineView::new(l, None)).collect(),
        id: o.id,
        number: o.number,
        distribution_id: o.distribution_id,
        customer: NamedRef {
            id: o.customer_id,
            name: o.customer_name,
        },
        updated_at: o.updated_at,
    }
}

/// The producer's live board: current sales, offers and orders (members).
#[utoipa::path(tag = "orders",
    responses((status = 200, body = BoardView), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/producers/{id}/board")]
#[tracing::instrument(name = "producer_board", skip_all, fields(producer = %path))]
pub async fn producer_board(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<BoardView>, ApiError> {
    let producer = existing_producer(&state, *path).await?;
    caller.require_producer_member(producer.id)?;
    let now = state.clock.now();
    let sales = state
        .store
        .board_sales(producer.id, now, SALES_LIMIT)
        .await?;
    let participations: Vec<Uuid> = sales.iter().map(|s| s.participation_id).collect();
    let (offers, orders) = futures_util::try_join!(
        state.store.board_offers(producer.id),
        state.store.board_orders(&participations),
    )?;
    // Keep only offers worth showing: active ones and any ordered.
    let ordered: HashSet<Uuid> = orders
        .iter()
        .flat_map(|o| o.lines.iter().map(|l| l.offer_id))
        .collect();
    Ok(web::Json(BoardView {
        producer: NamedRef {
            id: producer.id,
            name: producer.name,
        },
        now,
        sales: sales.into_iter().map(|s| sale_view(s, now)).collect(),
        offers: offers
            .into_iter()
            .filter(|o| o.active || ordered.contains(&o.offer_id))
            .map(offer_view)
            .collect(),
        orders: orders.into_iter().map(order_view).collect(),
    }))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(producer_board);
}
