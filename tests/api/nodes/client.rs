//! What the cluster tests do as clients: an order with an
//! `Idempotency-Key` to one node, a sale the nodes' real clocks are in, a
//! storefront followed until it shows the database, the orders stored.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::watch;
use uuid::Uuid;

use crate::fixtures::{offer, open_sale, OpenSale};
use crate::helpers::{TestApp, TestUser};

/// An order of one unit with an `Idempotency-Key`, to `app`'s node; the
/// status and body, or `None` when no answer came (the node died).
pub async fn order_once(
    app: &TestApp,
    sale: &OpenSale,
    offer_id: Uuid,
    customer: &TestUser,
    key: &str,
) -> Option<(u16, Value)> {
    let answer = app
        .client
        .post(app.url(&format!(
            "/api/v1/distributions/{}/orders",
            sale.distribution_id
        )))
        .bearer_auth(&customer.token)
        .header("Idempotency-Key", key)
        .json(&json!({"lines": [{"offer_id": offer_id, "quantity": "1"}]}))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .ok()?;
    let status = answer.status().as_u16();
    Some((status, answer.json().await.unwrap_or(Value::Null)))
}

/// A sale the nodes' real clocks are in: planned as if two minutes ago
/// (it opened a minute ago), through `app`'s node.
pub async fn sale_now(app: &TestApp, stock: u32) -> OpenSale {
    app.clock
        .set(chrono::Utc::now() - chrono::Duration::minutes(2));
    open_sale(app, &[offer("Poulet", "12.00", Some(stock))]).await
}

/// Follows a storefront until it shows `target` (once set), counting
/// snapshots. Unlike `watch_until`, availability may go up: reservations
/// of orders the killed node never committed vanish with it.
pub async fn follow_until(
    mut ws: crate::live_client::Ws,
    mut target: watch::Receiver<Option<HashMap<String, Value>>>,
) -> Result<(HashMap<String, Value>, usize), String> {
    use tokio_tungstenite::tungstenite::Message;
    let (mut shown, mut snapshots) = (HashMap::new(), 0);
    loop {
        if snapshots > 0 && target.borrow().as_ref() == Some(&shown) {
            return Ok((shown, snapshots));
        }
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                    // A snapshot and an availability message both carry
                    // `offers: [{offer_id, available}, …]`.
                    let kind = frame["type"].as_str();
                    if kind == Some("snapshot") {
                        snapshots += 1;
                    }
                    if matches!(kind, Some("snapshot" | "availability")) {
                        for offer in frame["offers"].as_array().into_iter().flatten() {
                            let id = offer["offer_id"].as_str().unwrap_or_default().to_owned();
                            shown.insert(id, offer["available"].clone());
                        }
                    }
                }
                Some(Ok(Message::Close(frame))) => return Err(format!("closed: {frame:?}")),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("socket error: {e}")),
                None => return Err("socket ended".into()),
            },
            changed = target.changed() => {
                if changed.is_err() {
                    return Err("the test went away".into());
                }
            }
        }
    }
}

pub async fn order_ids(app: &TestApp) -> Vec<Uuid> {
    let rows: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM orders WHERE status = 'confirmed'")
        .fetch_all(&app.db)
        .await
        .expect("orders");
    rows.into_iter().map(|(id,)| id).collect()
}
