//! The ordering engine: thin adapters around the pure rules of
//! `domain::sale` (one distribution actor per distribution) and
//! `domain::stock` (one offer actor per offer, each owning its stock
//! ledger), the group-committing order writer and the event hub. Time comes
//! only from [`clock`], so every rule that depends on "now" is testable.
//!
//! [`Engine`] is the handle the API holds. It finds (or lazily activates)
//! the actor of an offer or a distribution; actors are spread over one
//! arbiter (thread) per core — distributions by their id, offers beside the
//! distribution whose order first activates them (or by their own id, see
//! `engine.actor_placement`) — and each passivates when idle.
//!
//! Layers, arrows pointing down: the protocols that `impl Engine`
//! ([`ordering`], [`carts`], [`stock_moves`], [`shop`], [`storefront`],
//! [`after_sale`], [`jobs`]) use this handle; the handle holds the actors, the writer, the
//! hub and the idempotency keys; those know only the domain, the store and
//! [`error`].

pub mod after_sale;
pub mod carts;
pub mod clock;
pub mod distribution_actor;
pub mod error;
pub mod events;
pub mod fence;
pub mod idempotency;
pub mod jobs;
pub mod notifier;
pub mod offer_actor;
pub mod ordering;
pub mod shop;
pub mod stock_moves;
pub mod storefront;
pub mod withdraw;
pub mod writer;

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix::ArbiterHandle;
use dashmap::DashMap;
use uuid::Uuid;

use crate::configuration::{ActorPlacement, EngineSettings};
use crate::store::Store;
use clock::SharedClock;
use distribution_actor::DistributionActor;
use error::OrderError;
use events::{EventEncoder, EventHub};
use fence::Fence;
use idempotency::Idempotency;
use offer_actor::{Holding, OfferActor};
use writer::{OrderWriter, WriterLimits};

/// The engine handle: cheap to clone, shared by every HTTP worker.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    store: Store,
    clock: SharedClock,
    hub: EventHub,
    writer: OrderWriter,
    offers: Arc<DashMap<Uuid, Addr<OfferActor>>>,
    /// Offer actors whose ledgers hold basket stock (swept every tick).
    holding: Holding,
    distributions: Arc<DashMap<Uuid, Addr<DistributionActor>>>,
    /// How long a basket holds stock after its last change.
    cart_hold: chrono::Duration,
    arbiters: Vec<Arbiter>,
    idempotency: Idempotency,
    idle_after: Duration,
    placement: ActorPlacement,
    mailbox_capacity: usize,
    actor_timeout: Duration,
    /// The right to write orders (always, or while holding the lease).
    fence: Fence,
}

