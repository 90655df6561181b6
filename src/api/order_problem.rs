//! The engine's refusals of an order, a basket or a change, as problem
//! documents: one mapping for every route that asks the engine (orders,
//! baskets, the waiting room, the shop, the storefront feed, the changes
//! after the sale), so a refusal reads the same wherever it comes from.

use serde_json::{json, Value};

use super::problem::ApiError;
use crate::domain::admission::NotAdmitted;
use crate::domain::sale::SaleRefusal;
use crate::engine::error::OrderError;

/// Maps the engine's refusals to problem documents.
pub fn order_problem(error: OrderError) -> ApiError {
    match error {
        OrderError::InsufficientStock(shortages) => {
            let detail = shortages
                .iter()
                .map(|s| {
                    format!(
                        "offer {}: {} requested, {} available",
                        s.offer_id, s.requested, s.available
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let offers: Vec<Value> = shortages
                .iter()
                .map(|s| {
                    json!({
                        "offer_id": s.offer_id,
                        "requested": s.requested,
                        "available": s.available.normalize().to_string(),
                    })
                })
                .collect();
            ApiError::conflict_with("insufficient_stock", format!("not enough stock: {detail}"))
                .with("offers", Value::Array(offers))
        }
        OrderError::KeyReused => ApiError::invalid_field(
            "Idempotency-Key",
            "was already used with a different request",
        ),
        OrderError::Overloaded => ApiError::overloaded("the engine is busy; retry shortly"),
        OrderError::Unavailable | OrderError::Refused(SaleRefusal::Retry) => ApiError::unavailable(
            "the order could not be recorded; nothing was changed, retry shortly",
        ),
        OrderError::Refused(refusal) => match refusal {
            SaleRefusal::Unknown => ApiError::not_found("no distribution with this id"),
            SaleRefusal::NoOrder => ApiError::not_found("you have no order in this distribution"),
            SaleRefusal::DistributionCancelled => {
                ApiError::conflict_with("distribution_cancelled", "this distribution was cancelled")
            }
            SaleRefusal::SaleNotOpen { offer_id, opens_at } => ApiError::conflict_with(
                "sale_not_open",
                format!(
                    "the sale of offer {offer_id} opens at {}",
                    opens_at.to_rfc3339()
                ),
            )
            .with("offer_id", json!(offer_id))
            .with("opens_at", json!(opens_at)),
            SaleRefusal::SaleClosed { offer_id } => ApiError::conflict_with(
                "sale_closed",
                "the sale is closed; the order can no longer change",
            )
            .with("offer_id", json!(offer_id)),
            SaleRefusal::InvalidLines(errors) => ApiError::invalid_fields(errors),
            SaleRefusal::Busy => ApiError::conflict_with(
                "order_in_progress",
                "another change to your order is being recorded; retry in a moment",
            ),
            SaleRefusal::Retry => ApiError::unavailable("retry shortly"),
            SaleRefusal::NotAdmitted(refusal) => not_admitted(refusal),
        },
    }
}

/// `409 not_admitted`: the sale opens through its waiting room and the
/// caller is not in (yet, or any more), with where their ticket stands.
fn not_admitted(refusal: NotAdmitted) -> ApiError {
    match refusal {
        NotAdmitted::NoTicket => ApiError::conflict_with(
            "not_admitted",
            "this sale opens through a waiting room: join it (POST /api/v1/distributions/{id}/admission) \
             and send your ticket in the Admission-Ticket header once admitted",
        )
        .with("position", Value::Null),
        NotAdmitted::Waiting(status) => ApiError::conflict_with(
            "not_admitted",
            format!(
                "not your turn yet: number {} in line, about {} s to wait",
                status.position.map_or("?".to_owned(), |p| p.to_string()),
                status.estimated_wait_s
            ),
        )
        .with("position", json!(status.position))
        .with("estimated_wait_s", json!(status.estimated_wait_s))
        .with("ticket", json!(status.ticket)),
        NotAdmitted::Expired => ApiError::conflict_with(
            "not_admitted",
            "your admission expired after going unused: join the waiting room again",
        )
        .with("position", Value::Null)
        .with("expired", json!(true)),
    }
}
