//! The ordering protocol (DESIGN.md §2, "Placing an order"):
//!
//! 1. the distribution actor validates the change (window, frozen prices,
//!    quantities, one order per customer) and works out what it takes and
//!    gives back (`domain::sale`);
//! 2. every offer's ledger begins its move ([`super::stock_moves`]): takes
//!    come out of the customer's basket first (held units are never
//!    refused), the rest counts against availability at once — on any
//!    refusal the begun ones are aborted (the basket holds again) and the
//!    customer learns, per offer, what is left;
//! 3. the distribution actor re-checks the windows at that instant and
//!    numbers a new order;
//! 4. the order writer commits it with others in one transaction;
//! 5. only then the customer gets the answer and the moves commit (given-
//!    back units become available). If the commit fails every move is
//!    aborted and the customer gets 503 with nothing half-done.

use actix::prelude::*;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::distribution_actor::{Confirm, DistributionActor, Finish, Prepare};
use super::error::OrderError;
use super::idempotency::{IdempotencyKey, Slot};
use super::stock_moves::StockMove;
use super::writer::WriteError;
use super::Engine;
use crate::domain::cart::CartKey;
use crate::domain::order::OrderView;
use crate::domain::sale::{OrderChange, Plan, SaleRefusal};
use crate::store::order_writes::{IdempotencyRecord, OrderWrite};
use crate::store::DbError;

/// Who orders.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
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
        change: OrderChange,
        key: Option<IdempotencyKey>,
    ) -> Result<OrderView, OrderError> {
        if !self.is_active() {
            return Err(OrderError::Unavailable);
        }
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
        let label = outcome.as_ref().err().map_or("accepted", OrderError::label);
        metrics::counter!("engine_orders_total", "outcome" => label).increment(1);
        outcome
    }

    async fn apply(
        &self,
        distribution_id: Uuid,
        customer: &Customer,
        change: OrderChange,
        key: Option<&IdempotencyKey>,
    ) -> Result<OrderView, OrderError> {
        // The right this change is prepared under; the writer commits it
        // only while it is still the one in force.
        let right = self.fence().right();
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

        let basket = CartKey {
            distribution_id,
            customer_id: customer.id,
        };
        let moves = match self
            .begin_moves(&stock_moves(&plan, basket), Some(distribution_id))
            .await
        {
            Ok(moves) => moves,
            Err(error) => {
                finish(false);
                return Err(error);
            }
        };
        let confirmed = self
            .ask(
                &distribution,
                Confirm {
                    customer_id: customer.id,
                },
            )
            .await;
        let plan = match confirmed {
            Ok(Ok(plan)) => plan,
            Ok(Err(refusal)) => {
                moves.abort();
                return Err(OrderError::Refused(refusal));
            }
            Err(error) => {
                moves.abort();
                finish(false);
                return Err(error);
            }
        };

        let number = plan.number.unwrap_or(0);
        let view = OrderView::new(
            plan.order_id,
            number,
            distribution_id,
            plan.kind.status(),
            &plan.lines,
        );
        let now = self.clock().now();
        let write = order_write(distribution_id, customer.id, &plan, &view, key, now);
        match self.inner.writer.write(write, right).await {
            Ok(()) => {
                finish(true);
                moves.commit();
                Ok(view)
            }
            Err(error) => {
                finish(false);
                moves.abort();
                tracing::warn!(%error, "order not committed; reservations released");
                Err(match error {
                    WriteError::QueueFull => OrderError::Overloaded,
                    WriteError::Stopped
                    | WriteError::NotActive
                    | WriteError::Db(DbError::Unavailable(_) | DbError::Fenced { .. }) => {
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
        change: OrderChange,
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
}

/// What a planned change does to stock: takes what grows (out of the
/// customer's basket first: held units are never refused), gives back what
/// shrinks.
fn stock_moves(plan: &Plan, basket: CartKey) -> Vec<StockMove> {
    let takes = plan
        .take
        .iter()
        .map(|(offer, quantity)| StockMove::take(*offer, *quantity, Some(basket)));
    let gives = plan
        .give_back
        .iter()
        .map(|(offer, quantity)| StockMove::give_back(*offer, *quantity));
    takes.chain(gives).collect()
}

/// The writer's job for a confirmed change (with the answer a retry of its
/// idempotency key will replay).
fn order_write(
    distribution_id: Uuid,
    customer_id: Uuid,
    plan: &Plan,
    view: &OrderView,
    key: Option<&IdempotencyKey>,
    at: DateTime<Utc>,
) -> OrderWrite {
    let movements = plan
        .take
        .iter()
        .map(|(o, q)| (*o, q.value()))
        .chain(plan.give_back.iter().map(|(o, q)| (*o, -q.value())))
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
            answer: view.clone(),
        }),
        at,
    }
}
