//! The report of a command: the data behind `--json FILE` (schema
//! `etal-loadtest/1`, documented in `loadtest/README.md`), the final table
//! and `--html FILE`. Every figure is computed once, here, and the three
//! outputs only present it.

pub mod html;
pub mod svg;
pub mod table;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::checks::Check;
use crate::procstat::Usage;
use crate::pushlag::PushLag;
use crate::record::LatencySummary;
use crate::threshold::{Threshold, Verdict};

pub const SCHEMA: &str = "etal-loadtest/1";

/// Everything one command produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub command: String,
    pub started_at: String,
    pub cpus: usize,
    pub runs: Vec<RunReport>,
    pub comparison: Vec<CompareRow>,
    pub thresholds: Vec<Verdict>,
    /// Every gating check passed.
    pub checks_passed: bool,
    /// Every threshold passed.
    pub thresholds_passed: bool,
}

/// The scenario as run.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub producers: usize,
    pub offers: usize,
    pub hot_offers: usize,
    pub hot_stock: u64,
    pub stock: Option<u64>,
    pub basket_lines: [usize; 2],
    pub quantity: [u32; 2],
    pub hot_share: f64,
    pub multi_producer_share: f64,
    pub change_share: f64,
    pub cancel_share: f64,
    pub think_ms: [f64; 2],
    pub max_order_lines: usize,
    pub retries: u32,
    pub idempotency_keys: bool,
}

/// The load model as run.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// `closed` or `open`.
    pub model: String,
    pub customers: usize,
    pub rate_start: Option<f64>,
    pub rate_end: Option<f64>,
    pub duration_s: f64,
}

/// One operation's answers and latencies.
#[derive(Debug, Clone, Serialize)]
pub struct OpReport {
    pub sent: u64,
    pub accepted: u64,
    pub refused: BTreeMap<String, u64>,
    pub failed: BTreeMap<String, u64>,
    pub retries: u64,
    /// From the intended start (coordinated omission corrected).
    pub latency_ms: LatencySummary,
    /// From the first send.
    pub service_time_ms: LatencySummary,
}

/// Push lag figures (see `pushlag.rs` for the definition).
#[derive(Debug, Clone, Serialize)]
pub struct PushLagReport {
    #[serde(flatten)]
    pub summary: LatencySummary,
    pub measured: u64,
    pub before_ack: u64,
    pub never: u64,
    pub acks_sampled: u64,
    pub approximate: bool,
}

impl PushLagReport {
    pub fn of(lag: &PushLag) -> Self {
        Self {
            summary: LatencySummary::of(&lag.hist),
            measured: lag.measured,
            before_ack: lag.before_ack,
            never: lag.never,
            acks_sampled: lag.acks_sampled,
            approximate: lag.approximate,
        }
    }
}

/// Watchers' connections.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WatchersReport {
    pub asked: usize,
    /// Watchers that connected at least once.
    pub connected: usize,
    /// Watchers connected when the run ended.
    pub connected_at_end: usize,
    /// Connections closed by the server or broken before the end.
    pub disconnected: usize,
    /// Connections made again after one was lost.
    pub reconnected: usize,
    pub frames: u64,
    pub snapshots: u64,
    pub errors: BTreeMap<String, u64>,
}

