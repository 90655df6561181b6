//! Producer changes to order lines after the sale closed (a stock problem,
//! weighing), each kept in `order_line_changes` (who, when, old and new
//! value), and the closing summaries queued once per participation.
//!
//! Every write locks the distribution row first (`FOR SHARE`; validation
//! and delivery take it `FOR UPDATE`), then the line, and checks that the
//! line still holds what the caller computed its stock move from: a change
//! racing another change, a delivery or a validation is refused instead of
//! being applied to figures it did not see.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::outbox::{queue, OutboxMessage};
use super::{DbResult, Store};
use crate::domain::money::Money;
use crate::domain::order::OrderStatus;

/// An order line with what deciding a change needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineContext {
    pub line_id: Uuid,
    pub order_id: Uuid,
    pub order_number: i32,
    #[sqlx(try_from = "String")]
    pub order_status: OrderStatus,
    pub customer_id: Uuid,
    pub customer_email: String,
    pub distribution_id: Uuid,
    pub distribution_starts_at: DateTime<Utc>,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub market_id: Uuid,
    pub offer_id: Uuid,
    pub product_name: String,
    pub label: String,
    pub unit: String,
    pub offer_quantity: Decimal,
    pub variable_price: bool,
    pub multi_weight: bool,
    pub fractional: bool,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub weight: Option<Decimal>,
    pub final_total: Option<Decimal>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub validated_at: Option<DateTime<Utc>>,
    /// The last closing instant of the distribution's sales.
    pub last_close: DateTime<Utc>,
}

/// A change to one line, computed by the caller from a [`LineContext`].
#[derive(Debug, Clone)]
pub struct LineEdit {
    pub line_id: Uuid,
    pub distribution_id: Uuid,
    pub by: Uuid,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
    /// What the line held when the change was computed.
    pub expected_quantity: Decimal,
    pub expected_weight: Option<Decimal>,
    /// New quantity; `Some(0)` removes the line.
    pub quantity: Option<Decimal>,
    /// New weight with the line's total at that weight.
    pub weight: Option<(Decimal, Money)>,
    /// Told to the customer (its dedupe key gets the change id appended).
    pub notice: Option<OutboxMessage>,
}

/// Why a write refused (nothing was changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditRefusal {
    Validated,
    Delivered,
    Cancelled,
    /// The line changed (or went) since it was read: read again.
    Stale,
}

const CONTEXT_SELECT: &str = "SELECT l.id AS line_id, o.id AS order_id, o.number AS order_number,
        o.status AS order_status, o.customer_id, a.email AS customer_email, d.id AS distribution_id,
        d.starts_at AS distribution_starts_at, c.producer_id, pr.name AS producer_name,
        d.market_id, l.offer_id, po.product_name, po.label, po.unit,
        po.quantity AS offer_quantity, po.variable_price, po.multi_weight, po.fractional,
        l.quantity, l.unit_price, l.weight, l.final_total, l.delivered_at, d.cancelled_at,
        d.validated_at,
        (SELECT max(COALESCE(q.orders_close_at, d.orders_close_at)) FROM participations q
          WHERE q.distribution_id = d.id) AS last_close
   FROM order_lines l
   JOIN orders o ON o.id = l.order_id
   JOIN accounts a ON a.id = o.customer_id
   JOIN distributions d ON d.id = o.distribution_id
   JOIN participations p ON p.id = l.participation_id
   JOIN catalogs c ON c.id = p.catalog_id
   JOIN producers pr ON pr.id = c.producer_id
   JOIN participation_offers po ON po.participation_id = l.participation_id
                               AND po.offer_id = l.offer_id";

/// Locks the distribution against validation and delivery for the rest of
/// the transaction; refuses when it no longer accepts changes.
async fn lock_distribution(
    conn: &mut PgConnection,
    distribution_id: Uuid,
    changes_quantities: bool,
) -> DbResult<Result<(), EditRefusal>> {
    let row = sqlx::query_as::<_, (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>(
        "SELECT validated_at, delivered_at, cancelled_at FROM distributions WHERE id = $1 FOR SHARE",
    )
    .bind(distribution_id)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        None => Err(EditRefusal::Stale),
        Some((Some(_), _, _)) => Err(EditRefusal::Validated),
        Some((_, _, Some(_))) => Err(EditRefusal::Cancelled),
        Some((_, Some(_), _)) if changes_quantities => Err(EditRefusal::Delivered),
        Some(_) => Ok(()),
    })
}

