//! The event hub: where actors drop what changed, and where live sessions
//! subscribe. Nothing here ever waits on a client. Events are typed
//! ([`live`]); the API layer's [`EventEncoder`], given when the engine
//! starts, turns each into the bytes every subscriber then shares.
//!
//! - Offer actors record each offer's latest figures (a map write) and mark
//!   the offer dirty. The hub task ([`task`]) wakes at the end of each push
//!   window ([`pace`]: `push_coalesce_ms`, widening up to
//!   `push_coalesce_max_ms` while storefront sessions fall behind), builds
//!   from the *latest* figures one `availability` frame per storefront with
//!   every offer of it that changed, and a `stock` frame per offer for its
//!   producer's feed: changes are coalesced per offer, the last value
//!   always goes out, and nothing older follows it.
//! - Storefront snapshots are stamped by the same task, between two
//!   flushes, so a session's first frames are never older than its snapshot.
//! - Distribution actors report sale statuses on every tick (edges become
//!   `sale_opened`/`sale_closed`), committed orders ([`orders`]) and
//!   reloads (a resync: watchers take a fresh snapshot).
//!
//! Channels are `tokio::sync::broadcast` of shared [`Push`]es with
//! `ws_buffer_frames` slots: a subscriber that falls behind loses its
//! backlog (`Lagged`) instead of slowing anyone, and resynchronises.
//!
//! In a cluster ([`LivePublisher`]) the active engine's hub also hands
//! every change to the other nodes — each offer's latest figures at each
//! flush, sale edges, resyncs, waiting rooms, encoded order events —
//! whatever its own sessions watch; the other nodes' hubs are fed those
//! instead of actors ([`EventHub::remote_order_frame`],
//! [`EventHub::offer_stock`], [`EventHub::admission`], …) and
//! serve their own sessions exactly as the active one does.

pub mod live;
pub mod orders;
pub mod pace;
pub mod remote;
pub mod task;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::configuration::EngineSettings;
use crate::domain::admission::RoomStatus;
use crate::domain::stock::StockFigures;
use crate::domain::window::SaleStatus;
use crate::store::Store;
pub use live::{EventEncoder, Frame, FrameKeys, LiveEvent, OfferAvailability, Push};
pub use pace::Pace;
pub use remote::{Audience, LivePublisher};
pub use task::{HubGone, Subscription};

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct EventHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    /// Turns events into the bytes sessions write.
    encoder: Arc<dyn EventEncoder>,
    /// Latest figures of every active offer actor.
    stocks: DashMap<Uuid, StockFigures>,
    /// Offers changed since the last flush, with their first change instant.
    dirty: DashMap<Uuid, Instant>,
    /// Live storefronts, by distribution.
    storefronts: DashMap<Uuid, broadcast::Sender<Push>>,
    /// Offer → distributions whose watchers show it (filled from snapshots).
    watched_offers: DashMap<Uuid, Vec<Uuid>>,
    /// Producer feeds, by producer.
    producers: DashMap<Uuid, broadcast::Sender<Push>>,
    /// Market feeds, by market.
    markets: DashMap<Uuid, broadcast::Sender<Push>>,
    /// Last sale status of each watched (distribution, catalog).
    statuses: DashMap<(Uuid, Uuid), SaleStatus>,
    /// Bumped by every resync: a snapshot built before it is refused.
    epoch: AtomicU64,
    /// Open WebSocket sessions (all feeds).
    sessions: AtomicUsize,
    /// How storefront sessions keep up with the pushes.
    pace: Pace,
    /// The current push window, in µs (for tests and metrics).
    window_us: AtomicU64,
    config: OnceLock<LiveConfig>,
    commands: OnceLock<mpsc::Sender<task::Command>>,
    /// Distributions other nodes' storefronts watch, with when they last said so.
    remote_interest: DashMap<Uuid, Instant>,
    /// Set while this hub is the active engine's in a cluster.
    publisher: RwLock<Option<Arc<dyn LivePublisher>>>,
    publishing: AtomicBool,
}

/// The tunables of live push (from `[engine]`).
#[derive(Debug, Clone, Copy)]
pub struct LiveConfig {
    /// The narrowest push window.
    pub coalesce: Duration,
    /// The widest push window.
    pub coalesce_max: Duration,
    /// Pushes a session may be behind before it loses its backlog.
    pub buffer: usize,
    pub max_sessions: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            coalesce: Duration::from_millis(100),
            coalesce_max: Duration::from_millis(500),
            buffer: 256,
            max_sessions: 20_000,
        }
    }
}

