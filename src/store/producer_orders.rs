//! What the producer's "Commandes" page reads: the distributions its
//! catalogs take part in, with their market, their sale window (this
//! producer's, and the last close of every sale of the day, after which
//! lines may be changed) and how many orders it received.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbResult, Store};

/// A distribution a producer takes part in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProducerSale {
    pub distribution_id: Uuid,
    pub market_id: Uuid,
    pub market_name: String,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// This producer's sale window (widest of its catalogs').
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// When every sale of the distribution has closed.
    pub all_closed_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub validated_at: Option<DateTime<Utc>>,
    /// Confirmed orders with at least one line of this producer.
    pub orders: i64,
}

const SALES_SQL: &str = "SELECT d.id AS distribution_id, m.id AS market_id, m.name AS market_name,
        m.timezone, d.starts_at, d.ends_at,
        min(COALESCE(p.orders_open_at, d.orders_open_at)) AS opens_at,
        max(COALESCE(p.orders_close_at, d.orders_close_at)) AS closes_at,
        (SELECT max(COALESCE(q.orders_close_at, d.orders_close_at)) FROM participations q
          WHERE q.distribution_id = d.id) AS all_closed_at,
        d.delivered_at, d.validated_at,
        (SELECT count(DISTINCT o.id) FROM order_lines l
           JOIN orders o ON o.id = l.order_id AND o.status = 'confirmed'
           JOIN participations q ON q.id = l.participation_id
           JOIN catalogs qc ON qc.id = q.catalog_id
          WHERE o.distribution_id = d.id AND qc.producer_id = $1) AS orders
   FROM distributions d
   JOIN markets m ON m.id = d.market_id
   JOIN participations p ON p.distribution_id = d.id
   JOIN catalogs c ON c.id = p.catalog_id
  WHERE c.producer_id = $1 AND d.cancelled_at IS NULL";

impl Store {
    /// The producer's distributions ending after `from`, soonest first.
    pub async fn producer_sales(
        &self,
        producer_id: Uuid,
        from: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<ProducerSale>> {
        Ok(sqlx::query_as::<_, ProducerSale>(&format!(
            "{SALES_SQL} AND d.ends_at > $2
              GROUP BY d.id, m.id ORDER BY d.starts_at, d.id LIMIT $3"
        ))
        .bind(producer_id)
        .bind(from)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// These distributions, if the producer takes part in each.
    pub async fn producer_sales_by_ids(
        &self,
        producer_id: Uuid,
        ids: &[Uuid],
    ) -> DbResult<Vec<ProducerSale>> {
        Ok(sqlx::query_as::<_, ProducerSale>(&format!(
            "{SALES_SQL} AND d.id = ANY($2)
              GROUP BY d.id, m.id ORDER BY d.starts_at, d.id"
        ))
        .bind(producer_id)
        .bind(ids)
        .fetch_all(self.pool())
        .await?)
    }
}
