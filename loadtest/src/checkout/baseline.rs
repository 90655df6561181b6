//! The conventional checkout, as Open Food Network and Saleor do it, run
//! straight against PostgreSQL for comparison: per order one transaction
//! that locks the offers' rows in id order (`SELECT … FOR UPDATE`),
//! decrements their stock conditionally, inserts the order and its lines and
//! commits. Changes and cancellations lock the order, then the offers, and
//! move stock back and forth the same way.
//!
//! It lives in its own `baseline` schema, dropped and created again by
//! [`BaselineTarget::prepare`], so it never touches etal's tables.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{normalise, Answer, Attempt, OrderState, RetryPolicy};
use crate::record::now_us;
use crate::scenario::Layout;

const SCHEMA: &str = "
DROP SCHEMA IF EXISTS baseline CASCADE;
CREATE SCHEMA baseline;
CREATE TABLE baseline.offers (
    id            uuid          PRIMARY KEY,
    price         numeric(12,2) NOT NULL,
    initial_stock numeric(12,3),
    stock         numeric(12,3) CHECK (stock >= 0)
);
CREATE TABLE baseline.orders (
    id          uuid          PRIMARY KEY,
    customer_id uuid          NOT NULL,
    status      text          NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
    total       numeric(12,2) NOT NULL,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX baseline_orders_customer ON baseline.orders (customer_id);
CREATE TABLE baseline.order_lines (
    id         bigserial     PRIMARY KEY,
    order_id   uuid          NOT NULL REFERENCES baseline.orders (id) ON DELETE CASCADE,
    offer_id   uuid          NOT NULL REFERENCES baseline.offers (id),
    quantity   numeric(12,3) NOT NULL CHECK (quantity > 0),
    unit_price numeric(12,2) NOT NULL
);
CREATE INDEX baseline_order_lines_order ON baseline.order_lines (order_id);
";

/// The baseline as the target of a run.
pub struct BaselineTarget {
    pool: PgPool,
    offer_ids: Arc<Vec<Uuid>>,
    customers: Vec<Uuid>,
    retry: RetryPolicy,
}

/// Why a transaction did not go through.
enum TxError {
    /// Refused, rolled back: nothing changed.
    Refused(String),
    /// Worth retrying (deadlock, serialisation failure, no free connection).
    Retry(String),
    /// The commit's fate is unknown.
    Unknown(String),
}

impl From<sqlx::Error> for TxError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut => TxError::Retry("overloaded".into()),
            sqlx::Error::Database(db) => match db.code().as_deref() {
                Some("40001") | Some("40P01") => TxError::Retry("serialization".into()),
                Some(code) => TxError::Refused(format!("db_{code}")),
                None => TxError::Refused("db_error".into()),
            },
            _ => TxError::Refused("db_error".into()),
        }
    }
}

impl BaselineTarget {
    /// Creates the schema and the offers of `layout` (fresh ids).
    pub async fn prepare(
        pool: PgPool,
        layout: &Layout,
        customers: usize,
        retry: RetryPolicy,
    ) -> anyhow::Result<Self> {
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        let ids: Vec<Uuid> = layout.offers.iter().map(|_| Uuid::new_v4()).collect();
        let prices: Vec<Decimal> = layout
            .offers
            .iter()
            .map(|o| Decimal::new(o.price_cents as i64, 2))
            .collect();
        let stocks: Vec<Option<Decimal>> = layout
            .offers
            .iter()
            .map(|o| o.stock.map(Decimal::from))
            .collect();
        sqlx::query(
            "INSERT INTO baseline.offers (id, price, initial_stock, stock)
             SELECT i, p, s, s FROM UNNEST($1::uuid[], $2::numeric[], $3::numeric[]) AS t(i, p, s)",
        )
        .bind(&ids)
        .bind(&prices)
        .bind(&stocks)
        .execute(&pool)
        .await?;
        sqlx::query("ANALYZE baseline.offers")
            .execute(&pool)
            .await?;
        Ok(Self {
            pool,
            offer_ids: Arc::new(ids),
            customers: (0..customers).map(|_| Uuid::new_v4()).collect(),
            retry,
        })
    }

    pub fn offer_ids(&self) -> Arc<Vec<Uuid>> {
        self.offer_ids.clone()
    }

    fn lines(&self, basket: &[(usize, u32)]) -> Vec<(Uuid, Decimal)> {
        let mut lines: Vec<(Uuid, Decimal)> = basket
            .iter()
            .filter_map(|(o, q)| Some((*self.offer_ids.get(*o)?, Decimal::from(*q))))
            .collect();
        lines.sort_by_key(|l| l.0);
        lines
    }

