//! Participations ("+ Participer"): a catalog taking part in a distribution,
//! with an optional custom order window, and the effective windows the
//! ordering engine reads. The producer's planning queries live in
//! `planning`.
//!
//! A participation stores only its *overrides* (NULL = the distribution's
//! default); every query here returns the effective bounds, computed once in
//! SQL with `COALESCE`, so callers never mix the two up. Withdrawing deletes
//! the row; it is refused while confirmed orders have lines in it.

mod planning;

pub use planning::{MarketLinkRow, PlanningFilter, PlanningRow};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbError, DbResult, Store};
use crate::domain::planning::sale_status;
use crate::domain::window::SaleStatus;

/// Effective columns of a participation `p` joined to its catalog `c` and
/// distribution `d`.
const COLUMNS: &str = "p.id, p.distribution_id, p.catalog_id, c.producer_id,
     p.orders_open_at AS opens_override, p.orders_close_at AS closes_override,
     COALESCE(p.orders_open_at, d.orders_open_at) AS orders_open_at,
     COALESCE(p.orders_close_at, d.orders_close_at) AS orders_close_at";
const FROM: &str = "participations p JOIN catalogs c ON c.id = p.catalog_id
     JOIN distributions d ON d.id = p.distribution_id";

/// A participation with its effective window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ParticipationRecord {
    pub id: Uuid,
    pub distribution_id: Uuid,
    pub catalog_id: Uuid,
    pub producer_id: Uuid,
    pub opens_override: Option<DateTime<Utc>>,
    pub closes_override: Option<DateTime<Utc>>,
    /// Effective: the override or the distribution's default.
    pub orders_open_at: DateTime<Utc>,
    pub orders_close_at: DateTime<Utc>,
}

impl ParticipationRecord {
    pub fn status_at(&self, now: DateTime<Utc>) -> SaleStatus {
        sale_status(self.orders_open_at, self.orders_close_at, now)
    }

    pub fn custom_window(&self) -> bool {
        self.opens_override.is_some() || self.closes_override.is_some()
    }
}

/// The effective sale window of one participation, for the ordering engine.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ParticipationWindow {
    pub participation_id: Uuid,
    pub catalog_id: Uuid,
    pub producer_id: Uuid,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

impl ParticipationWindow {
    /// Where this sale stands at `now` (see `OrderWindow::status_at`).
    pub fn status_at(&self, now: DateTime<Utc>) -> SaleStatus {
        sale_status(self.opens_at, self.closes_at, now)
    }
}

/// A participation as listed on a distribution's public page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ParticipationListing {
    #[sqlx(flatten)]
    pub participation: ParticipationRecord,
    pub catalog_name: String,
    pub producer_name: String,
}

/// A catalog, as far as planning cares.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanningCatalog {
    pub id: Uuid,
    pub producer_id: Uuid,
    pub name: String,
}

/// A participation to create; `None` bounds follow the distribution.
#[derive(Debug, Clone)]
pub struct NewParticipation {
    pub distribution_id: Uuid,
    pub catalog_id: Uuid,
    pub opens_override: Option<DateTime<Utc>>,
    pub closes_override: Option<DateTime<Utc>>,
}

/// Outcome of a withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawOutcome {
    Withdrawn,
    /// Confirmed orders have lines in it: how many orders.
    HasOrders(i64),
}

/// The constraint (a trigger) refusing a participation of an unlinked catalog.
pub const NOT_LINKED: &str = "participations_catalog_linked";

/// Keeps the trigger's name when it refuses an unlinked catalog (SQLSTATE
/// 23503), so the handler can answer 422 on `catalog_id` instead of 500.
fn linked_conflict(e: sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = &e {
        if db.code().as_deref() == Some("23503") && db.constraint() == Some(NOT_LINKED) {
            return DbError::Conflict(NOT_LINKED.to_owned());
        }
    }
    e.into()
}

fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23503"))
}

const CONFIRMED_ORDERS: &str = "SELECT count(DISTINCT o.id) FROM order_lines ol
     JOIN orders o ON o.id = ol.order_id AND o.status = 'confirmed'
    WHERE ol.participation_id = $1";

