//! The hub task: one per engine. At the end of each push window
//! ([`super::pace`]: `push_coalesce_ms`, wider while sessions fall behind)
//! it flushes the dirty offers, from their latest stock: each storefront
//! gets one `availability` frame with every offer it sells that changed,
//! each producer feed a `stock` frame per offer; every frame is encoded
//! once and shared by all the subscribers of its feed. Between flushes it
//! stamps storefront snapshots; every second it drops channels nobody
//! listens to any more.
//!
//! Stamping here is what makes "nothing older after the snapshot" hold: the
//! session subscribes, then the snapshot's availability is read from the
//! latest stock, and availability frames only come from later flushes of
//! this same task, which read later stock.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;

use super::live::{Frame, LiveEvent, OfferAvailability, Push};
use super::pace::{Pace, PushWindow};
use super::{EventHub, HubInner, LiveConfig};
use crate::domain::shop::ShopView;
use crate::store::Store;

/// Channels without receivers are dropped this often.
const CLEAN_EVERY: Duration = Duration::from_secs(1);

/// What sessions ask of the hub task.
pub(crate) enum Command {
    Subscribe {
        distribution_id: Uuid,
        epoch: u64,
        shop: Box<ShopView>,
        reply: oneshot::Sender<Option<Subscription>>,
    },
}

/// A storefront session's start: its snapshot and the pushes after it.
pub struct Subscription {
    pub snapshot: Frame,
    pub receiver: broadcast::Receiver<Push>,
    /// Where the session reports how it keeps up with the pushes.
    pub pace: Pace,
}

/// State only the task touches.
#[derive(Default)]
struct TaskState {
    /// Offers registered in `watched_offers`, by distribution.
    registered: HashMap<Uuid, HashSet<Uuid>>,
    /// Producer of each offer seen (it never changes).
    producer_of: HashMap<Uuid, Uuid>,
}

pub(super) async fn run(
    hub: Weak<HubInner>,
    store: Store,
    mut commands: mpsc::Receiver<Command>,
    config: LiveConfig,
) {
    let mut state = TaskState::default();
    let mut window = PushWindow::new(config.coalesce, config.coalesce_max);
    let mut next_flush = tokio::time::Instant::now() + window.current();
    // Whether the last flush reached storefront sessions (takes are due).
    let mut awaited = false;
    let mut last_clean = Instant::now();
    loop {
        tokio::select! {
            command = commands.recv() => {
                let (Some(command), Some(inner)) = (command, hub.upgrade()) else { break };
                match command {
                    Command::Subscribe { distribution_id, epoch, shop, reply } => {
                        let _ = reply.send(subscribe(&inner, &mut state, distribution_id, epoch, *shop));
                    }
                }
            }
            () = tokio::time::sleep_until(next_flush) => {
                let Some(inner) = hub.upgrade() else { break };
                let (took, behind) = inner.pace.drain();
                let next = window.after_flush(took, behind, awaited);
                awaited = flush_dirty(&inner, &mut state, &store).await > 0;
                inner.set_window(next);
                // From the end of this flush: a slow flush delays the next.
                next_flush = tokio::time::Instant::now() + next;
                if last_clean.elapsed() >= CLEAN_EVERY {
                    clean(&inner, &mut state);
                    last_clean = Instant::now();
                }
            }
        }
    }
}

/// Subscribes a storefront session and stamps its snapshot; `None` when a
/// resync happened since the shop was read (the caller reads it again).
fn subscribe(
    inner: &HubInner,
    state: &mut TaskState,
    distribution_id: Uuid,
    epoch: u64,
    mut shop: ShopView,
) -> Option<Subscription> {
    let buffer = inner.config.get().copied().unwrap_or_default().buffer;
    let receiver = inner
        .storefronts
        .entry(distribution_id)
        .or_insert_with(|| broadcast::channel(buffer).0)
        .subscribe();
    // Subscribed first: a resync from now on reaches this receiver.
    if inner.epoch.load(Ordering::Acquire) != epoch {
        return None;
    }
    let registered = state.registered.entry(distribution_id).or_default();
    for offer in &shop.offers {
        if registered.insert(offer.offer_id) {
            inner
                .watched_offers
                .entry(offer.offer_id)
                .or_default()
                .push(distribution_id);
        }
    }
    // Statuses the ticks reported win over the shop's (same for the edges
    // after them); the shop's fill the gaps.
    for catalog in &mut shop.catalogs {
        catalog.status = *inner
            .statuses
            .entry((distribution_id, catalog.catalog_id))
            .or_insert(catalog.status);
    }
    // Registered first: a later change is marked dirty, so a flush sends it.
    for offer in &mut shop.offers {
        if let Some(stock) = inner.stocks.get(&offer.offer_id) {
            offer.available = stock.shown_available();
        }
    }
    let snapshot = Frame::encode(inner.encoder.as_ref(), &LiveEvent::Snapshot(shop), None)?;
    Some(Subscription {
        snapshot,
        receiver,
        pace: inner.pace.clone(),
    })
}

