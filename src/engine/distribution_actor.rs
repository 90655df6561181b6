//! The distribution actor: one per distribution being ordered or watched.
//! It owns the distribution's [`Sale`] (the rules, in `domain::sale`) and
//! hands it one message at a time, so order numbers, window checks and
//! "one order per customer" need no lock.
//!
//! It loads itself from the database when started (freezing the prices of
//! sales that have opened), reloads when a window opens or a catalog is
//! force-synced, and passivates when idle with no change in flight.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use uuid::Uuid;

use super::clock::SharedClock;
use super::events::EventHub;
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

/// Time passed: freeze prices of sales that opened, report window edges.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Tick;

/// The actor.
pub struct DistributionActor {
    id: Uuid,
    store: Store,
    clock: SharedClock,
    hub: EventHub,
    registry: Arc<DashMap<Uuid, Addr<DistributionActor>>>,
    sale: Option<Sale>,
    /// The distribution does not exist: every request is refused.
    missing: bool,
    last_used: Instant,
    idle_after: Duration,
    mailbox_capacity: usize,
    passivated: bool,
}

impl DistributionActor {
    pub fn new(
        id: Uuid,
        store: Store,
        clock: SharedClock,
        hub: EventHub,
        registry: Arc<DashMap<Uuid, Addr<DistributionActor>>>,
        idle_after: Duration,
        mailbox_capacity: usize,
    ) -> Self {
        Self {
            id,
            store,
            clock,
            hub,
            registry,
            sale: None,
            missing: false,
            last_used: Instant::now(),
            idle_after,
            mailbox_capacity,
            passivated: false,
        }
    }

    /// Loads (or reloads) the sale; nothing else is handled meanwhile.
    fn load(&mut self, ctx: &mut Context<Self>) {
        self.load_then(ctx, false);
    }

    /// Loads the sale; with `announce`, live watchers then take a fresh
    /// snapshot (the sale changed under them).
    fn load_then(&mut self, ctx: &mut Context<Self>, announce: bool) {
        let store = self.store.clone();
        let id = self.id;
        let now = self.clock.now();
        ctx.wait(
            async move { load_sale(&store, id, now).await }
                .into_actor(self)
                .map(move |loaded, actor, ctx| match loaded {
                    Ok(Some(mut sale)) => {
                        // Changes in flight survive a reload.
                        if let Some(old) = actor.sale.take() {
                            sale.in_flight = old.in_flight;
                            sale.next_number = sale.next_number.max(old.next_number);
                        }
                        actor.sale = Some(sale);
                        if announce {
                            actor.hub.resync(actor.id);
                        }
                    }
                    Ok(None) => {
                        // Answer "unknown" to what is queued, then go.
                        actor.missing = true;
                        let me = ctx.address();
                        actor.registry.remove_if(&actor.id, |_, addr| *addr == me);
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
        self.registry.remove_if(&self.id, |_, addr| *addr == me);
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
        ctx.set_mailbox_capacity(self.mailbox_capacity);
        metrics::gauge!("engine_active_distribution_actors").increment(1.0);
        self.load(ctx);
        let check_every = (self.idle_after / 4).max(Duration::from_millis(50));
        ctx.run_interval(check_every, |actor, ctx| {
            let idle = actor.last_used.elapsed() >= actor.idle_after;
            let in_flight = actor.sale.as_ref().is_some_and(|s| !s.in_flight.is_empty());
            if idle && !in_flight && !actor.hub.is_watched(actor.id) {
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
            self.registry.remove_if(&self.id, |_, addr| *addr == me);
        }
    }
}

impl Handler<Prepare> for DistributionActor {
    type Result = Result<Plan, SaleRefusal>;

    fn handle(&mut self, msg: Prepare, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.clock.now();
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
        let now = self.clock.now();
        self.sale_mut()?.confirm(msg.customer_id, now)
    }
}

impl Handler<Finish> for DistributionActor {
    type Result = ();

    fn handle(&mut self, msg: Finish, _: &mut Context<Self>) {
        let hub = self.hub.clone();
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
        let now = self.clock.now();
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
        let now = self.clock.now();
        let Some(sale) = self.sale.as_ref() else {
            return;
        };
        let freeze = !sale.needs_freeze(now).is_empty();
        // Live watchers learn the window edges (nothing when unwatched).
        let statuses = sale.participations.iter();
        self.hub.sale_statuses(
            self.id,
            statuses.map(|p| (p.catalog_id, sale.status(p, now))),
        );
        if freeze {
            self.load(ctx);
        }
    }
}
