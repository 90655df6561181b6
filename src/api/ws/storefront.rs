//! `GET /ws/distributions/{id}`: a storefront's live view, no account
//! needed. First a `snapshot` (the shop document with `"type":"snapshot"`),
//! then per push one `availability` message with every offer that changed
//! (coalesced over the hub's push window), `sale_opened` /
//! `sale_closed` at the window edges, and a fresh `snapshot` after a
//! forced catalog sync or a planning change, or when the session fell
//! behind.

use actix_web::{get, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::session::{CatchUp, Live};
use crate::api::auth::{optional_caller, token_of};
use crate::api::order_problem::order_problem;
use crate::api::problem::ApiError;
use crate::api::state::AppState;
use crate::cluster::{Node, Viewer};
use crate::engine::events::Subscription;

/// A storefront catches up with a fresh snapshot (from this node's engine,
/// or in a cluster from the active one's).
struct Snapshot {
    node: Node,
    distribution_id: Uuid,
    /// The signed-in customer watching, whose basket the snapshot shows.
    viewer: Option<Viewer>,
}

/// Attempts at a fresh snapshot before the session is closed: under a rush
/// the engine may answer "busy" once, which is no reason to drop a watcher.
const CATCH_UP_ATTEMPTS: u32 = 3;

impl CatchUp for Snapshot {
    async fn catch_up(&mut self) -> Option<Subscription> {
        for attempt in 1..=CATCH_UP_ATTEMPTS {
            let watched = self
                .node
                .watch_storefront(self.distribution_id, self.viewer.as_ref())
                .await;
            match watched {
                Ok(subscription) => return subscription,
                Err(error) => {
                    tracing::debug!(?error, attempt, "storefront could not resynchronise");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt)))
                        .await;
                }
            }
        }
        None
    }
}

/// Live availability of a distribution's shop.
///
/// A WebSocket (answers 101): a `snapshot` (the shop document), then
/// `{"type":"availability","offers":[{"offer_id","available"}, …]}` — one
/// per push, with every offer of the shop that changed since the previous
/// one (`available` a decimal string, `null` = unlimited) —, `sale_opened`,
/// `sale_closed` and fresh `snapshot` messages (docs/api.md, "WebSocket").
/// Long messages may come as continuation frames. No account needed; a signed-in customer (`Authorization: Bearer`
/// or `?token=`) sees in the snapshots what their basket holds (`held`).
#[utoipa::path(tag = "live",
    params(("token" = Option<String>, Query, description = "a bearer token, for browsers")),
    responses(
    (status = 101, description = "WebSocket: snapshot, then live changes"),
    (status = 400, description = "not a WebSocket handshake"),
    (status = 401, description = "the token is unknown, expired or revoked"),
    (status = 404), (status = 503, description = "too many live connections")))]
#[get("/ws/distributions/{id}")]
#[tracing::instrument(name = "ws_storefront", skip_all, fields(distribution = %path))]
pub async fn watch_distribution(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let distribution_id = *path;
    let handshake = super::handshake(&req)?;
    let viewer = match optional_caller(&state, &req).await? {
        Some(caller) => token_of(&req).map(|token| Viewer {
            account_id: caller.account_id,
            token,
        }),
        None => None,
    };
    let permit = super::permit(&state, "storefront")?;
    let subscription = state
        .node
        .watch_storefront(distribution_id, viewer.as_ref())
        .await
        .map_err(order_problem)?
        .ok_or_else(|| ApiError::not_found("no distribution with this id"))?;
    Ok(super::switch(
        &state,
        handshake,
        Live {
            feed: "storefront",
            pace: Some(subscription.pace),
            first: Some(subscription.snapshot),
            receiver: subscription.receiver,
            catch_up: Snapshot {
                node: state.node.clone(),
                distribution_id,
                viewer,
            },
            still_allowed: None,
            limits: super::limits(&state),
            permit,
        },
    ))
}
