//! Products: what a producer sells (name, unit, category, organic, photo,
//! how it is weighed). Deactivating a product takes its offers out of every
//! catalog in the same transaction, as the guide says ("cela aura pour effet
//! de le désactiver de tous les catalogues"); reactivating it does not put
//! them back — the producer chooses again what each catalog sells.

use uuid::Uuid;

use super::{DbResult, Store};
use crate::domain::offer::ProductSpec;

/// A product row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRecord {
    pub id: Uuid,
    pub producer_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub category: String,
    pub unit: String,
    pub organic: bool,
    pub photo_url: Option<String>,
    pub active: bool,
    pub variable_price: bool,
    pub multi_weight: bool,
    pub fractional: bool,
}

const COLUMNS: &str = "id, producer_id, name, description, category, unit, organic, photo_url, \
                       active, variable_price, multi_weight, fractional";

impl Store {
    pub async fn create_product(
        &self,
        producer_id: Uuid,
        spec: &ProductSpec,
    ) -> DbResult<ProductRecord> {
        Ok(sqlx::query_as::<_, ProductRecord>(&format!(
            "INSERT INTO products (producer_id, name, description, category, unit, organic,
                                   photo_url, active, variable_price, multi_weight, fractional)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             RETURNING {COLUMNS}"
        ))
        .bind(producer_id)
        .bind(spec.name.as_str())
        .bind(spec.description.as_ref().map(|d| d.as_str()))
        .bind(spec.category.as_str())
        .bind(spec.unit.as_str())
        .bind(spec.organic)
        .bind(spec.photo_url.as_ref().map(|u| u.as_str()))
        .bind(spec.active)
        .bind(spec.flags.variable_price)
        .bind(spec.flags.multi_weight)
        .bind(spec.flags.fractional)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn product(&self, id: Uuid) -> DbResult<Option<ProductRecord>> {
        Ok(sqlx::query_as::<_, ProductRecord>(&format!(
            "SELECT {COLUMNS} FROM products WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Every product of a producer (active or not), by category then name.
    pub async fn products(&self, producer_id: Uuid) -> DbResult<Vec<ProductRecord>> {
        Ok(sqlx::query_as::<_, ProductRecord>(&format!(
            "SELECT {COLUMNS} FROM products WHERE producer_id = $1 ORDER BY category, name, id"
        ))
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Replaces a product's editable fields. When the product ends up
    /// inactive, its offers leave every catalog in the same transaction; the
    /// second value is how many catalog entries were removed. `None` when the
    /// product does not exist.
    pub async fn update_product(
        &self,
        id: Uuid,
        spec: &ProductSpec,
    ) -> DbResult<Option<(ProductRecord, u64)>> {
        let mut tx = self.pool().begin().await?;
        let product = sqlx::query_as::<_, ProductRecord>(&format!(
            "UPDATE products SET name = $2, description = $3, category = $4, unit = $5,
                    organic = $6, photo_url = $7, active = $8, variable_price = $9,
                    multi_weight = $10, fractional = $11, updated_at = now()
              WHERE id = $1
             RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(spec.name.as_str())
        .bind(spec.description.as_ref().map(|d| d.as_str()))
        .bind(spec.category.as_str())
        .bind(spec.unit.as_str())
        .bind(spec.organic)
        .bind(spec.photo_url.as_ref().map(|u| u.as_str()))
        .bind(spec.active)
        .bind(spec.flags.variable_price)
        .bind(spec.flags.multi_weight)
        .bind(spec.flags.fractional)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(product) = product else {
            return Ok(None);
        };
        let removed = if product.active {
            0
        } else {
            sqlx::query(
                "DELETE FROM catalog_entries
                  WHERE offer_id IN (SELECT id FROM offers WHERE product_id = $1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        };
        tx.commit().await?;
        Ok(Some((product, removed)))
    }
}
