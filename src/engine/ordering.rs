//! The ordering protocol (DESIGN.md §2, "Placing an order"):
//!
//! 1. the distribution actor validates the change (window, frozen prices,
//!    quantities, one order per customer) and works out what it reserves
//!    and gives back;
//! 2. every offer actor concerned reserves (counted against availability at
//!    once) — on any refusal the granted ones are released and the customer
//!    learns, per offer, what is left;
//! 3. the distribution actor re-checks the windows at that instant and
//!    numbers a new order;
//! 4. the order writer commits it with others in one transaction;
//! 5. only then the customer gets the answer; reservations are settled and
//!    given-back quantities released. If the commit fails everything is
//!    undone and the customer gets 503 with nothing half-done.

use std::collections::HashMap;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::distribution_actor::{Confirm, DistributionActor, Finish, Prepare};
use super::idempotency::{IdempotencyKey, Slot};
use super::offer_actor::{
    Hold, OfferActor, Release, ReleaseOf, Reserve, ReserveRefused, Settle, Unhold,
};
use super::sale::{Change, Plan, SaleRefusal};
use super::writer::WriteError;
use super::Engine;
use crate::domain::money::Money;
use crate::domain::order::{OrderLine, Weighing};
use crate::store::order_writes::{IdempotencyRecord, OrderWrite, OrderWriteKind};
use crate::store::DbError;

/// Who orders.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
}

/// An offer that could not be reserved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shortage {
    pub offer_id: Uuid,
    #[serde(with = "crate::domain::decimal::string")]
    pub requested: Decimal,
    #[serde(with = "crate::domain::decimal::string")]
    pub available: Decimal,
}

/// Why an order change was not made (nothing was changed).
#[derive(Debug, Clone, PartialEq)]
pub enum OrderError {
    Refused(SaleRefusal),
    InsufficientStock(Vec<Shortage>),
    /// An `Idempotency-Key` reused with another request.
    KeyReused,
    /// A queue or mailbox is full: retry shortly.
    Overloaded,
    /// The database is unreachable: retry shortly.
    Unavailable,
}

/// A committed order as the customer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: Uuid,
    pub number: i32,
    pub distribution_id: Uuid,
    pub status: String,
    pub lines: Vec<LineView>,
    /// As ordered.
    pub total: Money,
    /// What the customer pays once lines were weighed after the sale (each
    /// line's `final_total`, or its `total`); absent before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_total: Option<Money>,
}

/// One line of an [`OrderView`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineView {
    pub id: Uuid,
    pub offer_id: Uuid,
    #[serde(with = "crate::domain::decimal::string")]
    pub quantity: Decimal,
    pub unit_price: Money,
    pub total: Money,
    /// Real weight, once a producer weighed the line.
    #[serde(
        default,
        with = "crate::domain::decimal::string_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<Decimal>,
    /// The line's total after weighing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_total: Option<Money>,
}

impl LineView {
    /// A line as ordered, with its weighing if any.
    pub fn new(line: &OrderLine, weighing: Option<&Weighing>) -> Self {
        Self {
            id: line.id,
            offer_id: line.offer_id,
            quantity: line.quantity,
            unit_price: line.unit_price,
            total: line.total(),
            weight: weighing.and_then(|w| w.weight),
            final_total: weighing.and_then(|w| w.final_total),
        }
    }
}

impl OrderView {
    pub fn new(
        id: Uuid,
        number: i32,
        distribution_id: Uuid,
        status: &'static str,
        lines: &[OrderLine],
    ) -> Self {
        Self::after_sale(id, number, distribution_id, status, lines, &HashMap::new())
    }

    /// An order with the weighing of its lines (`weighings`, by line id).
    pub fn after_sale(
        id: Uuid,
        number: i32,
        distribution_id: Uuid,
        status: &'static str,
        lines: &[OrderLine],
        weighings: &HashMap<Uuid, Weighing>,
    ) -> Self {
        let lines: Vec<LineView> = lines
            .iter()
            .map(|l| LineView::new(l, weighings.get(&l.id)))
            .collect();
        let final_total = lines
            .iter()
            .any(|l| l.final_total.is_some())
            .then(|| lines.iter().map(|l| l.final_total.unwrap_or(l.total)).sum());
        Self {
            id,
            number,
            distribution_id,
            status: status.to_owned(),
            total: lines.iter().map(|l| l.total).sum(),
            final_total,
            lines,
        }
    }
}

/// Reservations granted so far, to settle or undo.
#[derive(Default)]
struct Granted {
    reserved: Vec<(Addr<OfferActor>, Decimal)>,
    held: Vec<(Addr<OfferActor>, Decimal)>,
}

impl Granted {
    fn undo(self) {
        for (addr, quantity) in self.reserved {
            addr.do_send(Release {
                quantity,
                of: ReleaseOf::Reservation,
            });
        }
        for (addr, quantity) in self.held {
            addr.do_send(Unhold { quantity });
        }
    }

