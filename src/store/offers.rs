//! Offers (one way a product is sold) and their stock.
//!
//! An offer's VAT rate must be one of its producer's: it is checked (and
//! key-share locked, so it cannot be removed meanwhile) inside the writing
//! transaction, and a foreign rate comes back as [`OfferSave::ForeignVatRate`]
//! rather than as the schema trigger's error. Offers are never deleted, since
//! order lines refer to them: "deleting" deactivates the offer and takes it
//! out of every catalog.
//!
//! Stock lives on the offer (`stock_tracked`, `real_stock`); `ordered` is
//! never stored but summed from undelivered lines of confirmed orders
//! ([`ORDERED`]). [`Store::set_offer_stock`] is the one way to change a
//! stock setting: it writes the `set_real` audit row in the same
//! transaction; the caller then tells the engine (`Engine::stock_changed`)
//! so a live offer actor follows the change.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DbError, DbResult, Store};
use crate::domain::offer::OfferSpec;
use crate::domain::quantity::StockLevel;
use crate::domain::stock::StockFigures;

/// An offer with what its views need: its producer, VAT rate, the
/// product's `fractional` flag and the quantity currently ordered.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfferRecord {
    pub id: Uuid,
    pub product_id: Uuid,
    pub producer_id: Uuid,
    pub fractional: bool,
    pub label: String,
    pub quantity: Decimal,
    pub unit: String,
    pub price: Decimal,
    pub vat_rate_id: Uuid,
    pub vat_rate: Decimal,
    pub reference: Option<String>,
    pub active: bool,
    pub stock_tracked: bool,
    pub real_stock: Decimal,
    pub ordered: Decimal,
}

impl OfferRecord {
    pub fn stock(&self) -> StockFigures {
        StockFigures::stored(self.stock_tracked, self.real_stock, self.ordered)
    }
}

/// An offer's stock after a change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StockRecord {
    pub offer_id: Uuid,
    pub product_id: Uuid,
    pub tracked: bool,
    pub real: Decimal,
    pub ordered: Decimal,
}

impl StockRecord {
    pub fn figures(&self) -> StockFigures {
        StockFigures::stored(self.tracked, self.real, self.ordered)
    }
}

/// One line of the stock page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StockRow {
    pub offer_id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub label: String,
    pub quantity: Decimal,
    pub unit: String,
    pub tracked: bool,
    pub real: Decimal,
    pub ordered: Decimal,
    /// Whether the product is sold in fractions (stock may be 12.5).
    pub fractional: bool,
}

/// Outcome of creating or changing an offer.
#[derive(Debug)]
pub enum OfferSave {
    Saved {
        offer: Box<OfferRecord>,
        /// Catalog entries removed because the offer was deactivated.
        removed_from_catalogs: u64,
    },
    /// The VAT rate is not one of the offer's producer's (or is gone).
    ForeignVatRate,
    NotFound,
}

/// `ordered` of offer `o`: undelivered lines of confirmed orders (served by
/// the partial index `order_lines_undelivered_by_offer`).
pub const ORDERED: &str = "LEFT JOIN LATERAL (
        SELECT sum(ol.quantity) AS ordered
          FROM order_lines ol JOIN orders r ON r.id = ol.order_id AND r.status = 'confirmed'
         WHERE ol.offer_id = o.id AND ol.delivered_at IS NULL) ord ON true";

fn select_offers(filter: &str) -> String {
    format!(
        "SELECT o.id, o.product_id, p.producer_id, p.fractional, o.label, o.quantity, o.unit,
                o.price, o.vat_rate_id, v.rate AS vat_rate, o.reference, o.active,
                o.stock_tracked, o.real_stock, COALESCE(ord.ordered, 0) AS ordered
           FROM offers o
           JOIN products p ON p.id = o.product_id
           JOIN vat_rates v ON v.id = o.vat_rate_id
           {ORDERED}
          WHERE {filter}"
    )
}

/// Whether `vat_rate_id` is a rate of the producer of `product_id`; locks
/// the rate (key share) until the transaction ends.
async fn lock_own_vat_rate(
    tx: &mut sqlx::PgConnection,
    product_id: Uuid,
    vat_rate_id: Uuid,
) -> DbResult<bool> {
    let found: Option<(Uuid,)> = sqlx::query_as(
        "SELECT v.id FROM vat_rates v JOIN products p ON p.producer_id = v.producer_id
          WHERE v.id = $1 AND p.id = $2
            FOR KEY SHARE OF v",
    )
    .bind(vat_rate_id)
    .bind(product_id)
    .fetch_optional(tx)
    .await?;
    Ok(found.is_some())
}

