//! One run of the same workload as the conventional row-locking checkout
//! straight against PostgreSQL (see `checkout/baseline.rs`), with the same
//! customers, load model and database server, then the same checks
//! (without watchers: the baseline has no live push).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgPoolOptions;

use super::{availability, base_report, measure, ChartProbe, RunOptions};
use crate::checkout::baseline::BaselineTarget;
use crate::checkout::Target;
use crate::checks;
use crate::dbview::{self, System};
use crate::procstat::Group;
use crate::pushlag::Observed;
use crate::record::{now_us, Recorder};
use crate::report::RunReport;
use crate::workload::Workload;

/// Most connections the baseline opens (the server allows 300, and etal
/// keeps some of its own).
pub const MAX_POOL: usize = 240;

/// Runs the baseline and reports it. `pool_size`: connections (default:
/// one per customer, capped at [`MAX_POOL`]) — the conventional design
/// holds a connection for the whole checkout.
pub async fn run(
    database_url: &str,
    pool_size: Option<usize>,
    groups: Vec<(String, Group)>,
    opts: &RunOptions,
) -> anyhow::Result<RunReport> {
    let customers = opts.load.model.customers();
    let size = pool_size.unwrap_or(customers).clamp(1, MAX_POOL);
    let pool = PgPoolOptions::new()
        .max_connections(size as u32)
        .min_connections(size as u32)
        .acquire_timeout(Duration::from_secs(10))
        .connect(database_url)
        .await
        .context("connecting to PostgreSQL for the baseline")?;
    let layout = opts.spec.layout();
    let target = BaselineTarget::prepare(pool.clone(), &layout, customers, opts.retry)
        .await
        .context("creating the baseline schema")?;
    let offer_ids = target.offer_ids();
    // Open every connection before the clock starts, as a warm app would.
    let warm: Vec<_> = (0..size).map(|_| pool.acquire()).collect();
    let conns = futures_util::future::join_all(warm).await;
    drop(conns);

    let rec = Arc::new(Mutex::new(Recorder::new(now_us())));
    let think = matches!(opts.load.model, crate::model::LoadModel::Closed { .. });
    let workload = Arc::new(Workload::new(
        opts.spec.clone(),
        layout.clone(),
        Target::Baseline(target),
        rec.clone(),
        customers,
        think,
        opts.seed,
    ));
    let observed = layout.observed();
    let chart_offer = observed.first().copied();
    let probe_pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(database_url)
        .await?;
    let probe = chart_offer.map(|offer| ChartProbe {
        pool: probe_pool.clone(),
        system: System::Baseline,
        offer_id: offer_ids[offer],
        offer,
        watchers: None,
    });
    let measured = measure(workload, opts, probe, groups).await;

    let db = dbview::view(&probe_pool, System::Baseline, &offer_ids, None)
        .await
        .context("reading the baseline tables for the checks")?;
    let report = {
        let rec = rec
            .lock()
            .map_err(|_| anyhow::anyhow!("recorder poisoned"))?;
        let mut report = base_report(System::Baseline, opts, &rec, &measured);
        report.checks = vec![
            checks::oversold(&db.offers),
            checks::acknowledged_missing(&rec.orders, &db.orders),
            checks::unacknowledged(&rec.orders, &db.orders),
        ];
        let mut acks = rec.acks.clone();
        acks.sort_by_key(|a| a.t_us);
        if let Some(offer) = chart_offer {
            if let Some(stock) = layout.offers[offer].stock {
                let obs = Observed {
                    offer: offer as u32,
                    stock: stock as i64 * 1000,
                };
                report.availability = Some(availability(&measured, &acks, offer_ids[offer], &obs));
            }
        }
        report
    };
    pool.close().await;
    probe_pool.close().await;
    Ok(report)
}
