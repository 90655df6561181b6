//! The offer actor: one per offer being ordered, shared by every market and
//! distribution that sells it. It is the only place where the offer's
//! availability changes while the engine runs, one message at a time, so
//! two customers can never both take the last unit.
//!
//! `ordered` counts confirmed orders *and* reservations still on their way
//! to the database (`pending`). A reservation is settled after its order
//! commits, or released if the commit fails. A quantity an order change
//! gives back is first *held* (before the commit) and released after it, so
//! the release reaches an actor whose `ordered` predates the commit. The
//! actor passivates only when idle with nothing pending or held, so a fresh
//! activation (which rebuilds `ordered` from the database) never misses or
//! double-counts an in-flight change.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use dashmap::DashMap;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::events::EventHub;
use crate::store::sale::OfferStock;
use crate::store::Store;

/// Reserve `quantity` units; refused with what is available when short.
#[derive(Message)]
#[rtype(result = "Result<(), ReserveRefused>")]
pub struct Reserve {
    pub quantity: Decimal,
}

/// Why a reservation was not granted.
#[derive(Debug, Clone, PartialEq)]
pub enum ReserveRefused {
    /// Not enough stock; `available` is what is left (never negative).
    Insufficient { available: Decimal },
    /// The actor is passivating: look it up again.
    Gone,
}

/// A granted reservation's order committed: it is no longer pending.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Settle {
    pub quantity: Decimal,
}

/// Announce that a change about to commit gives back `quantity` units.
#[derive(Message)]
#[rtype(result = "Result<(), ReserveRefused>")]
pub struct Hold {
    pub quantity: Decimal,
}

/// What a [`Release`] gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseOf {
    /// A granted reservation whose order failed to commit.
    Reservation,
    /// A held quantity whose change committed.
    Hold,
}

/// Give back `quantity` units to the available stock.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Release {
    pub quantity: Decimal,
    pub of: ReleaseOf,
}

/// A held quantity whose change failed: nothing is given back.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unhold {
    pub quantity: Decimal,
}

/// The producer changed the stock (already written to the database).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetStock {
    pub tracked: bool,
    pub real: Decimal,
}

/// A committed change of the figures, announced by a [`Hold`] of `held`:
/// `ordered` and `real` are added (delivery: both negative).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Adjust {
    pub held: Decimal,
    pub ordered: Decimal,
    pub real: Decimal,
}

/// The actor's current view of the stock.
#[derive(Message)]
#[rtype(result = "Option<OfferStock>")]
pub struct GetStock;

/// State of one offer.
pub struct OfferActor {
    id: Uuid,
    store: Store,
    hub: EventHub,
    registry: Arc<DashMap<Uuid, Addr<OfferActor>>>,
    stock: Option<OfferStock>,
    /// Granted reservations whose orders are not committed yet.
    pending: Decimal,
    /// Quantities that changes about to commit will give back.
    held: Decimal,
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
            stock: None,
            pending: Decimal::ZERO,
            held: Decimal::ZERO,
            last_used: Instant::now(),
            idle_after,
            mailbox_capacity,
            passivated: false,
        }
    }

    fn publish(&self) {
        if let Some(stock) = self.stock {
            self.hub.offer_stock(self.id, stock);
        }
    }

    fn touch(&mut self) {
        self.last_used = Instant::now();
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
                        actor.stock = Some(stock);
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
            let busy = !actor.pending.is_zero() || !actor.held.is_zero();
            if !busy && actor.last_used.elapsed() >= actor.idle_after {
                actor.passivate(ctx);
            }
        });
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        metrics::gauge!("engine_active_offer_actors").decrement(1.0);
        let id = self.id;
        if !self.passivated {
            self.registry.remove(&id);
        }
    }
}

impl Handler<Reserve> for OfferActor {
    type Result = Result<(), ReserveRefused>;

    fn handle(&mut self, msg: Reserve, _: &mut Context<Self>) -> Self::Result {
        self.touch();
        let Some(stock) = self.stock.as_mut().filter(|_| !self.passivated) else {
            return Err(ReserveRefused::Gone);
        };
        let available = stock.real - stock.ordered;
        if stock.tracked && msg.quantity > available {
            return Err(ReserveRefused::Insufficient {
                available: available.max(Decimal::ZERO),
            });
        }
        stock.ordered += msg.quantity;
        self.pending += msg.quantity;
        self.publish();
        Ok(())
    }
}

impl Handler<Settle> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Settle, _: &mut Context<Self>) {
        self.touch();
        self.pending = (self.pending - msg.quantity).max(Decimal::ZERO);
    }
}

impl Handler<Hold> for OfferActor {
    type Result = Result<(), ReserveRefused>;

    fn handle(&mut self, msg: Hold, _: &mut Context<Self>) -> Self::Result {
        self.touch();
        if self.stock.is_none() || self.passivated {
            return Err(ReserveRefused::Gone);
        }
        self.held += msg.quantity;
        Ok(())
    }
}

impl Handler<Release> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Release, _: &mut Context<Self>) {
        self.touch();
        match msg.of {
            ReleaseOf::Reservation => {
                self.pending = (self.pending - msg.quantity).max(Decimal::ZERO)
            }
            ReleaseOf::Hold => self.held = (self.held - msg.quantity).max(Decimal::ZERO),
        }
        if let Some(stock) = self.stock.as_mut() {
            stock.ordered -= msg.quantity;
        }
        self.publish();
    }
}

impl Handler<Unhold> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Unhold, _: &mut Context<Self>) {
        self.touch();
        self.held = (self.held - msg.quantity).max(Decimal::ZERO);
    }
}

impl Handler<SetStock> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: SetStock, _: &mut Context<Self>) {
        self.touch();
        if let Some(stock) = self.stock.as_mut() {
            stock.tracked = msg.tracked;
            stock.real = msg.real;
        }
        self.publish();
    }
}

impl Handler<Adjust> for OfferActor {
    type Result = ();

    fn handle(&mut self, msg: Adjust, _: &mut Context<Self>) {
        self.touch();
        self.held = (self.held - msg.held).max(Decimal::ZERO);
        if let Some(stock) = self.stock.as_mut() {
            stock.ordered += msg.ordered;
            stock.real += msg.real;
        }
        self.publish();
    }
}

impl Handler<GetStock> for OfferActor {
    type Result = Option<OfferStock>;

    fn handle(&mut self, _: GetStock, _: &mut Context<Self>) -> Self::Result {
        self.touch();
        self.stock
    }
}