impl LiveConfig {
    pub fn of(settings: &EngineSettings) -> Self {
        Self {
            coalesce: Duration::from_millis(settings.push_coalesce_ms.max(1)),
            coalesce_max: Duration::from_millis(settings.push_coalesce_max_ms),
            buffer: settings.ws_buffer_frames.max(1),
            max_sessions: settings.ws_max_connections,
        }
    }
}

impl HubInner {
    fn set_window(&self, window: Duration) {
        let us = u64::try_from(window.as_micros()).unwrap_or(u64::MAX).max(1);
        self.window_us.store(us, Ordering::Relaxed);
        metrics::gauge!("ws_push_window_seconds").set(window.as_secs_f64());
    }
}

/// One open WebSocket session; dropping it frees the slot.
pub struct SessionPermit {
    inner: Arc<HubInner>,
    feed: &'static str,
}

impl Drop for SessionPermit {
    fn drop(&mut self) {
        self.inner.sessions.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!("ws_sessions_open", "feed" => self.feed).decrement(1.0);
    }
}

impl EventHub {
    /// A hub whose events `encoder` turns into bytes.
    pub fn new(encoder: Arc<dyn EventEncoder>) -> Self {
        Self {
            inner: Arc::new(HubInner {
                encoder,
                stocks: DashMap::new(),
                dirty: DashMap::new(),
                storefronts: DashMap::new(),
                watched_offers: DashMap::new(),
                producers: DashMap::new(),
                markets: DashMap::new(),
                statuses: DashMap::new(),
                epoch: AtomicU64::new(0),
                sessions: AtomicUsize::new(0),
                pace: Pace::default(),
                window_us: AtomicU64::new(0),
                config: OnceLock::new(),
                commands: OnceLock::new(),
                remote_interest: DashMap::new(),
                publisher: RwLock::new(None),
                publishing: AtomicBool::new(false),
            }),
        }
    }

    /// Encodes an event into a frame shared by every subscriber.
    pub fn frame(&self, event: &LiveEvent, at: Option<Instant>) -> Option<Frame> {
        Frame::encode(self.inner.encoder.as_ref(), event, at)
    }

    /// Starts the hub task (flushes, snapshots, clean-up). Called once by
    /// `Engine::start`, inside the actix system.
    pub fn start(&self, store: Store, settings: &EngineSettings) {
        if let Some(task) = self.task(store, LiveConfig::of(settings)) {
            actix::spawn(task);
        }
    }

