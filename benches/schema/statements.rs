//! Each statement of the writer's commit, alone, written three ways: one
//! multi-row statement over arrays (`UNNEST`, what the writer does), a
//! prepared single-row statement executed once per row (sqlx prepares it
//! once per connection; one round trip per row), and `COPY … FROM STDIN`
//! (text format; for the upsert, into a temporary table first). Timed
//! inside a transaction that is then rolled back, so every variant starts
//! from the same tables; what a statement needs first (the orders of new
//! lines) is written untimed in the same transaction.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use etal::store::order_writes::{sql, OrderWrite};
use sqlx::{Connection, Executor, PgConnection};

/// The statements of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    /// New orders.
    OrdersInsert,
    /// `updated_at` of changed orders.
    OrdersTouch,
    /// Lines of new orders.
    LinesInsert,
    /// Changed lines (`ON CONFLICT (id) DO UPDATE`).
    LinesUpsert,
    /// The stock audit as it was: one row per order and offer, with the
    /// order and the customer (three foreign keys each).
    AuditPerOrder,
    /// The stock audit now: one row per offer for the batch.
    AuditPerBatch,
    /// The same into a copy of the table without foreign keys.
    AuditPerBatchNoForeignKey,
    /// The idempotency answers.
    Idempotency,
}

impl Statement {
    pub fn label(self) -> &'static str {
        match self {
            Self::OrdersInsert => "orders: insert (new)",
            Self::OrdersTouch => "orders: updated_at (add)",
            Self::LinesInsert => "order_lines: insert (new)",
            Self::LinesUpsert => "order_lines: upsert (add)",
            Self::AuditPerOrder => "stock audit: a row per order (before)",
            Self::AuditPerBatch => "stock audit: a row per offer and batch (now)",
            Self::AuditPerBatchNoForeignKey => "  the same without foreign key",
            Self::Idempotency => "idempotency_keys: insert",
        }
    }

    /// Whether it writes the `new` batch (else the `add` batch).
    pub fn of_new_orders(self) -> bool {
        matches!(self, Self::OrdersInsert | Self::LinesInsert)
    }

    /// The ways it can be written.
    pub fn ways(self) -> &'static [Way] {
        match self {
            Self::OrdersTouch => &[Way::Unnest, Way::PerRow],
            Self::AuditPerBatch | Self::AuditPerBatchNoForeignKey => &[Way::Unnest],
            _ => &[Way::Unnest, Way::PerRow, Way::Copy],
        }
    }
}

/// How a statement is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Unnest,
    PerRow,
    Copy,
}

/// What the variants need once per connection: the temporary table of the
/// COPY upsert and the audit table without foreign keys.
pub async fn prepare(conn: &mut PgConnection) -> sqlx::Result<()> {
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS lines_in (id uuid, order_id uuid, offer_id uuid,
                participation_id uuid, quantity numeric, unit_price numeric, vat_rate numeric)",
    )
    .await?;
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_movements_no_fk
           (LIKE stock_movements INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)",
    )
    .await?;
    Ok(())
}

/// Median time of `statement` written `way` over `reps` rolled-back runs.
pub async fn time(
    conn: &mut PgConnection,
    statement: Statement,
    way: Way,
    batch: &[OrderWrite],
    reps: usize,
) -> sqlx::Result<Duration> {
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let mut tx = conn.begin().await?;
        if statement == Statement::LinesInsert {
            run(&mut tx, Statement::OrdersInsert, Way::Unnest, batch).await?;
        }
        let started = Instant::now();
        run(&mut tx, statement, way, batch).await?;
        times.push(started.elapsed());
        tx.rollback().await?;
    }
    times.sort();
    Ok(times[times.len() / 2])
}