/// One push window: to every storefront one frame with each of its offers
/// that changed, to each producer's feed a frame per changed offer — every
/// frame built once, from the latest figures. Returns how many storefront
/// sessions the flush reached.
async fn flush_dirty(inner: &HubInner, state: &mut TaskState, store: &Store) -> usize {
    let mut dirty: Vec<(Uuid, Instant)> = Vec::new();
    inner.dirty.retain(|offer, at| {
        dirty.push((*offer, *at));
        false
    });
    if dirty.is_empty() {
        return 0;
    }
    let producer_feeds = !inner.producers.is_empty();
    let publisher = inner
        .publishing
        .load(Ordering::Acquire)
        .then(|| inner.publisher.read().ok().and_then(|p| p.clone()))
        .flatten();
    if producer_feeds || publisher.is_some() {
        resolve_producers(state, store, &dirty).await;
    }
    // Per storefront: its changed offers and the oldest change among them.
    let mut storefronts: HashMap<Uuid, (Vec<OfferAvailability>, Instant)> = HashMap::new();
    let mut producers: HashMap<Uuid, Vec<Frame>> = HashMap::new();
    for (offer_id, at) in dirty {
        // Read after the dirty mark was taken: the latest value.
        let stock = inner.stocks.get(&offer_id).map(|s| *s);
        if let Some(distributions) = inner.watched_offers.get(&offer_id) {
            let change = OfferAvailability {
                offer_id,
                available: stock.and_then(|s| s.shown_available()),
            };
            for distribution_id in distributions.iter() {
                let (offers, oldest) = storefronts
                    .entry(*distribution_id)
                    .or_insert_with(|| (Vec::new(), at));
                offers.push(change);
                *oldest = (*oldest).min(at);
            }
        }
        let producer = state.producer_of.get(&offer_id).copied();
        if let (Some(publisher), Some(producer_id), Some(stock)) = (&publisher, producer, stock) {
            publisher.stock(producer_id, offer_id, stock);
        }
        if let (true, Some(producer_id), Some(stock)) = (producer_feeds, producer, stock) {
            if inner.producers.contains_key(&producer_id) {
                let event = LiveEvent::Stock {
                    offer_id,
                    figures: stock,
                };
                if let Some(frame) = Frame::encode(inner.encoder.as_ref(), &event, Some(at)) {
                    producers.entry(producer_id).or_default().push(frame);
                }
            }
        }
    }
    let storefronts = storefronts
        .into_iter()
        .filter_map(|(distribution_id, (offers, oldest))| {
            let event = LiveEvent::Availability(offers);
            let frame = Frame::encode(inner.encoder.as_ref(), &event, Some(oldest))?;
            Some((distribution_id, vec![frame]))
        })
        .collect();
    broadcast_all(&inner.producers, producers);
    broadcast_all(&inner.storefronts, storefronts)
}

/// Sends each push on its channel; how many receivers they reached.
fn broadcast_all(
    channels: &dashmap::DashMap<Uuid, broadcast::Sender<Push>>,
    pushes: HashMap<Uuid, Vec<Frame>>,
) -> usize {
    let mut reached = 0;
    for (id, frames) in pushes {
        if let Some(tx) = channels.get(&id) {
            reached += tx.send(Push::Frames(frames.into())).unwrap_or(0);
        }
    }
    reached
}

/// Learns the producer of offers not seen before (one query per flush).
async fn resolve_producers(state: &mut TaskState, store: &Store, dirty: &[(Uuid, Instant)]) {
    let unknown: Vec<Uuid> = dirty
        .iter()
        .map(|(offer, _)| *offer)
        .filter(|offer| !state.producer_of.contains_key(offer))
        .collect();
    if unknown.is_empty() {
        return;
    }
    match store.offer_producers(&unknown).await {
        Ok(found) => state.producer_of.extend(found),
        Err(error) => tracing::warn!(%error, "producers of changed offers not read"),
    }
}

/// Drops channels nobody listens to, with what hangs off them.
fn clean(inner: &HubInner, state: &mut TaskState) {
    let idle: Vec<Uuid> = inner
        .storefronts
        .iter()
        .filter(|e| e.value().receiver_count() == 0)
        .map(|e| *e.key())
        .collect();
    for distribution_id in idle {
        let removed = inner
            .storefronts
            .remove_if(&distribution_id, |_, tx| tx.receiver_count() == 0);
        if removed.is_none() {
            continue;
        }
        for offer in state
            .registered
            .remove(&distribution_id)
            .unwrap_or_default()
        {
            inner
                .watched_offers
                .remove_if_mut(&offer, |_, distributions| {
                    distributions.retain(|d| *d != distribution_id);
                    distributions.is_empty()
                });
        }
        // The active engine of a cluster tells other nodes of every edge,
        // so it keeps every distribution's last status.
        if !inner.publishing.load(Ordering::Acquire) {
            inner.statuses.retain(|(d, _), _| *d != distribution_id);
        }
    }
    inner.producers.retain(|_, tx| tx.receiver_count() > 0);
    inner.markets.retain(|_, tx| tx.receiver_count() > 0);
}

/// The hub task has stopped (shutdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubGone;

impl EventHub {
    /// Subscribes a storefront session of `distribution_id` with `shop`
    /// (read after `epoch`): its snapshot, stamped with the latest
    /// availability, and the pushes after it. `Ok(None)` when a resync
    /// happened since the shop was read (read it again).
    pub async fn subscribe_storefront(
        &self,
        distribution_id: Uuid,
        epoch: u64,
        shop: ShopView,
    ) -> Result<Option<Subscription>, HubGone> {
        let commands = self.inner.commands.get().cloned().ok_or(HubGone)?;
        let (reply, answer) = oneshot::channel();
        let command = Command::Subscribe {
            distribution_id,
            epoch,
            shop: Box::new(shop),
            reply,
        };
        commands.send(command).await.map_err(|_| HubGone)?;
        answer.await.map_err(|_| HubGone)
    }
}

#[cfg(test)]
mod tests;
