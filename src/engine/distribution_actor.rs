//! The distribution actor: one per distribution being ordered or watched.
//! It owns the distribution's [`Sale`] (the rules, in `domain::sale`) and
//! hands it one message at a time, so order numbers, window checks and
//! "one order per customer" need no lock.
//!
//! It loads itself from the database when started (freezing the prices of
//! sales that have opened), reloads when a window opens or a catalog is
//! force-synced, and passivates when idle with no change in flight and no
//! basket. Its basket messages are in [`carts`].

mod carts;

pub use carts::{CartFailed, CartHeld, DropCart, GetCart, PrepareCart};

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use uuid::Uuid;

use super::clock::SharedClock;
use super::events::EventHub;
use super::offer_actor::{OfferActor, ReleaseHold};
use crate::domain::cart::CartKey;
use crate::domain::order::Order;
use crate::domain::sale::{OrderChange, Plan, Sale, SaleParticipation, SaleRefusal};
use crate::domain::shop::ShopView;
use crate::store::{DbResult, Store};

/// Validate a change and reserve its place in line.
#[derive(Message)]
#[rtype(result = "Result<Plan, SaleRefusal>")]
pub struct Prepare {
    pub customer_id: Uuid,
    pub customer_name: String,
    pub change: OrderChange,
}

/// Re-check the windows at the instant of acceptance; allocate the number.
#[derive(Message)]
#[rtype(result = "Result<Plan, SaleRefusal>")]
pub struct Confirm {
    pub customer_id: Uuid,
}

/// The change committed (or not).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Finish {
    pub customer_id: Uuid,
    pub committed: bool,
}

/// What the shop shows (availability is added by the engine).
#[derive(Message)]
#[rtype(result = "Option<ShopView>")]
pub struct GetShop;

/// The customer's confirmed order in this distribution.
#[derive(Message)]
#[rtype(result = "Option<Order>")]
pub struct CustomerOrder {
    pub customer_id: Uuid,
}

/// Re-read everything from the database (catalog synced, participations changed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reload;

/// Time passed: freeze prices of sales that opened, report window edges,
/// sweep baskets.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Tick;

/// What a distribution actor is started with.
pub struct Wiring {
    pub store: Store,
    pub clock: SharedClock,
    pub hub: EventHub,
    /// The engine's registry of distribution actors (it leaves it when it goes).
    pub registry: Arc<DashMap<Uuid, Addr<DistributionActor>>>,
    /// The engine's registry of offer actors (to release baskets' holds).
    pub offers: Arc<DashMap<Uuid, Addr<OfferActor>>>,
    /// How long a basket holds stock after its last change.
    pub cart_hold: chrono::Duration,
    pub idle_after: Duration,
    pub mailbox_capacity: usize,
}

/// The actor.
pub struct DistributionActor {
    id: Uuid,
    wiring: Wiring,
    sale: Option<Sale>,
    /// The distribution does not exist: every request is refused.
    missing: bool,
    last_used: Instant,
    passivated: bool,
}

impl DistributionActor {
    pub fn new(id: Uuid, wiring: Wiring) -> Self {
        Self {
            id,
            wiring,
            sale: None,
            missing: false,
            last_used: Instant::now(),
            passivated: false,
        }
    }

    /// Releases a basket's holds on these offers (their actors, if active:
    /// an offer actor holding stock never passivates).
    fn release_holds(&self, customer_id: Uuid, offers: &[Uuid]) {
        let holder = CartKey {
            distribution_id: self.id,
            customer_id,
        };
        for offer in offers {
            if let Some(actor) = self.wiring.offers.get(offer) {
                actor.do_send(ReleaseHold { holder });
            }
        }
    }

    /// Loads (or reloads) the sale; nothing else is handled meanwhile.
    fn load(&mut self, ctx: &mut Context<Self>) {
        self.load_then(ctx, false);
    }

    /// Loads the sale; with `announce`, live watchers then take a fresh
    /// snapshot (the sale changed under them).
    fn load_then(&mut self, ctx: &mut Context<Self>, announce: bool) {
        let store = self.wiring.store.clone();
        let id = self.id;
        let now = self.wiring.clock.now();
        ctx.wait(
            async move { load_sale(&store, id, now).await }
                .into_actor(self)
                .map(move |loaded, actor, ctx| match loaded {
                    Ok(Some(mut sale)) => {
                        // Changes in flight and baskets survive a reload.
                        if let Some(old) = actor.sale.take() {
                            sale.in_flight = old.in_flight;
                            sale.carts = old.carts;
                            sale.cart_changes = old.cart_changes;
                            sale.next_number = sale.next_number.max(old.next_number);
                        }
                        actor.sale = Some(sale);
                        if announce {
                            actor.wiring.hub.resync(actor.id);
                        }
                    }
                    Ok(None) => {
                        // Answer "unknown" to what is queued, then go.
                        actor.missing = true;
                        let me = ctx.address();
                        actor.wiring.registry.remove_if(&actor.id, |_, addr| *addr == me);
                        actor.passivated = true;
                        ctx.run_later(Duration::from_secs(1), |_, ctx| ctx.stop());
                    }
                    Err(e) => {
                        tracing::warn!(distribution = %actor.id, error = %e, "distribution actor could not load");
                        if actor.sale.is_none() {
                            actor.passivate(ctx);
                        }
                    }
                }),
        );
    }

    fn passivate(&mut self, ctx: &mut Context<Self>) {
        self.passivated = true;
        let me = ctx.address();
        self.wiring
            .registry
            .remove_if(&self.id, |_, addr| *addr == me);
        ctx.stop();
    }

