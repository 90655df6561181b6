//! The hub in a cluster: on the active node it hands every live change —
//! figures, sale edges, resyncs, waiting rooms, order events — to a
//! [`LivePublisher`] (`crate::cluster::live` puts them on NATS); on the
//! other nodes it is fed what the active node published, and says what
//! its own sessions watch so the node follows just that. Nothing here
//! knows about NATS.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::live::{Frame, FrameKeys, Push};
use super::EventHub;
use crate::domain::admission::RoomStatus;
use crate::domain::stock::StockFigures;
use crate::domain::window::SaleStatus;

/// How long another node's word that its storefronts watch a distribution
/// keeps that distribution's actor active (nodes repeat it every
/// `cluster.interest_every_ms`).
pub(super) const REMOTE_INTEREST_TTL: Duration = Duration::from_secs(5);

/// Where the active engine of a cluster sends the live changes, for the
/// other nodes' sessions (`crate::cluster::live` puts them on NATS).
pub trait LivePublisher: Send + Sync {
    /// An offer's latest figures (once per flush that saw it change).
    fn stock(&self, producer_id: Uuid, offer_id: Uuid, figures: StockFigures);
    /// A catalog's sale in a distribution reached a new status.
    fn sale_status(&self, distribution_id: Uuid, catalog_id: Uuid, status: SaleStatus);
    /// A distribution's storefronts must take a fresh snapshot.
    fn resync(&self, distribution_id: Uuid);
    /// A distribution's waiting room moved (its storefronts' `admission`).
    fn admission(&self, distribution_id: Uuid, status: RoomStatus);
    /// An order event, encoded, for one audience.
    fn order_frame(&self, audience: Audience, text: bytestring::ByteString);
}

/// Who an order event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    Producer(Uuid),
    Market(Uuid),
}

impl EventHub {
    /// Another node's storefronts watch these distributions.
    pub fn note_remote_interest(&self, distributions: &[Uuid]) {
        let now = Instant::now();
        for id in distributions {
            self.inner.remote_interest.insert(*id, now);
        }
        self.inner
            .remote_interest
            .retain(|_, at| at.elapsed() < REMOTE_INTEREST_TTL);
    }

    /// The distributions this node's storefront sessions watch.
    pub fn watched_distributions(&self) -> Vec<Uuid> {
        self.inner
            .storefronts
            .iter()
            .filter(|e| e.value().receiver_count() > 0)
            .map(|e| *e.key())
            .collect()
    }

    /// Whether a session of this node follows the producer's feed.
    pub fn producer_watched(&self, producer_id: Uuid) -> bool {
        self.inner
            .producers
            .get(&producer_id)
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// Whether a session of this node follows the market's feed.
    pub fn market_watched(&self, market_id: Uuid) -> bool {
        self.inner
            .markets
            .get(&market_id)
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// Makes this hub the active engine's of a cluster (`Some`): every live
    /// change goes to `publisher` too. `None`: it stops.
    pub fn set_publisher(&self, publisher: Option<Arc<dyn LivePublisher>>) {
        let on = publisher.is_some();
        if let Ok(mut slot) = self.inner.publisher.write() {
            *slot = publisher;
        }
        self.inner.publishing.store(on, Ordering::Release);
    }

    /// Whether this hub hands its changes to other nodes.
    pub fn is_publishing(&self) -> bool {
        self.inner.publishing.load(Ordering::Acquire)
    }

    pub(crate) fn publisher(&self) -> Option<Arc<dyn LivePublisher>> {
        if !self.is_publishing() {
            return None;
        }
        self.inner.publisher.read().ok().and_then(|p| p.clone())
    }

    /// An order event encoded on the active node, for this node's sessions.
    pub fn remote_order_frame(&self, audience: Audience, text: bytestring::ByteString) {
        let channels = match audience {
            Audience::Producer(id) => self.inner.producers.get(&id),
            Audience::Market(id) => self.inner.markets.get(&id),
        };
        if let Some(tx) = channels {
            let frame = Frame {
                text,
                at: Some(Instant::now()),
                keys: FrameKeys::None,
            };
            let _ = tx.send(Push::one(frame));
        }
    }

    /// Every storefront of this node takes a fresh snapshot (the active
    /// engine changed, or NATS came back after an outage).
    pub fn resync_all(&self) {
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        for entry in self.inner.storefronts.iter() {
            let _ = entry.value().send(Push::Resync);
        }
    }
}
