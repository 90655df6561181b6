//! A customer's orders across every market, newest distribution first,
//! for the customer's own page (`/mes-commandes`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbResult, Store};

/// One order of a customer, with where and when it is collected.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerOrderRow {
    pub order_id: Uuid,
    pub number: i32,
    pub status: String,
    pub distribution_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub market_id: Uuid,
    pub market_name: String,
    pub timezone: String,
    pub lines: i64,
}

impl Store {
    /// The customer's orders (confirmed and cancelled), newest first.
    pub async fn customer_orders(
        &self,
        customer_id: Uuid,
        limit: i64,
    ) -> DbResult<Vec<CustomerOrderRow>> {
        Ok(sqlx::query_as::<_, CustomerOrderRow>(
            "SELECT o.id AS order_id, o.number, o.status, d.id AS distribution_id,
                    d.starts_at, d.ends_at, m.id AS market_id, m.name AS market_name, m.timezone,
                    (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) AS lines
               FROM orders o
               JOIN distributions d ON d.id = o.distribution_id
               JOIN markets m ON m.id = d.market_id
              WHERE o.customer_id = $1
              ORDER BY d.starts_at DESC, o.id
              LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
