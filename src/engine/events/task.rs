//! The hub task: one per engine. Every `push_coalesce_ms` it flushes the
//! dirty offers (one frame per offer, from the latest stock, shared by every
//! storefront selling it and its producer's feed); between flushes it
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

use super::live::{Frame, LiveEvent, Push};
use super::{EventHub, HubInner};
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
    every: Duration,
) {
    let mut state = TaskState::default();
    let mut flush = tokio::time::interval(every);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
            _ = flush.tick() => {
                let Some(inner) = hub.upgrade() else { break };
                flush_dirty(&inner, &mut state, &store).await;
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
    Some(Subscription { snapshot, receiver })
}

/// One coalescing window: each dirty offer's frame, built once, to every
/// storefront selling it and to its producer's feed.
async fn flush_dirty(inner: &HubInner, state: &mut TaskState, store: &Store) {
    let mut dirty: Vec<(Uuid, Instant)> = Vec::new();
    inner.dirty.retain(|offer, at| {
        dirty.push((*offer, *at));
        false
    });
    if dirty.is_empty() {
        return;
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
    let mut storefronts: HashMap<Uuid, Vec<Frame>> = HashMap::new();
    let mut producers: HashMap<Uuid, Vec<Frame>> = HashMap::new();
    for (offer_id, at) in dirty {
        // Read after the dirty mark was taken: the latest value.
        let stock = inner.stocks.get(&offer_id).map(|s| *s);
        if let Some(distributions) = inner.watched_offers.get(&offer_id) {
            let event = LiveEvent::Availability {
                offer_id,
                available: stock.and_then(|s| s.shown_available()),
            };
            if let Some(frame) = Frame::encode(inner.encoder.as_ref(), &event, Some(at)) {
                for distribution_id in distributions.iter() {
                    storefronts
                        .entry(*distribution_id)
                        .or_default()
                        .push(frame.clone());
                }
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
    broadcast_all(&inner.storefronts, storefronts);
    broadcast_all(&inner.producers, producers);
}

fn broadcast_all(
    channels: &dashmap::DashMap<Uuid, broadcast::Sender<Push>>,
    pushes: HashMap<Uuid, Vec<Frame>>,
) {
    for (id, frames) in pushes {
        if let Some(tx) = channels.get(&id) {
            let _ = tx.send(Push::Frames(frames.into()));
        }
    }
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