    fn settle(self) {
        for (addr, quantity) in self.reserved {
            addr.do_send(Settle { quantity });
        }
        for (addr, quantity) in self.held {
            addr.do_send(Release {
                quantity,
                of: ReleaseOf::Hold,
            });
        }
    }
}

impl Engine {
    /// Adds lines to, replaces the lines of, or cancels a customer's order
    /// in a distribution. With an idempotency key, a retry returns the first
    /// answer instead of ordering twice.
    ///
    /// The work runs in its own task: a client that disconnects half-way
    /// cannot leave reservations behind, the protocol always completes.
    pub async fn change_order(
        &self,
        distribution_id: Uuid,
        customer: Customer,
        change: Change,
        key: Option<IdempotencyKey>,
    ) -> Result<OrderView, OrderError> {
        let engine = self.clone();
        let started = std::time::Instant::now();
        let task = actix::spawn(async move {
            let Some(key) = key else {
                return engine.apply(distribution_id, &customer, change, None).await;
            };
            match engine.inner.idempotency.claim(&key, engine.store()).await? {
                Slot::Answered(view) => Ok(view),
                Slot::Claimed(guard) => {
                    let outcome = engine
                        .apply(distribution_id, &customer, change, Some(&key))
                        .await;
                    guard.finish(outcome.clone());
                    outcome
                }
            }
        });
        let outcome = task.await.unwrap_or(Err(OrderError::Unavailable));
        metrics::histogram!("engine_order_seconds").record(started.elapsed().as_secs_f64());
        metrics::counter!("engine_orders_total", "outcome" => outcome_label(&outcome)).increment(1);
        outcome
    }

    async fn apply(
        &self,
        distribution_id: Uuid,
        customer: &Customer,
        change: Change,
        key: Option<&IdempotencyKey>,
    ) -> Result<OrderView, OrderError> {
        let distribution = self.distribution(distribution_id);
        let plan = self
            .prepare(&distribution, customer, change)
            .await
            .map_err(OrderError::Refused)?;
        let finish = |committed| {
            distribution.do_send(Finish {
                customer_id: customer.id,
                committed,
            })
        };

        let granted = match self.reserve_all(distribution_id, &plan).await {
            Ok(granted) => granted,
            Err(error) => {
                finish(false);
                return Err(error);
            }
        };
        let plan = match self
            .ask(
                &distribution,
                Confirm {
                    customer_id: customer.id,
                },
            )
            .await
        {
            Ok(Ok(plan)) => plan,
            Ok(Err(refusal)) => {
                granted.undo();
                return Err(OrderError::Refused(refusal));
            }
            Err(error) => {
                granted.undo();
                finish(false);
                return Err(error);
            }
        };

        let number = plan.number.unwrap_or(0);
        let status = if plan.kind == OrderWriteKind::Cancel {
            "cancelled"
        } else {
            "confirmed"
        };
        let view = OrderView::new(plan.order_id, number, distribution_id, status, &plan.lines);
        let now = self.clock().now();
        let write = self.order_write(distribution_id, customer.id, &plan, &view, key, now);
        match self.inner.writer.write(write).await {
            Ok(()) => {
                finish(true);
                granted.settle();
                Ok(view)
            }
            Err(error) => {
                finish(false);
                granted.undo();
                tracing::warn!(%error, "order not committed; reservations released");
                Err(match error {
                    WriteError::QueueFull => OrderError::Overloaded,
                    WriteError::Stopped | WriteError::Db(DbError::Unavailable(_)) => {
                        OrderError::Unavailable
                    }
                    WriteError::Db(e) => {
                        tracing::error!(error = %e, "order not written");
                        OrderError::Unavailable
                    }
                })
            }
        }
    }

    /// Step 1, retried while the actor reloads (a window just opened).
    async fn prepare(
        &self,
        distribution: &Addr<DistributionActor>,
        customer: &Customer,
        change: Change,
    ) -> Result<Plan, SaleRefusal> {
        for _ in 0..5 {
            let asked = self
                .ask(
                    distribution,
                    Prepare {
                        customer_id: customer.id,
                        customer_name: customer.name.clone(),
                        change: change.clone(),
                    },
                )
                .await;
            match asked {
                Ok(Err(SaleRefusal::Retry)) => tokio::task::yield_now().await,
                Ok(result) => return result,
                Err(error) => {
                    tracing::warn!(?error, "distribution actor did not answer");
                    return Err(SaleRefusal::Retry);
                }
            }
        }
        Err(SaleRefusal::Retry)
    }

