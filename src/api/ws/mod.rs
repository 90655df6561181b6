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
pub mod producer;
pub mod session;
pub mod storefront;

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{MessageStream, Session};
use tokio::sync::broadcast;

use super::auth::{self, Caller};
use super::credentials::hash_token;
use super::problem::ApiError;
use super::state::AppState;
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
    }
}

/// A connection slot, or 503 + `Retry-After` when all are taken.
fn permit(state: &AppState, feed: &'static str) -> Result<SessionPermit, ApiError> {
    state.engine.hub().open_session(feed).ok_or_else(|| {
        metrics::counter!("ws_sessions_refused_total", "feed" => feed).increment(1);
        ApiError::overloaded("too many live connections; try again shortly")
    })
}

/// Checks the WebSocket handshake; the 101 answer and both halves of the
/// connection (incoming frames limited to `ws_max_frame_bytes`).
fn upgrade(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<(HttpResponse, Session, MessageStream), ApiError> {
    let (response, session, stream) = actix_ws::handle(req, body)
        .map_err(|e| ApiError::bad_request(format!("this route speaks WebSocket only ({e})")))?;
    let stream = stream.max_frame_size(state.settings.engine.ws_max_frame_bytes);
    Ok((response, session, stream))
}

/// The heartbeat's check of a feed behind a token: the request's token
/// still names a caller (not revoked nor expired) who passes `allowed`. A
/// database that does not answer closes nothing: the next beat asks again.
fn still_allowed(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    allowed: impl Fn(&Caller) -> bool + Clone + 'static,
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
    body: web::Payload,
    state: &web::Data<AppState>,
    feed: &'static str,
    receiver: broadcast::Receiver<Push>,
    allowed: impl Fn(&Caller) -> bool + Clone + 'static,
) -> Result<HttpResponse, ApiError> {
    let (response, ws, stream) = upgrade(req, body, state)?;
    let permit = permit(state, feed)?;
    spawn(Live {
        feed,
        ws,
        stream,
        first: None,
        receiver,
        catch_up: Close,
        still_allowed: Some(still_allowed(req, state, allowed)),
        limits: limits(state),
        permit,
    });
    Ok(response)
}

/// Runs a session on this worker's thread.
fn spawn<C: CatchUp + 'static>(live: Live<C>) {
    actix_web::rt::spawn(live.run());
}
