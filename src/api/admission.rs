//! The fair waiting room of popular sales:
//!
//! - `POST /distributions/{id}/admission` — a signed-in customer joins (or
//!   finds their ticket again): `{ticket, position, admitted,
//!   estimated_wait_s}`; before the opening `position` is `null` (the
//!   early crowd is drawn at the opening instant);
//! - `GET /distributions/{id}/admission/{ticket}` — where that ticket stands;
//! - `GET|PUT /distributions/{id}/waiting-room` — the room at a glance
//!   (anyone), and the market admin's mark (`{popular}`).
//!
//! While the room is active, the calls that take stock (`PUT …/cart` with
//! lines, `POST …/orders`, `PATCH /orders/{id}`) carry the ticket in an
//! `Admission-Ticket` header; without an admitted one they get `409
//! not_admitted` with the ticket's position ([`admission_ticket`], and the
//! problem in `order_problem`).

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::distributions::existing_distribution;
use super::json::Json;
use super::order_problem::order_problem;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::admission::{RoomStatus, TicketStatus};

/// The header naming the caller's waiting-room ticket.
pub const TICKET_HEADER: &str = "admission-ticket";

/// The `Admission-Ticket` of a request, if any (422 if it is not an id).
pub fn admission_ticket(req: &HttpRequest) -> Result<Option<Uuid>, ApiError> {
    let Some(value) = req.headers().get(TICKET_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<Uuid>().ok())
        .map(Some)
        .ok_or_else(|| ApiError::invalid_field("Admission-Ticket", "must be a ticket id"))
}

/// A ticket's standing.
#[derive(Serialize, ToSchema)]
pub struct TicketView {
    /// Send it as `Admission-Ticket` once admitted.
    ticket: Uuid,
    /// Place in the line from 1; `null` before the opening draw.
    #[schema(minimum = 1)]
    position: Option<usize>,
    /// Admitted: baskets and orders are open to it.
    admitted: bool,
    /// Seconds until admission, about (0 once admitted).
    estimated_wait_s: u64,
    /// Admitted once, unused too long: join again.
    expired: bool,
}

impl From<TicketStatus> for TicketView {
    fn from(s: TicketStatus) -> Self {
        Self {
            ticket: s.ticket,
            position: s.position,
            admitted: s.admitted,
            estimated_wait_s: s.estimated_wait_s,
            expired: s.expired,
        }
    }
}

/// A waiting room at a glance.
#[derive(Serialize, ToSchema)]
pub struct RoomView {
    /// Marked popular by a market admin.
    popular: bool,
    /// Baskets and orders need an admitted ticket.
    active: bool,
    /// The opening draw took place.
    drawn: bool,
    /// Places admitted so far: a ticket at position `p` is in once `admitted ≥ p`.
    admitted: usize,
    /// Customers waiting.
    waiting: usize,
    rate_per_s: f64,
}

fn room_view(popular: bool, room: Option<RoomStatus>) -> RoomView {
    let room = room.unwrap_or(RoomStatus {
        active: popular,
        drawn: false,
        admitted: 0,
        waiting: 0,
        rate_per_s: 0.0,
    });
    RoomView {
        popular,
        active: room.active,
        drawn: room.drawn,
        admitted: room.admitted,
        waiting: room.waiting,
        rate_per_s: room.rate_per_s,
    }
}

/// The market admin's mark.
#[derive(Deserialize, ToSchema)]
pub struct PopularInput {
    /// `true`: the sale opens through the waiting room.
    popular: bool,
}

/// Joins the distribution's waiting room, or finds one's ticket again.
///
/// Before the opening every joiner waits for the draw (`position` is
/// `null`, the estimated wait counts the time to the opening); at the
/// opening they are put in a random order, and later arrivals queue behind
/// in arrival order. Customers are admitted at `admission.rate_per_s`.
#[utoipa::path(tag = "orders",
    responses((status = 201, body = TicketView, description = "a new ticket"),
        (status = 200, body = TicketView, description = "the caller's ticket, already in"),
        (status = 409, description = "sale_closed, distribution_cancelled")),
    security(("bearer" = [])))]
#[post("/distributions/{id}/admission")]
#[tracing::instrument(name = "join_room", skip_all, fields(distribution = %path, account = %caller.account_id))]
pub async fn join_room(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (status, fresh) = state
        .engine
        .join_room(*path, caller.account_id)
        .await
        .map_err(order_problem)?;
    let view = TicketView::from(status);
    Ok(if fresh {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// Where the caller's ticket stands.
#[utoipa::path(tag = "orders",
    responses((status = 200, body = TicketView),
        (status = 404, description = "no such distribution, or no such ticket of the caller's")),
    security(("bearer" = [])))]
#[get("/distributions/{id}/admission/{ticket}")]
#[tracing::instrument(name = "ticket_status", skip_all, fields(distribution = %path.0, account = %caller.account_id))]
pub async fn ticket_status(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<TicketView>, ApiError> {
    let (distribution_id, ticket) = *path;
    state
        .engine
        .ticket_status(distribution_id, caller.account_id, ticket)
        .await
        .map_err(order_problem)?
        .map(|s| web::Json(s.into()))
        .ok_or_else(|| ApiError::not_found("no ticket of yours with this id"))
}

/// The distribution's waiting room at a glance (no account needed).
#[utoipa::path(tag = "orders", responses((status = 200, body = RoomView)))]
#[get("/distributions/{id}/waiting-room")]
#[tracing::instrument(name = "waiting_room", skip_all, fields(distribution = %path))]
pub async fn waiting_room(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<web::Json<RoomView>, ApiError> {
    let distribution = existing_distribution(&state, *path).await?;
    let room = state
        .engine
        .room_status(distribution.id)
        .await
        .map_err(order_problem)?;
    Ok(web::Json(room_view(distribution.popular, room)))
}

/// Marks the sale popular (it opens through the waiting room) or not; the
/// distribution's market admins only.
#[utoipa::path(tag = "distributions", request_body = PopularInput,
    responses((status = 200, body = RoomView),
        (status = 403, description = "not an admin of the distribution's market")),
    security(("bearer" = [])))]
#[put("/distributions/{id}/waiting-room")]
#[tracing::instrument(name = "set_popular", skip_all, fields(distribution = %path, account = %caller.account_id))]
pub async fn mark_popular(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<PopularInput>,
) -> Result<web::Json<RoomView>, ApiError> {
    let distribution = existing_distribution(&state, *path).await?;
    caller.require_market_admin(distribution.market_id)?;
    if !state
        .engine
        .set_popular(distribution.id, body.popular)
        .await?
    {
        return Err(ApiError::not_found("no distribution with this id"));
    }
    let room = state
        .engine
        .room_status(distribution.id)
        .await
        .map_err(order_problem)?;
    Ok(web::Json(room_view(body.popular, room)))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(join_room)
        .service(ticket_status)
        .service(waiting_room)
        .service(mark_popular);
}
