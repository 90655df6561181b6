//! Forwarding the requests that need the ordering engine to the node that
//! runs it, over NATS request-reply.
//!
//! - [`engine_route`] says which requests those are: the ones whose
//!   handler talks to the actors (orders, the live shop, stock settings,
//!   catalog syncs, after-sale changes, planning changes that reload a
//!   sale, validation, baskets and the waiting room — issue 18's
//!   `…/cart`, `…/admission`, `…/waiting-room`, whose state lives in the
//!   engine's memory; and the reads that show what baskets hold right now,
//!   which only the engine knows). Everything else — reading orders,
//!   recaps, sign-ups — is served by whichever node received it.
//! - [`page_change`]: a form posted to a page (any page: many reach the
//!   engine — stock, catalog syncs, line changes, weighing, planning,
//!   cancelling before deleting an account — and one that only wrote the
//!   database on a standby would leave the active engine's actors with
//!   old figures). File uploads (`multipart/form-data`: photos, logos)
//!   never reach the engine and stay on the node that received them.
//! - [`forward`] (any node that is not the active one): the request —
//!   method, path, headers (the `Idempotency-Key` and the bearer token
//!   among them) and body — goes to `etal.engine.http` with a deadline;
//!   no answer in time, nobody listening or NATS down: [`ForwardError`],
//!   which the API answers with 503 + `Retry-After`.
//! - [`serve`] (the active node): takes each request off NATS and runs it
//!   through its own HTTP server on loopback — the same routes, checks and
//!   answers as a direct request — then replies with status, headers and
//!   body. A request whose deadline has passed (the node was paused) is
//!   dropped unanswered; a node that lost the lease answers 503.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::{HeaderMap, Request};
use bytes::Bytes;
use futures_util::StreamExt;
use uuid::Uuid;

use super::wire::{self, header};
use crate::engine::Engine;

/// Whether a request needs the ordering engine (see the module doc).
/// `path` has no query string and no trailing slash.
pub fn engine_route(method: &str, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    matches!(
        (method, parts.as_slice()),
        ("POST", ["distributions", _, "orders"])
            | ("PATCH" | "DELETE", ["orders", _])
            | ("GET", ["distributions", _, "shop"])
            | ("POST", ["catalogs", _, "sync"])
            | ("PUT", ["offers", _, "stock"])
            | ("PATCH", ["order-lines", _])
            | ("POST", ["distributions", _, "weighing"])
            | ("PUT" | "DELETE", ["distributions", _])
            | ("POST", ["distributions", _, "participations"])
            | ("PUT" | "DELETE", ["participations", _])
            | ("POST", ["producers", _, "participations"])
            | ("POST", ["distributions", _, "validation"])
            | (_, ["distributions", _, "cart", ..])
            | (_, ["distributions", _, "admission", ..])
            | (_, ["distributions", _, "waiting-room"])
            | ("GET" | "PUT", ["offers", _])
            | ("GET", ["products", _, "offers"])
            | ("GET", ["producers", _, "stocks"])
    )
}

/// Whether a request is a page's form that changes something (see the
/// module doc): not the JSON API, not a live feed, not a file upload.
/// `path` has no query string and no trailing slash.
pub fn page_change(method: &str, path: &str, content_type: &str) -> bool {
    let api = path.starts_with("/api/") || path == "/api" || path.starts_with("/ws/");
    let upload = content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/");
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") && !api && !upload
}

/// Headers that concern one connection only, never forwarded.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// The active engine's answer to a forwarded request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Why a forwarded request has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    #[error("no ordering engine is listening")]
    NoEngine,
    #[error("the ordering engine did not answer in time")]
    TimedOut,
    #[error("the nodes' message bus (NATS) is unreachable")]
    BusDown,
}

impl ForwardError {
    fn label(self) -> &'static str {
        match self {
            ForwardError::NoEngine => "no_engine",
            ForwardError::TimedOut => "timed_out",
            ForwardError::BusDown => "bus_down",
        }
    }
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Sends a request to the active engine and waits for its answer.
pub async fn forward<'a>(
    client: &async_nats::Client,
    timeout: Duration,
    method: &str,
    path_and_query: &str,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    body: Bytes,
) -> Result<Answer, ForwardError> {
    let started = Instant::now();
    let map = request_headers(timeout, method, path_and_query, headers);
    let outcome = send(client, timeout, map, body).await;
    metrics::histogram!("cluster_forward_seconds").record(started.elapsed().as_secs_f64());
    let label = outcome.as_ref().err().map_or("answered", |e| e.label());
    metrics::counter!("cluster_forwarded_requests_total", "outcome" => label).increment(1);
    outcome
}

