//! Recording what happens during a run: per operation (order, change,
//! cancel) the answers by outcome and reason and two HDR histograms of
//! latency — from the *intended* start (corrected for coordinated omission
//! in the open model; the same as the send time in the closed model) and
//! from the actual send ("service time") — plus a per-second timeline, the
//! log of acknowledged stock changes (for push lag) and the last
//! acknowledged state of every order (for the checks).
//!
//! All times are microseconds since the process epoch ([`now_us`]), one
//! clock for customers and watchers alike. The recorder sits behind a
//! `std::sync::Mutex`: every critical section is a few counter bumps.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

use hdrhistogram::Histogram;
use serde::Serialize;
use uuid::Uuid;

/// Longest latency the histograms hold, µs (two minutes).
pub const MAX_LATENCY_US: u64 = 120_000_000;

/// The process epoch, and the wall-clock time it was taken at.
fn anchor() -> (Instant, SystemTime) {
    static ANCHOR: OnceLock<(Instant, SystemTime)> = OnceLock::new();
    *ANCHOR.get_or_init(|| (Instant::now(), SystemTime::now()))
}

fn epoch() -> Instant {
    anchor().0
}

/// A wall-clock time (a kernel timestamp) as microseconds since the
/// process epoch; `None` before it.
pub fn realtime_to_us(at: SystemTime) -> Option<u64> {
    at.duration_since(anchor().1)
        .ok()
        .map(|d| d.as_micros() as u64)
}

/// Starts the process clock (call early in `main`).
pub fn init_clock() {
    let _ = epoch();
}

/// Microseconds since the process epoch.
pub fn now_us() -> u64 {
    to_us(Instant::now())
}

/// An instant as microseconds since the process epoch.
pub fn to_us(at: Instant) -> u64 {
    at.saturating_duration_since(epoch()).as_micros() as u64
}

/// A fresh latency histogram (µs, `figures` significant figures).
pub fn histogram_with(figures: u8) -> Histogram<u64> {
    // Constant, valid bounds: this cannot fail.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, figures).expect("valid histogram bounds")
}

/// A fresh latency histogram (µs, 3 significant figures).
pub fn histogram() -> Histogram<u64> {
    histogram_with(3)
}

/// What customers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Order,
    Change,
    Cancel,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Order, Op::Change, Op::Cancel];

    pub fn name(self) -> &'static str {
        match self {
            Op::Order => "orders",
            Op::Change => "changes",
            Op::Cancel => "cancels",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// How one operation ended, after retries.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done and durable (201, 200 or 204).
    Accepted,
    /// A business refusal; the problem's `code` (nothing changed).
    Refused(String),
    /// No usable answer (transport error, 5xx after the last retry): the
    /// outcome is unknown.
    Failed(String),
}

/// Counters and histograms of one operation.
pub struct OpStats {
    pub sent: u64,
    pub accepted: u64,
    pub refused: BTreeMap<String, u64>,
    pub failed: BTreeMap<String, u64>,
    pub retries: u64,
    /// From the intended start to the final answer.
    pub latency: Histogram<u64>,
    /// From the first send to the final answer.
    pub service: Histogram<u64>,
}

impl OpStats {
    fn new() -> Self {
        Self {
            sent: 0,
            accepted: 0,
            refused: BTreeMap::new(),
            failed: BTreeMap::new(),
            retries: 0,
            latency: histogram(),
            service: histogram(),
        }
    }
}

/// One second of the run (by completion time), orders only.
pub struct Second {
    pub accepted: u64,
    pub refused: u64,
    pub failed: u64,
    pub latency: Histogram<u64>,
}

/// A change of ordered units acknowledged to a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct AckEvent {
    pub t_us: u64,
    /// Offer index → signed milli-units (more ordered > 0).
    pub deltas: Vec<(u32, i64)>,
    /// False when the customer's previous state was unknown (a request
    /// without answer before), so the deltas are a guess.
    pub known: bool,
}

/// The last acknowledged state of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct AckedOrder {
    /// Offer index → milli-units, sorted by offer.
    pub lines: Vec<(u32, i64)>,
    pub cancelled: bool,
    /// False when a later request of its customer got no answer, so the
    /// database may legitimately hold a newer state.
    pub certain: bool,
}

/// Everything recorded during one run.
pub struct Recorder {
    /// When the load started (µs since epoch); the timeline counts from it.
    pub start_us: u64,
    pub ops: [OpStats; 3],
    pub timeline: Vec<Second>,
    pub acks: Vec<AckEvent>,
    pub orders: HashMap<Uuid, AckedOrder>,
    /// Open model: iterations due while every customer was busy.
    pub dropped: u64,
    /// Iterations started.
    pub iterations: u64,
    /// Accepted orders: when the try that got the 201 was sent, and when
    /// it came back (µs since epoch). For `--kill-active-after`.
    pub accepted_orders: Vec<(u64, u64)>,
}

