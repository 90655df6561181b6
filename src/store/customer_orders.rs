//! A customer's orders across every market, newest distribution first,
//! for the customer's own page (`/mes-commandes`): where and when each is
//! collected, how far it is (sale open, being prepared, collected,
//! validated), and its lines with their weighing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
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
    pub place: String,
    pub timezone: String,
    /// The last close of the sales its lines belong to.
    pub closes_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub validated_at: Option<DateTime<Utc>>,
    pub lines: i64,
}

/// A line of a customer's order.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerLineRow {
    pub order_id: Uuid,
    pub producer_name: String,
    pub product_name: String,
    pub label: String,
    pub unit: String,
    pub variable_price: bool,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub weight: Option<Decimal>,
    pub final_total: Option<Decimal>,
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
                    d.starts_at, d.ends_at, m.id AS market_id, m.name AS market_name,
                    COALESCE(d.place, m.address) AS place, m.timezone,
                    (SELECT max(COALESCE(p.orders_close_at, d.orders_close_at))
                       FROM order_lines l JOIN participations p ON p.id = l.participation_id
                      WHERE l.order_id = o.id) AS closes_at,
                    d.cancelled_at, d.validated_at,
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

    /// The lines of these orders, by producer and product.
    pub async fn customer_order_lines(&self, order_ids: &[Uuid]) -> DbResult<Vec<CustomerLineRow>> {
        Ok(sqlx::query_as::<_, CustomerLineRow>(
            "SELECT l.order_id, pr.name AS producer_name, po.product_name, po.label, po.unit,
                    po.variable_price, l.quantity, l.unit_price, l.weight, l.final_total
               FROM order_lines l
               JOIN participations p ON p.id = l.participation_id
               JOIN catalogs c ON c.id = p.catalog_id
               JOIN producers pr ON pr.id = c.producer_id
               JOIN participation_offers po ON po.participation_id = l.participation_id
                                           AND po.offer_id = l.offer_id
              WHERE l.order_id = ANY($1)
              ORDER BY pr.name, po.product_name, po.label, l.created_at, l.id",
        )
        .bind(order_ids)
        .fetch_all(self.pool())
        .await?)
    }
}
