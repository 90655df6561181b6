//! Engine benchmarks (`cargo bench --bench engine`), on a private
//! PostgreSQL cluster under `target/bench-cluster`:
//!
//! - `offer_actor/reserve_release`: one take begun on a live offer actor's
//!   ledger and aborted (in-process message round trips);
//! - `writer/commit_100_orders`: the group-commit statement set for a batch
//!   of 100 one-line orders, i.e. committed orders per second of the writer;
//!
//! and two one-off measurements printed before them:
//!
//! - memory per idle activated offer actor (RSS delta over 20,000 actors);
//! - start-to-ready after a crash with 1,000,000 undelivered order lines,
//!   plus the first activation of the offer those lines belong to.
//!
//! The figures are written in the README; nothing here asserts on time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::System;
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etal::api::ws::messages::JsonEvents;
use etal::domain::money::Money;
use etal::domain::order::{OrderChangeKind, OrderLine};
use etal::domain::quantity::Quantity;
use etal::domain::stock::StockChange;
use etal::domain::vat::VatRate;
use etal::engine::clock::SystemClock;
use etal::engine::offer_actor::{Abort, Begin, GetStock};
use etal::engine::Engine;
use etal::store::order_writes::OrderWrite;
use etal::store::Store;
use rust_decimal::Decimal;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

#[path = "support/fixture.rs"]
mod fixture;
use fixture::{fixture, settings};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// RSS per idle activated offer actor.
async fn memory_per_offer_actor() {
    let f = fixture("bench_memory", 10, 100).await;
    let mut c = PgConnection::connect(&f.url).await.expect("connect");
    let n = 20_000;
    sqlx::query(
        "INSERT INTO offers (product_id, label, quantity, unit, price, vat_rate_id, stock_tracked, real_stock, active)
         SELECT product_id, 'o' || g, 1, 'piece', 1.00, vat_rate_id, true, 100, true
           FROM offers, generate_series(1, $1) g WHERE id = $2",
    )
    .bind(n)
    .bind(f.offer)
    .execute(&mut c)
    .await
    .expect("offers");
    let ids: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM offers")
        .fetch_all(&mut c)
        .await
        .expect("ids");
    let store = Store::connect_lazy(&f.url, 8, Duration::from_secs(10)).expect("store");
    let writer = Store::connect_lazy(&f.url, 2, Duration::from_secs(10)).expect("writer");
    let engine = Engine::start(
        store,
        writer,
        Arc::new(SystemClock),
        &settings(&f.url).engine,
        Arc::new(JsonEvents),
        etal::engine::fence::Fence::single(),
    );
    // Warm up allocator and pools with a first batch.
    for (id,) in ids.iter().take(500) {
        let _ = engine.offer(*id).send(GetStock).await;
    }
    let before = rss_kib();
    for chunk in ids[500..].chunks(500) {
        let asks = chunk.iter().map(|(id,)| engine.offer(*id).send(GetStock));
        futures_util::future::join_all(asks).await;
    }
    let after = rss_kib();
    let count = ids.len() - 500;
    println!(
        "memory: {count} idle offer actors took {} KiB of RSS, {:.2} KiB each (actors active: {})",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / count as f64,
        engine.active_actors().0
    );
    engine.stop();
}

