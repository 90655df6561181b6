//! Live feeds across nodes.
//!
//! - [`NatsPublisher`] (the active node): the hub's [`LivePublisher`]; each
//!   change goes on its subject through a bounded queue and one task that
//!   publishes (the hub never waits on NATS; a full queue drops and counts,
//!   and the feeds it would have fed catch up at the next change or
//!   snapshot).
//! - [`Mirror`] (every node): subscribes to the subjects of what this
//!   node's sessions watch — a distribution and the offers of its shop, a
//!   producer, a market — and feeds what arrives to this node's hub, which
//!   coalesces, encodes and fans it out exactly as the active node's hub
//!   does with its actors' changes. While its node is the active one, a
//!   mirror ignores what it hears (its own hub already has it). Every
//!   second it drops the subscriptions nobody watches any more.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::wire::{self, DistributionMessage, StockMessage};
use crate::domain::admission::RoomStatus;
use crate::domain::stock::StockFigures;
use crate::domain::window::SaleStatus;
use crate::engine::events::{Audience, EventHub, LivePublisher};
use crate::engine::Engine;

/// Changes waiting to be published; beyond, they are dropped (counted).
const PUBLISH_QUEUE: usize = 65_536;

/// The active node's publisher.
pub struct NatsPublisher {
    queue: mpsc::Sender<(String, Bytes)>,
}

impl NatsPublisher {
    /// Starts the publishing task on the current runtime.
    pub fn start(client: async_nats::Client) -> Self {
        let (queue, mut changes) = mpsc::channel::<(String, Bytes)>(PUBLISH_QUEUE);
        tokio::spawn(async move {
            while let Some((subject, payload)) = changes.recv().await {
                if let Err(error) = client.publish(subject, payload).await {
                    tracing::debug!(%error, "live change not published");
                    metrics::counter!("cluster_live_dropped_total").increment(1);
                }
            }
        });
        Self { queue }
    }

    fn send(&self, subject: String, payload: Vec<u8>) {
        if self
            .queue
            .try_send((subject, Bytes::from(payload)))
            .is_err()
        {
            metrics::counter!("cluster_live_dropped_total").increment(1);
        } else {
            metrics::counter!("cluster_live_published_total").increment(1);
        }
    }
}

impl LivePublisher for NatsPublisher {
    fn stock(&self, producer_id: Uuid, offer_id: Uuid, figures: StockFigures) {
        if let Ok(payload) = serde_json::to_vec(&StockMessage::from(figures)) {
            self.send(wire::stock(producer_id, offer_id), payload);
        }
    }

    fn sale_status(&self, distribution_id: Uuid, catalog_id: Uuid, status: SaleStatus) {
        let message = DistributionMessage::Status { catalog_id, status };
        if let Ok(payload) = serde_json::to_vec(&message) {
            self.send(wire::distribution(distribution_id), payload);
        }
    }

    fn resync(&self, distribution_id: Uuid) {
        if let Ok(payload) = serde_json::to_vec(&DistributionMessage::Resync) {
            self.send(wire::distribution(distribution_id), payload);
        }
    }

    fn admission(&self, distribution_id: Uuid, room: RoomStatus) {
        if let Ok(payload) = serde_json::to_vec(&DistributionMessage::Admission { room }) {
            self.send(wire::distribution(distribution_id), payload);
        }
    }

    fn order_frame(&self, audience: Audience, text: ByteString) {
        let subject = match audience {
            Audience::Producer(id) => wire::producer(id),
            Audience::Market(id) => wire::market(id),
        };
        self.send(subject, text.as_bytes().to_vec());
    }
}

/// A subscription's reading task; dropping it unsubscribes.
struct Tap(tokio::task::JoinHandle<()>);

