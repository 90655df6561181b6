//! HTTP metrics: a request counter and a latency histogram per route
//! (`/api/v1/orders/{id}`, never the concrete path, and one `unmatched`
//! label for 404s, so the number of series stays bounded), and the
//! process-wide Prometheus recorder, with a `# HELP` line for every metric
//! the engine records ([`describe`]).

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: 100 µs to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (one per process even when
/// tests start several apps).
pub fn prometheus_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then our
            // handle renders an empty page rather than crashing the engine.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

/// What each metric means: the `# HELP` lines of `/metrics`.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, route pattern and status"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern"
    );
    describe_counter!(
        "engine_orders_total",
        "Order requests by outcome: accepted, or the reason of the refusal"
    );
    describe_histogram!(
        "engine_order_seconds",
        Unit::Seconds,
        "Time from an order request reaching the engine to its outcome (commit included)"
    );
    describe_histogram!(
        "engine_reservation_seconds",
        Unit::Seconds,
        "Time to reserve an order's lines with the offer actors"
    );
    describe_histogram!(
        "engine_commit_seconds",
        Unit::Seconds,
        "Time to commit one batch of orders to PostgreSQL"
    );
    describe_histogram!(
        "engine_commit_batch_size",
        "Orders committed per transaction"
    );
    describe_gauge!(
        "engine_writer_queue_depth",
        "Orders held by the order writer and not yet committed (0 when idle)"
    );
    describe_gauge!(
        "engine_active_distribution_actors",
        "Distribution actors activated"
    );
    describe_gauge!("engine_active_offer_actors", "Offer actors activated");
    describe_gauge!("ws_sessions_open", "Open WebSocket sessions, by feed");
    describe_counter!("ws_frames_sent_total", "WebSocket frames written, by feed");
    describe_counter!(
        "ws_resyncs_total",
        "Storefront sessions that fell behind and got a fresh snapshot"
    );
    describe_counter!(
        "ws_sessions_refused_total",
        "WebSocket sessions refused past `ws_max_connections`, by feed"
    );
    describe_counter!(
        "ws_connections_dropped_total",
        "WebSocket connections dropped by the engine, by cause"
    );
    describe_histogram!(
        "ws_push_lag_seconds",
        Unit::Seconds,
        "Time from a change to its push being written to a session, by feed"
    );
    describe_counter!(
        "jobs_summaries_total",
        "Closing summaries prepared for producers"
    );
    describe_counter!(
        "jobs_deliveries_total",
        "Distributions whose orders were counted as delivered"
    );
    describe_counter!(
        "notify_messages_total",
        "E-mails sent or failed, by outcome"
    );
}

/// The route label of a path: id-like segments become `{id}`. Cheaper than
/// actix's `match_pattern()`, which walks the whole route table on every
/// call (a quarter of the engine's CPU per order under load).
pub fn route_of(path: &str) -> String {
    let mut route = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        route.push('/');
        let id_like = segment.parse::<uuid::Uuid>().is_ok()
            || (!segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()));
        route.push_str(if id_like { "{id}" } else { segment });
    }
    if route.is_empty() {
        route.push('/');
    }
    route
}

/// Middleware recording `http_requests_total` and `http_request_duration_seconds`.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = route_of(req.path());
    let result = next.call(req).await;
    let status = match &result {
        Ok(resp) => resp.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    // Unknown paths must not each become a series of their own.
    let route = if status == 404 {
        "unmatched".to_owned()
    } else {
        path
    };
    let labels = [
        ("method", method),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    result
}

#[cfg(test)]
mod tests {
    use super::route_of;

    #[test]
    fn ids_become_placeholders() {
        assert_eq!(
            route_of("/api/v1/orders/5b0f3c1e-8a6b-4c52-9d1e-3a2b1c0d9e8f"),
            "/api/v1/orders/{id}"
        );
        assert_eq!(
            route_of("/api/v1/catalogs/by-code/123456"),
            "/api/v1/catalogs/by-code/{id}"
        );
        assert_eq!(route_of("/ready"), "/ready");
        assert_eq!(route_of("/"), "/");
    }
}