/// Removes an offer from every catalog; how many entries went.
async fn remove_from_catalogs(tx: &mut sqlx::PgConnection, offer_id: Uuid) -> DbResult<u64> {
    Ok(
        sqlx::query("DELETE FROM catalog_entries WHERE offer_id = $1")
            .bind(offer_id)
            .execute(tx)
            .await?
            .rows_affected(),
    )
}

/// Appends a `set_real` movement when real stock changed.
async fn record_set_real(
    tx: &mut sqlx::PgConnection,
    offer_id: Uuid,
    before: Decimal,
    after: Decimal,
    account: Option<Uuid>,
) -> DbResult<()> {
    if before == after {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO stock_movements (offer_id, kind, quantity, real_after, account_id)
         VALUES ($1, 'set_real', $2, $3, $4)",
    )
    .bind(offer_id)
    .bind(after - before)
    .bind(after)
    .bind(account)
    .execute(tx)
    .await?;
    Ok(())
}

impl Store {
    /// Creates an offer of `product_id`. `stock` = `Some(real)` tracks the
    /// stock from the start (and records it as a `set_real` movement by
    /// `account`); `None` = unlimited.
    pub async fn create_offer(
        &self,
        product_id: Uuid,
        spec: &OfferSpec,
        vat_rate_id: Uuid,
        stock: Option<StockLevel>,
        account: Option<Uuid>,
    ) -> DbResult<OfferSave> {
        let mut tx = self.pool().begin().await?;
        if !lock_own_vat_rate(&mut tx, product_id, vat_rate_id).await? {
            return Ok(OfferSave::ForeignVatRate);
        }
        let real = stock.map(StockLevel::value).unwrap_or(Decimal::ZERO);
        let (id,): (Uuid,) = sqlx::query_as(
            "INSERT INTO offers (product_id, label, quantity, unit, price, vat_rate_id, reference,
                                 stock_tracked, real_stock)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(product_id)
        .bind(spec.label.as_str())
        .bind(spec.quantity.value())
        .bind(spec.unit.as_str())
        .bind(spec.price.amount())
        .bind(vat_rate_id)
        .bind(spec.reference.as_ref().map(|r| r.as_str()))
        .bind(stock.is_some())
        .bind(real)
        .fetch_one(&mut *tx)
        .await?;
        record_set_real(&mut tx, id, Decimal::ZERO, real, account).await?;
        let offer = sqlx::query_as::<_, OfferRecord>(&select_offers("o.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(OfferSave::Saved {
            offer: Box::new(offer),
            removed_from_catalogs: 0,
        })
    }

