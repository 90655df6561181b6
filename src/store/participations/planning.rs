//! The producer's planning ("PLANIFIER") and its markets ("MES MARCHÉS"):
//! read-only queries across markets, catalogs, distributions and
//! participations, for the planning page and the dashboard.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::distributions::DistributionRecord;
use crate::store::{DbResult, Store};

/// One row of the planning: a distribution × one of the producer's catalogs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanningRow {
    #[sqlx(flatten)]
    pub distribution: DistributionRecord,
    pub market_name: String,
    pub catalog_id: Uuid,
    pub catalog_name: String,
    /// Whether the catalog is (still) linked to the market.
    pub linked: bool,
    pub participation_id: Option<Uuid>,
    pub custom_window: bool,
    /// Effective window (the distribution's default without participation).
    pub orders_open_at: DateTime<Utc>,
    pub orders_close_at: DateTime<Utc>,
}

/// Which planning rows to return.
#[derive(Debug, Clone, Default)]
pub struct PlanningFilter {
    pub market_id: Option<Uuid>,
    pub catalog_id: Option<Uuid>,
    pub to: Option<DateTime<Utc>>,
}

/// A market one of the producer's catalogs is linked to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarketLinkRow {
    pub market_id: Uuid,
    pub market_name: String,
    pub address: String,
    pub usual_weekday: Option<i16>,
    pub online_payment: bool,
    pub catalog_id: Uuid,
    pub catalog_name: String,
    pub catalog_code: String,
}

impl Store {
    /// The producer's planning: every upcoming (not cancelled, not ended)
    /// distribution × each of its catalogs linked to that market or already
    /// taking part in it, soonest first.
    pub async fn producer_planning(
        &self,
        producer_id: Uuid,
        now: DateTime<Utc>,
        filter: &PlanningFilter,
        limit: i64,
    ) -> DbResult<Vec<PlanningRow>> {
        let columns = crate::store::distributions::COLUMNS;
        Ok(sqlx::query_as::<_, PlanningRow>(&format!(
            "WITH pairs AS (
                SELECT d.id AS distribution_id, mc.catalog_id
                  FROM catalogs c JOIN market_catalogs mc ON mc.catalog_id = c.id
                  JOIN distributions d ON d.market_id = mc.market_id
                 WHERE c.producer_id = $1 AND d.ends_at > $2
                UNION
                SELECT p.distribution_id, p.catalog_id
                  FROM catalogs c JOIN participations p ON p.catalog_id = c.id
                  JOIN distributions d ON d.id = p.distribution_id
                 WHERE c.producer_id = $1 AND d.ends_at > $2)
             SELECT {columns}, m.name AS market_name, c.id AS catalog_id, c.name AS catalog_name,
                    EXISTS (SELECT 1 FROM market_catalogs mc
                             WHERE mc.market_id = d.market_id AND mc.catalog_id = c.id) AS linked,
                    p.id AS participation_id,
                    (p.orders_open_at IS NOT NULL OR p.orders_close_at IS NOT NULL) IS TRUE
                        AS custom_window,
                    COALESCE(p.orders_open_at, d.orders_open_at) AS orders_open_at,
                    COALESCE(p.orders_close_at, d.orders_close_at) AS orders_close_at
               FROM pairs JOIN distributions d ON d.id = pairs.distribution_id
               JOIN markets m ON m.id = d.market_id
               JOIN catalogs c ON c.id = pairs.catalog_id
               LEFT JOIN participations p ON p.distribution_id = d.id AND p.catalog_id = c.id
              WHERE d.cancelled_at IS NULL AND d.validated_at IS NULL
                AND ($3::timestamptz IS NULL OR d.starts_at < $3)
                AND ($4::uuid IS NULL OR d.market_id = $4)
                AND ($5::uuid IS NULL OR c.id = $5)
              ORDER BY d.starts_at, m.name, c.name, d.id, c.id
              LIMIT $6"
        ))
        .bind(producer_id)
        .bind(now)
        .bind(filter.to)
        .bind(filter.market_id)
        .bind(filter.catalog_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Markets the producer's catalogs are linked to ("MES MARCHÉS"), one
    /// row per link, by market then catalog name.
    pub async fn producer_market_links(&self, producer_id: Uuid) -> DbResult<Vec<MarketLinkRow>> {
        Ok(sqlx::query_as::<_, MarketLinkRow>(
            "SELECT m.id AS market_id, m.name AS market_name, m.address, m.usual_weekday,
                    m.online_payment, c.id AS catalog_id, c.name AS catalog_name,
                    c.code AS catalog_code
               FROM catalogs c JOIN market_catalogs mc ON mc.catalog_id = c.id
               JOIN markets m ON m.id = mc.market_id
              WHERE c.producer_id = $1
              ORDER BY m.name, m.id, c.name, c.id",
        )
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }
}