/// The NATS headers of a forwarded request: method, path, deadline and the
/// HTTP headers that are not about the connection.
fn request_headers<'a>(
    timeout: Duration,
    method: &str,
    path_and_query: &str,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(header::METHOD, method);
    map.insert(header::PATH, path_and_query);
    let deadline = SystemTime::now() + timeout;
    map.insert(header::DEADLINE, unix_ms(deadline).to_string().as_str());
    for (name, value) in headers {
        if !hop_by_hop(name) && !name.starts_with("Etal-") && !value.contains(['\r', '\n']) {
            map.append(name, value);
        }
    }
    map
}

async fn send(
    client: &async_nats::Client,
    timeout: Duration,
    map: HeaderMap,
    body: Bytes,
) -> Result<Answer, ForwardError> {
    if client.connection_state() != async_nats::connection::State::Connected {
        return Err(ForwardError::BusDown);
    }
    let request = Request::new()
        .headers(map)
        .payload(body)
        .timeout(Some(timeout));
    let reply = client
        .send_request(wire::ENGINE_REQUESTS, request)
        .await
        .map_err(|e| match e.kind() {
            async_nats::RequestErrorKind::NoResponders => ForwardError::NoEngine,
            async_nats::RequestErrorKind::TimedOut => ForwardError::TimedOut,
            async_nats::RequestErrorKind::Other => ForwardError::BusDown,
        })?;
    let mut answer = Answer {
        status: 502,
        headers: Vec::new(),
        body: reply.payload,
    };
    for (name, values) in reply.headers.iter().flat_map(|h| h.iter()) {
        let name: &str = name.as_ref();
        if name == header::STATUS {
            answer.status = values
                .first()
                .and_then(|v| v.as_str().parse().ok())
                .unwrap_or(502);
        } else {
            for value in values {
                answer
                    .headers
                    .push((name.to_owned(), value.as_str().to_owned()));
            }
        }
    }
    Ok(answer)
}

/// The active node's side: serves forwarded requests until the returned
/// task is aborted (the node lost the lease) or NATS closes. `local` is
/// this node's own HTTP address (`http://127.0.0.1:port`).
pub async fn serve(
    client: async_nats::Client,
    engine: Engine,
    local: String,
    node_id: Uuid,
    timeout: Duration,
) -> Result<tokio::task::JoinHandle<()>, async_nats::SubscribeError> {
    let mut requests = client.subscribe(wire::ENGINE_REQUESTS).await?;
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(64)
        // A page's 303 (and the cookies set with it) goes back as it is.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    Ok(tokio::spawn(async move {
        while let Some(message) = requests.next().await {
            let (client, http, engine, local) =
                (client.clone(), http.clone(), engine.clone(), local.clone());
            tokio::spawn(async move {
                answer(&client, &http, &engine, &local, node_id, message).await;
            });
        }
    }))
}