impl Drop for Tap {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a tap does with a message.
#[derive(Clone, Copy)]
enum Kind {
    Distribution(Uuid),
    Stock,
    Orders(Audience),
}

#[derive(Default)]
struct Taps {
    distributions: HashMap<Uuid, Tap>,
    /// The offers each followed distribution's shop showed.
    shop_offers: HashMap<Uuid, Vec<Uuid>>,
    offers: HashMap<Uuid, Tap>,
    producers: HashMap<Uuid, (Tap, Tap)>,
    markets: HashMap<Uuid, Tap>,
}

/// Every node's follower of the active node's live changes.
#[derive(Clone)]
pub struct Mirror {
    inner: Arc<MirrorInner>,
}

struct MirrorInner {
    client: async_nats::Client,
    engine: Engine,
    taps: Mutex<Taps>,
    /// The runtime the taps run on (the one the mirror started on), not
    /// the thread of whichever session asked for them.
    runtime: tokio::runtime::Handle,
}

impl Mirror {
    /// A mirror feeding `engine`'s hub; prunes itself every second.
    pub fn start(client: async_nats::Client, engine: Engine) -> Self {
        let mirror = Self {
            inner: Arc::new(MirrorInner {
                client,
                engine,
                taps: Mutex::new(Taps::default()),
                runtime: tokio::runtime::Handle::current(),
            }),
        };
        let weak = Arc::downgrade(&mirror.inner);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                Mirror { inner }.prune();
            }
        });
        mirror
    }

    fn hub(&self) -> &EventHub {
        self.inner.engine.hub()
    }

    /// Follows a distribution and the offers of its shop. `Ok(true)` when
    /// subscriptions were added (the server has them when this returns):
    /// a shop read before may have missed a change, read it again.
    pub async fn follow_distribution(
        &self,
        distribution_id: Uuid,
        offers: &[Uuid],
    ) -> Result<bool, async_nats::Error> {
        let (follow_distribution, new_offers) = {
            let Ok(mut taps) = self.inner.taps.lock() else {
                return Ok(false);
            };
            taps.shop_offers.insert(distribution_id, offers.to_vec());
            let new_offers: Vec<Uuid> = offers
                .iter()
                .filter(|o| !taps.offers.contains_key(o))
                .copied()
                .collect();
            (
                !taps.distributions.contains_key(&distribution_id),
                new_offers,
            )
        };
        if !follow_distribution && new_offers.is_empty() {
            return Ok(false);
        }
        let mut made = Vec::new();
        if follow_distribution {
            let tap = self
                .tap(
                    wire::distribution(distribution_id),
                    Kind::Distribution(distribution_id),
                )
                .await?;
            made.push((None, tap));
        }
        for offer in new_offers {
            let tap = self.tap(wire::stock_of_offer(offer), Kind::Stock).await?;
            made.push((Some(offer), tap));
        }
        self.inner.client.flush().await?;
        if let Ok(mut taps) = self.inner.taps.lock() {
            for (offer, tap) in made {
                match offer {
                    None => taps.distributions.entry(distribution_id).or_insert(tap),
                    Some(offer) => taps.offers.entry(offer).or_insert(tap),
                };
            }
        }
        Ok(true)
    }

    /// Follows a producer's feed: its order events and its offers' figures.
    pub async fn follow_producer(&self, producer_id: Uuid) -> Result<(), async_nats::Error> {
        if self.following(|t| t.producers.contains_key(&producer_id)) {
            return Ok(());
        }
        let orders = self
            .tap(
                wire::producer(producer_id),
                Kind::Orders(Audience::Producer(producer_id)),
            )
            .await?;
        let stock = self
            .tap(wire::stock_of_producer(producer_id), Kind::Stock)
            .await?;
        self.inner.client.flush().await?;
        if let Ok(mut taps) = self.inner.taps.lock() {
            taps.producers.entry(producer_id).or_insert((orders, stock));
        }
        Ok(())
    }

    /// Follows a market's feed (its order events).
    pub async fn follow_market(&self, market_id: Uuid) -> Result<(), async_nats::Error> {
        if self.following(|t| t.markets.contains_key(&market_id)) {
            return Ok(());
        }
        let tap = self
            .tap(
                wire::market(market_id),
                Kind::Orders(Audience::Market(market_id)),
            )
            .await?;
        self.inner.client.flush().await?;
        if let Ok(mut taps) = self.inner.taps.lock() {
            taps.markets.entry(market_id).or_insert(tap);
        }
        Ok(())
    }

    /// Whether this node already follows the distribution.
    pub fn follows(&self, distribution_id: Uuid) -> bool {
        self.following(|t| t.distributions.contains_key(&distribution_id))
    }

    fn following(&self, check: impl FnOnce(&Taps) -> bool) -> bool {
        self.inner.taps.lock().map(|t| check(&t)).unwrap_or(false)
    }

    async fn tap(&self, subject: String, kind: Kind) -> Result<Tap, async_nats::Error> {
        let mut subscriber = self.inner.client.subscribe(subject).await?;
        let engine = self.inner.engine.clone();
        Ok(Tap(self.inner.runtime.spawn(async move {
            while let Some(message) = subscriber.next().await {
                // The active node's own hub already has it.
                if engine.is_active() {
                    continue;
                }
                apply(engine.hub(), kind, &message);
            }
        })))
    }

    /// Drops the subscriptions this node's sessions no longer need.
    fn prune(&self) {
        let hub = self.hub();
        let watched: std::collections::HashSet<Uuid> =
            hub.watched_distributions().into_iter().collect();
        let Ok(mut taps) = self.inner.taps.lock() else {
            return;
        };
        let taps = &mut *taps;
        taps.distributions.retain(|d, _| watched.contains(d));
        taps.shop_offers.retain(|d, _| watched.contains(d));
        let needed: std::collections::HashSet<Uuid> =
            taps.shop_offers.values().flatten().copied().collect();
        taps.offers.retain(|o, _| needed.contains(o));
        taps.producers.retain(|p, _| hub.producer_watched(*p));
        taps.markets.retain(|m, _| hub.market_watched(*m));
    }

    /// Subscriptions held (metrics, tests).
    pub fn subscriptions(&self) -> usize {
        self.inner
            .taps
            .lock()
            .map(|t| {
                t.distributions.len() + t.offers.len() + 2 * t.producers.len() + t.markets.len()
            })
            .unwrap_or(0)
    }
}

/// Feeds one message from the active node to this node's hub.
fn apply(hub: &EventHub, kind: Kind, message: &async_nats::Message) {
    match kind {
        Kind::Distribution(distribution_id) => {
            match serde_json::from_slice::<DistributionMessage>(&message.payload) {
                Ok(DistributionMessage::Status { catalog_id, status }) => {
                    hub.sale_statuses(distribution_id, [(catalog_id, status)]);
                }
                Ok(DistributionMessage::Resync) => hub.resync(distribution_id),
                Ok(DistributionMessage::Admission { room }) => {
                    hub.admission(distribution_id, room);
                }
                Err(error) => tracing::warn!(%error, "unreadable distribution message"),
            }
        }
        Kind::Stock => {
            let Some(offer_id) = wire::offer_of_stock_subject(&message.subject) else {
                return;
            };
            match serde_json::from_slice::<StockMessage>(&message.payload) {
                Ok(figures) => hub.offer_stock(offer_id, figures.into()),
                Err(error) => tracing::warn!(%error, "unreadable stock message"),
            }
        }
        Kind::Orders(audience) => match ByteString::try_from(message.payload.clone()) {
            Ok(text) => hub.remote_order_frame(audience, text),
            Err(error) => tracing::warn!(%error, "order event is not UTF-8"),
        },
    }
}
