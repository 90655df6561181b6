//! Group commit of confirmed orders: many orders in one transaction, with
//! their lines, the stock audit and idempotency records, written with a few
//! array (`UNNEST`) statements whatever the batch size. Orders are only
//! acknowledged after this commit, so an acknowledged order is durable.
//!
//! The stock audit of a batch is one `orders` row per offer it moved (the
//! moves summed, the orders named), not one per order: the order lines stay
//! the per-customer truth.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{DbError, DbResult, Store};
use crate::domain::order::{OrderChangeKind, OrderLine, OrderView};

/// The status an order's remembered answer replays: "201 Created" (placing
/// an order is the only request that takes an `Idempotency-Key`).
const ORDER_ANSWER_STATUS: i16 = 201;

/// A confirmed change of one order, ready to be written: a new order with
/// its lines; new or changed `written_lines` and `removed_lines` of a
/// replaced one; a cancellation (its lines stay, for history).
#[derive(Debug, Clone)]
pub struct OrderWrite {
    pub kind: OrderChangeKind,
    pub order_id: Uuid,
    pub distribution_id: Uuid,
    pub customer_id: Uuid,
    pub number: i32,
    /// Lines new or changed (all of a new order's lines).
    pub written_lines: Vec<OrderLine>,
    /// Lines gone from the order.
    pub removed_lines: Vec<Uuid>,
    /// Signed stock movement per offer (reserve > 0, release < 0).
    pub movements: Vec<(Uuid, Decimal)>,
    pub idempotency: Option<IdempotencyRecord>,
    pub at: DateTime<Utc>,
}

/// The answer remembered for an `Idempotency-Key`: the order as it was
/// answered (stored as its JSON document).
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub account_id: Uuid,
    pub key: String,
    pub request_hash: Vec<u8>,
    pub answer: OrderView,
}

/// Column arrays of the order lines of a batch.
#[derive(Default)]
struct LineColumns {
    id: Vec<Uuid>,
    order: Vec<Uuid>,
    offer: Vec<Uuid>,
    participation: Vec<Uuid>,
    quantity: Vec<Decimal>,
    price: Vec<Decimal>,
    vat: Vec<Decimal>,
}

/// The writer's array statements, public so that the schema benchmark
/// (`benches/schema.rs`) times exactly what the writer runs.
pub mod sql {
    /// New orders: `$1` ids, `$2` distributions, `$3` customers, `$4`
    /// numbers, `$5` the instant.
    pub const ORDERS_INSERT: &str =
        "INSERT INTO orders (id, distribution_id, customer_id, number, status, created_at, updated_at)
         SELECT id, d, c, n, 'confirmed', $5, $5
           FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::int[]) AS t(id, d, c, n)";
    /// Changed orders: `$1` ids, `$2` the instant.
    pub const ORDERS_TOUCH: &str = "UPDATE orders SET updated_at = $2 WHERE id = ANY($1)";
    /// Written lines: `$1`…`$7` ids, orders, offers, participations,
    /// quantities, unit prices, VAT rates; `$8` the instant.
    pub const LINES_UPSERT: &str =
        "INSERT INTO order_lines (id, order_id, offer_id, participation_id, quantity,
                unit_price, vat_rate, created_at)
         SELECT i, o, f, p, q, u, v, $8 FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[],
                $4::uuid[], $5::numeric[], $6::numeric[], $7::numeric[]) AS t(i, o, f, p, q, u, v)
         ON CONFLICT (id) DO UPDATE SET quantity = EXCLUDED.quantity,
                unit_price = EXCLUDED.unit_price, vat_rate = EXCLUDED.vat_rate";
    /// The audit, one row per offer: `$1` offers, `$2` quantities, `$3`
    /// orders (one of each per move), `$4` the instant.
    pub const AUDIT_PER_BATCH: &str =
        "INSERT INTO stock_movements (offer_id, kind, quantity, order_ids, created_at)
         SELECT f, 'orders', sum(q), array_agg(DISTINCT o), $4
           FROM UNNEST($1::uuid[], $2::numeric[], $3::uuid[]) AS t(f, q, o) GROUP BY f";
    /// Idempotency answers: `$1`…`$5` accounts, keys, request hashes,
    /// statuses, answers; `$6` the instant.
    pub const IDEMPOTENCY_INSERT: &str =
        "INSERT INTO idempotency_keys (account_id, key, request_hash, status_code, response_body, created_at)
         SELECT a, k, h, s, b, $6 FROM UNNEST($1::uuid[], $2::text[], $3::bytea[],
                $4::smallint[], $5::jsonb[]) AS t(a, k, h, s, b)
         ON CONFLICT (account_id, key) DO NOTHING";
}

