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
//!
//! While baskets hold some of its stock, the actor is listed in the
//! engine's `holding` registry: the engine's ticker sends it a [`Sweep`]
//! with the clock's time, and holds past their deadline are released (in
//! deadline order, each once) and the new availability published.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use dashmap::DashMap;
use uuid::Uuid;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::events::EventHub;
use crate::domain::cart::CartKey;
use crate::domain::quantity::{Quantity, StockLevel};
use crate::domain::stock::{Ledger, PendingId, Shortage, StockChange, StockFigures};
use crate::store::Store;

/// Offer actors whose ledgers hold basket stock, by offer (swept each tick).
pub type Holding = Arc<DashMap<Uuid, Addr<OfferActor>>>;

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

/// Hold up to `wanted` for a basket until `deadline` (see [`Ledger::hold`]):
/// answers what is held, `None` if the actor is gone (look it up again).
#[derive(Message)]
#[rtype(result = "Option<Decimal>")]
pub struct Hold {
    pub holder: CartKey,
    pub wanted: Quantity,
    pub whole_units: bool,
    pub deadline: DateTime<Utc>,
}

/// Release a basket's hold.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReleaseHold {
    pub holder: CartKey,
}

/// What a basket holds (`None` while not loaded).
#[derive(Message)]
#[rtype(result = "Option<Decimal>")]
pub struct HeldBy {
    pub holder: CartKey,
}

/// Release the holds due at `now` (the engine's ticker).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Sweep {
    pub now: DateTime<Utc>,
}

/// State of one offer.
pub struct OfferActor {
    id: Uuid,
    store: Store,
    hub: EventHub,
    registry: Arc<DashMap<Uuid, Addr<OfferActor>>>,
    holding: Holding,
    /// Listed in `holding` (its ledger holds basket stock).
    listed: bool,
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
        holding: Holding,
        idle_after: Duration,
        mailbox_capacity: usize,
    ) -> Self {
        Self {
            id,
            store,
            hub,
            registry,
            holding,
            listed: false,
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

    /// Applies `change` to the ledger; publishes the figures if they moved
    /// and lists the actor for sweeps while its ledger holds basket stock.
    fn change<T>(
        &mut self,
        ctx: &Context<Self>,
        change: impl FnOnce(&mut Ledger<CartKey>) -> T,
    ) -> Option<T> {
        let ledger = self.ledger()?;
        let before = ledger.figures();
        let outcome = change(ledger);
        let (after, holds) = (ledger.figures(), !ledger.holds().is_empty());
        if after != before {
            self.publish();
        }
        if holds != self.listed {
            self.listed = holds;
            if holds {
                self.holding.insert(self.id, ctx.address());
            } else {
                self.holding.remove(&self.id);
            }
        }
        Some(outcome)
    }

    fn passivate(&mut self, ctx: &mut Context<Self>) {
        self.passivated = true;
        let me = ctx.address();
        self.registry.remove_if(&self.id, |_, addr| *addr == me);
        self.holding.remove_if(&self.id, |_, addr| *addr == me);
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
        let me = ctx.address();
        self.holding.remove_if(&self.id, |_, addr| *addr == me);
    }
}

impl Handler<Begin> for OfferActor {
    type Result = Result<PendingId, BeginRefused>;

    fn handle(&mut self, msg: Begin, ctx: &mut Context<Self>) -> Self::Result {
        // A take counts at once (and is published); the others when they commit.
        self.change(ctx, |ledger| ledger.begin(msg.change))
            .ok_or(BeginRefused::Gone)?
            .map_err(BeginRefused::Short)
    }
}

impl Handler<Commit> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Commit, ctx: &mut Context<Self>) {
        self.change(ctx, |ledger| ledger.commit(msg.id));
    }
}

impl Handler<Abort> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Abort, ctx: &mut Context<Self>) {
        self.change(ctx, |ledger| ledger.abort(msg.id));
    }
}

impl Handler<SetStock> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: SetStock, ctx: &mut Context<Self>) {
        self.change(ctx, |ledger| ledger.set_stock(msg.tracked, msg.real));
    }
}

impl Handler<GetStock> for OfferActor {
    type Result = Option<StockFigures>;

    fn handle(&mut self, _: GetStock, _: &mut Context<Self>) -> Self::Result {
        self.last_used = Instant::now();
        self.ledger.as_ref().map(Ledger::figures)
    }
}

impl Handler<Hold> for OfferActor {
    type Result = Option<Decimal>;

    fn handle(&mut self, msg: Hold, ctx: &mut Context<Self>) -> Self::Result {
        self.change(ctx, |ledger| {
            ledger.hold(msg.holder, msg.wanted, msg.whole_units, msg.deadline)
        })
    }
}

impl Handler<ReleaseHold> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: ReleaseHold, ctx: &mut Context<Self>) {
        self.change(ctx, |ledger| ledger.release_hold(msg.holder));
    }
}

impl Handler<HeldBy> for OfferActor {
    type Result = Option<Decimal>;

    fn handle(&mut self, msg: HeldBy, _: &mut Context<Self>) -> Self::Result {
        self.last_used = Instant::now();
        self.ledger
            .as_ref()
            .map(|ledger| ledger.held_by(msg.holder))
    }
}

impl Handler<Sweep> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Sweep, ctx: &mut Context<Self>) {
        let due = self
            .ledger
            .as_ref()
            .and_then(Ledger::next_deadline)
            .is_some_and(|deadline| deadline <= msg.now);
        if !due {
            return;
        }
        if let Some(expired) = self.change(ctx, |ledger| ledger.expire(msg.now)) {
            metrics::counter!("engine_holds_expired_total").increment(expired.len() as u64);
        }
    }
}
