//! Producer changes after the sale (guide ch. 7, "modifier les quantités"):
//! a line's quantity changed or zeroed for a stock problem, a variable-price
//! line weighed, or many weighed at once ("pesée en masse").
//!
//! The rules: producers change lines only once *every* sale of the
//! distribution has closed (before that a customer's own change rewrites
//! their whole order and would undo the producer's), never after the market
//! validated the distribution, and quantities only until delivery settled
//! the stock. Stock follows the quantity through [`Engine::with_stock_moves`]
//! (taken before the write, given back after it); the customer is told of
//! a quantity change through the outbox, in the same transaction.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::error::OrderError;
use super::stock_moves::{MoveError, StockMove};
use super::Engine;
use crate::domain::error::FieldError;
use crate::domain::money::Money;
use crate::domain::order::OrderStatus;
use crate::domain::pricing::weighed_total;
use crate::domain::quantity::Quantity;
use crate::store::after_sale::{EditRefusal, LineContext, LineEdit};
use crate::store::outbox::OutboxMessage;
use crate::store::DbError;

/// What a producer asks to change on one line (decimals not yet checked).
#[derive(Debug, Clone, Default)]
pub struct LineChange {
    pub quantity: Option<Decimal>,
    pub weight: Option<Decimal>,
    pub reason: Option<String>,
}

/// Why a change was not made (nothing was changed).
#[derive(Debug)]
pub enum AfterSaleError {
    Invalid(Vec<FieldError>),
    /// A business refusal: stable code and explanation (409).
    Refused(&'static str, String),
    Stock(OrderError),
    Db(DbError),
}

impl From<DbError> for AfterSaleError {
    fn from(e: DbError) -> Self {
        AfterSaleError::Db(e)
    }
}

impl From<EditRefusal> for AfterSaleError {
    fn from(r: EditRefusal) -> Self {
        match r {
            EditRefusal::Validated => validated(),
            EditRefusal::Delivered => delivered(),
            EditRefusal::Cancelled => AfterSaleError::Refused(
                "distribution_cancelled",
                "this distribution was cancelled".into(),
            ),
            EditRefusal::Stale => AfterSaleError::Refused(
                "conflict",
                "the line changed meanwhile; read it again and retry".into(),
            ),
        }
    }
}

fn validated() -> AfterSaleError {
    AfterSaleError::Refused(
        "distribution_validated",
        "the distribution was validated: its orders can no longer change".into(),
    )
}

fn delivered() -> AfterSaleError {
    AfterSaleError::Refused(
        "delivered",
        "the orders were delivered and the stock settled: quantities can no longer change".into(),
    )
}

/// Whether the line's distribution still accepts producer changes at `now`.
pub fn check_changeable(ctx: &LineContext, now: DateTime<Utc>) -> Result<(), AfterSaleError> {
    if ctx.validated_at.is_some() {
        return Err(validated());
    }
    if ctx.cancelled_at.is_some() {
        return Err(EditRefusal::Cancelled.into());
    }
    if now < ctx.last_close {
        return Err(AfterSaleError::Refused(
            "sale_not_closed",
            format!(
                "producers change orders once every sale of the distribution has closed ({})",
                ctx.last_close.to_rfc3339()
            ),
        ));
    }
    if ctx.order_status != OrderStatus::Confirmed {
        return Err(AfterSaleError::Refused(
            "order_cancelled",
            "this order was cancelled".into(),
        ));
    }
    Ok(())
}

/// A new quantity for the line: 0 removes it; whole units unless the
/// product is sold in fractions; a piece weighed on its own stays 1.
fn parse_quantity(ctx: &LineContext, value: Decimal, field: &str) -> Result<Decimal, FieldError> {
    if value.is_zero() {
        return Ok(Decimal::ZERO);
    }
    let fractional = ctx.fractional && !ctx.multi_weight;
    let quantity = Quantity::parse_for(value, fractional, field)?.value();
    if ctx.multi_weight && quantity > Decimal::ONE {
        return Err(FieldError::new(
            field,
            "a piece weighed on its own has quantity 1 (or 0 to remove it)",
        ));
    }
    Ok(quantity)
}

/// A real weight for the line and the line's price at that weight.
pub fn parse_weight(
    ctx: &LineContext,
    value: Decimal,
    field: &str,
) -> Result<(Decimal, Money), FieldError> {
    if !ctx.variable_price {
        return Err(FieldError::new(
            field,
            "this product has a fixed price: it is not weighed",
        ));
    }
    let weight = Quantity::parse(value, field)?;
    let price = Money::parse(ctx.unit_price, "unit_price")?;
    let per = Quantity::parse(ctx.offer_quantity, "offer_quantity")?;
    Ok((weight.value(), weighed_total(price, per, weight)))
}

/// The stock move of a line's quantity changing by `delta`: a take when it
/// grows, a give-back when it shrinks.
fn line_move(offer_id: Uuid, delta: Decimal) -> Option<StockMove> {
    let quantity = Quantity::parse(delta.abs(), "quantity").ok()?;
    Some(if delta.is_sign_positive() {
        StockMove::take(offer_id, quantity, None)
    } else {
        StockMove::give_back(offer_id, quantity)
    })
}

pub(crate) fn notice(
    ctx: &LineContext,
    new_quantity: Decimal,
    reason: Option<&str>,
) -> OutboxMessage {
    let change = if new_quantity.is_zero() {
        "retiré de votre commande".to_owned()
    } else {
        format!(
            "quantité {} → {}",
            ctx.quantity.normalize(),
            new_quantity.normalize()
        )
    };
    let mut body = format!(
        "Bonjour,\n\n{} a modifié votre commande n° {} pour la distribution du {} :\n\n- {} {} : {change}\n",
        ctx.producer_name,
        ctx.order_number,
        ctx.distribution_starts_at.format("%d/%m/%Y"),
        ctx.product_name,
        ctx.label,
    );
    if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
        body.push_str(&format!("\nMotif : {reason}\n"));
    }
    body.push_str("\nLe montant de votre commande a été mis à jour en conséquence.\n");
    OutboxMessage {
        kind: "line_change",
        recipient: ctx.customer_email.clone(),
        subject: format!("Votre commande n° {} a été modifiée", ctx.order_number),
        body,
        dedupe_key: "line_change:".into(),
    }
}