/// Start-to-ready after a crash with 1,000,000 undelivered lines.
async fn ready_after_crash() {
    let f = fixture("bench_crash", 2_000_000, 100).await;
    let mut c = PgConnection::connect(&f.url).await.expect("connect");
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO orders (id, distribution_id, customer_id, number, status)
         SELECT gen_random_uuid(), $1, $2, 1, 'confirmed'",
    )
    .bind(f.distribution)
    .bind(f.customer)
    .execute(&mut c)
    .await
    .expect("order");
    sqlx::query(
        "INSERT INTO order_lines (order_id, offer_id, participation_id, quantity, unit_price, vat_rate)
         SELECT (SELECT id FROM orders LIMIT 1), $1, $2, 1, 12.00, 5.5 FROM generate_series(1, 1000000)",
    )
    .bind(f.offer)
    .bind(f.participation)
    .execute(&mut c)
    .await
    .expect("lines");
    c.execute("VACUUM ANALYZE order_lines")
        .await
        .expect("vacuum");
    println!(
        "crash: 1,000,000 undelivered lines written in {:?}",
        started.elapsed()
    );

    let begin = Instant::now();
    let mut s = settings(&f.url);
    s.server.listen = "127.0.0.1:0".parse().expect("addr");
    let app = etal::startup::Application::build(s).await.expect("app");
    let port = app.port();
    let engine = app.state().engine.clone();
    actix::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/ready"))
            .send()
            .await
        {
            if r.status().is_success() {
                break;
            }
        }
    }
    let ready = begin.elapsed();
    let activation = Instant::now();
    let stock = engine.offer(f.offer).send(GetStock).await.ok().flatten();
    println!(
        "crash: start to ready {ready:?}; first activation of the offer with 1,000,000 lines {:?} (ordered = {:?})",
        activation.elapsed(),
        stock.map(|s| s.ordered)
    );
    engine.stop();
}

fn benches(c: &mut Criterion) {
    let system = System::new();
    system.block_on(memory_per_offer_actor());
    system.block_on(ready_after_crash());

    let f = system.block_on(fixture("bench_actor", 100_000_000, 100));
    let (store, engine) = system.block_on(async {
        let store = Store::connect_lazy(&f.url, 8, Duration::from_secs(10)).expect("store");
        let writer_store = Store::connect_lazy(&f.url, 2, Duration::from_secs(10)).expect("writer");
        let engine = Engine::start(
            store.clone(),
            writer_store,
            Arc::new(SystemClock),
            &settings(&f.url).engine,
            Arc::new(JsonEvents),
            etal::engine::fence::Fence::single(),
        );
        (store, engine)
    });
    let actor = engine.offer(f.offer);
    system.block_on(actor.send(GetStock)).expect("loaded");

    let mut group = c.benchmark_group("offer_actor");
    group.throughput(Throughput::Elements(1));
    group.bench_function("reserve_release", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                let take = StockChange::Take {
                    quantity: Quantity::ONE,
                    from_hold: None,
                };
                for _ in 0..iters {
                    if let Ok(Ok(id)) = actor.send(Begin { change: take }).await {
                        actor.do_send(Abort { id });
                    }
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("writer");
    group.throughput(Throughput::Elements(100));
    group.sample_size(20);
    let mut number = 0;
    group.bench_function("commit_100_orders", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch: Vec<OrderWrite> = f
                    .customers
                    .iter()
                    .map(|customer| {
                        number += 1;
                        OrderWrite {
                            kind: OrderChangeKind::Create,
                            order_id: Uuid::new_v4(),
                            distribution_id: f.distribution,
                            customer_id: *customer,
                            number,
                            removed_lines: Vec::new(),
                            written_lines: vec![OrderLine {
                                id: Uuid::new_v4(),
                                offer_id: f.offer,
                                participation_id: f.participation,
                                quantity: Quantity::ONE,
                                unit_price: Money::from_rounded(Decimal::new(1200, 2))
                                    .unwrap_or(Money::ZERO),
                                vat_rate: VatRate::parse(Decimal::new(55, 1), "vat")
                                    .expect("a valid rate"),
                            }],
                            movements: vec![(f.offer, Decimal::ONE)],
                            idempotency: None,
                            at: Utc::now(),
                        }
                    })
                    .collect();
                // Cancel them (untimed) so the next batch's customers may order again.
                let start = Instant::now();
                system
                    .block_on(store.write_orders(&batch, None))
                    .expect("commit");
                total += start.elapsed();
                let cancel: Vec<OrderWrite> = batch
                    .into_iter()
                    .map(|mut w| {
                        w.kind = OrderChangeKind::Cancel;
                        w.movements.clear();
                        w
                    })
                    .collect();
                system
                    .block_on(store.write_orders(&cancel, None))
                    .expect("cancel");
            }
            total
        })
    });
    group.finish();
    engine.stop();
}

criterion_group!(engine, benches);
criterion_main!(engine);