async fn run(
    conn: &mut PgConnection,
    statement: Statement,
    way: Way,
    batch: &[OrderWrite],
) -> sqlx::Result<()> {
    let at = batch.first().map(|w| w.at).unwrap_or_default();
    let lines = || {
        batch
            .iter()
            .flat_map(|w| w.written_lines.iter().map(move |l| (w, l)))
    };
    let moves = || {
        batch
            .iter()
            .flat_map(|w| w.movements.iter().map(move |m| (w, m)))
    };
    let keys = || batch.iter().filter_map(|w| w.idempotency.as_ref());
    match (statement, way) {
        (Statement::OrdersInsert, Way::Unnest) => {
            sqlx::query(sql::ORDERS_INSERT)
                .bind(batch.iter().map(|w| w.order_id).collect::<Vec<_>>())
                .bind(batch.iter().map(|w| w.distribution_id).collect::<Vec<_>>())
                .bind(batch.iter().map(|w| w.customer_id).collect::<Vec<_>>())
                .bind(batch.iter().map(|w| w.number).collect::<Vec<_>>())
                .bind(at)
                .execute(conn)
                .await?;
        }
        (Statement::OrdersInsert, Way::PerRow) => {
            for w in batch {
                sqlx::query(
                    "INSERT INTO orders (id, distribution_id, customer_id, number, status, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, 'confirmed', $5, $5)",
                )
                .bind(w.order_id)
                .bind(w.distribution_id)
                .bind(w.customer_id)
                .bind(w.number)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            }
        }
        (Statement::OrdersInsert, Way::Copy) => {
            let mut text = String::new();
            for w in batch {
                let _ = writeln!(
                    text,
                    "{}\t{}\t{}\t{}\tconfirmed\t{}\t{}",
                    w.order_id,
                    w.distribution_id,
                    w.customer_id,
                    w.number,
                    at.to_rfc3339(),
                    at.to_rfc3339()
                );
            }
            copy(
                conn,
                "COPY orders (id, distribution_id, customer_id, number, status, created_at, updated_at) FROM STDIN",
                text,
            )
            .await?;
        }
        (Statement::OrdersTouch, Way::PerRow) => {
            for w in batch {
                sqlx::query("UPDATE orders SET updated_at = $2 WHERE id = $1")
                    .bind(w.order_id)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        (Statement::OrdersTouch, _) => {
            sqlx::query(sql::ORDERS_TOUCH)
                .bind(batch.iter().map(|w| w.order_id).collect::<Vec<_>>())
                .bind(at)
                .execute(conn)
                .await?;
        }
        (Statement::LinesInsert | Statement::LinesUpsert, Way::Unnest) => {
            // The writer's statement; new lines without its ON CONFLICT.
            let insert;
            let text = if statement == Statement::LinesUpsert {
                sql::LINES_UPSERT
            } else {
                insert = sql::LINES_UPSERT
                    .split("ON CONFLICT")
                    .next()
                    .unwrap_or(sql::LINES_UPSERT)
                    .to_owned();
                &insert
            };
            sqlx::query(text)
                .bind(lines().map(|(_, l)| l.id).collect::<Vec<_>>())
                .bind(lines().map(|(w, _)| w.order_id).collect::<Vec<_>>())
                .bind(lines().map(|(_, l)| l.offer_id).collect::<Vec<_>>())
                .bind(lines().map(|(_, l)| l.participation_id).collect::<Vec<_>>())
                .bind(lines().map(|(_, l)| l.quantity.value()).collect::<Vec<_>>())
                .bind(
                    lines()
                        .map(|(_, l)| l.unit_price.amount())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    lines()
                        .map(|(_, l)| l.vat_rate.percent())
                        .collect::<Vec<_>>(),
                )
                .bind(at)
                .execute(conn)
                .await?;
        }
        (Statement::LinesInsert | Statement::LinesUpsert, Way::PerRow) => {
            let upsert = if statement == Statement::LinesUpsert {
                " ON CONFLICT (id) DO UPDATE SET quantity = EXCLUDED.quantity,
                        unit_price = EXCLUDED.unit_price, vat_rate = EXCLUDED.vat_rate"
            } else {
                ""
            };
            let sql = format!(
                "INSERT INTO order_lines (id, order_id, offer_id, participation_id, quantity,
                        unit_price, vat_rate, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8){upsert}"
            );
            for (w, l) in lines() {
                sqlx::query(&sql)
                    .bind(l.id)
                    .bind(w.order_id)
                    .bind(l.offer_id)
                    .bind(l.participation_id)
                    .bind(l.quantity.value())
                    .bind(l.unit_price.amount())
                    .bind(l.vat_rate.percent())
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        (Statement::LinesInsert | Statement::LinesUpsert, Way::Copy) => {
            let mut text = String::new();
            for (w, l) in lines() {
                let _ = write!(
                    text,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    l.id,
                    w.order_id,
                    l.offer_id,
                    l.participation_id,
                    l.quantity.value(),
                    l.unit_price.amount(),
                    l.vat_rate.percent()
                );
                if statement == Statement::LinesInsert {
                    let _ = write!(text, "\t{}", at.to_rfc3339());
                }
                text.push('\n');
            }
            if statement == Statement::LinesInsert {
                copy(
                    conn,
                    "COPY order_lines (id, order_id, offer_id, participation_id, quantity, unit_price,
                            vat_rate, created_at) FROM STDIN",
                    text,
                )
                .await?;
            } else {
                copy(&mut *conn, "COPY lines_in FROM STDIN", text).await?;
                sqlx::query(
                    "INSERT INTO order_lines (id, order_id, offer_id, participation_id, quantity,
                            unit_price, vat_rate, created_at)
                     SELECT id, order_id, offer_id, participation_id, quantity, unit_price, vat_rate, $1
                       FROM lines_in
                     ON CONFLICT (id) DO UPDATE SET quantity = EXCLUDED.quantity,
                            unit_price = EXCLUDED.unit_price, vat_rate = EXCLUDED.vat_rate",
                )
                .bind(at)
                .execute(conn)
                .await?;
            }
        }
        (Statement::AuditPerOrder, Way::Unnest) => {
            sqlx::query(
                "INSERT INTO stock_movements (offer_id, kind, quantity, order_id, account_id, created_at)
                 SELECT f, CASE WHEN q > 0 THEN 'reserve' ELSE 'release' END, q, o, a, $5
                   FROM UNNEST($1::uuid[], $2::numeric[], $3::uuid[], $4::uuid[]) AS t(f, q, o, a)",
            )
            .bind(moves().map(|(_, m)| m.0).collect::<Vec<_>>())
            .bind(moves().map(|(_, m)| m.1).collect::<Vec<_>>())
            .bind(moves().map(|(w, _)| w.order_id).collect::<Vec<_>>())
            .bind(moves().map(|(w, _)| w.customer_id).collect::<Vec<_>>())
            .bind(at)
            .execute(conn)
            .await?;
        }
        (Statement::AuditPerOrder, Way::PerRow) => {
            for (w, (offer, quantity)) in moves() {
                sqlx::query(
                    "INSERT INTO stock_movements (offer_id, kind, quantity, order_id, account_id, created_at)
                     VALUES ($1, CASE WHEN $2 > 0 THEN 'reserve' ELSE 'release' END, $2, $3, $4, $5)",
                )
                .bind(offer)
                .bind(quantity)
                .bind(w.order_id)
                .bind(w.customer_id)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            }
        }
        (Statement::AuditPerOrder, Way::Copy) => {
            let mut text = String::new();
            for (w, (offer, quantity)) in moves() {
                let kind = if quantity.is_sign_positive() {
                    "reserve"
                } else {
                    "release"
                };
                let _ = writeln!(
                    text,
                    "{offer}\t{kind}\t{quantity}\t{}\t{}\t{}",
                    w.order_id,
                    w.customer_id,
                    at.to_rfc3339()
                );
            }
            copy(
                conn,
                "COPY stock_movements (offer_id, kind, quantity, order_id, account_id, created_at) FROM STDIN",
                text,
            )
            .await?;
        }
        (Statement::AuditPerBatch | Statement::AuditPerBatchNoForeignKey, _) => {
            let table = if statement == Statement::AuditPerBatch {
                "stock_movements"
            } else {
                "bench_movements_no_fk"
            };
            // The writer's statement, into the copy without foreign key.
            let text = sql::AUDIT_PER_BATCH.replace("stock_movements", table);
            sqlx::query(&text)
                .bind(moves().map(|(_, m)| m.0).collect::<Vec<_>>())
                .bind(moves().map(|(_, m)| m.1).collect::<Vec<_>>())
                .bind(moves().map(|(w, _)| w.order_id).collect::<Vec<_>>())
                .bind(at)
                .execute(conn)
                .await?;
        }
        (Statement::Idempotency, Way::Unnest) => {
            let answers: Vec<serde_json::Value> = keys()
                .map(|k| serde_json::to_value(&k.answer).unwrap_or_default())
                .collect();
            sqlx::query(sql::IDEMPOTENCY_INSERT)
                .bind(keys().map(|k| k.account_id).collect::<Vec<_>>())
                .bind(keys().map(|k| k.key.clone()).collect::<Vec<_>>())
                .bind(keys().map(|k| k.request_hash.clone()).collect::<Vec<_>>())
                .bind(vec![201_i16; answers.len()])
                .bind(answers)
                .bind(at)
                .execute(conn)
                .await?;
        }
        (Statement::Idempotency, Way::PerRow) => {
            for k in keys() {
                sqlx::query(
                    "INSERT INTO idempotency_keys (account_id, key, request_hash, status_code, response_body, created_at)
                     VALUES ($1, $2, $3, 201, $4, $5) ON CONFLICT (account_id, key) DO NOTHING",
                )
                .bind(k.account_id)
                .bind(&k.key)
                .bind(&k.request_hash)
                .bind(serde_json::to_value(&k.answer).unwrap_or_default())
                .bind(at)
                .execute(&mut *conn)
                .await?;
            }
        }
        (Statement::Idempotency, Way::Copy) => {
            let mut text = String::new();
            for k in keys() {
                let answer = serde_json::to_string(&k.answer).unwrap_or_default();
                let _ = writeln!(
                    text,
                    "{}\t{}\t\\\\x{}\t201\t{}\t{}",
                    k.account_id,
                    escape(&k.key),
                    hex::encode(&k.request_hash),
                    escape(&answer),
                    at.to_rfc3339()
                );
            }
            copy(
                conn,
                "COPY idempotency_keys (account_id, key, request_hash, status_code, response_body, created_at) FROM STDIN",
                text,
            )
            .await?;
        }
    }
    Ok(())
}

/// `COPY … FROM STDIN` of `text` (PostgreSQL's text format).
async fn copy(conn: &mut PgConnection, statement: &str, text: String) -> sqlx::Result<()> {
    let mut sink = conn.copy_in_raw(statement).await?;
    sink.send(text.into_bytes()).await?;
    sink.finish().await?;
    Ok(())
}

/// A value in COPY's text format: backslashes, tabs and line breaks escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}
