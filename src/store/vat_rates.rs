//! A producer's VAT rates ("Gérer les taux de TVA"). Every offer uses one;
//! a rate cannot be removed while an offer (even a deactivated one, which
//! old orders may still show) refers to it, so removal reports those offers.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DbResult, Store};
use crate::domain::text::ShortText;
use crate::domain::vat::VatRate;

/// A VAT rate row; `rate` is in percent (`5.50`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VatRateRecord {
    pub id: Uuid,
    pub producer_id: Uuid,
    pub name: String,
    pub rate: Decimal,
}

/// An offer that still uses a VAT rate.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfferUsingRate {
    pub offer_id: Uuid,
    pub label: String,
    pub product_id: Uuid,
    pub product_name: String,
    pub active: bool,
}

/// Outcome of removing a VAT rate.
#[derive(Debug)]
pub enum VatRateRemoval {
    Removed,
    NotFound,
    /// Refused: these offers use it.
    InUse(Vec<OfferUsingRate>),
}

const COLUMNS: &str = "id, producer_id, name, rate";

impl Store {
    /// A producer's rates, lowest first.
    pub async fn vat_rates(&self, producer_id: Uuid) -> DbResult<Vec<VatRateRecord>> {
        Ok(sqlx::query_as::<_, VatRateRecord>(&format!(
            "SELECT {COLUMNS} FROM vat_rates WHERE producer_id = $1 ORDER BY rate, name"
        ))
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn vat_rate(&self, id: Uuid) -> DbResult<Option<VatRateRecord>> {
        Ok(sqlx::query_as::<_, VatRateRecord>(&format!(
            "SELECT {COLUMNS} FROM vat_rates WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Adds a rate; `Conflict("vat_rates_producer_id_name_key")` when the
    /// producer already has a rate of that name.
    pub async fn create_vat_rate(
        &self,
        producer_id: Uuid,
        name: &ShortText,
        rate: VatRate,
    ) -> DbResult<VatRateRecord> {
        Ok(sqlx::query_as::<_, VatRateRecord>(&format!(
            "INSERT INTO vat_rates (producer_id, name, rate) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
        ))
        .bind(producer_id)
        .bind(name.as_str())
        .bind(rate.percent())
        .fetch_one(self.pool())
        .await?)
    }

    /// Renames or changes a rate (offers using it follow: their VAT-excluded
    /// price is derived on read). `None` when it does not exist.
    pub async fn update_vat_rate(
        &self,
        id: Uuid,
        name: &ShortText,
        rate: VatRate,
    ) -> DbResult<Option<VatRateRecord>> {
        Ok(sqlx::query_as::<_, VatRateRecord>(&format!(
            "UPDATE vat_rates SET name = $2, rate = $3 WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(name.as_str())
        .bind(rate.percent())
        .fetch_optional(self.pool())
        .await?)
    }

    /// Removes a rate unless an offer uses it. The rate row is locked first,
    /// so an offer being created with it concurrently either commits before
    /// (and is reported) or waits and then finds the rate gone.
    pub async fn delete_vat_rate(&self, id: Uuid) -> DbResult<VatRateRemoval> {
        let mut tx = self.pool().begin().await?;
        let locked: Option<(Uuid,)> =
            sqlx::query_as("SELECT id FROM vat_rates WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if locked.is_none() {
            return Ok(VatRateRemoval::NotFound);
        }
        let users = sqlx::query_as::<_, OfferUsingRate>(
            "SELECT o.id AS offer_id, o.label, p.id AS product_id, p.name AS product_name, o.active
               FROM offers o JOIN products p ON p.id = o.product_id
              WHERE o.vat_rate_id = $1
              ORDER BY p.name, o.label",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if !users.is_empty() {
            return Ok(VatRateRemoval::InUse(users));
        }
        sqlx::query("DELETE FROM vat_rates WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(VatRateRemoval::Removed)
    }
}
