//! Catalogs: a producer's selection of offers with optional price overrides,
//! identified by a short random numeric code, and the markets each one is
//! linked to. Entries are always replaced as a whole (create / PUT), in one
//! transaction, so a catalog is never seen half-edited.

use rust_decimal::Decimal;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{DbError, DbResult, Store};
use crate::domain::market::CatalogCode;

/// Attempts at drawing an unused random code before giving up (with 900 000
/// possible codes this only fails when the code space is nearly full).
const CODE_ATTEMPTS: usize = 32;

/// A catalog's header.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CatalogRecord {
    pub id: Uuid,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub name: String,
    pub code: String,
}

/// One offer of a catalog, with what is needed to show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CatalogEntryRecord {
    pub catalog_id: Uuid,
    pub offer_id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub product_unit: String,
    pub label: String,
    pub quantity: Decimal,
    pub unit: String,
    pub offer_price: Decimal,
    pub price_override: Option<Decimal>,
    /// Product and offer both active: only those are sold.
    pub active: bool,
}

/// A market a catalog is linked to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedMarketRecord {
    pub catalog_id: Uuid,
    pub id: Uuid,
    pub name: String,
}

/// Who owns an offer, to validate catalog entries before writing them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfferOwnerRecord {
    pub id: Uuid,
    pub producer_id: Uuid,
    /// Product and offer both active.
    pub active: bool,
}

/// An active offer a producer may put in a catalog.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SelectableOffer {
    pub offer_id: Uuid,
    pub product_name: String,
    pub label: String,
    pub quantity: Decimal,
    pub unit: String,
    pub price: Decimal,
}

/// An entry to write: offer and optional price override (incl. VAT).
#[derive(Debug, Clone, Copy)]
pub struct NewEntry {
    pub offer_id: Uuid,
    pub price_override: Option<Decimal>,
}

/// What deleting a catalog did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogDeletion {
    Deleted,
    NotFound,
    /// Refused: this many orders were placed through its participations.
    HasOrders(i64),
}

const CATALOG_COLUMNS: &str = "c.id, c.producer_id, p.name AS producer_name, c.name, c.code
      FROM catalogs c JOIN producers p ON p.id = c.producer_id";

/// Foreign-key failures (an offer deleted meanwhile, the same-producer
/// trigger) become `Conflict` so the client is told to retry, not a 500.
fn fk_as_conflict(e: sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = &e {
        if db.code().as_deref() == Some("23503") {
            return DbError::Conflict(db.constraint().unwrap_or("foreign_key").to_owned());
        }
    }
    e.into()
}

async fn insert_entries(
    tx: &mut Transaction<'_, Postgres>,
    catalog_id: Uuid,
    entries: &[NewEntry],
) -> DbResult<()> {
    let offers: Vec<Uuid> = entries.iter().map(|e| e.offer_id).collect();
    let prices: Vec<Option<Decimal>> = entries.iter().map(|e| e.price_override).collect();
    sqlx::query(
        "INSERT INTO catalog_entries (catalog_id, offer_id, price_override, position)
         SELECT $1, t.offer_id, t.price, (t.n - 1)::int
           FROM UNNEST($2::uuid[], $3::numeric[]) WITH ORDINALITY AS t(offer_id, price, n)",
    )
    .bind(catalog_id)
    .bind(&offers)
    .bind(&prices)
    .execute(&mut **tx)
    .await
    .map_err(fk_as_conflict)?;
    Ok(())
}

