//! Reads behind the web pages (`web/`): what a shop shows beside the shop
//! document (category, organic flag, description of each product on sale),
//! the customer's own order in a distribution, and the producer's live
//! board (its current sales, its offers by name, the orders holding its
//! lines). Read-only; the engine stays the one place where orders change.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::sale::stored_line;
use super::{DbResult, Store};
use crate::domain::order::OrderLine;

/// What a shop page shows about a product beside the shop document.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShopProductInfo {
    pub id: Uuid,
    pub category: String,
    pub organic: bool,
    pub description: Option<String>,
    pub photo_url: Option<String>,
}

/// One of a producer's sales on its board: a participation of one of its
/// catalogs in a distribution that has not ended.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BoardSale {
    pub participation_id: Uuid,
    pub distribution_id: Uuid,
    pub catalog_id: Uuid,
    pub catalog_name: String,
    pub market_id: Uuid,
    pub market_name: String,
    pub market_timezone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

/// One of a producer's offers, by name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BoardOffer {
    pub offer_id: Uuid,
    pub product_name: String,
    pub category: String,
    pub label: String,
    pub quantity: Decimal,
    pub unit: String,
    pub active: bool,
}

/// A confirmed order, restricted to one producer's lines.
#[derive(Debug, Clone)]
pub struct BoardOrder {
    pub id: Uuid,
    pub number: i32,
    pub distribution_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub updated_at: DateTime<Utc>,
    pub lines: Vec<OrderLine>,
}

#[derive(sqlx::FromRow)]
struct BoardLineRow {
    order_id: Uuid,
    number: i32,
    distribution_id: Uuid,
    customer_id: Uuid,
    customer_name: String,
    updated_at: DateTime<Utc>,
    line_id: Uuid,
    offer_id: Uuid,
    participation_id: Uuid,
    quantity: Decimal,
    unit_price: Decimal,
    vat_rate: Decimal,
}

impl Store {
    /// Category, organic flag and description of every product a
    /// distribution sells or will sell (frozen snapshot or live catalog).
    pub async fn shop_products(&self, distribution_id: Uuid) -> DbResult<Vec<ShopProductInfo>> {
        Ok(sqlx::query_as::<_, ShopProductInfo>(
            "SELECT pr.id, pr.category, pr.organic, pr.description, pr.photo_url
               FROM products pr
              WHERE pr.id IN (
                    SELECT po.product_id FROM participation_offers po
                      JOIN participations p ON p.id = po.participation_id
                     WHERE p.distribution_id = $1
                    UNION
                    SELECT o.product_id FROM participations p
                      JOIN catalog_entries ce ON ce.catalog_id = p.catalog_id
                      JOIN offers o ON o.id = ce.offer_id
                     WHERE p.distribution_id = $1)
              ORDER BY pr.category, pr.name",
        )
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// The id of a customer's confirmed order in a distribution, if any.
    pub async fn customer_order_id(
        &self,
        distribution_id: Uuid,
        customer_id: Uuid,
    ) -> DbResult<Option<Uuid>> {
        Ok(sqlx::query_as::<_, (Uuid,)>(
            "SELECT id FROM orders
              WHERE distribution_id = $1 AND customer_id = $2 AND status = 'confirmed'
              ORDER BY created_at DESC LIMIT 1",
        )
        .bind(distribution_id)
        .bind(customer_id)
        .fetch_optional(self.pool())
        .await?
        .map(|(id,)| id))
    }

    /// The producer's participations in distributions not ended nor
    /// cancelled at `now`, soonest distribution first.
    pub async fn board_sales(
        &self,
        producer_id: Uuid,
        now: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<BoardSale>> {
        Ok(sqlx::query_as::<_, BoardSale>(
            "SELECT p.id AS participation_id, d.id AS distribution_id, c.id AS catalog_id,
                    c.name AS catalog_name, m.id AS market_id, m.name AS market_name,
                    m.timezone AS market_timezone, d.starts_at, d.ends_at,
                    COALESCE(p.orders_open_at, d.orders_open_at) AS opens_at,
                    COALESCE(p.orders_close_at, d.orders_close_at) AS closes_at
               FROM participations p
               JOIN catalogs c ON c.id = p.catalog_id
               JOIN distributions d ON d.id = p.distribution_id
               JOIN markets m ON m.id = d.market_id
              WHERE c.producer_id = $1 AND d.cancelled_at IS NULL AND d.ends_at > $2
              ORDER BY d.starts_at, m.name, c.name
              LIMIT $3",
        )
        .bind(producer_id)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every offer of the producer, by product then label.
    pub async fn board_offers(&self, producer_id: Uuid) -> DbResult<Vec<BoardOffer>> {
        Ok(sqlx::query_as::<_, BoardOffer>(
            "SELECT o.id AS offer_id, pr.name AS product_name, pr.category, o.label,
                    o.quantity, o.unit, (o.active AND pr.active) AS active
               FROM offers o JOIN products pr ON pr.id = o.product_id
              WHERE pr.producer_id = $1
              ORDER BY pr.category, pr.name, o.label",
        )
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Confirmed orders with lines in these participations, each with those
    /// lines only, oldest first.
    pub async fn board_orders(&self, participation_ids: &[Uuid]) -> DbResult<Vec<BoardOrder>> {
        let rows = sqlx::query_as::<_, BoardLineRow>(
            "SELECT o.id AS order_id, o.number, o.distribution_id, o.customer_id,
                    a.name AS customer_name, o.updated_at, l.id AS line_id, l.offer_id,
                    l.participation_id, l.quantity, l.unit_price, l.vat_rate
               FROM order_lines l
               JOIN orders o ON o.id = l.order_id AND o.status = 'confirmed'
               JOIN accounts a ON a.id = o.customer_id
              WHERE l.participation_id = ANY($1)
              ORDER BY o.created_at, o.number, l.created_at, l.id",
        )
        .bind(participation_ids)
        .fetch_all(self.pool())
        .await?;
        let mut orders: Vec<BoardOrder> = Vec::new();
        for row in rows {
            let line = stored_line(
                row.line_id,
                row.offer_id,
                row.participation_id,
                row.quantity,
                row.unit_price,
                row.vat_rate,
            )?;
            // Rows come grouped by order (sorted by order first).
            match orders.last_mut().filter(|o| o.id == row.order_id) {
                Some(order) => order.lines.push(line),
                None => orders.push(BoardOrder {
                    id: row.order_id,
                    number: row.number,
                    distribution_id: row.distribution_id,
                    customer_id: row.customer_id,
                    customer_name: row.customer_name,
                    updated_at: row.updated_at,
                    lines: vec![line],
                }),
            }
        }
        Ok(orders)
    }
}