impl Engine {
    /// Starts the engine: the actor threads, the order writer (on its own
    /// `writer_store` connections), the window ticker and the event hub,
    /// whose live events `encoder` turns into bytes. Must run inside an
    /// actix system. `fence` says when it may write orders: always
    /// ([`Fence::single`]) or while its node holds the cluster's lease.
    pub fn start(
        store: Store,
        writer_store: Store,
        clock: SharedClock,
        settings: &EngineSettings,
        encoder: Arc<dyn EventEncoder>,
        fence: Fence,
    ) -> Self {
        let threads = match settings.actor_threads {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        let arbiters = (0..threads).map(|_| Arbiter::new()).collect();
        let writer = OrderWriter::start(
            writer_store,
            WriterLimits {
                batch_max: settings.writer_batch_max,
                batch_wait: Duration::from_millis(settings.writer_batch_wait_ms),
                queue_capacity: settings.writer_queue_capacity,
                committers: settings.writer_connections as usize,
            },
            fence.clone(),
        );
        let engine = Self {
            inner: Arc::new(EngineInner {
                store,
                clock,
                hub: EventHub::new(encoder),
                writer,
                offers: Arc::new(DashMap::new()),
                holding: Arc::new(DashMap::new()),
                distributions: Arc::new(DashMap::new()),
                cart_hold: chrono::Duration::seconds(
                    i64::try_from(settings.cart_hold_seconds).unwrap_or(86_400),
                ),
                arbiters,
                idempotency: Idempotency::default(),
                idle_after: Duration::from_secs(settings.idle_passivate_secs),
                placement: settings.actor_placement,
                mailbox_capacity: settings.mailbox_capacity,
                actor_timeout: Duration::from_millis(settings.actor_timeout_ms),
                fence,
            }),
        };
        engine.start_ticker(Duration::from_millis(settings.tick_ms.max(10)));
        engine.start_forgetting_idle_keys();
        engine.inner.hub.start(engine.inner.store.clone(), settings);
        engine
    }

    /// Every tick, each active distribution checks its windows.
    /// and each offer whose ledger holds basket stock sweeps the holds due.
    fn start_ticker(&self, every: Duration) {
        let inner = Arc::downgrade(&self.inner);
        actix::spawn(async move {
            let mut interval = tokio::time::interval(every);
            loop {
                interval.tick().await;
                let Some(inner) = inner.upgrade() else {
                    break;
                };
                for entry in inner.distributions.iter() {
                    entry.value().do_send(distribution_actor::Tick);
                }
                let now = inner.clock.now();
                for entry in inner.holding.iter() {
                    entry.value().do_send(offer_actor::Sweep { now });
                }
            }
        });
    }

    /// Every minute, the idempotency keys of accounts idle as long as an
    /// actor before passivation leave memory (they are loaded again on use).
    fn start_forgetting_idle_keys(&self) {
        let inner = Arc::downgrade(&self.inner);
        actix::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(60));
            loop {
                interval.tick().await;
                let Some(inner) = inner.upgrade() else {
                    break;
                };
                inner.idempotency.forget_idle(inner.idle_after);
            }
        });
    }

    /// Stops the actor threads (shutdown).
    pub fn stop(&self) {
        for arbiter in &self.inner.arbiters {
            arbiter.stop();
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    pub fn hub(&self) -> &EventHub {
        &self.inner.hub
    }

    /// The right to write orders this engine works under.
    pub fn fence(&self) -> &Fence {
        &self.inner.fence
    }

    /// Whether this engine is the one taking orders now (a single engine
    /// always; a cluster node while it holds the lease).
    pub fn is_active(&self) -> bool {
        self.inner.fence.is_held()
    }

    /// Drops every actor and what the engine remembers of used idempotency
    /// keys and stock figures: called when a cluster node takes the lease
    /// (another engine changed the database meanwhile) and when it loses
    /// it. Actors are activated again from the database on their next use,
    /// exactly as after a crash.
    pub fn forget_state(&self) {
        self.inner.offers.clear();
        self.inner.distributions.clear();
        self.inner.idempotency.forget_all();
        self.inner.hub.forget_stock();
    }

    /// Sends to an actor with the configured timeout: a full or slow mailbox
    /// answers "overloaded" rather than waiting without bound.
    pub(crate) async fn ask<A, M>(&self, addr: &Addr<A>, msg: M) -> Result<M::Result, OrderError>
    where
        A: Actor + Handler<M>,
        A::Context: actix::dev::ToEnvelope<A, M>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        match addr.send(msg).timeout(self.inner.actor_timeout).await {
            Ok(result) => Ok(result),
            Err(MailboxError::Timeout) => Err(OrderError::Overloaded),
            Err(MailboxError::Closed) => Err(OrderError::Unavailable),
        }
    }

    fn arbiter_for(&self, id: Uuid) -> ArbiterHandle {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        let index = (hasher.finish() as usize) % self.inner.arbiters.len().max(1);
        match self.inner.arbiters.get(index) {
            Some(arbiter) => arbiter.handle(),
            None => Arbiter::current(),
        }
    }

    /// The offer's actor, activated if needed.
    pub fn offer(&self, id: Uuid) -> Addr<OfferActor> {
        self.offer_for(id, None)
    }

    /// The offer's actor for an order of `distribution`: activated if
    /// needed, on the thread the placement setting chooses.
    pub fn offer_for(&self, id: Uuid, distribution: Option<Uuid>) -> Addr<OfferActor> {
        if let Some(addr) = self.inner.offers.get(&id).filter(|a| a.connected()) {
            return addr.clone();
        }
        let place = match (self.inner.placement, distribution) {
            (ActorPlacement::WithDistribution, Some(distribution)) => distribution,
            _ => id,
        };
        let mut entry = self
            .inner
            .offers
            .entry(id)
            .or_insert_with(|| self.spawn_offer(id, place));
        if !entry.connected() {
            *entry = self.spawn_offer(id, place);
        }
        entry.clone()
    }

    fn spawn_offer(&self, id: Uuid, place: Uuid) -> Addr<OfferActor> {
        let inner = &self.inner;
        let (store, hub, registry) = (inner.store.clone(), inner.hub.clone(), inner.offers.clone());
        let holding = inner.holding.clone();
        let (idle, capacity) = (inner.idle_after, inner.mailbox_capacity);
        OfferActor::start_in_arbiter(&self.arbiter_for(place), move |_| {
            OfferActor::new(id, store, hub, registry, holding, idle, capacity)
        })
    }

    /// The distribution's actor, activated if needed.
    pub fn distribution(&self, id: Uuid) -> Addr<DistributionActor> {
        if let Some(addr) = self.inner.distributions.get(&id).filter(|a| a.connected()) {
            return addr.clone();
        }
        let mut entry = self
            .inner
            .distributions
            .entry(id)
            .or_insert_with(|| self.spawn_distribution(id));
        if !entry.connected() {
            *entry = self.spawn_distribution(id);
        }
        entry.clone()
    }

    fn spawn_distribution(&self, id: Uuid) -> Addr<DistributionActor> {
        let inner = &self.inner;
        let wiring = distribution_actor::Wiring {
            store: inner.store.clone(),
            clock: inner.clock.clone(),
            hub: inner.hub.clone(),
            registry: inner.distributions.clone(),
            offers: inner.offers.clone(),
            cart_hold: inner.cart_hold,
            idle_after: inner.idle_after,
            mailbox_capacity: inner.mailbox_capacity,
        };
        DistributionActor::start_in_arbiter(&self.arbiter_for(id), move |_| {
            DistributionActor::new(id, wiring)
        })
    }

    /// The distribution's actor only if it is active (no activation).
    pub fn active_distribution(&self, id: Uuid) -> Option<Addr<DistributionActor>> {
        self.inner
            .distributions
            .get(&id)
            .filter(|a| a.connected())
            .map(|a| a.clone())
    }

    /// The offer's actor only if it is active (no activation).
    pub fn active_offer(&self, id: Uuid) -> Option<Addr<OfferActor>> {
        self.inner
            .offers
            .get(&id)
            .filter(|a| a.connected())
            .map(|a| a.clone())
    }

    /// Number of active actors (metrics, memory measurements).
    pub fn active_actors(&self) -> (usize, usize) {
        (self.inner.offers.len(), self.inner.distributions.len())
    }
}
