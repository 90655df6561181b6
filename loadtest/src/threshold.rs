//! `--threshold 'p99<20ms'`: limits that set the exit code, for CI.
//!
//! Grammar: `<metric><op><number>[unit]`, op one of `<`, `<=`, `>`, `>=`.
//! Metrics (see [`METRICS`]): order latency `p50 p90 p99 p99.9 max mean`
//! and push lag `push_p50 push_p99 push_max` (units `us`, `ms` — the
//! default — or `s`); `rate` (acknowledged orders per second); counts
//! `errors refused dropped oversold lost`; `error_rate` (percent of
//! orders, unit `%` optional); with `--waiting-room`, `unadmitted` (stock
//! taken without admission) and `admission_p99 admission_max` (time to
//! admission, durations); in `compare`, `throughput_ratio`, `p99_ratio`
//! (baseline p99 / etal p99) and, with `--hold`, `holds_ratio` (etal's
//! throughput with holds / without).

use serde::Serialize;

/// Metric names understood, with whether they are durations.
pub const METRICS: [(&str, bool); 22] = [
    ("p50", true),
    ("p90", true),
    ("p99", true),
    ("p99.9", true),
    ("max", true),
    ("mean", true),
    ("push_p50", true),
    ("push_p99", true),
    ("push_max", true),
    ("rate", false),
    ("errors", false),
    ("refused", false),
    ("dropped", false),
    ("oversold", false),
    ("lost", false),
    ("error_rate", false),
    ("unadmitted", false),
    ("admission_p99", true),
    ("admission_max", true),
    ("throughput_ratio", false),
    ("p99_ratio", false),
    ("holds_ratio", false),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parsed limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub expr: String,
    pub metric: String,
    cmp: Cmp,
    /// In the metric's unit (ms for durations).
    pub value: f64,
}

/// A limit checked against a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub expr: String,
    /// Which run (or comparison case) it was checked against.
    pub scope: String,
    pub observed: Option<f64>,
    pub passed: bool,
}

impl Threshold {
    pub fn parse(expr: &str) -> Result<Self, String> {
        let text: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
        let (pos, op_len, cmp) = [
            ("<=", Cmp::Le),
            (">=", Cmp::Ge),
            ("<", Cmp::Lt),
            (">", Cmp::Gt),
        ]
        .iter()
        .find_map(|(op, cmp)| text.find(op).map(|p| (p, op.len(), *cmp)))
        .ok_or_else(|| format!("{expr}: expected <metric><op><value>, e.g. p99<20ms"))?;
        let metric = text[..pos].to_ascii_lowercase();
        let metric = if metric == "p999" {
            "p99.9".to_owned()
        } else {
            metric
        };
        let Some(&(_, duration)) = METRICS.iter().find(|(m, _)| *m == metric) else {
            let known: Vec<&str> = METRICS.iter().map(|m| m.0).collect();
            return Err(format!(
                "{expr}: unknown metric {metric:?} (known: {})",
                known.join(", ")
            ));
        };
        let raw = &text[pos + op_len..];
        let split = raw
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(raw.len());
        let (number, unit) = raw.split_at(split);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("{expr}: {number:?} is not a number"))?;
        let factor = match (duration, unit) {
            (true, "" | "ms") => 1.0,
            (true, "us" | "µs") => 0.001,
            (true, "s") => 1000.0,
            (false, "" | "%" | "/s") => 1.0,
            (false, "x") => 1.0,
            _ => return Err(format!("{expr}: unit {unit:?} does not fit {metric}")),
        };
        Ok(Self {
            expr: expr.to_owned(),
            metric,
            cmp,
            value: number * factor,
        })
    }

    /// Checks the limit against `observed` (`None`: not measured → fails).
    pub fn check(&self, scope: &str, observed: Option<f64>) -> Verdict {
        let passed = observed.is_some_and(|v| match self.cmp {
            Cmp::Lt => v < self.value,
            Cmp::Le => v <= self.value,
            Cmp::Gt => v > self.value,
            Cmp::Ge => v >= self.value,
        });
        Verdict {
            expr: self.expr.clone(),
            scope: scope.to_owned(),
            observed,
            passed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_latency_limits_with_units() {
        let t = Threshold::parse("p99<20ms").unwrap();
        assert_eq!((t.metric.as_str(), t.value), ("p99", 20.0));
        assert_eq!(Threshold::parse("max <= 1.5s").unwrap().value, 1500.0);
        assert_eq!(Threshold::parse("p99.9<500us").unwrap().value, 0.5);
        assert_eq!(Threshold::parse("p999<5").unwrap().metric, "p99.9");
        assert_eq!(Threshold::parse("error_rate<1%").unwrap().value, 1.0);
        assert_eq!(Threshold::parse("rate>=1000/s").unwrap().value, 1000.0);
    }

    #[test]
    fn refuses_nonsense() {
        assert!(Threshold::parse("p99").is_err());
        assert!(Threshold::parse("speed<3")
            .unwrap_err()
            .contains("unknown metric"));
        assert!(Threshold::parse("p99<fast").is_err());
        assert!(Threshold::parse("rate>5ms").is_err());
    }

    #[test]
    fn checks_pass_and_fail() {
        let t = Threshold::parse("p99<20ms").unwrap();
        assert!(t.check("etal", Some(19.9)).passed);
        assert!(!t.check("etal", Some(20.0)).passed);
        assert!(!t.check("etal", None).passed, "unmeasured fails");
        let r = Threshold::parse("rate>=100").unwrap();
        assert!(r.check("etal", Some(100.0)).passed);
    }
}
