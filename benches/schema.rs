//! The schema's own limit (`cargo bench --bench schema`): how many orders a
//! second PostgreSQL takes when nothing but the order writer's statements
//! run — the same rows an order writes (`Store::write_orders`, the
//! writer's own code), in batches of the writer's size, committed back to
//! back on one connection of the private cluster under
//! `target/bench-cluster` (`fsync` and `synchronous_commit` on). The
//! engine end to end (`loadtest`) is compared with it in the README.
//!
//! Then each statement of the commit alone, written three ways (one
//! `UNNEST` statement, a prepared statement per row, `COPY`), to keep the
//! fastest, and the cost of a bare `COMMIT` (the WAL flush).
//!
//! Batches of 32 (what the writer commits under `loadtest --preset hot
//! --customers 64`: about half the customers wait while the other half's
//! batch commits) and 256 (`writer_batch_max`); shapes in [`batches`].
//! `ETAL_BENCH_QUICK=1` runs a tenth of the batches. Nothing here asserts
//! on time: the figures are written in the README.

use std::time::{Duration, Instant};

use etal::store::Store;
use sqlx::{Connection, Executor, PgConnection};

#[path = "schema/batches.rs"]
mod batches;
#[path = "support/fixture.rs"]
mod fixture;
#[path = "schema/statements.rs"]
mod statements;

use batches::Batches;
use statements::{Statement, Way};

/// Batch sizes measured.
const SIZES: [usize; 2] = [32, 256];
/// Orders committed per (shape, size) for the limit.
const ORDERS_PER_RUN: usize = 4096;
/// Runs per statement variant (the median is shown).
const REPS: usize = 15;

fn main() {
    let quick = std::env::var_os("ETAL_BENCH_QUICK").is_some();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(quick));
}

async fn run(quick: bool) {
    let orders_per_run = if quick {
        ORDERS_PER_RUN / 10
    } else {
        ORDERS_PER_RUN
    };
    let fresh_needed = SIZES.len() * (orders_per_run + 256) + 512;
    let f = fixture::fixture("bench_schema", 100_000_000, (256 + fresh_needed) as i64).await;
    let store = Store::connect_lazy(&f.url, 1, Duration::from_secs(30)).expect("store");
    let mut batches = Batches::prepare(&store, &f, 256).await;

    println!("schema limit: Store::write_orders, batches committed back to back on one connection");
    println!(
        "{:<6} {:>6} {:>12} {:>14} {:>14}",
        "shape", "batch", "orders/s", "ms per batch", "µs per order"
    );
    for shape in ["add", "new"] {
        for size in SIZES {
            let make = |b: &mut Batches| {
                if shape == "add" {
                    b.add_batch(size)
                } else {
                    b.new_batch(size)
                }
            };
            // One batch to warm the connection's statement cache.
            let warm = make(&mut batches);
            store
                .write_orders(&warm, None)
                .await
                .expect("warm-up batch");
            let mut times = Vec::new();
            let mut orders = 0;
            let started = Instant::now();
            while orders < orders_per_run {
                let batch = make(&mut batches);
                if batch.is_empty() {
                    break;
                }
                let t = Instant::now();
                store
                    .write_orders(&batch, None)
                    .await
                    .expect("batch commits");
                times.push(t.elapsed());
                orders += batch.len();
            }
            let elapsed = started.elapsed();
            times.sort();
            let median = times.get(times.len() / 2).copied().unwrap_or_default();
            println!(
                "{shape:<6} {size:>6} {:>12.0} {:>14.2} {:>14.1}",
                orders as f64 / elapsed.as_secs_f64(),
                median.as_secs_f64() * 1e3,
                elapsed.as_secs_f64() * 1e6 / orders.max(1) as f64,
            );
        }
    }

    let mut conn = PgConnection::connect(&f.url).await.expect("connect");
    statements::prepare(&mut conn).await.expect("prepare");
    println!();
    println!(
        "a bare COMMIT of a one-row write (the WAL flush): {:.2} ms",
        commit_ms(&mut conn).await
    );
    for size in SIZES {
        let add = batches.add_batch(size);
        let new = batches.new_batch(size);
        println!();
        println!("statements alone, batch of {size} (median of {REPS}, ms; rolled back)");
        println!(
            "{:<46} {:>8} {:>8} {:>8}",
            "statement", "UNNEST", "per row", "COPY"
        );
        for statement in [
            Statement::OrdersInsert,
            Statement::OrdersTouch,
            Statement::LinesInsert,
            Statement::LinesUpsert,
            Statement::AuditPerOrder,
            Statement::AuditPerBatch,
            Statement::AuditPerBatchNoForeignKey,
            Statement::Idempotency,
        ] {
            let batch = if statement.of_new_orders() {
                &new
            } else {
                &add
            };
            let mut cells = Vec::new();
            for way in [Way::Unnest, Way::PerRow, Way::Copy] {
                if !statement.ways().contains(&way) {
                    cells.push(format!("{:>8}", "—"));
                    continue;
                }
                let t = statements::time(&mut conn, statement, way, batch, REPS)
                    .await
                    .expect("statement runs");
                cells.push(format!("{:>8.2}", t.as_secs_f64() * 1e3));
            }
            println!("{:<46} {}", statement.label(), cells.join(" "));
        }
    }
}

/// Median of a one-row transaction's COMMIT, in ms.
async fn commit_ms(conn: &mut PgConnection) -> f64 {
    conn.execute("CREATE TABLE IF NOT EXISTS bench_ping (at timestamptz DEFAULT now())")
        .await
        .expect("ping table");
    let mut times = Vec::new();
    for _ in 0..REPS {
        let mut tx = conn.begin().await.expect("begin");
        tx.execute("INSERT INTO bench_ping DEFAULT VALUES")
            .await
            .expect("ping");
        let t = Instant::now();
        tx.commit().await.expect("commit");
        times.push(t.elapsed());
    }
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}
