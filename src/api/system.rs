//! Operational endpoints: liveness (`/health`), readiness (`/ready`: the
//! database answers), Prometheus metrics (`/metrics`) and the OpenAPI
//! document (`/api/v1/openapi.json`, served as JSON; no UI bundle).

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use super::problem::ApiError;
use super::state::AppState;

/// Alive: the process answers.
#[utoipa::path(tag = "system", responses((status = 200, description = "alive")))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// How long `/ready` waits for the database: it answers within a second.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(800);

/// Ready: the database answers; 503 + `Retry-After` when it does not
/// (within a second: a load balancer asks often).
/// Says this node's role (`active`: it runs the ordering engine;
/// `standby`: it forwards to the active node), its id, and the active
/// node's id and address (`null` while none holds the lease); in a cluster
/// also whether NATS is connected; and the process id (for the operator's
/// tools on the same machine, e.g. `loadtest --kill-active-after`).
#[utoipa::path(tag = "system", responses((status = 200, description = "ready: status, role, node_id, active {node_id, url}, cluster, nats"), (status = 503)))]
#[get("/ready")]
#[tracing::instrument(name = "ready", skip_all)]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match tokio::time::timeout(READY_WITHIN, state.store.ping()).await {
        Ok(answer) => answer?,
        Err(_) => {
            return Err(ApiError::unavailable(
                "the database did not answer within a second",
            ))
        }
    }
    let node = &state.node;
    let active = node
        .active_node()
        .map(|a| json!({"node_id": a.node_id, "url": a.url, "epoch": a.epoch}));
    let nats = node
        .nats_connected()
        .map(|up| if up { "connected" } else { "disconnected" });
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "role": node.role().as_str(),
        "node_id": node.id(),
        "url": node.url(),
        "active": active,
        "cluster": node.is_cluster(),
        "nats": nats,
        "pid": std::process::id(),
    })))
}

/// Prometheus text exposition of the engine's metrics.
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

/// The OpenAPI 3.1 document of this API.
#[get("/api/v1/openapi.json")]
pub async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.as_str().to_owned())
}