    /// Step 2: reserve what grows, hold what shrinks — all or nothing.
    async fn reserve_all(&self, distribution_id: Uuid, plan: &Plan) -> Result<Granted, OrderError> {
        let reservations = plan
            .reserve
            .iter()
            .map(|(offer, quantity)| self.reserve_one(distribution_id, *offer, *quantity));
        let holds = plan
            .release
            .iter()
            .map(|(offer, quantity)| self.hold_one(distribution_id, *offer, *quantity));
        let started = std::time::Instant::now();
        let (reserved, held) = futures_util::join!(join_all(reservations), join_all(holds));
        metrics::histogram!("engine_reservation_seconds").record(started.elapsed().as_secs_f64());
        let mut granted = Granted::default();
        let mut shortages = Vec::new();
        let mut failure = None;
        for ((offer, quantity), outcome) in plan.reserve.iter().zip(reserved) {
            match outcome {
                Ok(addr) => granted.reserved.push((addr, *quantity)),
                Err(Ok(available)) => shortages.push(Shortage {
                    offer_id: *offer,
                    requested: *quantity,
                    available,
                }),
                Err(Err(error)) => failure = Some(error),
            }
        }
        for ((_, quantity), outcome) in plan.release.iter().zip(held) {
            match outcome {
                Ok(addr) => granted.held.push((addr, *quantity)),
                Err(error) => failure = Some(error),
            }
        }
        if shortages.is_empty() && failure.is_none() {
            return Ok(granted);
        }
        granted.undo();
        if !shortages.is_empty() {
            return Err(OrderError::InsufficientStock(shortages));
        }
        Err(failure.unwrap_or(OrderError::Unavailable))
    }

    /// Reserves on one offer; `Err(Ok(available))` when short.
    async fn reserve_one(
        &self,
        distribution_id: Uuid,
        offer: Uuid,
        quantity: Decimal,
    ) -> Result<Addr<OfferActor>, Result<Decimal, OrderError>> {
        for attempt in 0..3 {
            let addr = self.offer_for(offer, Some(distribution_id));
            if attempt > 0 {
                tracing::warn!(%offer, attempt, "offer actor gone; activating again");
            }
            match self.ask(&addr, Reserve { quantity }).await {
                Ok(Ok(())) => return Ok(addr),
                Ok(Err(ReserveRefused::Insufficient { available })) => return Err(Ok(available)),
                Ok(Err(ReserveRefused::Gone)) | Err(OrderError::Unavailable) => continue,
                Err(error) => return Err(Err(error)),
            }
        }
        Err(Err(OrderError::Unavailable))
    }

    async fn hold_one(
        &self,
        distribution_id: Uuid,
        offer: Uuid,
        quantity: Decimal,
    ) -> Result<Addr<OfferActor>, OrderError> {
        for _ in 0..3 {
            let addr = self.offer_for(offer, Some(distribution_id));
            match self.ask(&addr, Hold { quantity }).await {
                Ok(Ok(())) => return Ok(addr),
                Ok(Err(_)) | Err(OrderError::Unavailable) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(OrderError::Unavailable)
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
        match addr.send(msg).timeout(self.actor_timeout()).await {
            Ok(result) => Ok(result),
            Err(MailboxError::Timeout) => Err(OrderError::Overloaded),
            Err(MailboxError::Closed) => Err(OrderError::Unavailable),
        }
    }

    fn order_write(
        &self,
        distribution_id: Uuid,
        customer_id: Uuid,
        plan: &Plan,
        view: &OrderView,
        key: Option<&IdempotencyKey>,
        at: DateTime<Utc>,
    ) -> OrderWrite {
        let movements = plan
            .reserve
            .iter()
            .map(|(o, q)| (*o, *q))
            .chain(plan.release.iter().map(|(o, q)| (*o, -*q)))
            .collect();
        OrderWrite {
            kind: plan.kind,
            order_id: plan.order_id,
            distribution_id,
            customer_id,
            number: plan.number.unwrap_or(0),
            written_lines: plan.line_changes.written.clone(),
            removed_lines: plan.line_changes.removed.clone(),
            movements,
            idempotency: key.map(|k| IdempotencyRecord {
                account_id: k.account_id,
                key: k.key.clone(),
                request_hash: k.request_hash.clone(),
                status: 201,
                body: serde_json::to_value(view).unwrap_or_default(),
            }),
            at,
        }
    }
}

/// The `outcome` label of `engine_orders_total`.
fn outcome_label(outcome: &Result<OrderView, OrderError>) -> &'static str {
    match outcome {
        Ok(_) => "accepted",
        Err(OrderError::InsufficientStock(_)) => "insufficient_stock",
        Err(OrderError::KeyReused) => "idempotency_key_reused",
        Err(OrderError::Overloaded) => "overloaded",
        Err(OrderError::Unavailable) | Err(OrderError::Refused(SaleRefusal::Retry)) => {
            "unavailable"
        }
        Err(OrderError::Refused(refusal)) => match refusal {
            SaleRefusal::Unknown | SaleRefusal::NoOrder => "not_found",
            SaleRefusal::DistributionCancelled => "distribution_cancelled",
            SaleRefusal::SaleNotOpen { .. } => "sale_not_open",
            SaleRefusal::SaleClosed { .. } => "sale_closed",
            SaleRefusal::InvalidLines(_) => "invalid_field",
            SaleRefusal::Busy => "order_in_progress",
            SaleRefusal::Retry => "unavailable",
        },
    }
}
