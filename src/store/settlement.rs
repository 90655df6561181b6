//! After the distribution: stock settlement (its orders count as
//! delivered: `real −= delivered`, `ordered −= delivered`), validation by a
//! market admin, and the producers' payouts.
//!
//! Both happen exactly once: each is a single transaction that claims the
//! distribution row with `UPDATE … WHERE delivered_at IS NULL` (resp.
//! `validated_at`), so a second run — another pass of the job, a restart, a
//! double click — finds nothing to claim and changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{DbError, DbResult, Store};
use crate::domain::market::parse_timezone;
use crate::domain::money::Money;
use crate::domain::payout::{payout_dates, platform_fee};
use crate::domain::percent::Percent;

/// What delivering a distribution does to one offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveredOffer {
    pub offer_id: Uuid,
    /// Units delivered (leave `ordered`).
    pub quantity: Decimal,
    pub tracked: bool,
    pub real: Decimal,
}

impl DeliveredOffer {
    /// Real stock after delivery: lowered for tracked offers, never below 0.
    pub fn real_after(&self) -> Decimal {
        if self.tracked {
            (self.real - self.quantity).max(Decimal::ZERO)
        } else {
            self.real
        }
    }
}

/// Why a settlement did not happen (nothing was changed).
#[derive(Debug)]
pub enum SettleError {
    /// Already settled, or cancelled.
    AlreadyDone,
    /// Lines or stock moved since the plan was read: plan again.
    Changed,
    Db(DbError),
}

impl From<DbError> for SettleError {
    fn from(e: DbError) -> Self {
        SettleError::Db(e)
    }
}

impl From<sqlx::Error> for SettleError {
    fn from(e: sqlx::Error) -> Self {
        SettleError::Db(e.into())
    }
}

const DELIVERY_PLAN: &str = "SELECT f.id AS offer_id, sum(l.quantity) AS quantity,
        f.stock_tracked AS tracked, f.real_stock AS real
   FROM order_lines l
   JOIN orders o ON o.id = l.order_id AND o.status = 'confirmed'
   JOIN offers f ON f.id = l.offer_id
  WHERE o.distribution_id = $1 AND l.delivered_at IS NULL
  GROUP BY f.id ORDER BY f.id";

/// A producer's payout for one validated distribution.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayoutRecord {
    pub id: Uuid,
    pub distribution_id: Uuid,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub market_id: Uuid,
    pub market_name: String,
    pub distribution_starts_at: DateTime<Utc>,
    pub gross: Decimal,
    pub fee: Decimal,
    pub net: Decimal,
    pub validated_at: DateTime<Utc>,
    pub available_on: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    pub status: String,
}

/// Why a validation was refused (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidateRefusal {
    Unknown,
    Cancelled,
    AlreadyValidated(DateTime<Utc>),
    NotEnded(DateTime<Utc>),
}

const PAYOUT_SELECT: &str =
    "SELECT y.id, y.distribution_id, y.producer_id, pr.name AS producer_name,
        d.market_id, m.name AS market_name, d.starts_at AS distribution_starts_at, y.gross, y.fee,
        y.net, y.validated_at, y.available_on, y.paid_on, y.status
   FROM payouts y
   JOIN producers pr ON pr.id = y.producer_id
   JOIN distributions d ON d.id = y.distribution_id
   JOIN markets m ON m.id = d.market_id";

