//! Ordering through etal's public HTTP API: `POST
//! /api/v1/distributions/{id}/orders` (with an `Idempotency-Key` kept across
//! retries), `PATCH` and `DELETE /api/v1/orders/{id}`. A 503 (nothing was
//! done) and a request without answer are retried after a pause; the last
//! 503 counts as a refusal, the last missing answer as a failure (outcome
//! unknown).
//!
//! With several nodes (`--target`), customer `c` goes to node `c mod n`,
//! and each retry to the next node: a customer whose node died (no answer)
//! or cannot reach an engine (503) tries the others, with the same
//! `Idempotency-Key`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, Method, RequestBuilder};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::{normalise, Answer, Attempt, OrderState, RetryPolicy};
use crate::record::now_us;

/// etal as the target of a run.
pub struct EtalTarget {
    client: Client,
    /// Each node's base URL and its orders URL (parsed once: parsing a URL
    /// per request shows in the tester's profile).
    nodes: Vec<(String, reqwest::Url)>,
    offer_ids: Arc<Vec<Uuid>>,
    index: Arc<HashMap<Uuid, u32>>,
    tokens: Arc<Vec<String>>,
    retry: RetryPolicy,
}

#[derive(Deserialize)]
struct OrderBody {
    id: Uuid,
    lines: Vec<LineBody>,
}

#[derive(Deserialize)]
struct LineBody {
    offer_id: Uuid,
    quantity: Decimal,
}

#[derive(Deserialize)]
struct ProblemBody {
    code: Option<String>,
}

/// A decimal quantity in milli-units.
pub fn milli(q: Decimal) -> Option<i64> {
    (q * Decimal::from(1000)).round().to_i64()
}

impl EtalTarget {
    pub fn new(
        client: Client,
        bases: &[String],
        distribution_id: Uuid,
        offer_ids: Arc<Vec<Uuid>>,
        tokens: Arc<Vec<String>>,
        retry: RetryPolicy,
    ) -> anyhow::Result<Self> {
        let index = offer_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        let mut nodes = Vec::with_capacity(bases.len());
        for base in bases {
            let base = base.trim_end_matches('/').to_owned();
            let orders = format!("{base}/api/v1/distributions/{distribution_id}/orders");
            nodes.push((base, reqwest::Url::parse(&orders)?));
        }
        anyhow::ensure!(!nodes.is_empty(), "no engine URL");
        Ok(Self {
            client,
            nodes,
            offer_ids,
            index: Arc::new(index),
            tokens,
            retry,
        })
    }

    fn body(&self, basket: &[(usize, u32)]) -> String {
        let mut s = String::with_capacity(16 + basket.len() * 64);
        s.push_str("{\"lines\":[");
        for (i, (offer, units)) in basket.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let id = self.offer_ids.get(*offer).copied().unwrap_or_default();
            let _ = write!(s, "{{\"offer_id\":\"{id}\",\"quantity\":\"{units}\"}}");
        }
        s.push_str("]}");
        s
    }

    /// The node of `customer`'s try number `attempt`.
    fn node(&self, customer: usize, attempt: usize) -> usize {
        (customer + attempt) % self.nodes.len().max(1)
    }

    fn token(&self, customer: usize) -> &str {
        self.tokens.get(customer).map(String::as_str).unwrap_or("")
    }

    pub async fn place(&self, customer: usize, basket: &[(usize, u32)]) -> Attempt {
        let body = self.body(basket);
        // From the thread's userspace generator: no system call per key.
        let key = uuid::Builder::from_random_bytes(rand::random())
            .into_uuid()
            .to_string();
        let token = self.token(customer);
        let keys = self.retry.idempotency_keys;
        self.run(201, |attempt| {
            let (_, orders_url) = &self.nodes[self.node(customer, attempt)];
            let request = self
                .client
                .post(orders_url.clone())
                .bearer_auth(token)
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
            if keys {
                request.header("Idempotency-Key", &key)
            } else {
                request
            }
        })
        .await
    }

    pub async fn change(&self, customer: usize, order: Uuid, basket: &[(usize, u32)]) -> Attempt {
        let body = self.body(basket);
        let token = self.token(customer);
        self.run(200, |attempt| {
            let (base, _) = &self.nodes[self.node(customer, attempt)];
            self.client
                .request(Method::PATCH, format!("{base}/api/v1/orders/{order}"))
                .bearer_auth(token)
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
        })
        .await
    }

    pub async fn cancel(&self, customer: usize, order: Uuid) -> Attempt {
        let token = self.token(customer);
        self.run(204, |attempt| {
            let (base, _) = &self.nodes[self.node(customer, attempt)];
            self.client
                .delete(format!("{base}/api/v1/orders/{order}"))
                .bearer_auth(token)
        })
        .await
    }

    /// Sends until an answer other than 503 (or the retries are used up).
    async fn run(&self, success: u16, make: impl Fn(usize) -> RequestBuilder) -> Attempt {
        let sent_us = now_us();
        let mut retries = 0;
        loop {
            let last = retries >= self.retry.retries;
            let last_sent_us = now_us();
            let (answer, retry_after) = match make(retries as usize).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    match response.bytes().await {
                        Ok(bytes) => (self.interpret(success, status, &bytes), retry_after),
                        Err(e) => (Err(transport_reason(&e)), None),
                    }
                }
                Err(e) => (Err(transport_reason(&e)), None),
            };
            match answer {
                Ok(answer) => {
                    let overloaded = matches!(&answer, Answer::Refused(c) if c.starts_with("503:"));
                    if !overloaded {
                        return Attempt {
                            answer,
                            retries,
                            sent_us,
                            last_sent_us,
                        };
                    }
                    if last {
                        let code = match answer {
                            Answer::Refused(c) => c.trim_start_matches("503:").to_owned(),
                            other => format!("{other:?}"),
                        };
                        return Attempt {
                            answer: Answer::Refused(code),
                            retries,
                            sent_us,
                            last_sent_us,
                        };
                    }
                }
                Err(reason) if last => {
                    return Attempt {
                        answer: Answer::Failed(reason),
                        retries,
                        sent_us,
                        last_sent_us,
                    }
                }
                Err(_) => {}
            }
            retries += 1;
            tokio::time::sleep(self.retry.backoff(retries, retry_after)).await;
        }
    }

    /// Reads an answer. A 503 comes back as `Refused("503:<code>")` so the
    /// caller retries it.
    fn interpret(&self, success: u16, status: u16, bytes: &[u8]) -> Result<Answer, String> {
        if status == success {
            if status == 204 {
                return Ok(Answer::Cancelled);
            }
            return match serde_json::from_slice::<OrderBody>(bytes) {
                Ok(order) => Ok(Answer::Order(self.order_state(order))),
                Err(e) => Err(format!("unreadable_order: {e}")),
            };
        }
        let code = serde_json::from_slice::<ProblemBody>(bytes)
            .ok()
            .and_then(|p| p.code)
            .unwrap_or_else(|| format!("http_{status}"));
        match status {
            503 => Ok(Answer::Refused(format!("503:{code}"))),
            400..=499 => Ok(Answer::Refused(code)),
            _ => Ok(Answer::Failed(format!("http_{status}"))),
        }
    }

    fn order_state(&self, order: OrderBody) -> OrderState {
        let lines = order
            .lines
            .iter()
            .filter_map(|l| Some((*self.index.get(&l.offer_id)?, milli(l.quantity)?)))
            .collect();
        OrderState {
            id: order.id,
            lines: normalise(lines),
        }
    }
}

fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else {
        "transport".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> EtalTarget {
        let offers = Arc::new(vec![Uuid::from_u128(1), Uuid::from_u128(2)]);
        EtalTarget::new(
            Client::new(),
            &[
                "http://127.0.0.1:1/".to_owned(),
                "http://127.0.0.1:2".to_owned(),
            ],
            Uuid::from_u128(9),
            offers,
            Arc::new(vec!["t".into()]),
            RetryPolicy {
                retries: 1,
                max_backoff: Duration::from_millis(1),
                idempotency_keys: true,
            },
        )
        .unwrap()
    }

    #[test]
    fn bodies_name_offers_and_units() {
        let t = target();
        assert_eq!(
            t.body(&[(1, 2)]),
            format!(
                "{{\"lines\":[{{\"offer_id\":\"{}\",\"quantity\":\"2\"}}]}}",
                Uuid::from_u128(2)
            )
        );
        assert!(t.nodes[0]
            .1
            .as_str()
            .ends_with(&format!("/distributions/{}/orders", Uuid::from_u128(9))));
    }

    #[test]
    fn customers_spread_over_nodes_and_retries_move_on() {
        let t = target();
        assert_eq!(t.nodes[0].0, "http://127.0.0.1:1");
        assert_eq!((t.node(0, 0), t.node(1, 0), t.node(2, 0)), (0, 1, 0));
        assert_eq!(
            (t.node(0, 1), t.node(1, 1)),
            (1, 0),
            "a retry goes to the next node"
        );
    }

    #[test]
    fn answers_are_read_by_status() {
        let t = target();
        let body = format!(
            "{{\"id\":\"{}\",\"lines\":[{{\"offer_id\":\"{}\",\"quantity\":\"2.000\"}}]}}",
            Uuid::from_u128(5),
            Uuid::from_u128(2)
        );
        assert_eq!(
            t.interpret(201, 201, body.as_bytes()),
            Ok(Answer::Order(OrderState {
                id: Uuid::from_u128(5),
                lines: vec![(1, 2000)]
            }))
        );
        assert_eq!(
            t.interpret(201, 409, br#"{"code":"insufficient_stock"}"#),
            Ok(Answer::Refused("insufficient_stock".into()))
        );
        assert_eq!(
            t.interpret(201, 503, br#"{"code":"overloaded"}"#),
            Ok(Answer::Refused("503:overloaded".into()))
        );
        assert_eq!(
            t.interpret(201, 500, b""),
            Ok(Answer::Failed("http_500".into()))
        );
        assert_eq!(t.interpret(204, 204, b""), Ok(Answer::Cancelled));
    }
}
