//! What has been ordered so far in some sales, for the producer's
//! dashboard: the lines of confirmed orders, by participation. Totals are
//! computed by the caller with the domain's pricing.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DbResult, Store};

/// A confirmed order line of a participation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderedLine {
    pub participation_id: Uuid,
    pub order_id: Uuid,
    pub quantity: Decimal,
    pub unit_price: Decimal,
}

impl Store {
    /// The confirmed order lines of these participations.
    pub async fn ordered_lines(&self, participation_ids: &[Uuid]) -> DbResult<Vec<OrderedLine>> {
        Ok(sqlx::query_as::<_, OrderedLine>(
            "SELECT l.participation_id, l.order_id, l.quantity, l.unit_price
               FROM order_lines l JOIN orders o ON o.id = l.order_id AND o.status = 'confirmed'
              WHERE l.participation_id = ANY($1)",
        )
        .bind(participation_ids)
        .fetch_all(self.pool())
        .await?)
    }
}