impl Store {
    pub async fn planning_catalogs(&self, ids: &[Uuid]) -> DbResult<Vec<PlanningCatalog>> {
        Ok(sqlx::query_as::<_, PlanningCatalog>(
            "SELECT id, producer_id, name FROM catalogs WHERE id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// The (catalog, market) links among these catalogs.
    pub async fn catalog_links(&self, catalog_ids: &[Uuid]) -> DbResult<Vec<(Uuid, Uuid)>> {
        Ok(sqlx::query_as::<_, (Uuid, Uuid)>(
            "SELECT catalog_id, market_id FROM market_catalogs WHERE catalog_id = ANY($1)",
        )
        .bind(catalog_ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// Existing (distribution, catalog) participations among these.
    pub async fn existing_participations(
        &self,
        distribution_ids: &[Uuid],
        catalog_ids: &[Uuid],
    ) -> DbResult<Vec<(Uuid, Uuid)>> {
        Ok(sqlx::query_as::<_, (Uuid, Uuid)>(
            "SELECT distribution_id, catalog_id FROM participations
              WHERE distribution_id = ANY($1) AND catalog_id = ANY($2)",
        )
        .bind(distribution_ids)
        .bind(catalog_ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// Creates participations in one transaction: all or none. A duplicate
    /// is `Conflict(<unique constraint>)`, an unlinked catalog
    /// `Conflict(NOT_LINKED)`.
    pub async fn create_participations(
        &self,
        items: &[NewParticipation],
    ) -> DbResult<Vec<ParticipationRecord>> {
        let mut tx = self.pool().begin().await?;
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            let id = sqlx::query_scalar::<_, Uuid>(
                "INSERT INTO participations (distribution_id, catalog_id, orders_open_at, orders_close_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(item.distribution_id)
            .bind(item.catalog_id)
            .bind(item.opens_override)
            .bind(item.closes_override)
            .fetch_one(&mut *tx)
            .await
            .map_err(linked_conflict)?;
            ids.push(id);
        }
        let mut created = sqlx::query_as::<_, ParticipationRecord>(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE p.id = ANY($1)"
        ))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        created.sort_by_key(|p| ids.iter().position(|id| *id == p.id));
        Ok(created)
    }

    pub async fn participation(&self, id: Uuid) -> DbResult<Option<ParticipationRecord>> {
        Ok(sqlx::query_as::<_, ParticipationRecord>(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE p.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Number of confirmed orders with lines in this participation.
    pub async fn participation_confirmed_orders(&self, id: Uuid) -> DbResult<i64> {
        Ok(sqlx::query_scalar::<_, i64>(CONFIRMED_ORDERS)
            .bind(id)
            .fetch_one(self.pool())
            .await?)
    }

    /// Sets a participation's overrides (`None` = back to the default).
    pub async fn set_participation_window(
        &self,
        id: Uuid,
        opens_override: Option<DateTime<Utc>>,
        closes_override: Option<DateTime<Utc>>,
    ) -> DbResult<Option<ParticipationRecord>> {
        Ok(sqlx::query_as::<_, ParticipationRecord>(&format!(
            "WITH p AS (UPDATE participations SET orders_open_at = $2, orders_close_at = $3
                         WHERE id = $1 RETURNING *)
             SELECT {COLUMNS} FROM p JOIN catalogs c ON c.id = p.catalog_id
               JOIN distributions d ON d.id = p.distribution_id"
        ))
        .bind(id)
        .bind(opens_override)
        .bind(closes_override)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Withdraws a participation unless confirmed orders have lines in it.
    /// Lines of *cancelled* orders (which count for nothing) are dropped
    /// with it; the cancelled orders themselves stay.
    pub async fn withdraw_participation(&self, id: Uuid) -> DbResult<Option<WithdrawOutcome>> {
        let mut tx = self.pool().begin().await?;
        let found =
            sqlx::query_scalar::<_, Uuid>("SELECT id FROM participations WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(None);
        }
        let orders = sqlx::query_scalar::<_, i64>(CONFIRMED_ORDERS)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if orders > 0 {
            return Ok(Some(WithdrawOutcome::HasOrders(orders)));
        }
        let deleted = async {
            sqlx::query(
                "DELETE FROM order_lines ol USING orders o
                  WHERE ol.participation_id = $1 AND o.id = ol.order_id AND o.status = 'cancelled'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM participations WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
        }
        .await;
        match deleted {
            Ok(_) => {
                tx.commit().await?;
                Ok(Some(WithdrawOutcome::Withdrawn))
            }
            // An order line committed meanwhile still references it.
            Err(e) if is_foreign_key_violation(&e) => {
                tx.rollback().await?;
                let orders = self.participation_confirmed_orders(id).await?;
                Ok(Some(WithdrawOutcome::HasOrders(orders.max(1))))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Effective sale windows of every participation of a distribution.
    pub async fn participation_windows(
        &self,
        distribution_id: Uuid,
    ) -> DbResult<Vec<ParticipationWindow>> {
        Ok(sqlx::query_as::<_, ParticipationWindow>(
            "SELECT p.id AS participation_id, p.catalog_id, c.producer_id,
                    COALESCE(p.orders_open_at, d.orders_open_at) AS opens_at,
                    COALESCE(p.orders_close_at, d.orders_close_at) AS closes_at
               FROM participations p JOIN catalogs c ON c.id = p.catalog_id
               JOIN distributions d ON d.id = p.distribution_id
              WHERE p.distribution_id = $1 ORDER BY p.created_at, p.id",
        )
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// A distribution's participations with catalog and producer names.
    pub async fn distribution_participations(
        &self,
        distribution_id: Uuid,
    ) -> DbResult<Vec<ParticipationListing>> {
        Ok(sqlx::query_as::<_, ParticipationListing>(&format!(
            "SELECT {COLUMNS}, c.name AS catalog_name, pr.name AS producer_name
               FROM {FROM} JOIN producers pr ON pr.id = c.producer_id
              WHERE p.distribution_id = $1 ORDER BY pr.name, c.name, p.id"
        ))
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?)
    }
}