    fn state(&self, id: Uuid, basket: &[(usize, u32)]) -> OrderState {
        let lines = basket
            .iter()
            .map(|(o, q)| (*o as u32, i64::from(*q) * 1000))
            .collect();
        OrderState {
            id,
            lines: normalise(lines),
        }
    }

    fn customer(&self, customer: usize) -> Uuid {
        self.customers.get(customer).copied().unwrap_or_default()
    }

    pub async fn place(&self, customer: usize, basket: &[(usize, u32)]) -> Attempt {
        let lines = self.lines(basket);
        let order_id = Uuid::new_v4();
        let customer_id = self.customer(customer);
        let done = self
            .transact(|| async {
                let mut tx = self.pool.begin().await?;
                let deltas: Vec<(Uuid, Decimal)> = lines.clone();
                let prices = lock_and_move(&mut tx, &deltas).await?;
                let total: Decimal = lines
                    .iter()
                    .map(|(o, q)| prices.get(o).copied().unwrap_or_default() * q)
                    .sum();
                sqlx::query(
                    "INSERT INTO baseline.orders (id, customer_id, total) VALUES ($1, $2, $3)",
                )
                .bind(order_id)
                .bind(customer_id)
                .bind(total)
                .execute(&mut *tx)
                .await?;
                insert_lines(&mut tx, order_id, &lines, &prices).await?;
                tx.commit()
                    .await
                    .map_err(|e| TxError::Unknown(e.to_string()))?;
                Ok(())
            })
            .await;
        self.attempt(done, || Answer::Order(self.state(order_id, basket)))
    }

    pub async fn change(&self, customer: usize, order: Uuid, basket: &[(usize, u32)]) -> Attempt {
        let lines = self.lines(basket);
        let customer_id = self.customer(customer);
        let done = self
            .transact(|| async {
                let mut tx = self.pool.begin().await?;
                let old = lock_order(&mut tx, order, customer_id).await?;
                let mut deltas: HashMap<Uuid, Decimal> = HashMap::new();
                for (o, q) in &old {
                    *deltas.entry(*o).or_default() -= q;
                }
                for (o, q) in &lines {
                    *deltas.entry(*o).or_default() += q;
                }
                let mut deltas: Vec<(Uuid, Decimal)> = deltas.into_iter().collect();
                deltas.sort_by_key(|d| d.0);
                let prices = lock_and_move(&mut tx, &deltas).await?;
                sqlx::query("DELETE FROM baseline.order_lines WHERE order_id = $1")
                    .bind(order)
                    .execute(&mut *tx)
                    .await?;
                insert_lines(&mut tx, order, &lines, &prices).await?;
                let total: Decimal = lines
                    .iter()
                    .map(|(o, q)| prices.get(o).copied().unwrap_or_default() * q)
                    .sum();
                sqlx::query(
                    "UPDATE baseline.orders SET total = $2, updated_at = now() WHERE id = $1",
                )
                .bind(order)
                .bind(total)
                .execute(&mut *tx)
                .await?;
                tx.commit()
                    .await
                    .map_err(|e| TxError::Unknown(e.to_string()))?;
                Ok(())
            })
            .await;
        self.attempt(done, || Answer::Order(self.state(order, basket)))
    }

    pub async fn cancel(&self, customer: usize, order: Uuid) -> Attempt {
        let customer_id = self.customer(customer);
        let done = self
            .transact(|| async {
                let mut tx = self.pool.begin().await?;
                let old = lock_order(&mut tx, order, customer_id).await?;
                let deltas: Vec<(Uuid, Decimal)> = old.iter().map(|(o, q)| (*o, -*q)).collect();
                lock_and_move(&mut tx, &deltas).await?;
                sqlx::query(
                    "UPDATE baseline.orders SET status = 'cancelled', updated_at = now() WHERE id = $1",
                )
                .bind(order)
                .execute(&mut *tx)
                .await?;
                tx.commit().await.map_err(|e| TxError::Unknown(e.to_string()))?;
                Ok(())
            })
            .await;
        self.attempt(done, || Answer::Cancelled)
    }

