//! Distributions (market days): creating one or a weekly series, listing a
//! market's, editing and cancelling an upcoming one.
//!
//! Edits and cancellations lock the distribution row (`FOR UPDATE`) and
//! re-check its status and orders inside the transaction: an order or a
//! participation inserted meanwhile takes a key-share lock on that row
//! through its foreign key, so it either waits for us or is seen by us.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbResult, Store};
use crate::domain::error::FieldError;
use crate::domain::planning::{effective_window, DistributionStatus};
use crate::domain::window::DistributionTimes;

/// The columns every distribution query selects.
/// A [`DistributionRecord`]'s columns (table alias `d`).
pub(crate) const COLUMNS: &str =
    "d.id, d.market_id, d.place, d.starts_at, d.ends_at, d.orders_open_at,
     d.orders_close_at, d.series_id, d.cancelled_at, d.validated_at, d.popular";

const CONFIRMED_ORDERS: &str =
    "SELECT count(*) FROM orders WHERE distribution_id = $1 AND status = 'confirmed'";

/// A distribution as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DistributionRecord {
    pub id: Uuid,
    pub market_id: Uuid,
    /// Overrides the market's address for this day; `None` = the market's.
    pub place: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub orders_open_at: DateTime<Utc>,
    pub orders_close_at: DateTime<Utc>,
    pub series_id: Option<Uuid>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub validated_at: Option<DateTime<Utc>>,
    /// Marked popular: its sale opens through the waiting room.
    pub popular: bool,
}

impl DistributionRecord {
    /// Its status at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> DistributionStatus {
        DistributionStatus::of(self.ends_at, self.cancelled_at, self.validated_at, now)
    }

    /// Its times as the domain type (the schema's checks keep them valid).
    pub fn times(&self) -> Result<DistributionTimes, FieldError> {
        DistributionTimes::parse(
            self.starts_at,
            self.ends_at,
            self.orders_open_at,
            self.orders_close_at,
        )
    }
}

/// What planning needs to know about a market.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanningMarket {
    pub id: Uuid,
    pub name: String,
    /// IANA zone name (series keep local wall-clock times in it).
    pub timezone: String,
}

/// A participation whose custom window would not fit edited times.
#[derive(Debug, Clone)]
pub struct WindowMisfit {
    pub participation_id: Uuid,
    pub catalog_name: String,
    pub error: FieldError,
}

/// Outcome of an edit.
#[derive(Debug)]
pub enum EditOutcome {
    Updated(DistributionRecord),
    /// Not upcoming any more (ended, validated or cancelled).
    NotUpcoming(DistributionStatus),
    /// Custom windows of participations would no longer fit.
    Misfits(Vec<WindowMisfit>),
    /// Confirmed orders exist (how many) and the new default window would
    /// open after `now`: a sale with orders cannot become "upcoming" again.
    OpensAfterOrders(i64),
}

/// Outcome of a cancellation.
#[derive(Debug)]
pub enum CancelOutcome {
    Cancelled(DistributionRecord),
    NotUpcoming(DistributionStatus),
    /// Confirmed orders exist: how many.
    HasOrders(i64),
}

#[derive(sqlx::FromRow)]
struct OverrideRow {
    id: Uuid,
    catalog_name: String,
    orders_open_at: Option<DateTime<Utc>>,
    orders_close_at: Option<DateTime<Utc>>,
}

