//! Running one measured load against a target and turning what was
//! recorded into a [`RunReport`]. The etal run ([`etal`]) and the baseline
//! run ([`baseline`]) differ only in set-up, watchers and checks; the
//! measuring (load model, live progress, resource and availability
//! sampling) is shared here.

pub mod baseline;
pub mod etal;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use crate::checkout::RetryPolicy;
use crate::dbview::{self, System};
use crate::model::{drive, LoadModel, LoadSpec};
use crate::procstat::{Group, Sampler, Usage};
use crate::pushlag::{acknowledged_level, Observed};
use crate::record::{now_us, spectrum, AckEvent, LatencySummary, Op, Recorder};
use crate::report::{
    AvailabilityReport, LoadReport, OpReport, RunReport, ScenarioReport, SecondReport,
};
use crate::scenario::ScenarioSpec;
use crate::watchers::{WatchShared, UNKNOWN, UNLIMITED};
use crate::workload::Workload;

/// What a run is asked to do.
#[derive(Clone)]
pub struct RunOptions {
    pub case: String,
    pub spec: ScenarioSpec,
    pub load: LoadSpec,
    pub watchers: usize,
    pub retry: RetryPolicy,
    /// How long after set-up the sale opens.
    pub open_in: Duration,
    /// Longest wait, after the load, for watchers to show the database's values.
    pub settle: Duration,
    pub seed: u64,
    pub quiet: bool,
    pub push_lag_samples: usize,
    /// Ctrl-C.
    pub stop: watch::Receiver<bool>,
}

/// Where the availability chart samples come from.
pub struct ChartProbe {
    pub pool: PgPool,
    pub system: System,
    pub offer_id: Uuid,
    pub offer: usize,
    pub watchers: Option<Arc<WatchShared>>,
}

/// One availability sample: time (µs), database, lowest and highest watcher value.
pub type ChartSample = (u64, Option<i64>, Option<i64>, Option<i64>);

/// What measuring produced besides the recorder.
pub struct Measured {
    /// 1-minute load average before and after.
    pub load_average: [f64; 2],
    pub start_us: u64,
    pub end_us: u64,
    pub chart: Vec<ChartSample>,
    pub resources: Vec<(String, Usage)>,
    pub unfinished: usize,
}

/// Runs the load with progress, resource and chart sampling.
pub async fn measure(
    workload: Arc<Workload>,
    opts: &RunOptions,
    probe: Option<ChartProbe>,
    groups: Vec<(String, Group)>,
) -> Measured {
    let rec = workload.rec.clone();
    let load_before = crate::procstat::load_average();
    let start_us = now_us();
    if let Ok(mut r) = rec.lock() {
        r.start_us = start_us;
    }
    let sampler = Sampler::start(groups, Duration::from_millis(500));
    let (done_tx, done_rx) = watch::channel(false);
    let chart = tokio::spawn(chart_task(probe, done_rx.clone()));
    let progress = tokio::spawn(progress_task(
        rec.clone(),
        opts.load.duration,
        opts.quiet,
        done_rx,
    ));
    drive(
        &opts.load,
        rec.clone(),
        opts.stop.clone(),
        workload.iteration_fn(),
    )
    .await;
    let end_us = now_us();
    let _ = done_tx.send(true);
    let unfinished = workload.mark_unfinished();
    let _ = progress.await;
    Measured {
        load_average: [load_before, crate::procstat::load_average()],
        start_us,
        end_us,
        chart: chart.await.unwrap_or_default(),
        resources: sampler.finish().await,
        unfinished,
    }
}

async fn chart_task(
    probe: Option<ChartProbe>,
    mut done: watch::Receiver<bool>,
) -> Vec<ChartSample> {
    let Some(probe) = probe else {
        return Vec::new();
    };
    let mut samples = Vec::new();
    loop {
        let t = now_us();
        let db = dbview::available_now(&probe.pool, probe.system, probe.offer_id).await;
        let (lo, hi) = probe.watchers.as_ref().map_or((None, None), |w| {
            let values: Vec<i64> = w
                .values_of(probe.offer)
                .into_iter()
                .filter(|v| *v != UNKNOWN && *v != UNLIMITED)
                .collect();
            (values.iter().min().copied(), values.iter().max().copied())
        });
        samples.push((t, db, lo, hi));
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = done.changed() => break,
        }
    }
    samples
}

/// Prints a progress line every second (on a terminal, in place).
async fn progress_task(
    rec: Arc<Mutex<Recorder>>,
    duration: Duration,
    quiet: bool,
    mut done: watch::Receiver<bool>,
) {
    if quiet {
        let _ = done.changed().await;
        return;
    }
    let tty = std::io::stderr().is_terminal();
    let mut last_accepted = 0u64;
    let mut tick = 0u64;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = done.changed() => break,
        }
        tick += 1;
        let line = {
            let Ok(r) = rec.lock() else { break };
            let elapsed = now_us().saturating_sub(r.start_us) as f64 / 1e6;
            let orders = r.op(Op::Order);
            let (_, refused, failed) = r.totals();
            let rate = orders.accepted.saturating_sub(last_accepted);
            last_accepted = orders.accepted;
            let p99 = r
                .timeline
                .len()
                .checked_sub(2)
                .and_then(|i| r.timeline.get(i))
                .map_or(0.0, |s| s.latency.value_at_quantile(0.99) as f64 / 1000.0);
            format!(
                "[{elapsed:5.1}/{:.0}s] {rate:>7} orders/s  p99 {p99:7.2} ms  accepted {:>9}  refused {refused:>7}  errors {failed:>5}  dropped {}",
                duration.as_secs_f64(),
                orders.accepted,
                r.dropped
            )
        };
        if tty {
            eprint!("\r{line}");
        } else if tick % 5 == 0 {
            eprintln!("{line}");
        }
    }
    if tty {
        eprintln!();
    }
}

