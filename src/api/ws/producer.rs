//! `GET /ws/producers/{id}`: a producer's live feed, for its owner and
//! collaborators. `order_placed` / `order_modified` / `order_cancelled`
//! with the producer's own lines once committed, and `stock` changes of
//! its offers. A feed that falls behind is closed (code 1013, "fell
//! behind: reconnect"); the client reloads its pages and reconnects.

use actix_web::{get, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::api::auth::Caller;
use crate::api::problem::ApiError;
use crate::api::state::AppState;

/// Live orders and stock of a producer.
///
/// A WebSocket (answers 101) for the producer's members (bearer token, or
/// `?token=` from a browser): `order_placed`, `order_modified`,
/// `order_cancelled` with the producer's lines, and `stock` changes.
#[utoipa::path(tag = "live", responses(
    (status = 101, description = "WebSocket: the producer's order and stock events"),
    (status = 401), (status = 403), (status = 503, description = "too many live connections")),
    security(("bearer" = [])))]
#[get("/ws/producers/{id}")]
#[tracing::instrument(name = "ws_producer", skip_all, fields(producer = %path))]
pub async fn watch_producer(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let producer_id = *path;
    caller.require_producer_member(producer_id)?;
    state.node.follow_producer(producer_id).await;
    super::open_order_feed(
        &req,
        &state,
        "producer",
        state.engine.hub().subscribe_producer(producer_id),
        move |caller| caller.require_producer_member(producer_id).is_ok(),
    )
}