/// Records one change of a line in the audit log; returns its id.
async fn audit(
    conn: &mut PgConnection,
    edit: &LineEdit,
    field: &str,
    old: Option<Decimal>,
    new: Decimal,
) -> DbResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO order_line_changes (order_line_id, order_id, offer_id, changed_by, changed_at,
                field, old_value, new_value, reason)
         SELECT l.id, l.order_id, l.offer_id, $2, $3, $4, $5, $6, $7 FROM order_lines l WHERE l.id = $1
         RETURNING id",
    )
    .bind(edit.line_id)
    .bind(edit.by)
    .bind(edit.at)
    .bind(field)
    .bind(old)
    .bind(new)
    .bind(edit.reason.as_deref())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// A line a producer removed while its sale was open (the engine wrote the
/// order); recorded afterwards in the audit log, with the customer's notice.
#[derive(Debug, Clone)]
pub struct OpenSaleRemoval {
    pub order_id: Uuid,
    pub offer_id: Uuid,
    pub by: Uuid,
    pub at: DateTime<Utc>,
    pub old_quantity: Decimal,
    pub reason: Option<String>,
    pub notice: OutboxMessage,
}

impl Store {
    /// Records a line removed during the sale (its row is gone: the audit
    /// row names the order and offer) and queues the customer's notice.
    pub async fn record_open_sale_removal(&self, removal: &OpenSaleRemoval) -> DbResult<()> {
        let mut tx = self.pool().begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO order_line_changes (order_line_id, order_id, offer_id, changed_by, changed_at,
                    field, old_value, new_value, reason)
             VALUES (NULL, $1, $2, $3, $4, 'quantity', $5, 0, $6) RETURNING id",
        )
        .bind(removal.order_id)
        .bind(removal.offer_id)
        .bind(removal.by)
        .bind(removal.at)
        .bind(removal.old_quantity)
        .bind(removal.reason.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        let mut notice = removal.notice.clone();
        notice.dedupe_key = format!("{}{id}", notice.dedupe_key);
        queue(&mut tx, &notice, removal.at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An order line with its order, distribution, producer and product.
    pub async fn line_context(&self, line_id: Uuid) -> DbResult<Option<LineContext>> {
        Ok(
            sqlx::query_as::<_, LineContext>(&format!("{CONTEXT_SELECT} WHERE l.id = $1"))
                .bind(line_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Several lines of one distribution (bulk weighing); unknown ids are absent.
    pub async fn line_contexts(
        &self,
        distribution_id: Uuid,
        line_ids: &[Uuid],
    ) -> DbResult<Vec<LineContext>> {
        Ok(sqlx::query_as::<_, LineContext>(&format!(
            "{CONTEXT_SELECT} WHERE l.id = ANY($1) AND o.distribution_id = $2"
        ))
        .bind(line_ids)
        .bind(distribution_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Applies one producer change to a line, with its audit rows, stock
    /// movement and customer notice, in one transaction.
    pub async fn edit_line(
        &self,
        edit: &LineEdit,
        epoch: Option<i64>,
    ) -> DbResult<Result<(), EditRefusal>> {
        self.edit_lines(std::slice::from_ref(edit), epoch).await
    }

    /// Applies changes to several lines of one distribution, all or none.
    /// With `epoch` (a cluster node), the transaction first checks the
    /// ordering lease still carries it (`DbError::Fenced` otherwise, nothing
    /// written), as the order writer does.
    pub async fn edit_lines(
        &self,
        edits: &[LineEdit],
        epoch: Option<i64>,
    ) -> DbResult<Result<(), EditRefusal>> {
        let Some(first) = edits.first() else {
            return Ok(Ok(()));
        };
        let mut tx = self.pool().begin().await?;
        if let Some(epoch) = epoch {
            super::lease::check_epoch(&mut tx, epoch).await?;
        }
        let quantities = edits.iter().any(|e| e.quantity.is_some());
        if let Err(refusal) = lock_distribution(&mut tx, first.distribution_id, quantities).await? {
            return Ok(Err(refusal));
        }
        for edit in edits {
            let current = sqlx::query_as::<_, (Decimal, Option<Decimal>, String)>(
                "SELECT l.quantity, l.weight, o.status FROM order_lines l
                   JOIN orders o ON o.id = l.order_id
                  WHERE l.id = $1 AND o.distribution_id = $2 FOR UPDATE OF l",
            )
            .bind(edit.line_id)
            .bind(edit.distribution_id)
            .fetch_optional(&mut *tx)
            .await?;
            match current {
                Some((q, w, status))
                    if q == edit.expected_quantity
                        && w == edit.expected_weight
                        && status == "confirmed" => {}
                _ => return Ok(Err(EditRefusal::Stale)),
            }
            let mut first_change = None;
            if let Some((weight, total)) = edit.weight {
                let id = audit(&mut tx, edit, "weight", edit.expected_weight, weight).await?;
                first_change.get_or_insert(id);
                sqlx::query("UPDATE order_lines SET weight = $2, final_total = $3 WHERE id = $1")
                    .bind(edit.line_id)
                    .bind(weight)
                    .bind(total.amount())
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(quantity) = edit.quantity {
                let id = audit(
                    &mut tx,
                    edit,
                    "quantity",
                    Some(edit.expected_quantity),
                    quantity,
                )
                .await?;
                first_change.get_or_insert(id);
                self.write_quantity(&mut tx, edit, quantity).await?;
            }
            if let (Some(notice), Some(change_id)) = (&edit.notice, first_change) {
                let mut notice = notice.clone();
                notice.dedupe_key = format!("{}{change_id}", notice.dedupe_key);
                queue(&mut tx, &notice, edit.at).await?;
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// New quantity of a line (0 deletes it; an order left empty is
    /// cancelled), with its stock movement.
    async fn write_quantity(
        &self,
        conn: &mut PgConnection,
        edit: &LineEdit,
        quantity: Decimal,
    ) -> DbResult<()> {
        let (order_id, offer_id): (Uuid, Uuid) =
            sqlx::query_as("SELECT order_id, offer_id FROM order_lines WHERE id = $1")
                .bind(edit.line_id)
                .fetch_one(&mut *conn)
                .await?;
        if quantity.is_zero() {
            sqlx::query("DELETE FROM order_lines WHERE id = $1")
                .bind(edit.line_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE orders SET status = 'cancelled' WHERE id = $1
                    AND NOT EXISTS (SELECT 1 FROM order_lines WHERE order_id = $1)",
            )
            .bind(order_id)
            .execute(&mut *conn)
            .await?;
        } else {
            sqlx::query("UPDATE order_lines SET quantity = $2 WHERE id = $1")
                .bind(edit.line_id)
                .bind(quantity)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("UPDATE orders SET updated_at = $2 WHERE id = $1")
            .bind(order_id)
            .bind(edit.at)
            .execute(&mut *conn)
            .await?;
        let delta = quantity - edit.expected_quantity;
        if !delta.is_zero() {
            sqlx::query(
                "INSERT INTO stock_movements (offer_id, kind, quantity, order_id, account_id, created_at)
                 VALUES ($1, CASE WHEN $2 > 0 THEN 'reserve' ELSE 'release' END, $2, $3, $4, $5)",
            )
            .bind(offer_id)
            .bind(delta)
            .bind(order_id)
            .bind(edit.by)
            .bind(edit.at)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// A participation whose sale closed and whose producer has not been sent
/// its recap yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueSummary {
    pub participation_id: Uuid,
    pub distribution_id: Uuid,
    pub catalog_id: Uuid,
    pub catalog_name: String,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub market_name: String,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
}

impl Store {
    /// Participations closed at `now` whose summary is not queued yet
    /// (distributions that ended more than a week ago are left alone).
    pub async fn due_summaries(&self, now: DateTime<Utc>, limit: i64) -> DbResult<Vec<DueSummary>> {
        Ok(sqlx::query_as::<_, DueSummary>(
            "SELECT p.id AS participation_id, d.id AS distribution_id, c.id AS catalog_id,
                    c.name AS catalog_name, c.producer_id, pr.name AS producer_name,
                    m.name AS market_name, m.timezone, d.starts_at
               FROM participations p
               JOIN distributions d ON d.id = p.distribution_id
               JOIN markets m ON m.id = d.market_id
               JOIN catalogs c ON c.id = p.catalog_id
               JOIN producers pr ON pr.id = c.producer_id
              WHERE p.summary_sent_at IS NULL AND d.cancelled_at IS NULL
                AND COALESCE(p.orders_close_at, d.orders_close_at) <= $1
                AND d.ends_at > $1 - interval '7 days'
              ORDER BY COALESCE(p.orders_close_at, d.orders_close_at), p.id
              LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Marks the participation's summary sent and queues its messages, in
    /// one transaction; `false` (nothing queued) if it was already marked.
    pub async fn queue_summary(
        &self,
        participation_id: Uuid,
        at: DateTime<Utc>,
        messages: &[OutboxMessage],
    ) -> DbResult<bool> {
        let mut tx = self.pool().begin().await?;
        let marked = sqlx::query(
            "UPDATE participations SET summary_sent_at = $2 WHERE id = $1 AND summary_sent_at IS NULL",
        )
        .bind(participation_id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked != 1 {
            return Ok(false);
        }
        for message in messages {
            queue(&mut tx, message, at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
