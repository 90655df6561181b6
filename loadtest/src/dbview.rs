//! What the database holds after a run, read straight from PostgreSQL for
//! the checks: per offer its stock and units sold, and every order of the
//! run with its lines. One reader for etal's tables (sold = lines of
//! confirmed, undelivered orders, as etal counts "ordered") and one for the
//! baseline's own schema.

use std::collections::HashMap;

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::checkout::etal::milli;
use crate::checkout::normalise;
use crate::checks::{DbOrder, OfferSold};

/// Which tables to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Etal,
    Baseline,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Etal => "etal",
            System::Baseline => "baseline",
        }
    }
}

/// The database's side of the checks.
pub struct DbView {
    /// In offer-index order.
    pub offers: Vec<OfferSold>,
    pub orders: HashMap<Uuid, DbOrder>,
}

impl DbView {
    /// Availability per offer (`None` = unlimited), milli-units.
    pub fn available(&self) -> Vec<Option<i64>> {
        self.offers
            .iter()
            .map(|o| o.stock.map(|s| s - o.sold))
            .collect()
    }
}

fn m(q: Decimal) -> i64 {
    milli(q).unwrap_or(i64::MAX)
}

/// Stock and sold units of `offer_ids` (result in the same order).
pub async fn offers(
    pool: &PgPool,
    system: System,
    offer_ids: &[Uuid],
) -> sqlx::Result<Vec<OfferSold>> {
    let sql = match system {
        System::Etal => {
            "SELECT o.id, CASE WHEN o.stock_tracked THEN o.real_stock END,
                    COALESCE((SELECT sum(l.quantity) FROM order_lines l JOIN orders r ON r.id = l.order_id
                               WHERE l.offer_id = o.id AND l.delivered_at IS NULL
                                 AND r.status = 'confirmed'), 0)
               FROM offers o WHERE o.id = ANY($1)"
        }
        System::Baseline => {
            "SELECT o.id, o.initial_stock,
                    COALESCE((SELECT sum(l.quantity) FROM baseline.order_lines l
                                JOIN baseline.orders r ON r.id = l.order_id
                               WHERE l.offer_id = o.id AND r.status = 'confirmed'), 0)
               FROM baseline.offers o WHERE o.id = ANY($1)"
        }
    };
    let rows: Vec<(Uuid, Option<Decimal>, Decimal)> =
        sqlx::query_as(sql).bind(offer_ids).fetch_all(pool).await?;
    let by_id: HashMap<Uuid, (Option<Decimal>, Decimal)> =
        rows.into_iter().map(|(id, s, q)| (id, (s, q))).collect();
    Ok(offer_ids
        .iter()
        .map(|id| {
            let (stock, sold) = by_id
                .get(id)
                .copied()
                .unwrap_or((Some(Decimal::ZERO), Decimal::ZERO));
            OfferSold {
                offer_id: *id,
                stock: stock.map(m),
                sold: m(sold),
            }
        })
        .collect())
}

/// Every order of the run with its lines (offer indexes via `index`).
pub async fn orders(
    pool: &PgPool,
    system: System,
    distribution_id: Option<Uuid>,
    index: &HashMap<Uuid, u32>,
) -> sqlx::Result<HashMap<Uuid, DbOrder>> {
    let rows: Vec<(Uuid, bool, Option<Uuid>, Option<Decimal>)> = match system {
        System::Etal => {
            sqlx::query_as(
                "SELECT r.id, r.status = 'cancelled', l.offer_id, l.quantity
                   FROM orders r LEFT JOIN order_lines l ON l.order_id = r.id
                  WHERE r.distribution_id = $1",
            )
            .bind(distribution_id)
            .fetch_all(pool)
            .await?
        }
        System::Baseline => {
            sqlx::query_as(
                "SELECT r.id, r.status = 'cancelled', l.offer_id, l.quantity
                   FROM baseline.orders r LEFT JOIN baseline.order_lines l ON l.order_id = r.id",
            )
            .fetch_all(pool)
            .await?
        }
    };
    let mut out: HashMap<Uuid, DbOrder> = HashMap::new();
    for (id, cancelled, offer, quantity) in rows {
        let order = out.entry(id).or_insert_with(|| DbOrder {
            cancelled,
            lines: Vec::new(),
        });
        if let (Some(offer), Some(quantity)) = (offer, quantity) {
            let idx = index.get(&offer).copied().unwrap_or(u32::MAX);
            order.lines.push((idx, m(quantity)));
        }
    }
    for order in out.values_mut() {
        order.lines = normalise(std::mem::take(&mut order.lines));
    }
    Ok(out)
}

/// Reads both halves.
pub async fn view(
    pool: &PgPool,
    system: System,
    offer_ids: &[Uuid],
    distribution_id: Option<Uuid>,
) -> sqlx::Result<DbView> {
    let index: HashMap<Uuid, u32> = offer_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i as u32))
        .collect();
    Ok(DbView {
        offers: offers(pool, system, offer_ids).await?,
        orders: orders(pool, system, distribution_id, &index).await?,
    })
}

/// Availability of one offer now (milli-units), for the chart. The
/// baseline keeps it in a column; etal derives it from the order lines.
pub async fn available_now(pool: &PgPool, system: System, offer_id: Uuid) -> Option<i64> {
    if system == System::Baseline {
        let row: Option<(Option<Decimal>,)> =
            sqlx::query_as("SELECT stock FROM baseline.offers WHERE id = $1")
                .bind(offer_id)
                .fetch_optional(pool)
                .await
                .ok()?;
        return row.and_then(|r| r.0).map(m);
    }
    let rows = offers(pool, system, &[offer_id]).await.ok()?;
    let o = rows.first()?;
    o.stock.map(|s| s - o.sold)
}
