//! Stock moves that do not come from a customer's order: a producer changing
//! a line after the sale closed, stock settlement after delivery. They obey
//! the same discipline as ordering, so live availability never drifts from
//! the database:
//!
//! - what *takes* stock (`ordered` grows) is reserved first, and refused when
//!   short;
//! - what *gives back* stock or lowers real stock is held first, so the
//!   change reaches an actor whose figures predate the commit;
//! - then the caller's database write runs; after it commits the moves are
//!   applied, and if it fails they are undone.

use std::future::Future;

use rust_decimal::Decimal;
use uuid::Uuid;

use super::offer_actor::{Adjust, Hold, Release, ReleaseOf, Reserve, ReserveRefused, Unhold};
use super::ordering::{OrderError, Shortage};
use super::Engine;

/// A change of one offer's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StockMove {
    pub offer_id: Uuid,
    /// Change of `ordered` (positive takes stock).
    pub ordered: Decimal,
    /// Change of real stock (delivery lowers it).
    pub real: Decimal,
}

/// Why a move could not be made (nothing was changed).
#[derive(Debug)]
pub enum MoveError<E> {
    /// Reservations were refused (not enough stock) or the engine is busy.
    Stock(OrderError),
    /// The caller's write failed.
    Write(E),
}

impl Engine {
    /// Applies `moves` around the database `write` (see the module doc).
    pub async fn with_stock_moves<T, E, F>(
        &self,
        moves: &[StockMove],
        write: F,
    ) -> Result<T, MoveError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let mut reserved = Vec::new();
        let mut held = Vec::new();
        let mut shortages = Vec::new();
        let mut failure = None;
        for mv in moves {
            let addr = self.offer(mv.offer_id);
            if mv.ordered > Decimal::ZERO {
                match self
                    .ask(
                        &addr,
                        Reserve {
                            quantity: mv.ordered,
                        },
                    )
                    .await
                {
                    Ok(Ok(())) => reserved.push((addr.clone(), mv.ordered)),
                    Ok(Err(ReserveRefused::Insufficient { available })) => {
                        shortages.push(Shortage {
                            offer_id: mv.offer_id,
                            requested: mv.ordered,
                            available,
                        })
                    }
                    Ok(Err(ReserveRefused::Gone)) => failure = Some(OrderError::Unavailable),
                    Err(e) => failure = Some(e),
                }
            }
            let give_back = (-mv.ordered).max(Decimal::ZERO) + (-mv.real).max(Decimal::ZERO);
            if give_back > Decimal::ZERO || mv.real != Decimal::ZERO {
                let quantity = give_back.max(Decimal::ONE);
                match self.ask(&addr, Hold { quantity }).await {
                    Ok(Ok(())) => held.push((addr, quantity, *mv)),
                    Ok(Err(_)) => failure = Some(OrderError::Unavailable),
                    Err(e) => failure = Some(e),
                }
            }
        }
        let undo = |reserved: Vec<(actix::Addr<_>, Decimal)>,
                    held: Vec<(actix::Addr<_>, Decimal, StockMove)>| {
            for (addr, quantity) in reserved {
                addr.do_send(Release {
                    quantity,
                    of: ReleaseOf::Reservation,
                });
            }
            for (addr, quantity, _) in held {
                addr.do_send(Unhold { quantity });
            }
        };
        if !shortages.is_empty() || failure.is_some() {
            undo(reserved, held);
            return Err(MoveError::Stock(if shortages.is_empty() {
                failure.unwrap_or(OrderError::Unavailable)
            } else {
                OrderError::InsufficientStock(shortages)
            }));
        }
        match write.await {
            Ok(value) => {
                for (addr, quantity) in reserved {
                    addr.do_send(super::offer_actor::Settle { quantity });
                }
                for (addr, quantity, mv) in held {
                    addr.do_send(Adjust {
                        held: quantity,
                        ordered: mv.ordered.min(Decimal::ZERO),
                        real: mv.real,
                    });
                }
                Ok(value)
            }
            Err(e) => {
                undo(reserved, held);
                Err(MoveError::Write(e))
            }
        }
    }
}
