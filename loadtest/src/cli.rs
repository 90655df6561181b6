//! Command-line interface: `rush`, `baseline` and `compare`, with their
//! option groups (engine, scenario, load, watchers, output) and the
//! parsers for durations and ranges.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::scenario::ScenarioSpec;

#[derive(Parser)]
#[command(
    name = "loadtest",
    version,
    about = "Rush-hour load tester for etal, with correctness checks and a row-locking baseline",
    after_help = "Exit codes: 0 all checks and thresholds pass; 1 a correctness check failed; \
                  2 bad arguments; 3 the run could not be carried out; 4 a threshold failed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Rush hour against etal: set up a sale through the API, open it, order, check.
    Rush {
        #[command(flatten)]
        engine: EngineArgs,
        #[command(flatten)]
        scenario: ScenarioArgs,
        #[command(flatten)]
        load: LoadArgs,
        #[command(flatten)]
        watch: WatchArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The same workload as a conventional row-locking checkout straight on PostgreSQL.
    Baseline {
        #[command(flatten)]
        engine: EngineArgs,
        #[command(flatten)]
        scenario: ScenarioArgs,
        #[command(flatten)]
        load: LoadArgs,
        /// Database connections of the baseline (default: one per customer, at most 240).
        #[arg(long, value_name = "N")]
        pool: Option<usize>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// etal and the baseline, case by case on the same machine and database, and the ratios.
    Compare {
        #[command(flatten)]
        engine: EngineArgs,
        /// A case, `<preset>:<customers>` (repeatable; default hot:64 hot:256 spread:64 spread:256).
        #[arg(long = "case", value_name = "PRESET:CUSTOMERS", value_parser = parse_case)]
        cases: Vec<(String, usize)>,
        #[command(flatten)]
        load: LoadArgs,
        #[command(flatten)]
        watch: WatchArgs,
        /// Database connections of the baseline (default: one per customer, at most 240).
        #[arg(long, value_name = "N")]
        pool: Option<usize>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// Where the engine and its database are.
#[derive(Args, Clone)]
pub struct EngineArgs {
    /// The engine's base URL (loopback only), e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", conflicts_with = "spawn")]
    pub url: Option<String>,
    /// Another node of the same cluster (repeatable; loopback only):
    /// customers and watchers are spread over `--url` and every `--target`
    /// (the first one alone is `--url` when `--url` is not given).
    #[arg(long = "target", value_name = "URL", conflicts_with = "spawn")]
    pub targets: Vec<String>,
    /// Fault: this long after the load starts, SIGKILL the process of the
    /// active node (found through each node's `/ready`), and report how
    /// long ordering was unavailable (needs several nodes).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub kill_active_after: Option<Duration>,
    /// Start the engine (and its private PostgreSQL cluster) for this run.
    #[arg(long)]
    pub spawn: bool,
    /// The `etal` binary for --spawn (default: beside this binary).
    #[arg(long, value_name = "PATH")]
    pub etal_bin: Option<PathBuf>,
    /// The engine's database, for the checks and the baseline (default: $DATABASE_URL).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Allow a non-loopback --url / database (this tool is meant for this machine).
    #[arg(long)]
    pub allow_remote: bool,
    /// RUST_LOG of a spawned engine (request logs at `info` cost throughput).
    #[arg(long, value_name = "FILTER", default_value = "warn")]
    pub engine_log: String,
    /// Keep the spawned engine's data directory.
    #[arg(long)]
    pub keep_data: bool,
}

/// The scenario knobs (start from a preset, override what you like).
#[derive(Args, Clone)]
pub struct ScenarioArgs {
    /// Preset: `rush` (a few hot offers that sell out, mixed baskets, changes),
    /// `hot` (one offer, large stock), `spread` (1,000 offers).
    #[arg(long, default_value = "rush")]
    pub preset: String,
    #[arg(long)]
    pub producers: Option<usize>,
    #[arg(long)]
    pub offers: Option<usize>,
    #[arg(long)]
    pub hot_offers: Option<usize>,
    /// Units in stock of each hot offer.
    #[arg(long)]
    pub hot_stock: Option<u64>,
    /// Units in stock of every other offer, or `unlimited`.
    #[arg(long, value_parser = parse_stock)]
    pub stock: Option<Option<u64>>,
    /// Lines per basket, `N` or `MIN..MAX`.
    #[arg(long, value_parser = parse_range)]
    pub basket_lines: Option<(u64, u64)>,
    /// Units per line, `N` or `MIN..MAX`.
    #[arg(long, value_parser = parse_range)]
    pub quantity: Option<(u64, u64)>,
    /// Probability that a line picks a hot offer.
    #[arg(long)]
    pub hot_share: Option<f64>,
    /// Share of baskets drawn across producers.
    #[arg(long)]
    pub multi_producer_share: Option<f64>,
    /// Share of accepted orders then changed (PATCH).
    #[arg(long)]
    pub change_share: Option<f64>,
    /// Share of accepted orders then cancelled (DELETE).
    #[arg(long)]
    pub cancel_share: Option<f64>,
    /// Think time between a customer's iterations, `D` or `MIN..MAX` (closed model).
    #[arg(long, value_parser = parse_duration_range)]
    pub think: Option<(Duration, Duration)>,
    /// etal: a customer whose order has this many lines cancels it and starts anew (0: never).
    #[arg(long)]
    pub max_order_lines: Option<usize>,
}

/// The load model and its bounds.
#[derive(Args, Clone)]
pub struct LoadArgs {
    /// Customers (closed model: all concurrent; open model: the pool serving arrivals).
    #[arg(long, default_value_t = 64)]
    pub customers: usize,
    /// Open model at a constant arrival rate (iterations per second).
    #[arg(long, conflicts_with = "ramp")]
    pub rate: Option<f64>,
    /// Open model with a linear ramp, `FROM..TO` iterations per second.
    #[arg(long, value_parser = parse_rate_range)]
    pub ramp: Option<(f64, f64)>,
    /// Open model: longest wait of a due iteration for a free customer before it is dropped.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub max_delay: Duration,
    /// How long the load lasts (at most 10 min).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub duration: Duration,
    /// Stop after this many iterations.
    #[arg(long)]
    pub max_iterations: Option<u64>,
    /// Retries of a 503 or unanswered request (same Idempotency-Key).
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
    /// Send orders without `Idempotency-Key` (to measure what the key costs;
    /// retries are then unsafe).
    #[arg(long)]
    pub no_idempotency_keys: bool,
    /// Per-request timeout.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub request_timeout: Duration,
    /// The sale opens this long after set-up.
    #[arg(long, value_parser = parse_duration, default_value = "3s")]
    pub open_in: Duration,
    /// Seed of the customers' random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Storefront watchers.
#[derive(Args, Clone)]
pub struct WatchArgs {
    /// WebSocket storefront watchers (/ws/distributions/{id}).
    #[arg(long, default_value_t = 16)]
    pub watchers: usize,
    /// After the load, longest wait for watchers to show the database's values.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub settle: Duration,
    /// Acknowledgements per offer sampled for push lag.
    #[arg(long, default_value_t = 20_000)]
    pub push_lag_samples: usize,
}

/// Reports and limits.
#[derive(Args, Clone)]
pub struct OutputArgs {
    /// Write the JSON report (schema etal-loadtest/1) here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// A limit setting the exit code, e.g. 'p99<20ms', 'rate>1000', 'error_rate<1%' (repeatable).
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// No live progress line.
    #[arg(long)]
    pub quiet: bool,
}

impl ScenarioArgs {
    /// The preset with the overrides applied.
    pub fn spec(&self) -> Result<ScenarioSpec, String> {
        let mut s = ScenarioSpec::preset(&self.preset)
            .ok_or_else(|| format!("unknown preset {:?} (rush, hot, spread)", self.preset))?;
        s.producers = self.producers.unwrap_or(s.producers);
        s.offers = self.offers.unwrap_or(s.offers);
        s.hot_offers = self.hot_offers.unwrap_or(s.hot_offers);
        s.hot_stock = self.hot_stock.unwrap_or(s.hot_stock);
        s.stock = self.stock.unwrap_or(s.stock);
        if let Some((a, b)) = self.basket_lines {
            s.basket_lines = (a as usize, b as usize);
        }
        if let Some((a, b)) = self.quantity {
            s.quantity = (
                u32::try_from(a).map_err(|_| "quantity too large")?,
                u32::try_from(b).map_err(|_| "quantity too large")?,
            );
        }
        s.hot_share = self.hot_share.unwrap_or(s.hot_share);
        s.multi_producer_share = self.multi_producer_share.unwrap_or(s.multi_producer_share);
        s.change_share = self.change_share.unwrap_or(s.change_share);
        s.cancel_share = self.cancel_share.unwrap_or(s.cancel_share);
        s.think = self.think.unwrap_or(s.think);
        s.max_order_lines = self.max_order_lines.unwrap_or(s.max_order_lines);
        s.validate()?;
        Ok(s)
    }
}

/// `10s`, `250ms`, `2m`, `500us`, or seconds as a bare number.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?}: expected a duration like 10s or 250ms"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1e3,
        "us" | "µs" => n / 1e6,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (us, ms, s, m)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{s:?}: not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn split_range(s: &str) -> (&str, &str) {
    match s.split_once("..") {
        Some((a, b)) => (a, b.trim_start_matches('=')),
        None => (s, s),
    }
}

/// `N` or `MIN..MAX` (integers).
pub fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = split_range(s);
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: expected N or MIN..MAX"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: expected N or MIN..MAX"))?;
    if a > b {
        return Err(format!("{s:?}: MIN above MAX"));
    }
    Ok((a, b))
}

fn parse_duration_range(s: &str) -> Result<(Duration, Duration), String> {
    let (a, b) = split_range(s);
    Ok((parse_duration(a)?, parse_duration(b)?))
}

fn parse_rate_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = split_range(s);
    let a: f64 = a
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: expected FROM..TO"))?;
    let b: f64 = b
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: expected FROM..TO"))?;
    Ok((a, b))
}