impl Store {
    /// Owners of the given offers (unknown ids are simply absent).
    pub async fn offer_owners(&self, offer_ids: &[Uuid]) -> DbResult<Vec<OfferOwnerRecord>> {
        Ok(sqlx::query_as::<_, OfferOwnerRecord>(
            "SELECT o.id, p.producer_id, (o.active AND p.active) AS active
               FROM offers o JOIN products p ON p.id = o.product_id
              WHERE o.id = ANY($1)",
        )
        .bind(offer_ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// The producer's active offers (of active products), by product.
    pub async fn selectable_offers(&self, producer_id: Uuid) -> DbResult<Vec<SelectableOffer>> {
        Ok(sqlx::query_as::<_, SelectableOffer>(
            "SELECT o.id AS offer_id, p.name AS product_name, o.label, o.quantity, o.unit, o.price
               FROM offers o JOIN products p ON p.id = o.product_id
              WHERE p.producer_id = $1 AND o.active AND p.active
              ORDER BY p.name, o.label, o.id",
        )
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Creates a catalog with a fresh random code and its entries.
    pub async fn create_catalog(
        &self,
        producer_id: Uuid,
        name: &str,
        entries: &[NewEntry],
    ) -> DbResult<CatalogRecord> {
        let mut tx = self.pool().begin().await?;
        let mut id = None;
        for _ in 0..CODE_ATTEMPTS {
            let code = CatalogCode::random(&mut rand::thread_rng());
            // ON CONFLICT keeps the transaction usable when the code is taken.
            id = sqlx::query_scalar::<_, Uuid>(
                "INSERT INTO catalogs (producer_id, name, code) VALUES ($1, $2, $3)
                 ON CONFLICT (code) DO NOTHING RETURNING id",
            )
            .bind(producer_id)
            .bind(name)
            .bind(code.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if id.is_some() {
                break;
            }
        }
        let id = id.ok_or_else(|| DbError::Other("no free catalog code found".into()))?;
        insert_entries(&mut tx, id, entries).await?;
        tx.commit().await?;
        self.catalog(id).await?.ok_or(DbError::NotFound)
    }

    /// Renames a catalog and replaces all its entries; `None` if unknown.
    pub async fn replace_catalog(
        &self,
        id: Uuid,
        name: &str,
        entries: &[NewEntry],
    ) -> DbResult<Option<CatalogRecord>> {
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query("UPDATE catalogs SET name = $2 WHERE id = $1")
            .bind(id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query("DELETE FROM catalog_entries WHERE catalog_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_entries(&mut tx, id, entries).await?;
        tx.commit().await?;
        self.catalog(id).await
    }

    /// Deletes a catalog (its entries, links and participations cascade)
    /// unless orders were placed through it.
    pub async fn delete_catalog(&self, id: Uuid) -> DbResult<CatalogDeletion> {
        let mut tx = self.pool().begin().await?;
        let locked =
            sqlx::query_scalar::<_, Uuid>("SELECT id FROM catalogs WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if locked.is_none() {
            return Ok(CatalogDeletion::NotFound);
        }
        let orders = sqlx::query_scalar::<_, i64>(
            "SELECT count(DISTINCT ol.order_id)
               FROM order_lines ol JOIN participations p ON p.id = ol.participation_id
              WHERE p.catalog_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if orders > 0 {
            return Ok(CatalogDeletion::HasOrders(orders));
        }
        let deleted = sqlx::query("DELETE FROM catalogs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await;
        match deleted.map_err(fk_as_conflict) {
            Ok(_) => {}
            // An order landed between the count and the delete.
            Err(DbError::Conflict(_)) => return Ok(CatalogDeletion::HasOrders(1)),
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        Ok(CatalogDeletion::Deleted)
    }

    pub async fn catalog(&self, id: Uuid) -> DbResult<Option<CatalogRecord>> {
        Ok(
            sqlx::query_as::<_, CatalogRecord>(&format!(
                "SELECT {CATALOG_COLUMNS} WHERE c.id = $1"
            ))
            .bind(id)
            .fetch_optional(self.pool())
            .await?,
        )
    }

    pub async fn catalog_by_code(&self, code: &CatalogCode) -> DbResult<Option<CatalogRecord>> {
        Ok(sqlx::query_as::<_, CatalogRecord>(&format!(
            "SELECT {CATALOG_COLUMNS} WHERE c.code = $1"
        ))
        .bind(code.as_str())
        .fetch_optional(self.pool())
        .await?)
    }

    /// A producer's catalogs, by name.
    pub async fn producer_catalogs(&self, producer_id: Uuid) -> DbResult<Vec<CatalogRecord>> {
        Ok(sqlx::query_as::<_, CatalogRecord>(&format!(
            "SELECT {CATALOG_COLUMNS} WHERE c.producer_id = $1 ORDER BY c.name, c.created_at"
        ))
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// The entries of several catalogs, in display order.
    pub async fn catalog_entries(&self, catalog_ids: &[Uuid]) -> DbResult<Vec<CatalogEntryRecord>> {
        Ok(sqlx::query_as::<_, CatalogEntryRecord>(
            "SELECT e.catalog_id, e.offer_id, p.id AS product_id, p.name AS product_name,
                    p.unit AS product_unit, o.label, o.quantity, o.unit,
                    o.price AS offer_price, e.price_override, (o.active AND p.active) AS active
               FROM catalog_entries e
               JOIN offers o ON o.id = e.offer_id
               JOIN products p ON p.id = o.product_id
              WHERE e.catalog_id = ANY($1)
              ORDER BY e.catalog_id, e.position, p.name, o.label",
        )
        .bind(catalog_ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// The markets several catalogs are linked to, by name.
    pub async fn catalogs_markets(
        &self,
        catalog_ids: &[Uuid],
    ) -> DbResult<Vec<LinkedMarketRecord>> {
        Ok(sqlx::query_as::<_, LinkedMarketRecord>(
            "SELECT mc.catalog_id, m.id, m.name
               FROM market_catalogs mc JOIN markets m ON m.id = mc.market_id
              WHERE mc.catalog_id = ANY($1)
              ORDER BY m.name, m.id",
        )
        .bind(catalog_ids)
        .fetch_all(self.pool())
        .await?)
    }
}
