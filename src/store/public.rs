//! What anyone may see without an account, for the public pages: the
//! upcoming sales of every market (the home page) and the upcoming sales a
//! catalog takes part in (its share page). A sale's window is the widest
//! of its participations' effective windows (a participation's own window,
//! else the distribution's).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbResult, Store};

/// One upcoming distribution of a market that has at least one catalog
/// taking part, with its effective order window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UpcomingSale {
    pub market_id: Uuid,
    pub distribution_id: Uuid,
    pub place: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub orders_open_at: DateTime<Utc>,
    pub orders_close_at: DateTime<Utc>,
    /// Producers taking part.
    pub producers: i64,
}

/// A product as the page vitrine shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShowcaseProduct {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub category: String,
    pub organic: bool,
    pub photo_url: Option<String>,
    /// The lowest price of its active offers.
    pub from_price: rust_decimal::Decimal,
    pub offers: i64,
}

/// Shared by both queries: distributions not ended nor cancelled, with
/// the participations matched by `{filter}`.
fn upcoming_sales_sql(filter: &str, per_market: i64) -> String {
    format!(
        "SELECT market_id, distribution_id, place, starts_at, ends_at,
                orders_open_at, orders_close_at, producers
           FROM (SELECT d.market_id, d.id AS distribution_id, d.place, d.starts_at, d.ends_at,
                        min(COALESCE(p.orders_open_at, d.orders_open_at)) AS orders_open_at,
                        max(COALESCE(p.orders_close_at, d.orders_close_at)) AS orders_close_at,
                        count(DISTINCT c.producer_id) AS producers,
                        row_number() OVER (PARTITION BY d.market_id ORDER BY d.starts_at, d.id) AS rank
                   FROM distributions d
                   JOIN participations p ON p.distribution_id = d.id
                   JOIN catalogs c ON c.id = p.catalog_id
                  WHERE d.ends_at > $1 AND d.cancelled_at IS NULL AND {filter}
                  GROUP BY d.id) s
          WHERE rank <= {per_market}
          ORDER BY starts_at, distribution_id"
    )
}

impl Store {
    /// A producer's active products that have an active offer, by category.
    pub async fn showcase_products(&self, producer_id: Uuid) -> DbResult<Vec<ShowcaseProduct>> {
        Ok(sqlx::query_as::<_, ShowcaseProduct>(
            "SELECT p.id, p.name, p.description, p.category, p.organic, p.photo_url,
                    min(o.price) AS from_price, count(o.id) AS offers
               FROM products p JOIN offers o ON o.product_id = p.id AND o.active
              WHERE p.producer_id = $1 AND p.active
              GROUP BY p.id
              ORDER BY p.category, p.name",
        )
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// The next `per_market` sales of every market, soonest first.
    pub async fn upcoming_sales(
        &self,
        now: DateTime<Utc>,
        per_market: i64,
    ) -> DbResult<Vec<UpcomingSale>> {
        Ok(
            sqlx::query_as::<_, UpcomingSale>(&upcoming_sales_sql("true", per_market.max(1)))
                .bind(now)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// The next sales (at most `per_market` per market) a producer takes
    /// part in with any of its catalogs.
    pub async fn producer_upcoming_sales(
        &self,
        producer_id: Uuid,
        now: DateTime<Utc>,
        per_market: i64,
    ) -> DbResult<Vec<UpcomingSale>> {
        Ok(sqlx::query_as::<_, UpcomingSale>(&upcoming_sales_sql(
            "c.producer_id = $2",
            per_market.max(1),
        ))
        .bind(now)
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// The next sales (at most `per_market` per market) a catalog takes
    /// part in; the window and producer count are this catalog's.
    pub async fn catalog_upcoming_sales(
        &self,
        catalog_id: Uuid,
        now: DateTime<Utc>,
        per_market: i64,
    ) -> DbResult<Vec<UpcomingSale>> {
        Ok(sqlx::query_as::<_, UpcomingSale>(&upcoming_sales_sql(
            "p.catalog_id = $2",
            per_market.max(1),
        ))
        .bind(now)
        .bind(catalog_id)
        .fetch_all(self.pool())
        .await?)
    }
}