impl Engine {
    /// Changes one line for its producer (`by` is the member acting).
    pub async fn change_line(
        &self,
        ctx: &LineContext,
        by: Uuid,
        change: LineChange,
    ) -> Result<(), AfterSaleError> {
        let now = self.clock().now();
        check_changeable(ctx, now)?;
        let mut errors = Vec::new();
        let quantity = change
            .quantity
            .map(|q| parse_quantity(ctx, q, "quantity"))
            .transpose()
            .unwrap_or_else(|e| {
                errors.push(e);
                None
            });
        let weight = change
            .weight
            .map(|w| parse_weight(ctx, w, "weight"))
            .transpose()
            .unwrap_or_else(|e| {
                errors.push(e);
                None
            });
        if let Some(reason) = &change.reason {
            if reason.chars().count() > 1000 {
                errors.push(FieldError::new("reason", "must be at most 1000 characters"));
            }
        }
        if quantity.is_some_and(|q| q.is_zero()) && weight.is_some() {
            errors.push(FieldError::new("weight", "a removed line is not weighed"));
        }
        if change.quantity.is_none() && change.weight.is_none() {
            errors.push(FieldError::new(
                "quantity",
                "give a quantity, a weight or both",
            ));
        }
        if !errors.is_empty() {
            return Err(AfterSaleError::Invalid(errors));
        }
        let quantity = quantity.filter(|q| *q != ctx.quantity);
        let weight = weight.filter(|(w, _)| Some(*w) != ctx.weight);
        if quantity.is_none() && weight.is_none() {
            return Ok(());
        }
        if quantity.is_some() && ctx.delivered_at.is_some() {
            return Err(delivered());
        }
        let edit = LineEdit {
            line_id: ctx.line_id,
            distribution_id: ctx.distribution_id,
            by,
            at: now,
            reason: change.reason.clone(),
            expected_quantity: ctx.quantity,
            expected_weight: ctx.weight,
            quantity,
            weight,
            notice: quantity.map(|q| notice(ctx, q, change.reason.as_deref())),
        };
        let moves: Vec<StockMove> = quantity
            .and_then(|q| line_move(ctx.offer_id, q - ctx.quantity))
            .into_iter()
            .collect();
        let store = self.store().clone();
        let epoch = self.fence().epoch_to_check()?;
        let write = async move {
            match store.edit_line(&edit, epoch).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(refusal)) => Err(AfterSaleError::from(refusal)),
                Err(e) => Err(AfterSaleError::Db(e)),
            }
        };
        let outcome = self.with_stock_moves(&moves, write).await;
        self.reload_distribution(ctx.distribution_id);
        match outcome {
            Ok(()) => Ok(()),
            Err(MoveError::Stock(e)) => Err(AfterSaleError::Stock(e)),
            Err(MoveError::Write(e)) => Err(e),
        }
    }

    /// Weighs many lines of one distribution at once, all or none. Each
    /// entry is `(line, weight)`; `producers` are those the caller may act
    /// for. Bad entries are named by their index (`lines[i].…`).
    pub async fn weigh_lines(
        &self,
        distribution_id: Uuid,
        by: Uuid,
        producers: &[Uuid],
        entries: &[(Uuid, Decimal)],
    ) -> Result<usize, AfterSaleError> {
        let now = self.clock().now();
        let ids: Vec<Uuid> = entries.iter().map(|(id, _)| *id).collect();
        let contexts = self.store().line_contexts(distribution_id, &ids).await?;
        let mut errors = Vec::new();
        let mut edits = Vec::new();
        for (i, (line_id, weight)) in entries.iter().enumerate() {
            let field = format!("lines[{i}].line_id");
            let ctx = contexts
                .iter()
                .find(|c| c.line_id == *line_id && producers.contains(&c.producer_id));
            let Some(ctx) = ctx else {
                errors.push(FieldError::new(
                    field,
                    "not a line of your catalogs in this distribution",
                ));
                continue;
            };
            if ids[..i].contains(line_id) {
                errors.push(FieldError::new(field, "this line appears twice"));
                continue;
            }
            if let Err(refusal) = check_changeable(ctx, now) {
                if ctx.order_status != OrderStatus::Confirmed && ctx.validated_at.is_none() {
                    errors.push(FieldError::new(field, "this order was cancelled"));
                    continue;
                }
                return Err(refusal);
            }
            match parse_weight(ctx, *weight, &format!("lines[{i}].weight")) {
                Ok(weighed) if Some(weighed.0) == ctx.weight => {}
                Ok(weighed) => edits.push(LineEdit {
                    line_id: ctx.line_id,
                    distribution_id,
                    by,
                    at: now,
                    reason: None,
                    expected_quantity: ctx.quantity,
                    expected_weight: ctx.weight,
                    quantity: None,
                    weight: Some(weighed),
                    notice: None,
                }),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(AfterSaleError::Invalid(errors));
        }
        let epoch = self.fence().epoch_to_check()?;
        self.store().edit_lines(&edits, epoch).await??;
        self.reload_distribution(distribution_id);
        Ok(edits.len())
    }
}
