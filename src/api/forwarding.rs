//! On a cluster node that is not the active engine, the requests that
//! need the engine (`cluster::forward::engine_route`) and the forms posted
//! to pages (`cluster::forward::page_change`) leave through this
//! middleware to the active node and come back with its answer — status,
//! headers, body — as if served here. No engine answering in time (none
//! holds the lease, or NATS is down) gives 503 `no_engine` with
//! `Retry-After`; a request another node forwarded here after this node
//! lost the lease gets the same, never forwarded again.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpResponse, ResponseError};

use super::problem::ApiError;
use super::state::AppState;
use crate::cluster::forward::ForwardError;
use crate::cluster::wire::header::FORWARDED_BY;

fn no_engine(detail: &str) -> HttpResponse {
    let mut error = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_engine",
        "Service unavailable",
        detail,
    );
    error.retry_after = Some(1);
    error.error_response()
}

/// The middleware (see the module doc).
pub async fn to_active_engine(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let node = &state.node;
    if !node.is_cluster() {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !node.forwards(&method, &path, content_type) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    if req.headers().contains_key(FORWARDED_BY) {
        let answer = no_engine("this node is not the ordering engine any more; try again shortly");
        return Ok(req.into_response(answer).map_into_right_body());
    }
    let (http, mut payload) = req.into_parts();
    let body = match web::Bytes::from_request(&http, &mut payload).await {
        Ok(body) => body,
        Err(error) => {
            let answer = error.error_response();
            return Ok(ServiceResponse::new(http, answer).map_into_right_body());
        }
    };
    let path_and_query = http
        .uri()
        .path_and_query()
        .map_or(path.clone(), |pq| pq.as_str().to_owned());
    let mut headers: Vec<(String, String)> = http
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    // The host the client asked (`Host` stays on its connection): a page's
    // same-origin check on the active node compares the browser's `Origin`
    // with it.
    let proxied = ["forwarded", "x-forwarded-host"];
    if !headers.iter().any(|(n, _)| proxied.contains(&n.as_str())) {
        let host = http.connection_info().host().to_owned();
        headers.push(("x-forwarded-host".to_owned(), host));
    }
    let forwarded = node
        .forward(
            &method,
            &path_and_query,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            body,
        )
        .await;
    let answer = match forwarded {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut response = HttpResponse::build(status);
            for (name, value) in &answer.headers {
                response.append_header((name.as_str(), value.as_str()));
            }
            response.body(answer.body)
        }
        Err(error) => {
            tracing::warn!(%error, method, route = %crate::api::metrics::route_of(&path), "not forwarded");
            no_engine(match error {
                ForwardError::NoEngine => "no ordering engine is running at the moment (a standby takes over within seconds); try again shortly",
                ForwardError::TimedOut => "the ordering engine did not answer in time; retry with the same Idempotency-Key",
                ForwardError::BusDown => "this node cannot reach the ordering engine (its message bus is down); try again shortly or another node",
            })
        }
    };
    Ok(ServiceResponse::new(http, answer).map_into_right_body())
}
