//! What recaps read: the lines of confirmed orders of one or more
//! distributions (optionally one producer's, optionally some catalogs'),
//! with the frozen product names and prices of the participation snapshot,
//! plus the distributions' markets for headings. Nothing here writes.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DbError, DbResult, Store};
use crate::domain::money::Money;
use crate::domain::recap::RecapLine;
use crate::domain::vat::VatRate;

/// Which lines a recap covers.
#[derive(Debug, Clone, Default)]
pub struct RecapScope {
    pub distribution_ids: Vec<Uuid>,
    /// Only this producer's catalogs.
    pub producer_id: Option<Uuid>,
    /// Only these catalogs.
    pub catalog_ids: Option<Vec<Uuid>>,
}

/// A distribution as a recap heading shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecapDistribution {
    pub id: Uuid,
    pub market_id: Uuid,
    pub market_name: String,
    pub timezone: String,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub validated_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    line_id: Uuid,
    order_id: Uuid,
    order_number: i32,
    distribution_id: Uuid,
    customer_id: Uuid,
    customer_name: String,
    producer_id: Uuid,
    producer_name: String,
    catalog_id: Uuid,
    offer_id: Uuid,
    product_name: String,
    label: String,
    offer_quantity: Decimal,
    unit: String,
    variable_price: bool,
    quantity: Decimal,
    unit_price: Decimal,
    vat_rate: Decimal,
    weight: Option<Decimal>,
    final_total: Option<Decimal>,
}

impl TryFrom<LineRow> for RecapLine {
    type Error = DbError;

    fn try_from(r: LineRow) -> Result<Self, DbError> {
        let stored = |e: crate::domain::FieldError| DbError::Other(format!("stored line: {e:?}"));
        Ok(RecapLine {
            line_id: r.line_id,
            order_id: r.order_id,
            order_number: r.order_number,
            distribution_id: r.distribution_id,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            producer_id: r.producer_id,
            producer_name: r.producer_name,
            catalog_id: r.catalog_id,
            offer_id: r.offer_id,
            product_name: r.product_name,
            label: r.label,
            offer_quantity: r.offer_quantity,
            unit: r.unit,
            variable_price: r.variable_price,
            quantity: r.quantity,
            unit_price: Money::parse(r.unit_price, "unit_price").map_err(stored)?,
            vat_rate: VatRate::parse(r.vat_rate, "vat_rate").map_err(stored)?,
            weight: r.weight,
            final_total: r
                .final_total
                .map(|t| Money::parse(t, "final_total"))
                .transpose()
                .map_err(stored)?,
        })
    }
}

/// Columns and joins of a recap line (also used by the weighing list).
pub(crate) const LINE_SELECT: &str = "SELECT l.id AS line_id, o.id AS order_id,
        o.number AS order_number, o.distribution_id, o.customer_id, a.name AS customer_name,
        c.producer_id, pr.name AS producer_name, p.catalog_id, l.offer_id, po.product_name,
        po.label, po.quantity AS offer_quantity, po.unit, po.variable_price, l.quantity,
        l.unit_price, l.vat_rate, l.weight, l.final_total
   FROM order_lines l
   JOIN orders o ON o.id = l.order_id AND o.status = 'confirmed'
   JOIN accounts a ON a.id = o.customer_id
   JOIN participations p ON p.id = l.participation_id
   JOIN catalogs c ON c.id = p.catalog_id
   JOIN producers pr ON pr.id = c.producer_id
   JOIN participation_offers po ON po.participation_id = l.participation_id
                               AND po.offer_id = l.offer_id
   JOIN distributions d ON d.id = o.distribution_id";

impl Store {
    /// The lines of a recap, by distribution (start), order number, line.
    pub async fn recap_lines(&self, scope: &RecapScope) -> DbResult<Vec<RecapLine>> {
        let sql = format!(
            "{LINE_SELECT}
              WHERE o.distribution_id = ANY($1)
                AND ($2::uuid IS NULL OR c.producer_id = $2)
                AND ($3::uuid[] IS NULL OR p.catalog_id = ANY($3))
              ORDER BY d.starts_at, d.id, o.number, l.created_at, l.id"
        );
        sqlx::query_as::<_, LineRow>(&sql)
            .bind(&scope.distribution_ids)
            .bind(scope.producer_id)
            .bind(scope.catalog_ids.as_deref())
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(RecapLine::try_from)
            .collect()
    }

    /// Variable-price lines of a producer in a distribution (to weigh).
    pub async fn weighing_lines(
        &self,
        distribution_id: Uuid,
        producer_id: Uuid,
        include_weighed: bool,
    ) -> DbResult<Vec<RecapLine>> {
        let sql = format!(
            "{LINE_SELECT}
              WHERE o.distribution_id = $1 AND c.producer_id = $2 AND po.variable_price
                AND ($3 OR l.weight IS NULL)
              ORDER BY po.product_name, po.label, o.number, l.created_at, l.id"
        );
        sqlx::query_as::<_, LineRow>(&sql)
            .bind(distribution_id)
            .bind(producer_id)
            .bind(include_weighed)
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(RecapLine::try_from)
            .collect()
    }

    /// Distributions with their market, in start order (unknown ids left out).
    pub async fn recap_distributions(&self, ids: &[Uuid]) -> DbResult<Vec<RecapDistribution>> {
        Ok(sqlx::query_as::<_, RecapDistribution>(
            "SELECT d.id, d.market_id, m.name AS market_name, m.timezone,
                    COALESCE(d.place, m.address) AS place, d.starts_at, d.ends_at,
                    d.cancelled_at, d.delivered_at, d.validated_at
               FROM distributions d JOIN markets m ON m.id = d.market_id
              WHERE d.id = ANY($1) ORDER BY d.starts_at, d.id",
        )
        .bind(ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// Distributions a producer takes part in that start on `date` (in
    /// each market's time zone): "several markets of the same day".
    pub async fn producer_distributions_on(
        &self,
        producer_id: Uuid,
        date: NaiveDate,
    ) -> DbResult<Vec<Uuid>> {
        Ok(sqlx::query_as::<_, (Uuid,)>(
            "SELECT DISTINCT d.id FROM distributions d
               JOIN markets m ON m.id = d.market_id
               JOIN participations p ON p.distribution_id = d.id
               JOIN catalogs c ON c.id = p.catalog_id
              WHERE c.producer_id = $1 AND (d.starts_at AT TIME ZONE m.timezone)::date = $2",
        )
        .bind(producer_id)
        .bind(date)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
    }

    /// Which of these catalogs belong to the producer.
    pub async fn catalogs_of_producer(
        &self,
        producer_id: Uuid,
        catalog_ids: &[Uuid],
    ) -> DbResult<Vec<Uuid>> {
        Ok(sqlx::query_as::<_, (Uuid,)>(
            "SELECT id FROM catalogs WHERE producer_id = $1 AND id = ANY($2)",
        )
        .bind(producer_id)
        .bind(catalog_ids)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
    }

    /// Whether the producer has a catalog taking part in the distribution.
    pub async fn producer_participates(
        &self,
        producer_id: Uuid,
        distribution_id: Uuid,
    ) -> DbResult<bool> {
        let (found,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM participations p JOIN catalogs c ON c.id = p.catalog_id
                             WHERE p.distribution_id = $1 AND c.producer_id = $2)",
        )
        .bind(distribution_id)
        .bind(producer_id)
        .fetch_one(self.pool())
        .await?;
        Ok(found)
    }
}