fn parse_stock(s: &str) -> Result<Option<u64>, String> {
    if s.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| format!("{s:?}: expected a number of units or `unlimited`"))
}

fn parse_case(s: &str) -> Result<(String, usize), String> {
    let (preset, customers) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected PRESET:CUSTOMERS, e.g. hot:64"))?;
    if ScenarioSpec::preset(preset).is_none() {
        return Err(format!("{s:?}: unknown preset {preset:?}"));
    }
    let customers = customers
        .parse()
        .map_err(|_| format!("{s:?}: customers must be a number"))?;
    Ok((preset.to_owned(), customers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ranges() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_range("1..3"), Ok((1, 3)));
        assert_eq!(parse_range("2"), Ok((2, 2)));
        assert!(parse_range("3..1").is_err());
        assert_eq!(parse_stock("unlimited"), Ok(None));
        assert_eq!(parse_case("hot:64"), Ok(("hot".into(), 64)));
        assert!(parse_case("cold:64").is_err());
        assert_eq!(
            parse_duration_range("10ms..20ms"),
            Ok((Duration::from_millis(10), Duration::from_millis(20)))
        );
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "loadtest",
            "rush",
            "--spawn",
            "--preset",
            "hot",
            "--customers",
            "8",
            "--threshold",
            "p99<20ms",
        ]);
        assert!(cli.is_ok());
        assert!(Cli::try_parse_from([
            "loadtest",
            "rush",
            "--spawn",
            "--url",
            "http://127.0.0.1:1"
        ])
        .is_err());
    }
}
