//! The distribution actor's basket messages: a basket change is checked
//! and started here (`domain::sale`'s rules), its holds are placed on the
//! offers' ledgers by the engine (`engine::carts`), then it ends here.

use actix::prelude::*;
use uuid::Uuid;

use super::DistributionActor;
use crate::domain::cart::Cart;
use crate::domain::sale::{CartPlan, RequestedLine, SaleRefusal};

/// Check a new basket and start its change.
#[derive(Message)]
#[rtype(result = "Result<CartPlan, SaleRefusal>")]
pub struct PrepareCart {
    pub customer_id: Uuid,
    pub lines: Vec<RequestedLine>,
}

/// The basket's holds are placed: it is the plan's from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CartHeld {
    pub customer_id: Uuid,
    pub plan: CartPlan,
}

/// The basket change failed half-way: the basket goes (the engine releases
/// its holds).
#[derive(Message)]
#[rtype(result = "Option<Cart>")]
pub struct CartFailed {
    pub customer_id: Uuid,
}

/// The customer's basket, unless it ran out.
#[derive(Message)]
#[rtype(result = "Result<Option<Cart>, SaleRefusal>")]
pub struct GetCart {
    pub customer_id: Uuid,
}

/// Empty the customer's basket; answers what it was (to release).
#[derive(Message)]
#[rtype(result = "Result<Option<Cart>, SaleRefusal>")]
pub struct DropCart {
    pub customer_id: Uuid,
}

impl Handler<PrepareCart> for DistributionActor {
    type Result = Result<CartPlan, SaleRefusal>;

    fn handle(&mut self, msg: PrepareCart, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.wiring.clock.now();
        let hold_for = self.wiring.cart_hold;
        let sale = self.sale_mut()?;
        if !sale.needs_freeze(now).is_empty() {
            // A window opened since the last load: freeze its prices first.
            self.load(ctx);
            return Err(SaleRefusal::Retry);
        }
        sale.prepare_cart(msg.customer_id, &msg.lines, now, hold_for)
    }
}

impl Handler<CartHeld> for DistributionActor {
    type Result = ();

    fn handle(&mut self, msg: CartHeld, _: &mut Context<Self>) {
        if let Ok(sale) = self.sale_mut() {
            sale.cart_held(msg.customer_id, msg.plan);
        }
    }
}

impl Handler<CartFailed> for DistributionActor {
    type Result = Option<Cart>;

    fn handle(&mut self, msg: CartFailed, _: &mut Context<Self>) -> Self::Result {
        self.sale_mut().ok()?.cart_failed(msg.customer_id)
    }
}

impl Handler<GetCart> for DistributionActor {
    type Result = Result<Option<Cart>, SaleRefusal>;

    fn handle(&mut self, msg: GetCart, _: &mut Context<Self>) -> Self::Result {
        let now = self.wiring.clock.now();
        Ok(self.sale_mut()?.cart(msg.customer_id, now).cloned())
    }
}

impl Handler<DropCart> for DistributionActor {
    type Result = Result<Option<Cart>, SaleRefusal>;

    fn handle(&mut self, msg: DropCart, _: &mut Context<Self>) -> Self::Result {
        self.sale_mut()?.drop_cart(msg.customer_id)
    }
}
