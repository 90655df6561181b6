//! A node's way onto the message bus: the NATS server named by
//! `cluster.nats_url`, or the private one under the data directory
//! (started if needed), and the connection to it — reconnecting by itself
//! forever, its state changes handed to the node ([`super::node`]).

use std::time::Duration;

use super::nats_server::{NatsServerError, NatsStart, PrivateNats};
use crate::configuration::Settings;

/// Why the node could not get onto the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error(transparent)]
    Server(#[from] NatsServerError),
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
}

/// NATS for a cluster node: `cluster.nats_url`, or the private server
/// (started if needed; `Some` when this process started it).
pub async fn resolve(settings: &Settings) -> Result<(String, Option<PrivateNats>), BusError> {
    let url = settings.cluster.nats_url.trim();
    if !url.is_empty() {
        return Ok((url.to_owned(), None));
    }
    let nats = PrivateNats::new(&settings.database.data_dir);
    let private = nats.clone();
    let (url, outcome) = tokio::task::spawn_blocking(move || private.ensure_started())
        .await
        .map_err(|e| BusError::Connect {
            url: String::new(),
            reason: format!("the task starting the private server failed: {e}"),
        })??;
    tracing::info!(%url, ?outcome, dir = %nats.dir().display(), "private NATS server");
    Ok((url, (outcome == NatsStart::Started).then_some(nats)))
}

/// Connects to NATS; connection events go to the returned channel.
pub async fn connect(
    url: &str,
    node_id: uuid::Uuid,
) -> Result<
    (
        async_nats::Client,
        tokio::sync::mpsc::UnboundedReceiver<async_nats::Event>,
    ),
    BusError,
> {
    let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .name(format!("etal-{node_id}"))
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((attempts as u64 * 100).min(1_000))
        })
        .event_callback(move |event| {
            let events = events.clone();
            async move {
                let _ = events.send(event);
            }
        })
        .connect(url)
        .await
        .map_err(|e| BusError::Connect {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    Ok((client, receiver))
}