impl Store {
    /// A market's name and time zone, if it exists.
    pub async fn planning_market(&self, id: Uuid) -> DbResult<Option<PlanningMarket>> {
        Ok(sqlx::query_as::<_, PlanningMarket>(
            "SELECT id, name, timezone FROM markets WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Creates distributions of one market in one transaction (all or none),
    /// grouped under `series_id` when given.
    pub async fn create_distributions(
        &self,
        market_id: Uuid,
        place: Option<&str>,
        occurrences: &[DistributionTimes],
        series_id: Option<Uuid>,
    ) -> DbResult<Vec<DistributionRecord>> {
        let mut tx = self.pool().begin().await?;
        let mut created = Vec::with_capacity(occurrences.len());
        let statement = format!(
            "INSERT INTO distributions AS d (market_id, place, starts_at, ends_at, orders_open_at,
                                              orders_close_at, series_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
        );
        for times in occurrences {
            let record = sqlx::query_as::<_, DistributionRecord>(&statement)
                .bind(market_id)
                .bind(place)
                .bind(times.starts_at())
                .bind(times.ends_at())
                .bind(times.window().opens_at())
                .bind(times.window().closes_at())
                .bind(series_id)
                .fetch_one(&mut *tx)
                .await?;
            created.push(record);
        }
        tx.commit().await?;
        Ok(created)
    }

    pub async fn distribution(&self, id: Uuid) -> DbResult<Option<DistributionRecord>> {
        Ok(sqlx::query_as::<_, DistributionRecord>(&format!(
            "SELECT {COLUMNS} FROM distributions d WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Distributions among `ids` (unknown ids are simply absent).
    pub async fn distributions_by_ids(&self, ids: &[Uuid]) -> DbResult<Vec<DistributionRecord>> {
        Ok(sqlx::query_as::<_, DistributionRecord>(&format!(
            "SELECT {COLUMNS} FROM distributions d WHERE d.id = ANY($1)"
        ))
        .bind(ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// A market's distributions that end after `from` and start before `to`,
    /// soonest first, at most `limit`.
    pub async fn market_distributions(
        &self,
        market_id: Uuid,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
        include_cancelled: bool,
        limit: i64,
    ) -> DbResult<Vec<DistributionRecord>> {
        Ok(sqlx::query_as::<_, DistributionRecord>(&format!(
            "SELECT {COLUMNS} FROM distributions d
              WHERE d.market_id = $1 AND d.ends_at > $2
                AND ($3::timestamptz IS NULL OR d.starts_at < $3)
                AND ($4 OR d.cancelled_at IS NULL)
              ORDER BY d.starts_at, d.id LIMIT $5"
        ))
        .bind(market_id)
        .bind(from)
        .bind(to)
        .bind(include_cancelled)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Replaces the place and times of an upcoming distribution. Nothing is
    /// deleted: participations and orders stay; a participation's custom
    /// window must still fit the new times, and once orders exist the
    /// default sale cannot open later than `now`; else nothing changes.
    pub async fn edit_distribution(
        &self,
        id: Uuid,
        place: Option<&str>,
        times: &DistributionTimes,
        now: DateTime<Utc>,
    ) -> DbResult<Option<EditOutcome>> {
        let mut tx = self.pool().begin().await?;
        let Some(current) = sqlx::query_as::<_, DistributionRecord>(&format!(
            "SELECT {COLUMNS} FROM distributions d WHERE d.id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let status = current.status(now);
        if !status.is_upcoming() {
            return Ok(Some(EditOutcome::NotUpcoming(status)));
        }
        if times.window().opens_at() > now {
            let orders = sqlx::query_scalar::<_, i64>(CONFIRMED_ORDERS)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if orders > 0 {
                return Ok(Some(EditOutcome::OpensAfterOrders(orders)));
            }
        }
        let overrides = sqlx::query_as::<_, OverrideRow>(
            "SELECT p.id, c.name AS catalog_name, p.orders_open_at, p.orders_close_at
               FROM participations p JOIN catalogs c ON c.id = p.catalog_id
              WHERE p.distribution_id = $1
                AND (p.orders_open_at IS NOT NULL OR p.orders_close_at IS NOT NULL)
              ORDER BY c.name, p.id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let misfits: Vec<WindowMisfit> = overrides
            .into_iter()
            .filter_map(|o| {
                effective_window(times, o.orders_open_at, o.orders_close_at)
                    .err()
                    .map(|error| WindowMisfit {
                        participation_id: o.id,
                        catalog_name: o.catalog_name,
                        error,
                    })
            })
            .collect();
        if !misfits.is_empty() {
            return Ok(Some(EditOutcome::Misfits(misfits)));
        }
        let updated = sqlx::query_as::<_, DistributionRecord>(&format!(
            "UPDATE distributions AS d SET place = $2, starts_at = $3, ends_at = $4,
                    orders_open_at = $5, orders_close_at = $6
              WHERE d.id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(place)
        .bind(times.starts_at())
        .bind(times.ends_at())
        .bind(times.window().opens_at())
        .bind(times.window().closes_at())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(EditOutcome::Updated(updated)))
    }

    /// Cancels an upcoming distribution without confirmed orders (sets
    /// `cancelled_at = now`; participations are kept for the record).
    pub async fn cancel_distribution(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> DbResult<Option<CancelOutcome>> {
        let mut tx = self.pool().begin().await?;
        let Some(current) = sqlx::query_as::<_, DistributionRecord>(&format!(
            "SELECT {COLUMNS} FROM distributions d WHERE d.id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let status = current.status(now);
        if !status.is_upcoming() {
            return Ok(Some(CancelOutcome::NotUpcoming(status)));
        }
        let orders = sqlx::query_scalar::<_, i64>(CONFIRMED_ORDERS)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if orders > 0 {
            return Ok(Some(CancelOutcome::HasOrders(orders)));
        }
        let cancelled = sqlx::query_as::<_, DistributionRecord>(&format!(
            "UPDATE distributions AS d SET cancelled_at = $2 WHERE d.id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(CancelOutcome::Cancelled(cancelled)))
    }
}
