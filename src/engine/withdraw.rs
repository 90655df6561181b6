//! A producer zeroing a customer's line while the sale is still open
//! (guide ch. 6: "contacter [les clients] un par un … avant de mettre à 0
//! les quantités commandées, et ensuite, ne plus participer").
//!
//! While a sale is open the order belongs to the distribution actor (a
//! customer's change rewrites it there), so the removal is an order change
//! like a customer's — [`OrderChange::RemoveLine`] through
//! [`Engine::change_order`]: serialised with the customer's own changes,
//! the stock given back through the offer actor, the order written by the
//! order writer. Once committed, the change is kept in the audit log and
//! the customer is told by e-mail (outbox). The last line removed cancels
//! the order.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::after_sale::{check_changeable, notice, AfterSaleError, LineChange};
use super::error::OrderError;
use super::ordering::Customer;
use super::Engine;
use crate::domain::error::FieldError;
use crate::domain::order::OrderStatus;
use crate::domain::sale::{OrderChange, SaleRefusal};
use crate::store::after_sale::{LineContext, OpenSaleRemoval};

impl Engine {
    /// A producer's change to one line: the removal of a line whose sale
    /// is open goes through the order (see the module doc); any other
    /// change waits until every sale of the distribution has closed
    /// ([`Engine::change_line`]).
    pub async fn producer_change(
        &self,
        ctx: &LineContext,
        by: Uuid,
        change: LineChange,
    ) -> Result<(), AfterSaleError> {
        let removal = change.quantity.is_some_and(|q| q.is_zero()) && change.weight.is_none();
        let open = self.clock().now() < ctx.last_close
            && ctx.validated_at.is_none()
            && ctx.cancelled_at.is_none();
        if removal && open && ctx.order_status == OrderStatus::Confirmed {
            self.remove_line_in_open_sale(ctx, by, change.reason).await
        } else {
            self.change_line(ctx, by, change).await
        }
    }

    /// Removes a line from its order while the sale is open.
    async fn remove_line_in_open_sale(
        &self,
        ctx: &LineContext,
        by: Uuid,
        reason: Option<String>,
    ) -> Result<(), AfterSaleError> {
        if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
            return Err(AfterSaleError::Invalid(vec![FieldError::new(
                "reason",
                "must be at most 1000 characters",
            )]));
        }
        let customer = Customer {
            id: ctx.customer_id,
            name: String::new(), // the order keeps its customer's name
        };
        let outcome = self
            .change_order(
                ctx.distribution_id,
                customer,
                OrderChange::RemoveLine(ctx.line_id),
                None,
            )
            .await;
        match outcome {
            Ok(_) => {}
            // The sale closed meanwhile: the after-sale rules apply.
            Err(OrderError::Refused(SaleRefusal::SaleClosed { .. })) => {
                check_changeable(ctx, self.clock().now())?;
                return Err(AfterSaleError::Refused(
                    "sale_not_closed",
                    "this line's sale closed while other sales of the distribution are open".into(),
                ));
            }
            Err(OrderError::Refused(SaleRefusal::InvalidLines(_) | SaleRefusal::NoOrder)) => {
                return Err(AfterSaleError::Refused(
                    "conflict",
                    "the line changed meanwhile; read it again and retry".into(),
                ))
            }
            Err(e) => return Err(AfterSaleError::Stock(e)),
        }
        let removal = OpenSaleRemoval {
            order_id: ctx.order_id,
            offer_id: ctx.offer_id,
            by,
            at: self.clock().now(),
            old_quantity: ctx.quantity,
            notice: notice(ctx, Decimal::ZERO, reason.as_deref()),
            reason,
        };
        if let Err(e) = self.store().record_open_sale_removal(&removal).await {
            // The order is changed and committed; only the log and the
            // e-mail are missing: say so loudly rather than undo a
            // committed change.
            tracing::error!(error = %e, order = %ctx.order_id, "line removed but its notice was not queued");
        }
        Ok(())
    }
}