    fn sale_mut(&mut self) -> Result<&mut Sale, SaleRefusal> {
        self.last_used = Instant::now();
        if self.missing {
            return Err(SaleRefusal::Unknown);
        }
        self.sale.as_mut().ok_or(SaleRefusal::Retry)
    }
}

/// Reads a distribution's sale, freezing the prices of sales that opened.
async fn load_sale(store: &Store, id: Uuid, now: DateTime<Utc>) -> DbResult<Option<Sale>> {
    let Some(distribution) = store.sale_distribution(id).await? else {
        return Ok(None);
    };
    let mut participations = store.sale_participations(id).await?;
    for participation in participations
        .iter_mut()
        .filter(|p| p.snapshot_taken_at.is_none() && p.opens_at <= now)
    {
        store.freeze_snapshot(participation.id, now).await?;
        participation.snapshot_taken_at = Some(now);
    }
    let (frozen, live): (Vec<&SaleParticipation>, Vec<&SaleParticipation>) = participations
        .iter()
        .partition(|p| p.snapshot_taken_at.is_some());
    let frozen: Vec<Uuid> = frozen.iter().map(|p| p.id).collect();
    let live: Vec<Uuid> = live.iter().map(|p| p.id).collect();
    let mut offers = store.frozen_offers(&frozen).await?;
    offers.extend(store.live_offers(&live).await?);
    let orders = store.confirmed_orders(id).await?;
    let max_number = store.max_order_number(id).await?;
    Ok(Some(Sale::new(
        distribution,
        participations,
        offers,
        orders,
        max_number,
    )))
}

impl Actor for DistributionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.wiring.mailbox_capacity);
        metrics::gauge!("engine_active_distribution_actors").increment(1.0);
        self.load(ctx);
        let check_every = (self.wiring.idle_after / 4).max(Duration::from_millis(50));
        ctx.run_interval(check_every, |actor, ctx| {
            let idle = actor.last_used.elapsed() >= actor.wiring.idle_after;
            let busy = actor.sale.as_ref().is_some_and(|s| {
                !s.in_flight.is_empty() || !s.carts.is_empty() || !s.cart_changes.is_empty()
            });
            if idle && !busy && !actor.wiring.hub.is_watched(actor.id) {
                actor.passivate(ctx);
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        metrics::gauge!("engine_active_distribution_actors").decrement(1.0);
        if !self.passivated {
            // Only this actor's entry (a newer one may be registered after
            // `Engine::forget_state`).
            let me = ctx.address();
            self.wiring
                .registry
                .remove_if(&self.id, |_, addr| *addr == me);
        }
    }
}

impl Handler<Prepare> for DistributionActor {
    type Result = Result<Plan, SaleRefusal>;

    fn handle(&mut self, msg: Prepare, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.wiring.clock.now();
        let sale = self.sale_mut()?;
        if !sale.needs_freeze(now).is_empty() {
            // A window opened since the last load: freeze its prices first.
            self.load(ctx);
            return Err(SaleRefusal::Retry);
        }
        sale.prepare(msg.customer_id, &msg.customer_name, msg.change, now)
    }
}

impl Handler<Confirm> for DistributionActor {
    type Result = Result<Plan, SaleRefusal>;

    fn handle(&mut self, msg: Confirm, _: &mut Context<Self>) -> Self::Result {
        let now = self.wiring.clock.now();
        self.sale_mut()?.confirm(msg.customer_id, now)
    }
}

impl Handler<Finish> for DistributionActor {
    type Result = ();

    fn handle(&mut self, msg: Finish, _: &mut Context<Self>) {
        let hub = self.wiring.hub.clone();
        if let Ok(sale) = self.sale_mut() {
            if msg.committed {
                hub.order_committed(sale, msg.customer_id);
            }
            sale.finish(msg.customer_id, msg.committed);
        }
    }
}

impl Handler<GetShop> for DistributionActor {
    type Result = Option<ShopView>;

    fn handle(&mut self, _: GetShop, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.wiring.clock.now();
        let sale = self.sale_mut().ok()?;
        if !sale.needs_freeze(now).is_empty() {
            self.load(ctx);
        }
        Some(ShopView::of_sale(self.sale.as_ref()?, now))
    }
}

impl Handler<CustomerOrder> for DistributionActor {
    type Result = Option<Order>;

    fn handle(&mut self, msg: CustomerOrder, _: &mut Context<Self>) -> Self::Result {
        self.sale_mut().ok()?.orders.get(&msg.customer_id).cloned()
    }
}

impl Handler<Reload> for DistributionActor {
    type Result = ();

    fn handle(&mut self, _: Reload, ctx: &mut Context<Self>) {
        self.load_then(ctx, true);
    }
}

impl Handler<Tick> for DistributionActor {
    type Result = ();

    fn handle(&mut self, _: Tick, ctx: &mut Context<Self>) {
        let now = self.wiring.clock.now();
        let Some(sale) = self.sale.as_ref() else {
            return;
        };
        let freeze = !sale.needs_freeze(now).is_empty();
        // Live watchers learn the window edges (nothing when unwatched).
        let statuses = sale.participations.iter();
        self.wiring.hub.sale_statuses(
            self.id,
            statuses.map(|p| (p.catalog_id, sale.status(p, now))),
        );
        if freeze {
            self.load(ctx);
        }
        // Baskets that ran out are forgotten (their ledgers release the
        // holds at the same deadline); lines of sales now closed go now.
        let released = self
            .sale
            .as_mut()
            .map(|s| s.sweep_carts(now))
            .unwrap_or_default();
        for (customer_id, offers) in released {
            self.release_holds(customer_id, &offers);
        }
    }
}
