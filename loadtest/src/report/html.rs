//! `--html FILE`: one self-contained page (inline CSS and SVG, no script,
//! no network) with, per run, throughput and latency percentiles over time,
//! the latency and push-lag distributions, the chart offer's availability
//! as watchers saw it against the database, and CPU use; for `compare`, the
//! table and bar charts of the ratios. The JSON report is embedded too.

use std::fmt::Write as _;

use super::svg::{bars, esc, line_chart, spectrum_ticks, spectrum_x, Series};
use super::{table, Report, RunReport};

const BLUE: &str = "#1f77b4";
const ORANGE: &str = "#ff7f0e";
const GREEN: &str = "#2ca02c";
const RED: &str = "#d62728";
const PURPLE: &str = "#9467bd";
const GREY: &str = "#7f7f7f";

fn spectrum(points: &[[f64; 2]]) -> Vec<(f64, f64)> {
    points.iter().map(|p| (spectrum_x(p[0]), p[1])).collect()
}

fn run_section(r: &RunReport, n: usize) -> String {
    let mut s = String::new();
    let passed = r.checks_passed();
    let _ = write!(
        s,
        r#"<section><h2 id="run{n}">{} · {} · {} customers <span class="{}">{}</span></h2>"#,
        esc(&r.system),
        esc(&r.case),
        r.load.customers,
        if passed { "ok" } else { "bad" },
        if passed { "checks pass" } else { "checks FAIL" }
    );
    let _ = write!(s, "<pre>{}</pre>", esc(&table::run(r)));
    let t: Vec<f64> = r.timeline.iter().map(|x| x.t_s).collect();
    let pick = |f: &dyn Fn(&super::SecondReport) -> f64| -> Vec<(f64, f64)> {
        t.iter().copied().zip(r.timeline.iter().map(f)).collect()
    };
    s.push_str(&line_chart(
        "Throughput over time (orders answered per second)",
        "seconds",
        "orders / s",
        &[
            Series::line("accepted", GREEN, pick(&|x| x.accepted as f64)),
            Series::line("refused", ORANGE, pick(&|x| x.refused as f64)),
            Series::line("failed", RED, pick(&|x| x.failed as f64)),
        ],
        None,
        false,
    ));
    s.push_str(&line_chart(
        "Order latency percentiles over time",
        "seconds",
        "ms",
        &[
            Series::line("p50", BLUE, pick(&|x| x.p50_ms)),
            Series::line("p99", ORANGE, pick(&|x| x.p99_ms)),
            Series::line("max", RED, pick(&|x| x.max_ms)),
        ],
        None,
        false,
    ));
    s.push_str(&line_chart(
        "Order latency distribution (percentile spectrum)",
        "percentile",
        "ms",
        &[Series::line(
            "latency",
            BLUE,
            spectrum(&r.latency_spectrum_ms),
        )],
        Some(spectrum_ticks()),
        false,
    ));
    if r.push_lag_ms.is_some() {
        s.push_str(&line_chart(
            "Push lag distribution (201 → watcher shows it)",
            "percentile",
            "ms",
            &[Series::line(
                "push lag",
                PURPLE,
                spectrum(&r.push_lag_spectrum_ms),
            )],
            Some(spectrum_ticks()),
            false,
        ));
    }
    if let Some(a) = &r.availability {
        let pts = |v: &[[f64; 2]]| v.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>();
        let mut series = vec![Series {
            step: true,
            ..Series::line("database", BLUE, pts(&a.database))
        }];
        if !a.watchers_min.is_empty() {
            series.push(Series {
                step: true,
                ..Series::line("watchers (lowest)", GREEN, pts(&a.watchers_min))
            });
            series.push(Series {
                step: true,
                ..Series::line("watchers (highest)", ORANGE, pts(&a.watchers_max))
            });
        }
        series.push(Series {
            dashed: true,
            step: true,
            ..Series::line("acknowledged", GREY, pts(&a.acknowledged))
        });
        s.push_str(&line_chart(
            &format!("Availability of offer {} (stock {})", a.offer_id, a.stock),
            "seconds",
            "units available",
            &series,
            None,
            true,
        ));
    }
    if !r.resources.is_empty() {
        let colors = [BLUE, ORANGE, GREEN, PURPLE];
        let series: Vec<Series> = r
            .resources
            .iter()
            .zip(colors.iter().cycle())
            .map(|((name, u), color)| {
                Series::line(
                    name,
                    color,
                    u.samples.iter().map(|p| (p[0], p[1])).collect(),
                )
            })
            .collect();
        s.push_str(&line_chart(
            "CPU (% of one core)",
            "seconds",
            "%",
            &series,
            None,
            false,
        ));
    }
    s.push_str("</section>");
    s
}

