//! Markets, their admins, the catalogs linked to them, and the figures the
//! producers' market directory shows (producers present, customers).
//!
//! The directory loads its candidate markets here (filtered by weekday in
//! SQL) and the API sorts them by distance in Rust with `haversine_km`: at
//! the scale of a regional network that is a few thousand rows at most.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DbResult, Store};

/// A market as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarketRecord {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    /// ISO weekday, Monday = 1.
    pub usual_weekday: Option<i16>,
    pub online_payment: bool,
    pub timezone: String,
    pub fee_rate: Decimal,
}

/// The editable fields of a market, already validated by the caller.
#[derive(Debug, Clone)]
pub struct MarketFields {
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    pub usual_weekday: Option<i16>,
    pub online_payment: bool,
    pub timezone: String,
    pub fee_rate: Decimal,
}

/// An admin of a market.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarketAdminRecord {
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    pub added_at: DateTime<Utc>,
}

/// A catalog linked to a market, with its producer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarketCatalogRecord {
    pub market_id: Uuid,
    pub catalog_id: Uuid,
    pub name: String,
    pub code: String,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub linked_at: DateTime<Utc>,
}

/// A producer present in a market (through at least one linked catalog).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarketProducerRecord {
    pub market_id: Uuid,
    pub producer_id: Uuid,
    pub producer_name: String,
}

/// Number of distinct customers with a confirmed order in a market.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarketCustomersRecord {
    pub market_id: Uuid,
    pub customers: i64,
}

/// Name of an admin of a market (public on the directory card).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarketAdminNameRecord {
    pub market_id: Uuid,
    pub name: String,
}

/// What the directory and a market's page show of it: the producers
/// present, its number of customers, its admins' names.
#[derive(Debug, Clone, Default)]
pub struct MarketFacts {
    pub producers: Vec<(Uuid, String)>,
    pub customers: i64,
    pub admins: Vec<String>,
}

const MARKET_COLUMNS: &str =
    "id, name, address, lat, lng, usual_weekday, online_payment, timezone, fee_rate";

impl Store {
    /// Creates a market whose first admin is `admin`.
    pub async fn create_market(&self, admin: Uuid, m: &MarketFields) -> DbResult<MarketRecord> {
        let mut tx = self.pool().begin().await?;
        let market = sqlx::query_as::<_, MarketRecord>(&format!(
            "INSERT INTO markets (name, address, lat, lng, usual_weekday, online_payment, timezone, fee_rate)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {MARKET_COLUMNS}"
        ))
        .bind(&m.name)
        .bind(&m.address)
        .bind(m.lat)
        .bind(m.lng)
        .bind(m.usual_weekday)
        .bind(m.online_payment)
        .bind(&m.timezone)
        .bind(m.fee_rate)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO market_admins (market_id, account_id) VALUES ($1, $2)")
            .bind(market.id)
            .bind(admin)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.roles_changed();
        Ok(market)
    }

