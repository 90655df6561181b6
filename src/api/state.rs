//! What every handler can reach: the store, the configuration, the clock,
//! the engine and this node's role, the metrics handle and the rendered OpenAPI document.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::api::ws::threads::LiveThreads;
use crate::cluster::Node;
use crate::configuration::Settings;
use crate::engine::clock::SharedClock;
use crate::engine::Engine;
use crate::store::Store;

/// Shared application state, handed to handlers as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    /// The ordering engine (actors, writer, event hub).
    pub engine: Engine,
    /// This node: its role, and in a cluster the way to the active engine.
    pub node: Node,
    pub metrics: PrometheusHandle,
    /// The threads live sessions run on.
    pub live: LiveThreads,
    /// The OpenAPI document, rendered once at start.
    pub openapi_json: Arc<String>,
    /// The methods each served path answers (405 for the others).
    pub routes: Arc<crate::api::route_table::MethodTable>,
}