impl Store {
    /// Distributions whose orders count as delivered at `now` (ended at
    /// least `delay` ago), not settled yet.
    pub async fn deliveries_due(
        &self,
        now: DateTime<Utc>,
        delay: chrono::Duration,
    ) -> DbResult<Vec<Uuid>> {
        Ok(sqlx::query_as::<_, (Uuid,)>(
            "SELECT id FROM distributions
              WHERE delivered_at IS NULL AND cancelled_at IS NULL AND ends_at <= $1
              ORDER BY ends_at LIMIT 100",
        )
        .bind(now - delay)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
    }

    /// What delivering the distribution would do to each offer.
    pub async fn delivery_plan(&self, distribution_id: Uuid) -> DbResult<Vec<DeliveredOffer>> {
        Ok(sqlx::query_as::<_, DeliveredOffer>(DELIVERY_PLAN)
            .bind(distribution_id)
            .fetch_all(self.pool())
            .await?)
    }

    /// Settles the distribution exactly as `plan` says: stamps it and its
    /// lines delivered and lowers real stock, in one transaction.
    pub async fn settle_delivery(
        &self,
        distribution_id: Uuid,
        at: DateTime<Utc>,
        plan: &[DeliveredOffer],
    ) -> Result<(), SettleError> {
        let mut tx = self.pool().begin().await?;
        let claimed = sqlx::query(
            "UPDATE distributions SET delivered_at = $2
              WHERE id = $1 AND delivered_at IS NULL AND cancelled_at IS NULL",
        )
        .bind(distribution_id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            return Err(SettleError::AlreadyDone);
        }
        let offer_ids: Vec<Uuid> = plan.iter().map(|o| o.offer_id).collect();
        sqlx::query("SELECT id FROM offers WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&offer_ids)
            .execute(&mut *tx)
            .await?;
        let now_plan = sqlx::query_as::<_, DeliveredOffer>(DELIVERY_PLAN)
            .bind(distribution_id)
            .fetch_all(&mut *tx)
            .await?;
        if now_plan != plan {
            return Err(SettleError::Changed);
        }
        sqlx::query(
            "UPDATE order_lines l SET delivered_at = $2 FROM orders o
              WHERE o.id = l.order_id AND o.distribution_id = $1 AND o.status = 'confirmed'
                AND l.delivered_at IS NULL",
        )
        .bind(distribution_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        for offer in plan {
            write_delivery(&mut tx, offer, at).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn write_delivery(
    conn: &mut PgConnection,
    offer: &DeliveredOffer,
    at: DateTime<Utc>,
) -> DbResult<()> {
    let real_after = offer.tracked.then(|| offer.real_after());
    if let Some(real) = real_after {
        sqlx::query("UPDATE offers SET real_stock = $2 WHERE id = $1")
            .bind(offer.offer_id)
            .bind(real)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "INSERT INTO stock_movements (offer_id, kind, quantity, real_after, created_at)
         VALUES ($1, 'delivery', $2, $3, $4)",
    )
    .bind(offer.offer_id)
    .bind(-offer.quantity)
    .bind(real_after)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Validates a distribution at `at` (after its end) and schedules each
    /// producer's payout, in one transaction.
    pub async fn validate_distribution(
        &self,
        distribution_id: Uuid,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> DbResult<Result<Vec<PayoutRecord>, ValidateRefusal>> {
        let mut tx = self.pool().begin().await?;
        let head = sqlx::query_as::<_, (DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, bool, Decimal, String)>(
            "SELECT d.ends_at, d.cancelled_at, d.validated_at, m.online_payment, m.fee_rate, m.timezone
               FROM distributions d JOIN markets m ON m.id = d.market_id
              WHERE d.id = $1 FOR UPDATE OF d",
        )
        .bind(distribution_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((ends_at, cancelled, validated, online, fee_rate, timezone)) = head else {
            return Ok(Err(ValidateRefusal::Unknown));
        };
        if cancelled.is_some() {
            return Ok(Err(ValidateRefusal::Cancelled));
        }
        if let Some(when) = validated {
            return Ok(Err(ValidateRefusal::AlreadyValidated(when)));
        }
        if at < ends_at {
            return Ok(Err(ValidateRefusal::NotEnded(ends_at)));
        }
        let fee_rate = Percent::parse(fee_rate, "fee_rate")
            .map_err(|e| DbError::Other(format!("stored fee rate: {e:?}")))?;
        let tz = parse_timezone(&timezone, "timezone").unwrap_or(chrono_tz::Tz::UTC);
        let lines = sqlx::query_as::<_, (Uuid, Decimal, Decimal, Option<Decimal>)>(
            "SELECT c.producer_id, l.quantity, l.unit_price, l.final_total
               FROM order_lines l
               JOIN orders o ON o.id = l.order_id AND o.status = 'confirmed'
               JOIN participations p ON p.id = l.participation_id
               JOIN catalogs c ON c.id = p.catalog_id
              WHERE o.distribution_id = $1",
        )
        .bind(distribution_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut gross: BTreeMap<Uuid, Money> = BTreeMap::new();
        for (producer, quantity, price, total) in lines {
            let total = total.unwrap_or(price * quantity);
            let amount = Money::from_rounded(total).unwrap_or(Money::ZERO);
            let entry = gross.entry(producer).or_insert(Money::ZERO);
            *entry = *entry + amount;
        }
        let (available_on, paid_on) = payout_dates(at, tz);
        for (producer, gross) in &gross {
            let (fee, net) = platform_fee(*gross, fee_rate);
            sqlx::query(
                "INSERT INTO payouts (distribution_id, producer_id, gross, fee, net, validated_at,
                        available_on, paid_on, status)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(distribution_id)
            .bind(producer)
            .bind(gross.amount())
            .bind(fee.amount())
            .bind(net.amount())
            .bind(at)
            .bind(online.then_some(available_on))
            .bind(online.then_some(paid_on))
            .bind(if online { "scheduled" } else { "offline" })
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE distributions SET validated_at = $2, validated_by = $3 WHERE id = $1")
            .bind(distribution_id)
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        let payouts = sqlx::query_as::<_, PayoutRecord>(&format!(
            "{PAYOUT_SELECT} WHERE y.distribution_id = $1 ORDER BY pr.name, y.producer_id"
        ))
        .bind(distribution_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(payouts))
    }

    /// A producer's payouts, most recent validation first.
    pub async fn producer_payouts(&self, producer_id: Uuid) -> DbResult<Vec<PayoutRecord>> {
        Ok(sqlx::query_as::<_, PayoutRecord>(&format!(
            "{PAYOUT_SELECT} WHERE y.producer_id = $1 ORDER BY y.validated_at DESC, d.starts_at DESC"
        ))
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Payouts of one distribution.
    pub async fn distribution_payouts(&self, distribution_id: Uuid) -> DbResult<Vec<PayoutRecord>> {
        Ok(sqlx::query_as::<_, PayoutRecord>(&format!(
            "{PAYOUT_SELECT} WHERE y.distribution_id = $1 ORDER BY pr.name, y.producer_id"
        ))
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?)
    }
}