fn scenario_report(spec: &ScenarioSpec, retry: &RetryPolicy) -> ScenarioReport {
    ScenarioReport {
        producers: spec.producers,
        offers: spec.offers,
        hot_offers: spec.hot_offers,
        hot_stock: spec.hot_stock,
        stock: spec.stock,
        basket_lines: [spec.basket_lines.0, spec.basket_lines.1],
        quantity: [spec.quantity.0, spec.quantity.1],
        hot_share: spec.hot_share,
        multi_producer_share: spec.multi_producer_share,
        change_share: spec.change_share,
        cancel_share: spec.cancel_share,
        think_ms: [
            spec.think.0.as_secs_f64() * 1000.0,
            spec.think.1.as_secs_f64() * 1000.0,
        ],
        max_order_lines: spec.max_order_lines,
        retries: retry.retries,
        idempotency_keys: retry.idempotency_keys,
    }
}

fn load_report(load: &LoadSpec, duration_s: f64) -> LoadReport {
    match &load.model {
        LoadModel::Closed { customers } => LoadReport {
            model: "closed".into(),
            customers: *customers,
            rate_start: None,
            rate_end: None,
            duration_s,
        },
        LoadModel::Open {
            customers,
            rate_start,
            rate_end,
            ..
        } => LoadReport {
            model: "open".into(),
            customers: *customers,
            rate_start: Some(*rate_start),
            rate_end: Some(*rate_end),
            duration_s,
        },
    }
}

/// The figures every run reports, from the recorder and the measurement.
pub fn base_report(system: System, opts: &RunOptions, rec: &Recorder, m: &Measured) -> RunReport {
    let duration_s = (m.end_us.saturating_sub(m.start_us) as f64 / 1e6).max(1e-3);
    let mut operations = BTreeMap::new();
    for op in Op::ALL {
        let s = rec.op(op);
        operations.insert(
            op.name().to_owned(),
            OpReport {
                sent: s.sent,
                accepted: s.accepted,
                refused: s.refused.clone(),
                failed: s.failed.clone(),
                retries: s.retries,
                latency_ms: LatencySummary::of(&s.latency),
                service_time_ms: LatencySummary::of(&s.service),
            },
        );
    }
    let sent: u64 = Op::ALL.iter().map(|op| rec.op(*op).sent).sum();
    let timeline = rec
        .timeline
        .iter()
        .enumerate()
        .filter(|(i, _)| (*i as f64) < duration_s - 0.5)
        .map(|(i, s)| SecondReport {
            t_s: i as f64 + 0.5,
            accepted: s.accepted,
            refused: s.refused,
            failed: s.failed,
            p50_ms: s.latency.value_at_quantile(0.5) as f64 / 1000.0,
            p99_ms: s.latency.value_at_quantile(0.99) as f64 / 1000.0,
            max_ms: s.latency.max() as f64 / 1000.0,
        })
        .collect();
    RunReport {
        system: system.name().to_owned(),
        case: opts.case.clone(),
        scenario: scenario_report(&opts.spec, &opts.retry),
        load: load_report(&opts.load, opts.load.duration.as_secs_f64()),
        duration_s,
        open_signal: "immediately".into(),
        sale_opened_delay_ms: None,
        accepted_orders_per_s: rec.op(Op::Order).accepted as f64 / duration_s,
        requests_per_s: sent as f64 / duration_s,
        operations,
        iterations: rec.iterations,
        dropped_iterations: rec.dropped,
        unfinished: m.unfinished,
        push_lag_ms: None,
        push_lag_arrival_ms: None,
        watchers: Default::default(),
        checks: Vec::new(),
        resources: m.resources.iter().cloned().collect(),
        load_average: m.load_average,
        timeline,
        availability: None,
        latency_spectrum_ms: spectrum(&rec.op(Op::Order).latency),
        push_lag_spectrum_ms: Vec::new(),
        failover: None,
    }
}

/// The availability chart's series, in units and seconds from the start.
pub fn availability(
    m: &Measured,
    acks: &[AckEvent],
    offer_id: Uuid,
    obs: &Observed,
) -> AvailabilityReport {
    let t = |us: u64| us.saturating_sub(m.start_us) as f64 / 1e6;
    let u = |milli: i64| milli as f64 / 1000.0;
    let times: Vec<u64> = m.chart.iter().map(|s| s.0).collect();
    let acked = acknowledged_level(acks, obs, &times);
    AvailabilityReport {
        offer_id: offer_id.to_string(),
        stock: u(obs.stock),
        database: m
            .chart
            .iter()
            .filter_map(|s| s.1.map(|v| [t(s.0), u(v)]))
            .collect(),
        watchers_min: m
            .chart
            .iter()
            .filter_map(|s| s.2.map(|v| [t(s.0), u(v)]))
            .collect(),
        watchers_max: m
            .chart
            .iter()
            .filter_map(|s| s.3.map(|v| [t(s.0), u(v)]))
            .collect(),
        acknowledged: times
            .iter()
            .zip(acked)
            .map(|(&tt, v)| [t(tt), u(v)])
            .collect(),
    }
}