/// One second of the timeline (orders, by completion time).
#[derive(Debug, Clone, Serialize)]
pub struct SecondReport {
    pub t_s: f64,
    pub accepted: u64,
    pub refused: u64,
    pub failed: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The chart offer's availability over time, in units, `[t_s, value]`.
#[derive(Debug, Clone, Serialize)]
pub struct AvailabilityReport {
    pub offer_id: String,
    pub stock: f64,
    pub database: Vec<[f64; 2]>,
    pub watchers_min: Vec<[f64; 2]>,
    pub watchers_max: Vec<[f64; 2]>,
    pub acknowledged: Vec<[f64; 2]>,
}

/// One run (one system, one scenario, one load).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// `etal` or `baseline`.
    pub system: String,
    /// Preset name or `custom`.
    pub case: String,
    pub scenario: ScenarioReport,
    pub load: LoadReport,
    /// Measured from the first to the last answer.
    pub duration_s: f64,
    /// What started the customers: `sale_opened` or `orders_open_at`.
    pub open_signal: String,
    /// Delay of `sale_opened` after `orders_open_at`, when seen.
    pub sale_opened_delay_ms: Option<f64>,
    pub accepted_orders_per_s: f64,
    pub requests_per_s: f64,
    pub operations: BTreeMap<String, OpReport>,
    pub iterations: u64,
    pub dropped_iterations: u64,
    /// Iterations still running when the run was cut off.
    pub unfinished: usize,
    pub push_lag_ms: Option<PushLagReport>,
    /// The same, timed by when the frames' bytes arrived in the watchers'
    /// sockets (kernel receive stamps) rather than when the watchers read
    /// them: the tester's own queueing left out. Absent where the system
    /// gives no stamps.
    pub push_lag_arrival_ms: Option<PushLagReport>,
    pub watchers: WatchersReport,
    pub checks: Vec<Check>,
    pub resources: BTreeMap<String, Usage>,
    /// The machine's 1-minute load average before and after the load
    /// (other work on the machine skews every figure).
    pub load_average: [f64; 2],
    pub timeline: Vec<SecondReport>,
    pub availability: Option<AvailabilityReport>,
    /// `[percentile, ms]` of order latency.
    pub latency_spectrum_ms: Vec<[f64; 2]>,
    pub push_lag_spectrum_ms: Vec<[f64; 2]>,
    /// `--kill-active-after`: what was killed and how long ordering stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover: Option<crate::failover::FailoverReport>,
}

/// One case of `compare`.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub case: String,
    pub customers: usize,
    pub etal_orders_per_s: f64,
    pub etal_p99_ms: f64,
    pub baseline_orders_per_s: f64,
    pub baseline_p99_ms: f64,
    /// etal throughput / baseline throughput.
    pub throughput_ratio: f64,
    /// baseline p99 / etal p99.
    pub p99_ratio: f64,
    pub checks_passed: bool,
}

impl RunReport {
    pub fn orders(&self) -> Option<&OpReport> {
        self.operations.get("orders")
    }

    pub fn checks_passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed || !c.gating)
    }

    fn check_value(&self, name: &str) -> Option<f64> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value as f64)
    }

    /// A metric for `--threshold`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let orders = self.orders()?;
        let l = &orders.latency_ms;
        let push = self.push_lag_ms.as_ref().map(|p| &p.summary);
        let failed: u64 = orders.failed.values().sum();
        match name {
            "p50" => Some(l.p50),
            "p90" => Some(l.p90),
            "p99" => Some(l.p99),
            "p99.9" => Some(l.p999),
            "max" => Some(l.max),
            "mean" => Some(l.mean),
            "push_p50" => push.map(|p| p.p50),
            "push_p99" => push.map(|p| p.p99),
            "push_max" => push.map(|p| p.max),
            "rate" => Some(self.accepted_orders_per_s),
            "errors" => Some(failed as f64),
            "refused" => Some(orders.refused.values().sum::<u64>() as f64),
            "dropped" => Some(self.dropped_iterations as f64),
            "oversold" => self.check_value("oversold_units"),
            "lost" => self.check_value("acknowledged_missing"),
            "error_rate" => Some(if orders.sent == 0 {
                0.0
            } else {
                failed as f64 * 100.0 / orders.sent as f64
            }),
            _ => None,
        }
    }
}

impl CompareRow {
    pub fn metric(&self, name: &str) -> Option<f64> {
        match name {
            "throughput_ratio" => Some(self.throughput_ratio),
            "p99_ratio" => Some(self.p99_ratio),
            _ => None,
        }
    }
}

/// Checks every threshold against the etal runs (and the comparison rows
/// for the ratio metrics; against the baseline runs when only those ran).
pub fn judge(thresholds: &[Threshold], runs: &[RunReport], rows: &[CompareRow]) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for t in thresholds {
        if t.metric.ends_with("_ratio") {
            if rows.is_empty() {
                verdicts.push(t.check("compare", None));
            }
            for row in rows {
                verdicts.push(t.check(
                    &format!("{} x{}", row.case, row.customers),
                    row.metric(&t.metric),
                ));
            }
            continue;
        }
        let etal: Vec<&RunReport> = runs.iter().filter(|r| r.system == "etal").collect();
        let chosen: Vec<&RunReport> = if etal.is_empty() {
            runs.iter().collect()
        } else {
            etal
        };
        for run in chosen {
            let scope = format!("{} {} x{}", run.system, run.case, run.load.customers);
            verdicts.push(t.check(&scope, run.metric(&t.metric)));
        }
    }
    verdicts
}
