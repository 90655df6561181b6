//! `GET /ws/markets/{id}`: a market's live order feed, for its admins:
//! every committed order change of the market's distributions, all
//! producers' lines included (each line names its producer and catalog).
//! Like a producer feed, it is closed if it falls behind.

use actix_web::{get, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::api::auth::Caller;
use crate::api::problem::ApiError;
use crate::api::state::AppState;

/// Live orders of a market.
///
/// A WebSocket (answers 101) for the market's admins: the order events of
/// every producer of its distributions.
#[utoipa::path(tag = "live", responses(
    (status = 101, description = "WebSocket: every order event of the market"),
    (status = 401), (status = 403), (status = 503, description = "too many live connections")),
    security(("bearer" = [])))]
#[get("/ws/markets/{id}")]
#[tracing::instrument(name = "ws_market", skip_all, fields(market = %path))]
pub async fn watch_market(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let market_id = *path;
    caller.require_market_admin(market_id)?;
    state.node.follow_market(market_id).await;
    super::open_order_feed(
        &req,
        &state,
        "market",
        state.engine.hub().subscribe_market(market_id),
        move |caller| caller.require_market_admin(market_id).is_ok(),
    )
}