async fn answer(
    client: &async_nats::Client,
    http: &reqwest::Client,
    engine: &Engine,
    local: &str,
    node_id: Uuid,
    message: async_nats::Message,
) {
    let Some(reply_to) = message.reply.clone() else {
        return;
    };
    let headers = message.headers.unwrap_or_default();
    let get = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
    let deadline: u64 = get(header::DEADLINE)
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    if unix_ms(SystemTime::now()) > deadline {
        metrics::counter!("cluster_forwarded_served_total", "outcome" => "expired").increment(1);
        return;
    }
    let reply = |status: u16, headers: Vec<(String, String)>, body: Bytes| {
        let mut map = HeaderMap::new();
        map.insert(header::STATUS, status.to_string().as_str());
        for (name, value) in &headers {
            map.append(name.as_str(), value.as_str());
        }
        (map, body)
    };
    let (map, body) = if !engine.is_active() {
        metrics::counter!("cluster_forwarded_served_total", "outcome" => "not_active").increment(1);
        let problem = serde_json::json!({
            "type": "about:blank", "title": "Service unavailable", "status": 503,
            "code": "no_engine", "detail": "this node is not the ordering engine any more; try again shortly"
        });
        reply(
            503,
            vec![
                ("content-type".into(), "application/problem+json".into()),
                ("retry-after".into(), "1".into()),
            ],
            Bytes::from(problem.to_string()),
        )
    } else {
        let (Some(method), Some(path)) = (get(header::METHOD), get(header::PATH)) else {
            return;
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = http
            .request(method, format!("{local}{path}"))
            .header(header::FORWARDED_BY, node_id.to_string())
            .body(message.payload);
        for (name, values) in headers.iter() {
            let name: &str = name.as_ref();
            if name.starts_with("Etal-") || hop_by_hop(name) {
                continue;
            }
            for value in values {
                request = request.header(name, value.as_str());
            }
        }
        match request.send().await {
            Ok(response) => {
                metrics::counter!("cluster_forwarded_served_total", "outcome" => "answered")
                    .increment(1);
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .filter(|(name, _)| !hop_by_hop(name.as_str()))
                    .filter_map(|(name, value)| {
                        Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                    })
                    .collect();
                let body = response.bytes().await.unwrap_or_default();
                reply(status, headers, body)
            }
            Err(error) => {
                tracing::warn!(%error, "a forwarded request failed on this node");
                metrics::counter!("cluster_forwarded_served_total", "outcome" => "failed")
                    .increment(1);
                return;
            }
        }
    };
    if let Err(error) = client.publish_with_headers(reply_to, map, body).await {
        tracing::warn!(%error, "the answer to a forwarded request was not sent");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_routes_are_those_that_reach_the_actors() {
        let id = "0b1c6a52-7a5e-4a0e-9f43-3f4b2f0d2a11";
        for (method, path) in [
            ("POST", format!("/api/v1/distributions/{id}/orders")),
            ("PATCH", format!("/api/v1/orders/{id}")),
            ("DELETE", format!("/api/v1/orders/{id}")),
            ("GET", format!("/api/v1/distributions/{id}/shop")),
            ("POST", format!("/api/v1/catalogs/{id}/sync")),
            ("PUT", format!("/api/v1/offers/{id}/stock")),
            ("PATCH", format!("/api/v1/order-lines/{id}")),
            ("POST", format!("/api/v1/distributions/{id}/weighing")),
            ("PUT", format!("/api/v1/distributions/{id}")),
            ("POST", format!("/api/v1/distributions/{id}/participations")),
            ("DELETE", format!("/api/v1/participations/{id}")),
            ("POST", format!("/api/v1/producers/{id}/participations")),
            ("POST", format!("/api/v1/distributions/{id}/validation")),
            ("PUT", format!("/api/v1/distributions/{id}/cart")),
            ("GET", format!("/api/v1/distributions/{id}/cart")),
            ("POST", format!("/api/v1/distributions/{id}/admission")),
            ("GET", format!("/api/v1/distributions/{id}/admission/{id}")),
            ("PUT", format!("/api/v1/distributions/{id}/waiting-room")),
            ("GET", format!("/api/v1/offers/{id}")),
            ("GET", format!("/api/v1/producers/{id}/stocks")),
        ] {
            assert!(engine_route(method, &path), "{method} {path}");
        }
        for (method, path) in [
            ("GET", format!("/api/v1/orders/{id}")),
            ("GET", format!("/api/v1/distributions/{id}/orders/mine")),
            ("GET", format!("/api/v1/distributions/{id}/weighing")),
            ("GET", format!("/api/v1/distributions/{id}/recap")),
            ("POST", "/api/v1/sessions".to_owned()),
            ("POST", "/api/v1/accounts".to_owned()),
            ("GET", format!("/shop/{id}")),
            ("GET", format!("/ws/distributions/{id}")),
            ("GET", "/ready".to_owned()),
        ] {
            assert!(!engine_route(method, &path), "{method} {path}");
        }
    }

    #[test]
    fn a_page_form_that_changes_something_is_a_page_change_unless_an_upload() {
        let id = "0b1c6a52-7a5e-4a0e-9f43-3f4b2f0d2a11";
        let form = "application/x-www-form-urlencoded";
        assert!(page_change(
            "POST",
            &format!("/producteur/{id}/stock"),
            form
        ));
        assert!(page_change("POST", "/connexion", form));
        assert!(!page_change("GET", &format!("/producteur/{id}/stock"), ""));
        assert!(!page_change("HEAD", "/", ""));
        assert!(!page_change(
            "POST",
            &format!("/producteur/{id}/produits/nouveau"),
            "multipart/form-data; boundary=x"
        ));
        assert!(!page_change("POST", "/api/v1/sessions", "application/json"));
        assert!(!page_change("POST", &format!("/ws/distributions/{id}"), ""));
    }

    #[test]
    fn connection_headers_stay_on_their_connection() {
        assert!(hop_by_hop("Connection"));
        assert!(hop_by_hop("content-length"));
        assert!(!hop_by_hop("idempotency-key"));
        assert!(!hop_by_hop("authorization"));
    }
}