/// The page.
pub fn render(report: &Report) -> String {
    let mut s = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>etal load test</title>
<style>body{font-family:sans-serif;max-width:820px;margin:2em auto;color:#222}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
.ok{color:#2ca02c;font-size:.7em}.bad{color:#d62728;font-size:.7em}svg{margin:.5em 0;display:block}</style>
</head><body>"#,
    );
    let overall = report.checks_passed && report.thresholds_passed;
    let _ = write!(
        s,
        r#"<h1>etal load test — {} <span class="{}">{}</span></h1><p>{} · {} CPUs · schema {}</p>"#,
        esc(&report.command),
        if overall { "ok" } else { "bad" },
        if overall { "pass" } else { "FAIL" },
        esc(&report.started_at),
        report.cpus,
        report.schema
    );
    if !report.comparison.is_empty() {
        s.push_str("<h2>etal against the row-locking baseline</h2><table><tr><th>case</th><th>customers</th><th>etal orders/s</th><th>etal p99 ms</th><th>baseline orders/s</th><th>baseline p99 ms</th><th>throughput ×</th><th>p99 ÷</th><th>etal with holds orders/s</th><th>with holds ÷ without</th><th>checks</th></tr>");
        let or_dash =
            |v: Option<f64>, digits: usize| v.map_or("—".to_owned(), |v| format!("{v:.digits$}"));
        for r in &report.comparison {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.2}</td><td>{:.0}</td><td>{:.2}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.case),
                r.customers,
                r.etal_orders_per_s,
                r.etal_p99_ms,
                r.baseline_orders_per_s,
                r.baseline_p99_ms,
                r.throughput_ratio,
                r.p99_ratio,
                or_dash(r.etal_holds_orders_per_s, 0),
                or_dash(r.holds_ratio, 2),
                if r.checks_passed { "pass" } else { "FAIL" }
            );
        }
        s.push_str("</table>");
        let cats: Vec<String> = report
            .comparison
            .iter()
            .map(|r| format!("{} ×{}", r.case, r.customers))
            .collect();
        s.push_str(&bars(
            "Durable orders per second",
            "orders / s",
            &cats,
            &[
                (
                    "etal",
                    BLUE,
                    report
                        .comparison
                        .iter()
                        .map(|r| r.etal_orders_per_s)
                        .collect(),
                ),
                (
                    "baseline",
                    ORANGE,
                    report
                        .comparison
                        .iter()
                        .map(|r| r.baseline_orders_per_s)
                        .collect(),
                ),
            ],
        ));
        s.push_str(&bars(
            "p99 latency (ms)",
            "ms",
            &cats,
            &[
                (
                    "etal",
                    BLUE,
                    report.comparison.iter().map(|r| r.etal_p99_ms).collect(),
                ),
                (
                    "baseline",
                    ORANGE,
                    report
                        .comparison
                        .iter()
                        .map(|r| r.baseline_p99_ms)
                        .collect(),
                ),
            ],
        ));
    }
    if !report.thresholds.is_empty() {
        s.push_str("<h2>Thresholds</h2><ul>");
        for v in &report.thresholds {
            let _ = write!(
                s,
                "<li>{} [{}]: <b>{}</b> ({})</li>",
                esc(&v.expr),
                esc(&v.scope),
                if v.passed { "pass" } else { "FAIL" },
                v.observed
                    .map_or("not measured".into(), |o| format!("{o:.3}"))
            );
        }
        s.push_str("</ul>");
    }
    for (n, r) in report.runs.iter().enumerate() {
        s.push_str(&run_section(r, n));
    }
    let json = serde_json::to_string(report).unwrap_or_default();
    let _ = write!(
        s,
        r#"<script type="application/json" id="report">{}</script></body></html>"#,
        json.replace("</", "<\\/")
    );
    s
}
