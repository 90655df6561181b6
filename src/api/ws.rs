//! Live feeds over WebSocket (API.md, "WebSocket"), outside `/api/v1`:
//!
//! - `GET /ws/distributions/{id}` ([`storefront`]): anyone; a snapshot of
//!   the shop, then availability changes and sale edges;
//! - `GET /ws/producers/{id}` ([`producer`]): the producer's members; its
//!   committed orders (its lines only) and its offers' stock;
//! - `GET /ws/markets/{id}` ([`market`]): the market's admins; every
//!   committed order of its distributions.
//!
//! Everything that can be refused is refused before the upgrade, as a
//! problem document: 401/403 (the token comes as `Authorization: Bearer` or
//! `?token=`), 404 for an unknown distribution, 503 past
//! `ws_max_connections`. A producer or market feed asks again at every
//! heartbeat whether its token still names a caller with the role (logout,
//! expiry or a removed role close it, code 1008). The loop shared by all
//! feeds is [`session`].

pub mod market;
pub mod messages;
pub mod producer;
pub mod session;
pub mod storefront;
pub mod threads;
pub mod wire;

use std::time::Duration;

use actix_http::ws::handshake as websocket_handshake;
use actix_http::ResponseBuilder;
use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::broadcast;

use super::auth::{self, Caller};
use super::credentials::hash_token;
use super::problem::ApiError;
use super::state::AppState;
use super::upgraded::Takeover;
use crate::engine::events::{Push, SessionPermit};
use session::{CatchUp, Close, Limits, Live, StillAllowed};

/// Registers the `/ws/...` routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(storefront::watch_distribution)
        .service(producer::watch_producer)
        .service(market::watch_market);
}

/// Heartbeat, idle timeout and fragment size from `[engine]`.
fn limits(state: &AppState) -> Limits {
    let engine = &state.settings.engine;
    let heartbeat = Duration::from_secs(engine.ws_heartbeat_secs.max(1));
    Limits {
        heartbeat,
        idle: Duration::from_secs(engine.ws_idle_timeout_secs).max(heartbeat),
        fragment: engine.ws_fragment_bytes.max(64),
        max_frame: engine.ws_max_frame_bytes,
    }
}

/// A connection slot, or 503 + `Retry-After` when all are taken.
fn permit(state: &AppState, feed: &'static str) -> Result<SessionPermit, ApiError> {
    state.engine.hub().open_session(feed).ok_or_else(|| {
        metrics::counter!("ws_sessions_refused_total", "feed" => feed).increment(1);
        ApiError::overloaded("too many live connections; try again shortly")
    })
}

/// Checks the WebSocket handshake: the start of the 101 answer.
fn handshake(req: &HttpRequest) -> Result<ResponseBuilder, ApiError> {
    websocket_handshake(req.head())
        .map_err(|e| ApiError::bad_request(format!("this route speaks WebSocket only ({e})")))
}

/// The 101 answer, carrying the session that takes the connection over
/// once it is written ([`crate::api::upgraded`]), on a live thread.
fn switch<C: CatchUp + Send + 'static>(
    state: &AppState,
    mut handshake: ResponseBuilder,
    live: Live<C>,
) -> HttpResponse {
    let mut response = HttpResponse::from(handshake.finish()).map_into_boxed_body();
    let threads = state.live.clone();
    response
        .extensions_mut()
        .insert(Takeover::new(move |socket, early| async move {
            threads
                .run(socket, early, move |socket, early| live.run(socket, early))
                .await;
        }));
    response
}

/// The heartbeat's check of a feed behind a token: the request's token
/// still names a caller (not revoked nor expired) who passes `allowed`. A
/// database that does not answer closes nothing: the next beat asks again.
fn still_allowed(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    allowed: impl Fn(&Caller) -> bool + Clone + Send + 'static,
) -> StillAllowed {
    let token_hash = auth::token_of(req).map(|token| hash_token(&token));
    let state = state.clone();
    Box::new(move || {
        let (state, allowed) = (state.clone(), allowed.clone());
        Box::pin(async move {
            let Some(token_hash) = token_hash else {
                return false;
            };
            match state
                .store
                .token_owner(&token_hash, state.clock.now())
                .await
            {
                Ok(Some(owner)) => allowed(&Caller::from(owner)),
                Ok(None) => false,
                Err(error) => {
                    tracing::debug!(%error, "live feed access not re-checked");
                    true
                }
            }
        })
    })
}

/// Upgrades to an order feed (producer or market) of an authorised caller:
/// no snapshot, closed when it falls behind or `allowed` stops holding.
fn open_order_feed(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    feed: &'static str,
    receiver: broadcast::Receiver<Push>,
    allowed: impl Fn(&Caller) -> bool + Clone + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let handshake = handshake(req)?;
    let permit = permit(state, feed)?;
    Ok(switch(
        state,
        handshake,
        Live {
            feed,
            first: None,
            receiver,
            catch_up: Close,
            still_allowed: Some(still_allowed(req, state, allowed)),
            limits: limits(state),
            permit,
            pace: None,
        },
    ))
}