    /// Runs a transaction, retrying what is worth retrying.
    async fn transact<F, Fut>(&self, tx: F) -> (Result<(), TxError>, u32, u64)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), TxError>>,
    {
        let sent_us = now_us();
        let mut retries = 0;
        loop {
            match tx().await {
                Err(TxError::Retry(_)) if retries < self.retry.retries => {
                    retries += 1;
                    tokio::time::sleep(self.retry.backoff(retries, None)).await;
                }
                Err(TxError::Retry(reason)) => {
                    return (Err(TxError::Refused(reason)), retries, sent_us)
                }
                other => return (other, retries, sent_us),
            }
        }
    }

    fn attempt(
        &self,
        (done, retries, sent_us): (Result<(), TxError>, u32, u64),
        answer: impl FnOnce() -> Answer,
    ) -> Attempt {
        let answer = match done {
            Ok(()) => answer(),
            Err(TxError::Refused(code)) | Err(TxError::Retry(code)) => Answer::Refused(code),
            Err(TxError::Unknown(reason)) => Answer::Failed(format!("commit: {reason}")),
        };
        Attempt {
            answer,
            retries,
            sent_us,
            // The baseline retries inside one call; its last try is not timed.
            last_sent_us: sent_us,
        }
    }
}

/// Locks an order of the customer and reads its lines.
async fn lock_order(
    tx: &mut Transaction<'_, Postgres>,
    order: Uuid,
    customer_id: Uuid,
) -> Result<Vec<(Uuid, Decimal)>, TxError> {
    let status: Option<(String,)> = sqlx::query_as(
        "SELECT status FROM baseline.orders WHERE id = $1 AND customer_id = $2 FOR UPDATE",
    )
    .bind(order)
    .bind(customer_id)
    .fetch_optional(&mut **tx)
    .await?;
    match status {
        None => return Err(TxError::Refused("not_found".into())),
        Some((s,)) if s == "cancelled" => return Err(TxError::Refused("order_cancelled".into())),
        Some(_) => {}
    }
    Ok(sqlx::query_as(
        "SELECT offer_id, sum(quantity) FROM baseline.order_lines WHERE order_id = $1 GROUP BY offer_id",
    )
    .bind(order)
    .fetch_all(&mut **tx)
    .await?)
}

/// Locks the offers in id order, checks the stock of every increase, and
/// moves the stock (`deltas`: units more ordered > 0). Returns the prices.
async fn lock_and_move(
    tx: &mut Transaction<'_, Postgres>,
    deltas: &[(Uuid, Decimal)],
) -> Result<HashMap<Uuid, Decimal>, TxError> {
    let ids: Vec<Uuid> = deltas.iter().map(|d| d.0).collect();
    let rows: Vec<(Uuid, Decimal, Option<Decimal>)> = sqlx::query_as(
        "SELECT id, price, stock FROM baseline.offers WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    let stock: HashMap<Uuid, Option<Decimal>> = rows.iter().map(|r| (r.0, r.2)).collect();
    let mut moved_ids = Vec::new();
    let mut moved_qty = Vec::new();
    for (offer, delta) in deltas {
        match stock.get(offer) {
            None => return Err(TxError::Refused("not_found".into())),
            Some(None) => {}
            Some(Some(left)) => {
                if *delta > *left {
                    return Err(TxError::Refused("insufficient_stock".into()));
                }
                if !delta.is_zero() {
                    moved_ids.push(*offer);
                    moved_qty.push(*delta);
                }
            }
        }
    }
    if !moved_ids.is_empty() {
        let updated = sqlx::query(
            "UPDATE baseline.offers o SET stock = o.stock - t.q
               FROM UNNEST($1::uuid[], $2::numeric[]) AS t(id, q)
              WHERE o.id = t.id AND o.stock - t.q >= 0",
        )
        .bind(&moved_ids)
        .bind(&moved_qty)
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() != moved_ids.len() as u64 {
            return Err(TxError::Refused("insufficient_stock".into()));
        }
    }
    Ok(rows.into_iter().map(|r| (r.0, r.1)).collect())
}

async fn insert_lines(
    tx: &mut Transaction<'_, Postgres>,
    order: Uuid,
    lines: &[(Uuid, Decimal)],
    prices: &HashMap<Uuid, Decimal>,
) -> Result<(), TxError> {
    let offers: Vec<Uuid> = lines.iter().map(|l| l.0).collect();
    let quantities: Vec<Decimal> = lines.iter().map(|l| l.1).collect();
    let unit_prices: Vec<Decimal> = lines
        .iter()
        .map(|l| prices.get(&l.0).copied().unwrap_or_default())
        .collect();
    sqlx::query(
        "INSERT INTO baseline.order_lines (order_id, offer_id, quantity, unit_price)
         SELECT $1, o, q, p FROM UNNEST($2::uuid[], $3::numeric[], $4::numeric[]) AS t(o, q, p)",
    )
    .bind(order)
    .bind(&offers)
    .bind(&quantities)
    .bind(&unit_prices)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
