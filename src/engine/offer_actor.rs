//! The offer actor: one per offer being ordered or held, shared by every
//! market and distribution that sells it. It owns the offer's stock
//! [`Ledger`] and hands it one message at a time, so two customers can
//! never both take the last unit; every rule is the ledger's, the actor
//! only loads it, publishes its figures after each change and passivates.
//!
//! It loads the ledger from the database when started (`ordered` is the
//! sum of undelivered confirmed lines) and passivates only when idle and
//! the ledger is not busy (nothing in flight, nothing held), so a fresh
//! activation never misses or double-counts a change.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use dashmap::DashMap;
use uuid::Uuid;

use super::events::EventHub;
use crate::domain::cart::CartKey;
use crate::domain::quantity::StockLevel;
use crate::domain::stock::{Ledger, PendingId, Shortage, StockChange, StockFigures};
use crate::store::Store;

/// Why the actor did not begin a change.
#[derive(Debug, Clone, PartialEq)]
pub enum BeginRefused {
    /// Not enough stock.
    Short(Shortage),
    /// The actor is passivating or could not load: look it up again.
    Gone,
}

/// Begin a change that commits later (see [`Ledger::begin`]).
#[derive(Message)]
#[rtype(result = "Result<PendingId, BeginRefused>")]
pub struct Begin {
    pub change: StockChange<CartKey>,
}

/// The change's write committed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Commit {
    pub id: PendingId,
}

/// The change's write failed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Abort {
    pub id: PendingId,
}

/// The producer changed the stock (already written to the database).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetStock {
    pub tracked: bool,
    pub real: StockLevel,
}

/// The actor's current figures (`None` while not loaded).
#[derive(Message)]
#[rtype(result = "Option<StockFigures>")]
pub struct GetStock;

/// State of one offer.
pub struct OfferActor {
    id: Uuid,
    store: Store,
    hub: EventHub,
    registry: Arc<DashMap<Uuid, Addr<OfferActor>>>,
    ledger: Option<Ledger<CartKey>>,
    last_used: Instant,
    idle_after: Duration,
    mailbox_capacity: usize,
    passivated: bool,
}

impl OfferActor {
    pub fn new(
        id: Uuid,
        store: Store,
        hub: EventHub,
        registry: Arc<DashMap<Uuid, Addr<OfferActor>>>,
        idle_after: Duration,
        mailbox_capacity: usize,
    ) -> Self {
        Self {
            id,
            store,
            hub,
            registry,
            ledger: None,
            last_used: Instant::now(),
            idle_after,
            mailbox_capacity,
            passivated: false,
        }
    }

    fn publish(&self) {
        if let Some(ledger) = &self.ledger {
            self.hub.offer_stock(self.id, ledger.figures());
        }
    }

    /// The ledger, if loaded and not passivating.
    fn ledger(&mut self) -> Option<&mut Ledger<CartKey>> {
        self.last_used = Instant::now();
        self.ledger.as_mut().filter(|_| !self.passivated)
    }

    /// Applies `change` to the ledger; publishes the figures if they moved.
    fn change<T>(&mut self, change: impl FnOnce(&mut Ledger<CartKey>) -> T) -> Option<T> {
        let ledger = self.ledger()?;
        let before = ledger.figures();
        let outcome = change(ledger);
        if ledger.figures() != before {
            self.publish();
        }
        Some(outcome)
    }

    fn passivate(&mut self, ctx: &mut Context<Self>) {
        self.passivated = true;
        let me = ctx.address();
        self.registry.remove_if(&self.id, |_, addr| *addr == me);
        ctx.stop();
    }
}

impl Actor for OfferActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.mailbox_capacity);
        metrics::gauge!("engine_active_offer_actors").increment(1.0);
        let store = self.store.clone();
        let id = self.id;
        // Nothing else is handled until the stock is loaded.
        ctx.wait(
            async move { store.offer_stock(id).await }
                .into_actor(self)
                .map(|loaded, actor, ctx| match loaded {
                    Ok(Some(stock)) => {
                        actor.ledger = Some(Ledger::new(stock.tracked, stock.real, stock.ordered));
                        actor.publish();
                    }
                    Ok(None) => {
                        tracing::warn!(offer = %actor.id, "offer actor for an unknown offer");
                        actor.passivate(ctx);
                    }
                    Err(e) => {
                        tracing::warn!(offer = %actor.id, error = %e, "offer actor could not load");
                        actor.passivate(ctx);
                    }
                }),
        );
        let check_every = (self.idle_after / 4).max(Duration::from_millis(50));
        ctx.run_interval(check_every, |actor, ctx| {
            let busy = actor.ledger.as_ref().is_some_and(Ledger::is_busy);
            if !busy && actor.last_used.elapsed() >= actor.idle_after {
                actor.passivate(ctx);
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        metrics::gauge!("engine_active_offer_actors").decrement(1.0);
        if !self.passivated {
            // Only this actor's entry: after `Engine::forget_state` (a
            // cluster node took or lost the lease) a newer actor of the
            // same offer may be registered, and must stay the only one.
            let me = ctx.address();
            self.registry.remove_if(&self.id, |_, addr| *addr == me);
        }
    }
}

impl Handler<Begin> for OfferActor {
    type Result = Result<PendingId, BeginRefused>;

    fn handle(&mut self, msg: Begin, _: &mut Context<Self>) -> Self::Result {
        // A take counts at once (and is published); the others when they commit.
        self.change(|ledger| ledger.begin(msg.change))
            .ok_or(BeginRefused::Gone)?
            .map_err(BeginRefused::Short)
    }
}

impl Handler<Commit> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Commit, _: &mut Context<Self>) {
        self.change(|ledger| ledger.commit(msg.id));
    }
}

impl Handler<Abort> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Abort, _: &mut Context<Self>) {
        self.change(|ledger| ledger.abort(msg.id));
    }
}

impl Handler<SetStock> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: SetStock, _: &mut Context<Self>) {
        self.change(|ledger| ledger.set_stock(msg.tracked, msg.real));
    }
}

impl Handler<GetStock> for OfferActor {
    type Result = Option<StockFigures>;

    fn handle(&mut self, _: GetStock, _: &mut Context<Self>) -> Self::Result {
        self.last_used = Instant::now();
        self.ledger.as_ref().map(Ledger::figures)
    }
}