impl Recorder {
    pub fn new(start_us: u64) -> Self {
        Self {
            start_us,
            ops: [OpStats::new(), OpStats::new(), OpStats::new()],
            timeline: Vec::new(),
            acks: Vec::new(),
            orders: HashMap::new(),
            dropped: 0,
            iterations: 0,
            accepted_orders: Vec::new(),
        }
    }

    /// The first order accepted from a try sent at or after `from_us`:
    /// how long after `from_us` its answer came (µs).
    pub fn first_accepted_sent_after(&self, from_us: u64) -> Option<u64> {
        self.accepted_orders
            .iter()
            .filter(|(sent, _)| *sent >= from_us)
            .map(|(_, done)| done.saturating_sub(from_us))
            .min()
    }

    pub fn op(&self, op: Op) -> &OpStats {
        &self.ops[op.slot()]
    }

    /// Records one finished operation.
    pub fn record(
        &mut self,
        op: Op,
        intended_us: u64,
        sent_us: u64,
        done_us: u64,
        outcome: &Outcome,
        retries: u32,
    ) {
        let latency = done_us.saturating_sub(intended_us).clamp(1, MAX_LATENCY_US);
        let service = done_us.saturating_sub(sent_us).clamp(1, MAX_LATENCY_US);
        let stats = &mut self.ops[op.slot()];
        stats.sent += 1;
        stats.retries += u64::from(retries);
        stats.latency.saturating_record(latency);
        stats.service.saturating_record(service);
        match outcome {
            Outcome::Accepted => stats.accepted += 1,
            Outcome::Refused(code) => *stats.refused.entry(code.clone()).or_default() += 1,
            Outcome::Failed(reason) => *stats.failed.entry(reason.clone()).or_default() += 1,
        }
        if op != Op::Order {
            return;
        }
        let second = (done_us.saturating_sub(self.start_us) / 1_000_000) as usize;
        while self.timeline.len() <= second {
            self.timeline.push(Second {
                accepted: 0,
                refused: 0,
                failed: 0,
                latency: histogram_with(2),
            });
        }
        let slot = &mut self.timeline[second];
        match outcome {
            Outcome::Accepted => slot.accepted += 1,
            Outcome::Refused(_) => slot.refused += 1,
            Outcome::Failed(_) => slot.failed += 1,
        }
        slot.latency.saturating_record(latency);
    }

    /// Totals over every operation: (accepted, refused, failed).
    pub fn totals(&self) -> (u64, u64, u64) {
        self.ops.iter().fold((0, 0, 0), |(a, r, f), s| {
            (
                a + s.accepted,
                r + s.refused.values().sum::<u64>(),
                f + s.failed.values().sum::<u64>(),
            )
        })
    }
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    #[serde(rename = "p99_9")]
    pub p999: f64,
    pub max: f64,
}

impl LatencySummary {
    /// From a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// Points of the percentile spectrum `[percentile, ms]` (HdrHistogram's
/// classic plot), for the reports.
pub fn spectrum(h: &Histogram<u64>) -> Vec<[f64; 2]> {
    if h.is_empty() {
        return Vec::new();
    }
    const PERCENTILES: [f64; 17] = [
        0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 97.5, 99.0, 99.5, 99.75, 99.9, 99.95, 99.99,
        99.995, 99.999, 100.0,
    ];
    PERCENTILES
        .iter()
        .map(|&p| [p, h.value_at_percentile(p) as f64 / 1000.0])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_counts_from_the_intended_start() {
        let mut rec = Recorder::new(0);
        // Intended at 0, sent 900 ms late (the customer pool was busy),
        // answered 100 ms after sending: 1 s of latency, 100 ms of service.
        rec.record(Op::Order, 0, 900_000, 1_000_000, &Outcome::Accepted, 0);
        let stats = rec.op(Op::Order);
        let latency = LatencySummary::of(&stats.latency);
        let service = LatencySummary::of(&stats.service);
        assert!((latency.max - 1000.0).abs() < 1.0, "{latency:?}");
        assert!((service.max - 100.0).abs() < 0.2, "{service:?}");
        assert_eq!(rec.timeline.len(), 2);
        assert_eq!(rec.timeline[1].accepted, 1);
    }

    #[test]
    fn outcomes_are_counted_by_reason() {
        let mut rec = Recorder::new(0);
        rec.record(
            Op::Order,
            0,
            0,
            10,
            &Outcome::Refused("insufficient_stock".into()),
            0,
        );
        rec.record(
            Op::Order,
            0,
            0,
            10,
            &Outcome::Refused("insufficient_stock".into()),
            0,
        );
        rec.record(Op::Cancel, 0, 0, 10, &Outcome::Failed("timeout".into()), 3);
        assert_eq!(rec.op(Op::Order).refused["insufficient_stock"], 2);
        assert_eq!(rec.op(Op::Cancel).failed["timeout"], 1);
        assert_eq!(rec.op(Op::Cancel).retries, 3);
        assert_eq!(rec.totals(), (0, 2, 1));
    }
}
