//! What the ordering engine reads to (re)build its actors: a distribution
//! with its participations' effective windows, the frozen catalog snapshot
//! (`participation_offers`), the live catalog of sales not yet open, the
//! confirmed orders, and an offer's stock with its `ordered` quantity.
//! Everything here can be rebuilt from the database at any time; that is
//! what makes the actors disposable (lazy activation, crash recovery).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DbError, DbResult, Store};
use crate::domain::money::Money;
use crate::domain::order::{Order, OrderLine, OrderStatus, Weighing};
use crate::domain::quantity::Quantity;
use crate::domain::sale::{SaleDistribution, SaleOffer, SaleParticipation, SaleProduct};
use crate::domain::stock::StockFigures;
use crate::domain::vat::VatRate;

#[derive(sqlx::FromRow)]
struct DistributionRow {
    id: Uuid,
    market_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
    validated_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ParticipationRow {
    id: Uuid,
    catalog_id: Uuid,
    catalog_name: String,
    producer_id: Uuid,
    producer_name: String,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    snapshot_taken_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct SaleOfferRow {
    participation_id: Uuid,
    offer_id: Uuid,
    product_id: Uuid,
    product_name: String,
    product_unit: String,
    variable_price: bool,
    multi_weight: bool,
    fractional: bool,
    label: String,
    quantity: Decimal,
    unit: String,
    price: Decimal,
    vat_rate: Decimal,
    position: i32,
}

impl SaleOfferRow {
    fn into_domain(self) -> DbResult<SaleOffer> {
        Ok(SaleOffer {
            participation_id: self.participation_id,
            offer_id: self.offer_id,
            product: SaleProduct {
                id: self.product_id,
                name: self.product_name,
                unit: self.product_unit,
                variable_price: self.variable_price,
                multi_weight: self.multi_weight,
                fractional: self.fractional,
            },
            label: self.label,
            quantity: Quantity::parse(self.quantity, "offer quantity").map_err(DbError::corrupt)?,
            unit: self.unit,
            price: Money::parse(self.price, "price").map_err(DbError::corrupt)?,
            vat_rate: VatRate::parse(self.vat_rate, "vat_rate").map_err(DbError::corrupt)?,
            position: self.position,
        })
    }
}

#[derive(sqlx::FromRow)]
struct OrderLineRow {
    order_id: Uuid,
    customer_id: Uuid,
    customer_name: String,
    number: i32,
    line_id: Uuid,
    offer_id: Uuid,
    participation_id: Uuid,
    quantity: Decimal,
    unit_price: Decimal,
    vat_rate: Decimal,
}

/// An order line read back: the rules it was written under still hold.
pub(crate) fn stored_line(
    id: Uuid,
    offer_id: Uuid,
    participation_id: Uuid,
    quantity: Decimal,
    unit_price: Decimal,
    vat_rate: Decimal,
) -> DbResult<OrderLine> {
    Ok(OrderLine {
        id,
        offer_id,
        participation_id,
        quantity: Quantity::parse(quantity, "line quantity").map_err(DbError::corrupt)?,
        unit_price: Money::parse(unit_price, "unit_price").map_err(DbError::corrupt)?,
        vat_rate: VatRate::parse(vat_rate, "vat_rate").map_err(DbError::corrupt)?,
    })
}

#[derive(sqlx::FromRow)]
struct OfferStockRow {
    tracked: bool,
    real: Decimal,
    ordered: Decimal,
}

/// Columns of a sale offer built from the live catalog (prices not frozen).
const LIVE_OFFER_COLUMNS: &str = "p.id AS participation_id, o.id AS offer_id, pr.id AS product_id,
    pr.name AS product_name, pr.unit AS product_unit, pr.variable_price, pr.multi_weight,
    pr.fractional, o.label, o.quantity, o.unit,
    COALESCE(ce.price_override, o.price) AS price, v.rate AS vat_rate, ce.position";

const LIVE_OFFER_FROM: &str = "FROM participations p
    JOIN catalog_entries ce ON ce.catalog_id = p.catalog_id
    JOIN offers o ON o.id = ce.offer_id AND o.active
    JOIN products pr ON pr.id = o.product_id AND pr.active
    JOIN vat_rates v ON v.id = o.vat_rate_id";

impl Store {
    pub async fn sale_distribution(&self, id: Uuid) -> DbResult<Option<SaleDistribution>> {
        let row = sqlx::query_as::<_, DistributionRow>(
            "SELECT id, market_id, starts_at, ends_at, cancelled_at, validated_at
               FROM distributions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| SaleDistribution {
            id: r.id,
            market_id: r.market_id,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            cancelled_at: r.cancelled_at,
            validated_at: r.validated_at,
        }))
    }

    pub async fn sale_participations(
        &self,
        distribution_id: Uuid,
    ) -> DbResult<Vec<SaleParticipation>> {
        let rows = sqlx::query_as::<_, ParticipationRow>(
            "SELECT p.id, p.catalog_id, c.name AS catalog_name, c.producer_id,
                    pr.name AS producer_name,
                    COALESCE(p.orders_open_at, d.orders_open_at) AS opens_at,
                    COALESCE(p.orders_close_at, d.orders_close_at) AS closes_at,
                    p.snapshot_taken_at
               FROM participations p
               JOIN distributions d ON d.id = p.distribution_id
               JOIN catalogs c ON c.id = p.catalog_id
               JOIN producers pr ON pr.id = c.producer_id
              WHERE p.distribution_id = $1
              ORDER BY pr.name, c.name",
        )
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SaleParticipation {
                id: r.id,
                catalog_id: r.catalog_id,
                catalog_name: r.catalog_name,
                producer_id: r.producer_id,
                producer_name: r.producer_name,
                opens_at: r.opens_at,
                closes_at: r.closes_at,
                snapshot_taken_at: r.snapshot_taken_at,
            })
            .collect())
    }

    /// The frozen offers of these participations (withdrawn ones left out).
    pub async fn frozen_offers(&self, participation_ids: &[Uuid]) -> DbResult<Vec<SaleOffer>> {
        sqlx::query_as::<_, SaleOfferRow>(
            "SELECT participation_id, offer_id, product_id, product_name, product_unit,
                    variable_price, multi_weight, fractional, label, quantity, unit, price,
                    vat_rate, position
               FROM participation_offers
              WHERE participation_id = ANY($1) AND withdrawn_at IS NULL
              ORDER BY position, product_name, label",
        )
        .bind(participation_ids)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(SaleOfferRow::into_domain)
        .collect()
    }

    /// What these participations would sell at current catalog prices (sales
    /// not open yet show this; it is frozen when they open).
    pub async fn live_offers(&self, participation_ids: &[Uuid]) -> DbResult<Vec<SaleOffer>> {
        let sql = format!(
            "SELECT {LIVE_OFFER_COLUMNS} {LIVE_OFFER_FROM}
              WHERE p.id = ANY($1) ORDER BY ce.position, pr.name, o.label"
        );
        sqlx::query_as::<_, SaleOfferRow>(&sql)
            .bind(participation_ids)
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(SaleOfferRow::into_domain)
            .collect()
    }

    /// Freezes (or, for a forced sync, refreshes) a participation's snapshot:
    /// current catalog offers and prices are upserted, offers that left the
    /// catalog are marked withdrawn (rows stay for existing order lines).
    pub async fn freeze_snapshot(
        &self,
        participation_id: Uuid,
        now: DateTime<Utc>,
    ) -> DbResult<()> {
        let mut tx = self.pool().begin().await?;
        let upsert = format!(
            "INSERT INTO participation_offers (participation_id, offer_id, product_id, product_name,
                    product_unit, variable_price, multi_weight, fractional, label, quantity, unit,
                    price, vat_rate, position, synced_at, withdrawn_at)
             SELECT {LIVE_OFFER_COLUMNS}, $2::timestamptz, NULL::timestamptz {LIVE_OFFER_FROM}
              WHERE p.id = $1
             ON CONFLICT (participation_id, offer_id) DO UPDATE SET
                product_id = EXCLUDED.product_id, product_name = EXCLUDED.product_name,
                product_unit = EXCLUDED.product_unit, variable_price = EXCLUDED.variable_price,
                multi_weight = EXCLUDED.multi_weight, fractional = EXCLUDED.fractional,
                label = EXCLUDED.label, quantity = EXCLUDED.quantity, unit = EXCLUDED.unit,
                price = EXCLUDED.price, vat_rate = EXCLUDED.vat_rate, position = EXCLUDED.position,
                synced_at = EXCLUDED.synced_at, withdrawn_at = NULL"
        );
        sqlx::query(&upsert)
            .bind(participation_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE participation_offers po SET withdrawn_at = $2
              WHERE po.participation_id = $1 AND po.withdrawn_at IS NULL AND po.synced_at < $2",
        )
        .bind(participation_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE participations SET snapshot_taken_at = $2 WHERE id = $1")
            .bind(participation_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Open participations of a catalog (for a forced sync).
    pub async fn open_participations_of_catalog(
        &self,
        catalog_id: Uuid,
        now: DateTime<Utc>,
    ) -> DbResult<Vec<(Uuid, Uuid)>> {
        Ok(sqlx::query_as::<_, (Uuid, Uuid)>(
            "SELECT p.id, p.distribution_id FROM participations p
               JOIN distributions d ON d.id = p.distribution_id
              WHERE p.catalog_id = $1 AND d.cancelled_at IS NULL
                AND COALESCE(p.orders_open_at, d.orders_open_at) <= $2
                AND COALESCE(p.orders_close_at, d.orders_close_at) > $2",
        )
        .bind(catalog_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// Confirmed orders of a distribution with their lines.
    pub async fn confirmed_orders(&self, distribution_id: Uuid) -> DbResult<Vec<Order>> {
        let rows = sqlx::query_as::<_, OrderLineRow>(
            "SELECT o.id AS order_id, o.customer_id, a.name AS customer_name, o.number,
                    l.id AS line_id, l.offer_id, l.participation_id, l.quantity, l.unit_price,
                    l.vat_rate
               FROM orders o
               JOIN accounts a ON a.id = o.customer_id
               JOIN order_lines l ON l.order_id = o.id
              WHERE o.distribution_id = $1 AND o.status = 'confirmed'
              ORDER BY o.number, l.created_at, l.id",
        )
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?;
        let mut orders: Vec<Order> = Vec::new();
        let mut index: HashMap<Uuid, usize> = HashMap::new();
        for row in rows {
            let slot = *index.entry(row.order_id).or_insert_with(|| {
                orders.push(Order {
                    id: row.order_id,
                    customer_id: row.customer_id,
                    customer_name: row.customer_name.clone(),
                    number: row.number,
                    lines: Vec::new(),
                });
                orders.len() - 1
            });
            orders[slot].lines.push(stored_line(
                row.line_id,
                row.offer_id,
                row.participation_id,
                row.quantity,
                row.unit_price,
                row.vat_rate,
            )?);
        }
        Ok(orders)
    }

    /// The highest order number used in a distribution (0 if none).
    pub async fn max_order_number(&self, distribution_id: Uuid) -> DbResult<i32> {
        let (max,): (Option<i32>,) =
            sqlx::query_as("SELECT max(number) FROM orders WHERE distribution_id = $1")
                .bind(distribution_id)
                .fetch_one(self.pool())
                .await?;
        Ok(max.unwrap_or(0))
    }

    /// An offer's stock: tracking, real stock and ordered (Σ undelivered
    /// lines of confirmed orders). `None` for an unknown offer.
    pub async fn offer_stock(&self, offer_id: Uuid) -> DbResult<Option<StockFigures>> {
        let row = sqlx::query_as::<_, OfferStockRow>(
            "SELECT o.stock_tracked AS tracked, o.real_stock AS real,
                    COALESCE((SELECT sum(l.quantity) FROM order_lines l
                               JOIN orders r ON r.id = l.order_id AND r.status = 'confirmed'
                              WHERE l.offer_id = o.id AND l.delivered_at IS NULL), 0) AS ordered
               FROM offers o WHERE o.id = $1",
        )
        .bind(offer_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| StockFigures::stored(r.tracked, r.real, r.ordered)))
    }

    /// Names of accounts (for order views).
    pub async fn account_name(&self, id: Uuid) -> DbResult<Option<String>> {
        Ok(
            sqlx::query_as::<_, (String,)>("SELECT name FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .map(|(n,)| n),
        )
    }
}

/// An order as stored, whatever its status.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub order: Order,
    pub distribution_id: Uuid,
    pub status: OrderStatus,
    /// By line id, the lines weighed after the sale.
    pub weighings: HashMap<Uuid, Weighing>,
}

impl Store {
    /// An order with its lines, by id.
    pub async fn order_record(&self, id: Uuid) -> DbResult<Option<OrderRecord>> {
        let head = sqlx::query_as::<_, (Uuid, Uuid, String, i32, String)>(
            "SELECT o.distribution_id, o.customer_id, a.name, o.number, o.status
               FROM orders o JOIN accounts a ON a.id = o.customer_id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some((distribution_id, customer_id, customer_name, number, status)) = head else {
            return Ok(None);
        };
        type Row = (
            Uuid,
            Uuid,
            Uuid,
            Decimal,
            Decimal,
            Decimal,
            Option<Decimal>,
            Option<Decimal>,
        );
        let rows = sqlx::query_as::<_, Row>(
            "SELECT id, offer_id, participation_id, quantity, unit_price, vat_rate,
                    weight, final_total
               FROM order_lines WHERE order_id = $1 ORDER BY created_at, id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let mut lines = Vec::with_capacity(rows.len());
        let mut weighings = HashMap::new();
        for (id, offer_id, participation_id, quantity, price, vat_rate, weight, final_total) in rows
        {
            lines.push(stored_line(
                id,
                offer_id,
                participation_id,
                quantity,
                price,
                vat_rate,
            )?);
            let final_total = final_total.and_then(Money::from_rounded);
            if weight.is_some() || final_total.is_some() {
                weighings.insert(
                    id,
                    Weighing {
                        weight,
                        final_total,
                    },
                );
            }
        }
        Ok(Some(OrderRecord {
            order: Order {
                id,
                customer_id,
                customer_name,
                number,
                lines,
            },
            distribution_id,
            status: OrderStatus::parse(&status).map_err(DbError::corrupt)?,
            weighings,
        }))
    }
}

impl Store {
    /// The producer owning a catalog.
    pub async fn catalog_owner(&self, catalog_id: Uuid) -> DbResult<Option<Uuid>> {
        Ok(
            sqlx::query_as::<_, (Uuid,)>("SELECT producer_id FROM catalogs WHERE id = $1")
                .bind(catalog_id)
                .fetch_optional(self.pool())
                .await?
                .map(|(id,)| id),
        )
    }
}