    /// The hub task, configured, for the caller to spawn (`start` spawns
    /// it on actix; unit tests on a runtime whose clock they drive);
    /// `None` if the hub has one already.
    pub fn task(
        &self,
        store: Store,
        config: LiveConfig,
    ) -> Option<impl std::future::Future<Output = ()> + 'static> {
        self.inner.config.set(config).ok()?;
        let (sender, receiver) = mpsc::channel(1024);
        self.inner.commands.set(sender).ok()?;
        Some(task::run(
            Arc::downgrade(&self.inner),
            store,
            receiver,
            config,
        ))
    }

    /// The current push window (the narrowest until the first flush).
    pub fn push_window(&self) -> Duration {
        match self.inner.window_us.load(Ordering::Relaxed) {
            0 => self.config().coalesce,
            us => Duration::from_micros(us),
        }
    }

    fn config(&self) -> LiveConfig {
        self.inner.config.get().copied().unwrap_or_default()
    }

    /// An offer actor's figures changed.
    pub fn offer_stock(&self, offer_id: Uuid, stock: StockFigures) {
        self.inner.stocks.insert(offer_id, stock);
        // After the write: a flush that misses this mark read the new value.
        if self.wants_stock(offer_id) {
            self.inner
                .dirty
                .entry(offer_id)
                .or_insert_with(Instant::now);
        }
    }

    /// Forgets every offer's figures (the engine's actors were dropped, or
    /// the figures came from another node that is gone).
    pub fn forget_stock(&self) {
        self.inner.stocks.clear();
        self.inner.dirty.clear();
    }

    /// The latest figures an offer actor reported, if it is active.
    pub fn latest_stock(&self, offer_id: Uuid) -> Option<StockFigures> {
        self.inner.stocks.get(&offer_id).map(|s| *s)
    }

    /// Whether a live session shows this offer's stock (a storefront
    /// selling it, or any producer feed), here or — for the active engine
    /// of a cluster — on any node.
    pub fn wants_stock(&self, offer_id: Uuid) -> bool {
        self.inner.watched_offers.contains_key(&offer_id)
            || !self.inner.producers.is_empty()
            || self.is_publishing()
    }

    /// Whether a storefront session watches this distribution, here or on
    /// another node (its actor stays active meanwhile, to keep ticking).
    pub fn is_watched(&self, distribution_id: Uuid) -> bool {
        let here = self
            .inner
            .storefronts
            .get(&distribution_id)
            .is_some_and(|tx| tx.receiver_count() > 0);
        here || self
            .inner
            .remote_interest
            .get(&distribution_id)
            .is_some_and(|at| at.elapsed() < remote::REMOTE_INTEREST_TTL)
    }

    /// The channel of a distribution's watchers, if any watch it.
    fn storefront(&self, distribution_id: Uuid) -> Option<broadcast::Sender<Push>> {
        self.inner
            .storefronts
            .get(&distribution_id)
            .map(|tx| tx.clone())
    }

    /// The current resync epoch: read it *before* building a snapshot.
    pub fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Acquire)
    }

    /// A distribution's sales now stand at these statuses (by catalog): an
    /// edge to open or closed is pushed to its watchers. Called on every
    /// tick by the distribution actor; does nothing when nobody watches.
    pub fn sale_statuses(
        &self,
        distribution_id: Uuid,
        statuses: impl IntoIterator<Item = (Uuid, SaleStatus)>,
    ) {
        let tx = self.storefront(distribution_id);
        let publisher = self.publisher();
        if tx.is_none() && publisher.is_none() {
            return;
        }
        for (catalog_id, status) in statuses {
            let previous = self
                .inner
                .statuses
                .insert((distribution_id, catalog_id), status);
            let opened = match (previous, status) {
                (Some(before), now) if before == now => continue,
                (None, _) | (_, SaleStatus::Upcoming) => continue,
                (Some(_), SaleStatus::Open) => true,
                (Some(_), SaleStatus::Closed) => false,
            };
            if let Some(publisher) = &publisher {
                publisher.sale_status(distribution_id, catalog_id, status);
            }
            let edge = LiveEvent::SaleEdge { catalog_id, opened };
            if let Some(tx) = &tx {
                if let Some(frame) = self.frame(&edge, Some(Instant::now())) {
                    let _ = tx.send(Push::one(frame));
                }
            }
        }
    }

    /// Where a distribution's waiting room stands now: pushed to its
    /// watchers here (nothing when nobody watches) and, on the active
    /// engine of a cluster, to the other nodes' (their mirrors call this
    /// with what arrives).
    pub fn admission(&self, distribution_id: Uuid, status: RoomStatus) {
        if let Some(publisher) = self.publisher() {
            publisher.admission(distribution_id, status);
        }
        let Some(tx) = self.storefront(distribution_id) else {
            return;
        };
        if let Some(frame) = self.frame(&LiveEvent::Admission(status), Some(Instant::now())) {
            let _ = tx.send(Push::one(frame));
        }
    }

    /// The distribution's sale was reloaded (catalog synced, planning
    /// changed): its watchers take a fresh snapshot.
    pub fn resync(&self, distribution_id: Uuid) {
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(tx) = self.inner.storefronts.get(&distribution_id) {
            let _ = tx.send(Push::Resync);
        }
        if let Some(publisher) = self.publisher() {
            publisher.resync(distribution_id);
        }
    }

    /// Subscribes to a producer's feed (orders and stock).
    pub fn subscribe_producer(&self, producer_id: Uuid) -> broadcast::Receiver<Push> {
        self.subscribe_to(&self.inner.producers, producer_id)
    }

    /// Subscribes to a market's feed (orders of all its distributions).
    pub fn subscribe_market(&self, market_id: Uuid) -> broadcast::Receiver<Push> {
        self.subscribe_to(&self.inner.markets, market_id)
    }

    fn subscribe_to(
        &self,
        map: &DashMap<Uuid, broadcast::Sender<Push>>,
        id: Uuid,
    ) -> broadcast::Receiver<Push> {
        let buffer = self.config().buffer;
        map.entry(id)
            .or_insert_with(|| broadcast::channel(buffer).0)
            .subscribe()
    }

    /// Takes a session slot, or `None` when `ws_max_connections` are open.
    pub fn open_session(&self, feed: &'static str) -> Option<SessionPermit> {
        let max = self.config().max_sessions;
        self.inner
            .sessions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        metrics::gauge!("ws_sessions_open", "feed" => feed).increment(1.0);
        Some(SessionPermit {
            inner: self.inner.clone(),
            feed,
        })
    }

    /// Shutdown: every feed's channel closes, so each session sends its
    /// client a close frame (`1001 shutting down`) and ends.
    pub fn close_feeds(&self) {
        self.inner.storefronts.clear();
        self.inner.producers.clear();
        self.inner.markets.clear();
    }

    /// Open WebSocket sessions (all feeds).
    pub fn open_sessions(&self) -> usize {
        self.inner.sessions.load(Ordering::Acquire)
    }
}
