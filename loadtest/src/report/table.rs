//! The final table printed on stdout, and the comparison as a Markdown
//! table (ready to paste into a README).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{CompareRow, Report, RunReport};
use crate::record::LatencySummary;

fn reasons(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(" ({})", parts.join(", "))
}

fn latency(l: &LatencySummary) -> String {
    format!(
        "p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2} ms",
        l.p50, l.p90, l.p99, l.p999, l.max
    )
}

/// One run as a block of lines.
pub fn run(r: &RunReport) -> String {
    let mut s = String::new();
    let model = match (r.load.rate_start, r.load.rate_end) {
        (Some(a), Some(b)) if (a - b).abs() < 1e-9 => {
            format!("open {a:.0}/s, {} customers", r.load.customers)
        }
        (Some(a), Some(b)) => format!("open {a:.0}→{b:.0}/s, {} customers", r.load.customers),
        _ => format!("closed, {} customers", r.load.customers),
    };
    let _ = writeln!(
        s,
        "── {} · {} · {} · {:.1} s · started on {}",
        r.system, r.case, model, r.duration_s, r.open_signal
    );
    for (name, op) in &r.operations {
        if op.sent == 0 {
            continue;
        }
        let refused: u64 = op.refused.values().sum();
        let failed: u64 = op.failed.values().sum();
        let _ = writeln!(
            s,
            "  {name:<8} sent {:>8}  accepted {:>8}  refused {:>6}{}  failed {}{}  retries {}",
            op.sent,
            op.accepted,
            refused,
            reasons(&op.refused),
            failed,
            reasons(&op.failed),
            op.retries
        );
        let _ = writeln!(s, "  {:<8} latency   {}", "", latency(&op.latency_ms));
        if r.load.model == "open" {
            let _ = writeln!(s, "  {:<8} service   {}", "", latency(&op.service_time_ms));
        }
    }
    let _ = writeln!(
        s,
        "  throughput {:.0} acknowledged orders/s, {:.0} requests/s; iterations {} (dropped {}, unfinished {})",
        r.accepted_orders_per_s, r.requests_per_s, r.iterations, r.dropped_iterations, r.unfinished
    );
    if r.watchers.asked > 0 {
        let _ = writeln!(
            s,
            "  watchers {}/{} connected ({} at the end), {} connections lost, {} made again, {} frames, {} snapshots{}",
            r.watchers.connected,
            r.watchers.asked,
            r.watchers.connected_at_end,
            r.watchers.disconnected,
            r.watchers.reconnected,
            r.watchers.frames,
            r.watchers.snapshots,
            reasons(&r.watchers.errors)
        );
    }
    if let Some(p) = &r.push_lag_ms {
        let _ = writeln!(
            s,
            "  push lag p50 {:.2}  p99 {:.2}  max {:.2} ms over {} (ack, watcher) pairs; {} before the ack, {} never{}",
            p.summary.p50,
            p.summary.p99,
            p.summary.max,
            p.summary.count,
            p.before_ack,
            p.never,
            if p.approximate { " (approximate)" } else { "" }
        );
    }
    if let Some(p) = &r.push_lag_arrival_ms {
        let _ = writeln!(
            s,
            "           at arrival p50 {:.2}  p99 {:.2}  max {:.2} ms (kernel receive time: without the tester's own queueing)",
            p.summary.p50, p.summary.p99, p.summary.max,
        );
    }
    if let Some(delay) = r.sale_opened_delay_ms {
        let _ = writeln!(
            s,
            "  sale_opened arrived {delay:.0} ms after orders_open_at"
        );
    }
    let _ = writeln!(
        s,
        "  machine load average {:.1} before, {:.1} after ({} CPUs)",
        r.load_average[0],
        r.load_average[1],
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for (name, u) in &r.resources {
        let _ = writeln!(
            s,
            "  {name:<10} cpu avg {:.0}% max {:.0}% (of one core), memory max {:.0} MB, at the end {:.0} MB",
            u.cpu_avg_pct, u.cpu_max_pct, u.mem_max_mb, u.mem_last_mb
        );
    }
    if let Some(f) = &r.failover {
        let unavailable = f
            .unavailable_ms
            .map_or("no order accepted after it".to_owned(), |ms| {
                format!("{ms:.0} ms")
            });
        let _ = writeln!(
            s,
            "  failover: killed {} (pid {}) at {:.1} s; ordering unavailable {unavailable}{}",
            f.killed_url.as_deref().unwrap_or("nothing"),
            f.killed_pid.map_or("-".to_owned(), |p| p.to_string()),
            f.killed_at_s,
            f.error
                .as_ref()
                .map_or(String::new(), |e| format!(" ({e})")),
        );
    }
    for c in &r.checks {
        let mark = match (c.passed, c.gating) {
            (true, _) => "ok  ",
            (false, true) => "FAIL",
            (false, false) => "warn",
        };
        let _ = writeln!(s, "  [{mark}] {} = {} — {}", c.name, c.value, c.detail);
    }
    s
}

/// The comparison as a Markdown table.
pub fn comparison(rows: &[CompareRow]) -> String {
    let mut s = String::from(
        "| case | customers | etal orders/s | etal p99 (ms) | baseline orders/s | baseline p99 (ms) | throughput ratio | p99 ratio | checks |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.2} | {:.0} | {:.2} | {:.1}× | {:.1}× | {} |",
            r.case,
            r.customers,
            r.etal_orders_per_s,
            r.etal_p99_ms,
            r.baseline_orders_per_s,
            r.baseline_p99_ms,
            r.throughput_ratio,
            r.p99_ratio,
            if r.checks_passed { "pass" } else { "FAIL" }
        );
    }
    s
}

/// The whole report.
pub fn render(report: &Report) -> String {
    let mut s = String::new();
    for r in &report.runs {
        s.push_str(&run(r));
        s.push('\n');
    }
    if !report.comparison.is_empty() {
        s.push_str(&comparison(&report.comparison));
        s.push('\n');
    }
    for v in &report.thresholds {
        let observed = v
            .observed
            .map_or("not measured".to_owned(), |o| format!("{o:.3}"));
        let _ = writeln!(
            s,
            "threshold {} [{}]: {} ({})",
            v.expr,
            v.scope,
            if v.passed { "pass" } else { "FAIL" },
            observed
        );
    }
    let _ = writeln!(
        s,
        "checks: {}   thresholds: {}",
        if report.checks_passed { "pass" } else { "FAIL" },
        if report.thresholds_passed {
            "pass"
        } else {
            "FAIL"
        }
    );
    s
}