impl Store {
    /// Writes a batch of order changes in one transaction. With `epoch`
    /// (a cluster node), the transaction first checks that the ordering
    /// lease still carries it and writes nothing otherwise
    /// ([`DbError::Fenced`]).
    pub async fn write_orders(&self, batch: &[OrderWrite], epoch: Option<i64>) -> DbResult<()> {
        let Some(first) = batch.first() else {
            return Ok(());
        };
        let at = first.at;
        let mut tx = self.pool().begin().await?;
        if let Some(epoch) = epoch {
            super::lease::check_epoch(&mut tx, epoch).await?;
        }

        let created: Vec<&OrderWrite> = batch
            .iter()
            .filter(|w| w.kind == OrderChangeKind::Create)
            .collect();
        if !created.is_empty() {
            sqlx::query(sql::ORDERS_INSERT)
                .bind(created.iter().map(|w| w.order_id).collect::<Vec<_>>())
                .bind(
                    created
                        .iter()
                        .map(|w| w.distribution_id)
                        .collect::<Vec<_>>(),
                )
                .bind(created.iter().map(|w| w.customer_id).collect::<Vec<_>>())
                .bind(created.iter().map(|w| w.number).collect::<Vec<_>>())
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }

        let replaced: Vec<Uuid> = ids_of(batch, OrderChangeKind::Replace);
        let cancelled: Vec<Uuid> = ids_of(batch, OrderChangeKind::Cancel);
        if !replaced.is_empty() {
            sqlx::query(sql::ORDERS_TOUCH)
                .bind(&replaced)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            let removed: Vec<Uuid> = batch
                .iter()
                .flat_map(|w| w.removed_lines.iter().copied())
                .collect();
            if !removed.is_empty() {
                sqlx::query("DELETE FROM order_lines WHERE id = ANY($1)")
                    .bind(&removed)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if !cancelled.is_empty() {
            sqlx::query(
                "UPDATE orders SET status = 'cancelled', updated_at = $2 WHERE id = ANY($1)",
            )
            .bind(&cancelled)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }

        let mut lines = LineColumns::default();
        for write in batch.iter().filter(|w| w.kind != OrderChangeKind::Cancel) {
            for line in &write.written_lines {
                lines.id.push(line.id);
                lines.order.push(write.order_id);
                lines.offer.push(line.offer_id);
                lines.participation.push(line.participation_id);
                lines.quantity.push(line.quantity.value());
                lines.price.push(line.unit_price.amount());
                lines.vat.push(line.vat_rate.percent());
            }
        }
        if !lines.id.is_empty() {
            sqlx::query(sql::LINES_UPSERT)
                .bind(&lines.id)
                .bind(&lines.order)
                .bind(&lines.offer)
                .bind(&lines.participation)
                .bind(&lines.quantity)
                .bind(&lines.price)
                .bind(&lines.vat)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }

        let (mut m_offer, mut m_qty, mut m_order) = (Vec::new(), Vec::new(), Vec::new());
        for write in batch {
            for (offer, quantity) in &write.movements {
                m_offer.push(*offer);
                m_qty.push(*quantity);
                m_order.push(write.order_id);
            }
        }
        if !m_offer.is_empty() {
            // The audit: one row per offer for the whole batch, its moves
            // summed, naming the orders behind them.
            sqlx::query(sql::AUDIT_PER_BATCH)
                .bind(&m_offer)
                .bind(&m_qty)
                .bind(&m_order)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }

        let keys: Vec<&IdempotencyRecord> = batch
            .iter()
            .filter_map(|w| w.idempotency.as_ref())
            .collect();
        if !keys.is_empty() {
            let mut answers = Vec::with_capacity(keys.len());
            for key in &keys {
                answers.push(
                    serde_json::to_value(&key.answer)
                        .map_err(|e| DbError::Other(format!("order answer not encoded: {e}")))?,
                );
            }
            sqlx::query(sql::IDEMPOTENCY_INSERT)
                .bind(keys.iter().map(|k| k.account_id).collect::<Vec<_>>())
                .bind(keys.iter().map(|k| k.key.clone()).collect::<Vec<_>>())
                .bind(
                    keys.iter()
                        .map(|k| k.request_hash.clone())
                        .collect::<Vec<_>>(),
                )
                .bind(vec![ORDER_ANSWER_STATUS; keys.len()])
                .bind(answers)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }

        tx.commit().await?;
        Ok(())
    }

    /// The remembered answer for an idempotency key, if any.
    pub async fn idempotent_answer(
        &self,
        account_id: Uuid,
        key: &str,
    ) -> DbResult<Option<IdempotencyRecord>> {
        let row = sqlx::query_as::<_, (Vec<u8>, Option<i16>, Option<serde_json::Value>)>(
            "SELECT request_hash, status_code, response_body FROM idempotency_keys
              WHERE account_id = $1 AND key = $2",
        )
        .bind(account_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        let Some((request_hash, Some(_), Some(body))) = row else {
            return Ok(None);
        };
        let answer = serde_json::from_value(body)
            .map_err(|e| DbError::Other(format!("stored order answer unreadable: {e}")))?;
        Ok(Some(IdempotencyRecord {
            account_id,
            key: key.to_owned(),
            request_hash,
            answer,
        }))
    }

    /// Every key an account has used, to know them without asking again.
    pub async fn idempotency_keys_of(&self, account_id: Uuid) -> DbResult<Vec<UsedKey>> {
        let rows = sqlx::query_as::<_, (String, Vec<u8>, bool)>(
            "SELECT key, request_hash, status_code IS NOT NULL AND response_body IS NOT NULL
               FROM idempotency_keys WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(key, request_hash, answered)| UsedKey {
                key,
                request_hash,
                answered,
            })
            .collect())
    }
}

/// A used idempotency key of an account.
pub struct UsedKey {
    pub key: String,
    pub request_hash: Vec<u8>,
    /// Its answer is stored (else the request never finished).
    pub answered: bool,
}

fn ids_of(batch: &[OrderWrite], kind: OrderChangeKind) -> Vec<Uuid> {
    batch
        .iter()
        .filter(|w| w.kind == kind)
        .map(|w| w.order_id)
        .collect()
}
