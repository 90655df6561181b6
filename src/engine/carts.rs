//! Baskets that hold stock (`PUT|GET|DELETE /distributions/{id}/cart`):
//!
//! 1. the distribution actor checks the new basket like an order (offers on
//!    sale in an open window, quantities) and starts its change — one
//!    change of a customer's order or basket at a time;
//! 2. each offer's ledger holds as much of its line as is available (what
//!    the basket already held counts as available to it), until the
//!    basket's deadline; offers the basket no longer lists are released;
//! 3. the distribution actor keeps the basket.
//!
//! The holds are the ledgers' (so what a basket holds is read from them),
//! they expire in the ledgers' own sweeps, and an order of the customer
//! consumes them (`engine::ordering`). Like an order change, the work runs
//! in its own task, so a client that disconnects cannot leave a basket
//! change half-done.

use actix::Addr;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::distribution_actor::{
    CartFailed, CartHeld, DistributionActor, DropCart, GetCart, PrepareCart,
};
use super::error::OrderError;
use super::offer_actor::{HeldBy, Hold, ReleaseHold};
use super::Engine;
use crate::domain::cart::{Cart, CartKey, CartLine, CartView};
use crate::domain::sale::{CartPlan, RequestedLine, SaleRefusal};

impl Engine {
    /// Sets the customer's basket in a distribution to `lines` (the whole
    /// basket; none empties it) and holds what is available of it.
    pub async fn put_cart(
        &self,
        distribution_id: Uuid,
        customer_id: Uuid,
        lines: Vec<RequestedLine>,
    ) -> Result<CartView, OrderError> {
        let engine = self.clone();
        let task = actix::spawn(async move {
            engine
                .put_cart_now(distribution_id, customer_id, lines)
                .await
        });
        task.await.unwrap_or(Err(OrderError::Unavailable))
    }

    async fn put_cart_now(
        &self,
        distribution_id: Uuid,
        customer_id: Uuid,
        lines: Vec<RequestedLine>,
    ) -> Result<CartView, OrderError> {
        let distribution = self.distribution(distribution_id);
        let plan = self
            .prepare_cart(&distribution, customer_id, lines)
            .await
            .map_err(OrderError::Refused)?;
        let holder = CartKey {
            distribution_id,
            customer_id,
        };
        self.release_holds(holder, &plan.released);
        let held = join_all(
            plan.lines
                .iter()
                .map(|line| self.hold_one(holder, line, plan.expires_at)),
        )
        .await;
        let Some(held) = held.into_iter().collect::<Option<Vec<Decimal>>>() else {
            // An offer's actor did not answer: the basket goes, whole.
            let offers: Vec<Uuid> = plan.lines.iter().map(|l| l.offer_id).collect();
            self.release_holds(holder, &offers);
            distribution.do_send(CartFailed { customer_id });
            return Err(OrderError::Unavailable);
        };
        let cart = Cart {
            lines: plan.lines.clone(),
            expires_at: plan.expires_at,
        };
        distribution.do_send(CartHeld { customer_id, plan });
        metrics::counter!("engine_cart_changes_total").increment(1);
        Ok(CartView::of(&cart, held))
    }

    /// Step 1, retried while the actor reloads (a window just opened).
    async fn prepare_cart(
        &self,
        distribution: &Addr<DistributionActor>,
        customer_id: Uuid,
        lines: Vec<RequestedLine>,
    ) -> Result<CartPlan, SaleRefusal> {
        for _ in 0..5 {
            let asked = self
                .ask(
                    distribution,
                    PrepareCart {
                        customer_id,
                        lines: lines.clone(),
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

    /// Holds one line on its offer's ledger: what is held, `None` if the
    /// actor could not be reached.
    async fn hold_one(
        &self,
        holder: CartKey,
        line: &CartLine,
        deadline: DateTime<Utc>,
    ) -> Option<Decimal> {
        for _ in 0..3 {
            let addr = self.offer_for(line.offer_id, Some(holder.distribution_id));
            let hold = Hold {
                holder,
                wanted: line.quantity,
                whole_units: line.whole_units,
                deadline,
            };
            match self.ask(&addr, hold).await {
                Ok(Some(held)) => return Some(held),
                Ok(None) | Err(OrderError::Unavailable) => continue,
                Err(_) => return None,
            }
        }
        None
    }

    /// Releases a basket's holds on these offers.
    fn release_holds(&self, holder: CartKey, offers: &[Uuid]) {
        for offer in offers {
            // An offer actor holding stock never passivates: if it is not
            // active, it holds nothing.
            if let Some(actor) = self.active_offer(*offer) {
                actor.do_send(ReleaseHold { holder });
            }
        }
    }

    /// The customer's basket in a distribution, with what each line holds
    /// (empty when there is none or it ran out).
    pub async fn cart(
        &self,
        distribution_id: Uuid,
        customer_id: Uuid,
    ) -> Result<CartView, OrderError> {
        let distribution = self.distribution(distribution_id);
        let cart = self
            .ask(&distribution, GetCart { customer_id })
            .await?
            .map_err(OrderError::Refused)?;
        let Some(cart) = cart else {
            return Ok(CartView::empty());
        };
        let holder = CartKey {
            distribution_id,
            customer_id,
        };
        let held = join_all(cart.lines.iter().map(|l| self.held_by(l.offer_id, holder))).await;
        Ok(CartView::of(&cart, held))
    }

    /// What `holder` holds of an offer (nothing if its actor is not active).
    pub(crate) async fn held_by(&self, offer_id: Uuid, holder: CartKey) -> Decimal {
        let Some(actor) = self.active_offer(offer_id) else {
            return Decimal::ZERO;
        };
        self.ask(&actor, HeldBy { holder })
            .await
            .ok()
            .flatten()
            .unwrap_or(Decimal::ZERO)
    }

    /// Empties the customer's basket and releases its holds.
    pub async fn drop_cart(
        &self,
        distribution_id: Uuid,
        customer_id: Uuid,
    ) -> Result<(), OrderError> {
        let distribution = self.distribution(distribution_id);
        let dropped = self
            .ask(&distribution, DropCart { customer_id })
            .await?
            .map_err(OrderError::Refused)?;
        if let Some(cart) = dropped {
            let offers: Vec<Uuid> = cart.lines.iter().map(|l| l.offer_id).collect();
            let holder = CartKey {
                distribution_id,
                customer_id,
            };
            self.release_holds(holder, &offers);
        }
        Ok(())
    }
}
