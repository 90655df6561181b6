//! What a market's admin pages read and change beyond the API's own
//! queries: the distributions with their figures (catalogs taking part,
//! confirmed orders, total), and removing an admin (never the last one).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DbResult, Store};

/// A distribution of a market with its figures.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DistributionSummary {
    pub id: Uuid,
    pub place: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub orders_open_at: DateTime<Utc>,
    pub orders_close_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub validated_at: Option<DateTime<Utc>>,
    pub catalogs: i64,
    pub orders: i64,
    /// Total of confirmed orders, incl. VAT (weighed lines at their price).
    pub total: Decimal,
}

/// A catalog taking part in a distribution, with its orders.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ParticipantSummary {
    pub catalog_id: Uuid,
    pub catalog_name: String,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub orders: i64,
    pub total: Decimal,
}

/// Why an admin was not removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRemoval {
    Removed,
    NotAdmin,
    /// The market would be left without an admin.
    LastAdmin,
}

const LINE_TOTAL: &str = "COALESCE(l.final_total, round(l.unit_price * l.quantity, 2))";

/// Distributions matching `filter` with their figures.
fn summaries_sql(filter: &str) -> String {
    format!(
        "SELECT d.id, d.place, d.starts_at, d.ends_at, d.orders_open_at, d.orders_close_at,
                d.cancelled_at, d.validated_at,
                (SELECT count(*) FROM participations p WHERE p.distribution_id = d.id) AS catalogs,
                (SELECT count(*) FROM orders o
                  WHERE o.distribution_id = d.id AND o.status = 'confirmed') AS orders,
                (SELECT COALESCE(sum({LINE_TOTAL}), 0) FROM order_lines l
                   JOIN orders o ON o.id = l.order_id
                  WHERE o.distribution_id = d.id AND o.status = 'confirmed') AS total
           FROM distributions d
          WHERE {filter}
          ORDER BY d.starts_at, d.id"
    )
}

impl Store {
    /// A market's distributions ending after `from`, soonest first.
    pub async fn market_distribution_summaries(
        &self,
        market_id: Uuid,
        from: DateTime<Utc>,
        limit: i64,
    ) -> DbResult<Vec<DistributionSummary>> {
        Ok(sqlx::query_as::<_, DistributionSummary>(&format!(
            "{} LIMIT $3",
            summaries_sql("d.market_id = $1 AND d.ends_at > $2")
        ))
        .bind(market_id)
        .bind(from)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// One distribution with its figures.
    pub async fn distribution_summary(&self, id: Uuid) -> DbResult<Option<DistributionSummary>> {
        Ok(
            sqlx::query_as::<_, DistributionSummary>(&summaries_sql("d.id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// The catalogs taking part in a distribution, with their orders.
    pub async fn distribution_participants(
        &self,
        distribution_id: Uuid,
    ) -> DbResult<Vec<ParticipantSummary>> {
        Ok(sqlx::query_as::<_, ParticipantSummary>(&format!(
            "SELECT c.id AS catalog_id, c.name AS catalog_name, pr.id AS producer_id,
                    pr.name AS producer_name,
                    (SELECT count(DISTINCT o.id) FROM order_lines l JOIN orders o ON o.id = l.order_id
                      WHERE l.participation_id = p.id AND o.status = 'confirmed') AS orders,
                    (SELECT COALESCE(sum({LINE_TOTAL}), 0) FROM order_lines l
                       JOIN orders o ON o.id = l.order_id
                      WHERE l.participation_id = p.id AND o.status = 'confirmed') AS total
               FROM participations p
               JOIN catalogs c ON c.id = p.catalog_id
               JOIN producers pr ON pr.id = c.producer_id
              WHERE p.distribution_id = $1
              ORDER BY pr.name, c.name"
        ))
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Removes an admin of a market, unless it is the last one.
    pub async fn remove_market_admin(
        &self,
        market_id: Uuid,
        account_id: Uuid,
    ) -> DbResult<AdminRemoval> {
        let mut tx = self.pool().begin().await?;
        // Serialises concurrent removals of the same market's admins.
        sqlx::query("SELECT 1 FROM markets WHERE id = $1 FOR UPDATE")
            .bind(market_id)
            .execute(&mut *tx)
            .await?;
        let admins: Vec<(Uuid,)> =
            sqlx::query_as("SELECT account_id FROM market_admins WHERE market_id = $1")
                .bind(market_id)
                .fetch_all(&mut *tx)
                .await?;
        if !admins.iter().any(|(id,)| *id == account_id) {
            return Ok(AdminRemoval::NotAdmin);
        }
        if admins.len() == 1 {
            return Ok(AdminRemoval::LastAdmin);
        }
        sqlx::query("DELETE FROM market_admins WHERE market_id = $1 AND account_id = $2")
            .bind(market_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.roles_changed();
        Ok(AdminRemoval::Removed)
    }
}
