//! The one path by which stock changes while the engine runs: a customer's
//! order, a producer's change after the sale, a delivery. Each planned
//! [`StockMove`] is begun on its offer's ledger (all of them at once, all
//! or nothing: on any refusal the begun ones are aborted and the customer
//! learns, per offer, what is left); then the caller writes to the
//! database; then every move is committed, or aborted if the write failed.
//!
//! A take counts against availability as soon as it is begun, so two
//! customers never get the same last unit; what is given back (an order
//! shrinking, a delivery) moves only at commit, so it is never offered
//! before the database says it is free. [`Moves`] that are dropped without
//! being finished abort themselves, so nothing is ever left in flight.

use std::future::Future;

use actix::Addr;
use futures_util::future::join_all;
use uuid::Uuid;

use super::error::{OfferShortage, OrderError};
use super::offer_actor::{Abort, Begin, BeginRefused, Commit, OfferActor};
use super::Engine;
use crate::domain::cart::CartKey;
use crate::domain::quantity::{Quantity, StockLevel};
use crate::domain::stock::{PendingId, StockChange};

/// A change of one offer's stock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StockMove {
    pub offer_id: Uuid,
    pub change: StockChange<CartKey>,
}

impl StockMove {
    /// Takes `quantity` (covered first by `from_hold`'s hold, if any).
    pub fn take(offer_id: Uuid, quantity: Quantity, from_hold: Option<CartKey>) -> Self {
        Self {
            offer_id,
            change: StockChange::Take {
                quantity,
                from_hold,
            },
        }
    }

    /// Gives `quantity` back once committed.
    pub fn give_back(offer_id: Uuid, quantity: Quantity) -> Self {
        Self {
            offer_id,
            change: StockChange::GiveBack { quantity },
        }
    }

    /// Delivered units leave `ordered` and real stock once committed.
    pub fn deliver(offer_id: Uuid, quantity: StockLevel) -> Self {
        Self {
            offer_id,
            change: StockChange::Deliver { quantity },
        }
    }
}

/// Begun moves, each to commit or abort exactly once.
#[must_use = "moves must be committed or aborted"]
pub struct Moves {
    begun: Vec<(Addr<OfferActor>, PendingId)>,
}

impl Moves {
    /// The caller's write committed: apply every move.
    pub fn commit(mut self) {
        for (addr, id) in self.begun.drain(..) {
            addr.do_send(Commit { id });
        }
    }

    /// The caller's write failed (or will not happen): undo every move.
    pub fn abort(mut self) {
        self.abort_all();
    }

    fn abort_all(&mut self) {
        for (addr, id) in self.begun.drain(..) {
            addr.do_send(Abort { id });
        }
    }
}

impl Drop for Moves {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// Why moves around a write did not happen (nothing was changed).
#[derive(Debug)]
pub enum MoveError<E> {
    /// A take was refused (not enough stock) or the engine is busy.
    Stock(OrderError),
    /// The caller's write failed.
    Write(E),
}

/// One move's outcome: begun, short, or failed.
type Outcome = Result<(Addr<OfferActor>, PendingId), Result<OfferShortage, OrderError>>;

impl Engine {
    /// Begins every move at once; all or nothing. `distribution` places
    /// offer actors activated on the way (see `engine.actor_placement`).
    pub async fn begin_moves(
        &self,
        moves: &[StockMove],
        distribution: Option<Uuid>,
    ) -> Result<Moves, OrderError> {
        let started = std::time::Instant::now();
        let outcomes = join_all(moves.iter().map(|mv| self.begin_one(mv, distribution))).await;
        metrics::histogram!("engine_reservation_seconds").record(started.elapsed().as_secs_f64());
        let mut begun = Moves { begun: Vec::new() };
        let mut shortages = Vec::new();
        let mut failure = None;
        for outcome in outcomes {
            match outcome {
                Ok(pending) => begun.begun.push(pending),
                Err(Ok(shortage)) => shortages.push(shortage),
                Err(Err(error)) => failure = Some(error),
            }
        }
        if shortages.is_empty() && failure.is_none() {
            return Ok(begun);
        }
        begun.abort();
        if !shortages.is_empty() {
            return Err(OrderError::InsufficientStock(shortages));
        }
        Err(failure.unwrap_or(OrderError::Unavailable))
    }

    /// Begins one move, activating its actor again if it was passivating.
    async fn begin_one(&self, mv: &StockMove, distribution: Option<Uuid>) -> Outcome {
        for attempt in 0..3 {
            let addr = self.offer_for(mv.offer_id, distribution);
            if attempt > 0 {
                tracing::warn!(offer = %mv.offer_id, attempt, "offer actor gone; activating again");
            }
            match self.ask(&addr, Begin { change: mv.change }).await {
                Ok(Ok(id)) => return Ok((addr, id)),
                Ok(Err(BeginRefused::Short(shortage))) => {
                    // Only a take is ever short.
                    let StockChange::Take { quantity, .. } = mv.change else {
                        return Err(Err(OrderError::Unavailable));
                    };
                    return Err(Ok(OfferShortage {
                        offer_id: mv.offer_id,
                        requested: quantity,
                        available: shortage.available,
                    }));
                }
                Ok(Err(BeginRefused::Gone)) | Err(OrderError::Unavailable) => continue,
                Err(error) => return Err(Err(error)),
            }
        }
        Err(Err(OrderError::Unavailable))
    }

    /// Applies `moves` around the database `write`: begun before it,
    /// committed after it, aborted if it fails.
    pub async fn with_stock_moves<T, E, F>(
        &self,
        moves: &[StockMove],
        write: F,
    ) -> Result<T, MoveError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        if !self.is_active() {
            return Err(MoveError::Stock(OrderError::Unavailable));
        }
        let begun = self
            .begin_moves(moves, None)
            .await
            .map_err(MoveError::Stock)?;
        match write.await {
            Ok(value) => {
                begun.commit();
                Ok(value)
            }
            Err(e) => {
                begun.abort();
                Err(MoveError::Write(e))
            }
        }
    }
}