    pub async fn market(&self, id: Uuid) -> DbResult<Option<MarketRecord>> {
        Ok(sqlx::query_as::<_, MarketRecord>(&format!(
            "SELECT {MARKET_COLUMNS} FROM markets WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Replaces a market's editable fields; `None` if unknown.
    pub async fn update_market(
        &self,
        id: Uuid,
        m: &MarketFields,
    ) -> DbResult<Option<MarketRecord>> {
        Ok(sqlx::query_as::<_, MarketRecord>(&format!(
            "UPDATE markets SET name = $2, address = $3, lat = $4, lng = $5, usual_weekday = $6,
                    online_payment = $7, timezone = $8, fee_rate = $9
              WHERE id = $1 RETURNING {MARKET_COLUMNS}"
        ))
        .bind(id)
        .bind(&m.name)
        .bind(&m.address)
        .bind(m.lat)
        .bind(m.lng)
        .bind(m.usual_weekday)
        .bind(m.online_payment)
        .bind(&m.timezone)
        .bind(m.fee_rate)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Adds an admin; `Conflict` when already one.
    pub async fn add_market_admin(&self, market_id: Uuid, account_id: Uuid) -> DbResult<()> {
        sqlx::query("INSERT INTO market_admins (market_id, account_id) VALUES ($1, $2)")
            .bind(market_id)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        self.roles_changed();
        Ok(())
    }

    pub async fn market_admins(&self, market_id: Uuid) -> DbResult<Vec<MarketAdminRecord>> {
        Ok(sqlx::query_as::<_, MarketAdminRecord>(
            "SELECT a.id AS account_id, a.email, a.name, ma.added_at
               FROM market_admins ma JOIN accounts a ON a.id = ma.account_id
              WHERE ma.market_id = $1 ORDER BY ma.added_at, a.name",
        )
        .bind(market_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Links a catalog to a market; `Conflict` when already linked.
    pub async fn link_catalog(&self, market_id: Uuid, catalog_id: Uuid) -> DbResult<()> {
        sqlx::query("INSERT INTO market_catalogs (market_id, catalog_id) VALUES ($1, $2)")
            .bind(market_id)
            .bind(catalog_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Unlinks a catalog; `false` when it was not linked. Participations
    /// already planned stay (the schema checks the link only at creation).
    pub async fn unlink_catalog(&self, market_id: Uuid, catalog_id: Uuid) -> DbResult<bool> {
        let done =
            sqlx::query("DELETE FROM market_catalogs WHERE market_id = $1 AND catalog_id = $2")
                .bind(market_id)
                .bind(catalog_id)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The catalogs linked to a market (or `None`: every market), by producer.
    pub async fn market_catalog_links(
        &self,
        market_id: Uuid,
        catalog_id: Option<Uuid>,
    ) -> DbResult<Vec<MarketCatalogRecord>> {
        Ok(sqlx::query_as::<_, MarketCatalogRecord>(
            "SELECT mc.market_id, c.id AS catalog_id, c.name, c.code, p.id AS producer_id,
                    p.name AS producer_name, mc.linked_at
               FROM market_catalogs mc
               JOIN catalogs c ON c.id = mc.catalog_id
               JOIN producers p ON p.id = c.producer_id
              WHERE mc.market_id = $1 AND ($2::uuid IS NULL OR c.id = $2)
              ORDER BY p.name, c.name, c.id",
        )
        .bind(market_id)
        .bind(catalog_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Several markets, by name (an admin's list).
    pub async fn markets_by_ids(&self, ids: &[Uuid]) -> DbResult<Vec<MarketRecord>> {
        Ok(sqlx::query_as::<_, MarketRecord>(&format!(
            "SELECT {MARKET_COLUMNS} FROM markets WHERE id = ANY($1) ORDER BY name, id"
        ))
        .bind(ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// Directory candidates: every market, or those of one usual weekday.
    pub async fn markets_on_weekday(&self, weekday: Option<i16>) -> DbResult<Vec<MarketRecord>> {
        Ok(sqlx::query_as::<_, MarketRecord>(&format!(
            "SELECT {MARKET_COLUMNS} FROM markets
              WHERE $1::smallint IS NULL OR usual_weekday = $1"
        ))
        .bind(weekday)
        .fetch_all(self.pool())
        .await?)
    }

    /// Distinct producers of the catalogs linked to these markets.
    pub async fn markets_producers(
        &self,
        market_ids: &[Uuid],
    ) -> DbResult<Vec<MarketProducerRecord>> {
        Ok(sqlx::query_as::<_, MarketProducerRecord>(
            "SELECT DISTINCT mc.market_id, p.id AS producer_id, p.name AS producer_name
               FROM market_catalogs mc
               JOIN catalogs c ON c.id = mc.catalog_id
               JOIN producers p ON p.id = c.producer_id
              WHERE mc.market_id = ANY($1)
              ORDER BY mc.market_id, p.name, p.id",
        )
        .bind(market_ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// Distinct customers who have a confirmed order in any distribution of
    /// these markets (markets without orders are absent: 0).
    pub async fn markets_customers(
        &self,
        market_ids: &[Uuid],
    ) -> DbResult<Vec<MarketCustomersRecord>> {
        Ok(sqlx::query_as::<_, MarketCustomersRecord>(
            "SELECT d.market_id, count(DISTINCT o.customer_id) AS customers
               FROM orders o JOIN distributions d ON d.id = o.distribution_id
              WHERE d.market_id = ANY($1) AND o.status = 'confirmed'
              GROUP BY d.market_id",
        )
        .bind(market_ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// Names of the admins of these markets.
    pub async fn markets_admin_names(
        &self,
        market_ids: &[Uuid],
    ) -> DbResult<Vec<MarketAdminNameRecord>> {
        Ok(sqlx::query_as::<_, MarketAdminNameRecord>(
            "SELECT ma.market_id, a.name
               FROM market_admins ma JOIN accounts a ON a.id = ma.account_id
              WHERE ma.market_id = ANY($1)
              ORDER BY ma.market_id, ma.added_at, a.name",
        )
        .bind(market_ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// [`MarketFacts`] of these markets (every one of them has an entry).
    pub async fn market_facts(
        &self,
        market_ids: &[Uuid],
    ) -> DbResult<std::collections::HashMap<Uuid, MarketFacts>> {
        let mut facts: std::collections::HashMap<Uuid, MarketFacts> = market_ids
            .iter()
            .map(|id| (*id, MarketFacts::default()))
            .collect();
        for p in self.markets_producers(market_ids).await? {
            if let Some(f) = facts.get_mut(&p.market_id) {
                f.producers.push((p.producer_id, p.producer_name));
            }
        }
        for c in self.markets_customers(market_ids).await? {
            if let Some(f) = facts.get_mut(&c.market_id) {
                f.customers = c.customers;
            }
        }
        for a in self.markets_admin_names(market_ids).await? {
            if let Some(f) = facts.get_mut(&a.market_id) {
                f.admins.push(a.name);
            }
        }
        Ok(facts)
    }
}
