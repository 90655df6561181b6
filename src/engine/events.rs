//! The event hub: where actors drop what changed, and where live sessions
//! and the shop read it. Offer actors record each offer's latest stock here
//! (never blocking: a map write); readers see the latest value. The live
//! push (coalescing, per-distribution channels) hangs off the same hub.

use std::sync::Arc;

use dashmap::DashMap;
use uuid::Uuid;

use crate::store::sale::OfferStock;

/// Shared, cheap to clone.
#[derive(Clone, Default)]
pub struct EventHub {
    inner: Arc<HubInner>,
}

#[derive(Default)]
struct HubInner {
    /// Latest stock of every active offer actor.
    stocks: DashMap<Uuid, OfferStock>,
}

impl EventHub {
    pub fn new() -> Self {
        Self::default()
    }

    /// An offer actor's stock changed.
    pub fn offer_stock(&self, offer_id: Uuid, stock: OfferStock) {
        self.inner.stocks.insert(offer_id, stock);
    }

    /// The latest stock an offer actor reported, if it is active.
    pub fn latest_stock(&self, offer_id: Uuid) -> Option<OfferStock> {
        self.inner.stocks.get(&offer_id).map(|s| *s)
    }
}