    pub async fn offer(&self, id: Uuid) -> DbResult<Option<OfferRecord>> {
        Ok(
            sqlx::query_as::<_, OfferRecord>(&select_offers("o.id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// A product's offers (active or not), oldest first.
    pub async fn offers_of_product(&self, product_id: Uuid) -> DbResult<Vec<OfferRecord>> {
        Ok(sqlx::query_as::<_, OfferRecord>(&format!(
            "{} ORDER BY o.created_at, o.id",
            select_offers("o.product_id = $1")
        ))
        .bind(product_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Replaces an offer's editable fields (not its stock: see
    /// [`Store::set_offer_stock`]). `active: None` keeps it as it is; an
    /// offer that ends up inactive leaves every catalog.
    pub async fn update_offer(
        &self,
        id: Uuid,
        spec: &OfferSpec,
        vat_rate_id: Uuid,
        active: Option<bool>,
    ) -> DbResult<OfferSave> {
        let mut tx = self.pool().begin().await?;
        let found: Option<(Uuid,)> =
            sqlx::query_as("SELECT product_id FROM offers WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((product_id,)) = found else {
            return Ok(OfferSave::NotFound);
        };
        if !lock_own_vat_rate(&mut tx, product_id, vat_rate_id).await? {
            return Ok(OfferSave::ForeignVatRate);
        }
        let (now_active,): (bool,) = sqlx::query_as(
            "UPDATE offers SET label = $2, quantity = $3, unit = $4, price = $5, vat_rate_id = $6,
                    reference = $7, active = COALESCE($8, active), updated_at = now()
              WHERE id = $1 RETURNING active",
        )
        .bind(id)
        .bind(spec.label.as_str())
        .bind(spec.quantity.value())
        .bind(spec.unit.as_str())
        .bind(spec.price.amount())
        .bind(vat_rate_id)
        .bind(spec.reference.as_ref().map(|r| r.as_str()))
        .bind(active)
        .fetch_one(&mut *tx)
        .await?;
        let removed_from_catalogs = if now_active {
            0
        } else {
            remove_from_catalogs(&mut tx, id).await?
        };
        let offer = sqlx::query_as::<_, OfferRecord>(&select_offers("o.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(OfferSave::Saved {
            offer: Box::new(offer),
            removed_from_catalogs,
        })
    }

    /// "Deletes" an offer: deactivates it and removes it from every catalog
    /// (order lines keep referring to it). `None` when it does not exist.
    pub async fn deactivate_offer(&self, id: Uuid) -> DbResult<Option<(OfferRecord, u64)>> {
        let mut tx = self.pool().begin().await?;
        let updated =
            sqlx::query("UPDATE offers SET active = false, updated_at = now() WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        let removed = remove_from_catalogs(&mut tx, id).await?;
        let offer = sqlx::query_as::<_, OfferRecord>(&select_offers("o.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some((offer, removed)))
    }

    /// Sets whether an offer's stock is limited and, when `real` is given,
    /// its real stock; writes a `set_real` movement (delta and real after,
    /// by `account`, `None` = the engine) when real stock changed, in the
    /// same transaction. Whole-unit and sign rules are the caller's (they
    /// come typed: [`StockLevel`], see `domain::offer::real_stock`).
    /// `DbError::NotFound` when the offer does not exist.
    ///
    /// The only writer of stock settings; after it returns, hand the
    /// figures to `Engine::stock_changed` so a live offer actor follows.
    pub async fn set_offer_stock(
        &self,
        offer_id: Uuid,
        tracked: bool,
        real: Option<StockLevel>,
        account: Option<Uuid>,
    ) -> DbResult<StockRecord> {
        let mut tx = self.pool().begin().await?;
        let before: Option<(Decimal,)> =
            sqlx::query_as("SELECT real_stock FROM offers WHERE id = $1 FOR UPDATE")
                .bind(offer_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (before,) = before.ok_or(DbError::NotFound)?;
        let after = real.map(StockLevel::value).unwrap_or(before);
        sqlx::query(
            "UPDATE offers SET stock_tracked = $2, real_stock = $3, updated_at = now() WHERE id = $1",
        )
        .bind(offer_id)
        .bind(tracked)
        .bind(after)
        .execute(&mut *tx)
        .await?;
        record_set_real(&mut tx, offer_id, before, after, account).await?;
        let stock = sqlx::query_as::<_, StockRecord>(&format!(
            "SELECT o.id AS offer_id, o.product_id, o.stock_tracked AS tracked,
                    o.real_stock AS real, COALESCE(ord.ordered, 0) AS ordered
               FROM offers o {ORDERED}
              WHERE o.id = $1"
        ))
        .bind(offer_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stock)
    }

    /// The stock page: every active offer of a producer, or only those in
    /// `catalog_id` (which the caller has checked is the producer's).
    pub async fn stocks(
        &self,
        producer_id: Uuid,
        catalog_id: Option<Uuid>,
    ) -> DbResult<Vec<StockRow>> {
        Ok(sqlx::query_as::<_, StockRow>(&format!(
            "SELECT o.id AS offer_id, p.id AS product_id, p.name AS product_name, o.label,
                    o.quantity, o.unit, o.stock_tracked AS tracked, o.real_stock AS real,
                    COALESCE(ord.ordered, 0) AS ordered, p.fractional
               FROM offers o JOIN products p ON p.id = o.product_id
               {ORDERED}
              WHERE p.producer_id = $1 AND o.active
                AND ($2::uuid IS NULL OR EXISTS (
                     SELECT 1 FROM catalog_entries ce WHERE ce.catalog_id = $2 AND ce.offer_id = o.id))
              ORDER BY p.name, o.label, o.id"
        ))
        .bind(producer_id)
        .bind(catalog_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// The producer owning a catalog, if the catalog exists (stock filter).
    pub async fn stock_catalog_owner(&self, catalog_id: Uuid) -> DbResult<Option<Uuid>> {
        let row: Option<(Uuid,)> = sqlx::query_as("SELECT producer_id FROM catalogs WHERE id = $1")
            .bind(catalog_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(id,)| id))
    }
}
