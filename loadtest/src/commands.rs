//! The three commands end to end: check the arguments against this
//! machine's bounds, find or start the engine, run, stop what was started,
//! judge the thresholds and write the outputs.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::Client;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::watch;

use crate::checkout::RetryPolicy;
use crate::cli::{Command, EngineArgs, LoadArgs, OutputArgs, WatchArgs};
use crate::model::{LoadModel, LoadSpec};
use crate::procstat::Group;
use crate::report::{self, html, table, CompareRow, Report, RunReport};
use crate::run::etal::EtalEnv;
use crate::run::{self as runner, RunOptions};
use crate::safety;
use crate::scenario::ScenarioSpec;
use crate::setup::{Accounts, Api};
use crate::spawn::{find_etal, SpawnedEngine};
use crate::threshold::Threshold;

/// The engine and database a command works with.
struct Site {
    url: Option<String>,
    /// Every node: `url` first, then the other `--target`s.
    targets: Vec<String>,
    kill_active_after: Option<Duration>,
    database_url: String,
    spawned: Option<SpawnedEngine>,
}

impl Site {
    async fn open(args: &EngineArgs, need_engine: bool) -> anyhow::Result<Self> {
        if args.spawn {
            let bin = find_etal(args.etal_bin.as_deref())?;
            eprintln!(
                "loadtest: starting {} (private PostgreSQL cluster)…",
                bin.display()
            );
            let engine = SpawnedEngine::start(bin, &args.engine_log, args.keep_data).await?;
            let database_url = engine.database_url().await?;
            eprintln!(
                "loadtest: etal ready on {} (log: {})",
                engine.url(),
                engine.log_path().display()
            );
            return Ok(Self {
                url: Some(engine.url()),
                targets: vec![engine.url()],
                kill_active_after: None,
                database_url,
                spawned: Some(engine),
            });
        }
        let database_url = args
            .database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok())
            .ok_or_else(|| {
                anyhow!("the checks read the database: pass --database-url (or set DATABASE_URL), or use --spawn")
            })?;
        safety::check_database_url(&database_url, args.allow_remote)?;
        let mut targets: Vec<String> = args.url.iter().chain(&args.targets).cloned().collect();
        targets.dedup();
        for url in &targets {
            safety::check_engine_url(url, args.allow_remote)?;
        }
        if args.kill_active_after.is_some() && targets.len() < 2 {
            bail!("--kill-active-after needs the cluster's nodes: give each with --target");
        }
        let url = targets.first().cloned();
        if need_engine && url.is_none() {
            bail!("--url, --target or --spawn is required");
        }
        Ok(Self {
            url,
            targets,
            kill_active_after: args.kill_active_after,
            database_url,
            spawned: None,
        })
    }

    /// Processes to sample: the engine and PostgreSQL when spawned, and us.
    fn groups(&self) -> Vec<(String, Group)> {
        let mut groups = Vec::new();
        if let Some(engine) = &self.spawned {
            groups.push(("engine".to_owned(), Group::Pid(engine.pid)));
            if let Some(pm) = engine.postmaster_pid() {
                groups.push(("postgres".to_owned(), Group::Tree(pm)));
            }
        }
        groups.push(("loadtest".to_owned(), Group::Pid(std::process::id())));
        groups
    }

    async fn close(self) {
        if let Some(engine) = self.spawned {
            engine.stop().await;
        }
    }
}

fn load_spec(load: &LoadArgs, customers: usize) -> anyhow::Result<LoadSpec> {
    if customers == 0 || customers > safety::MAX_CUSTOMERS {
        bail!("customers must be 1..={}", safety::MAX_CUSTOMERS);
    }
    if load.duration.is_zero() || load.duration > Duration::from_secs(safety::MAX_DURATION_SECS) {
        bail!(
            "--duration must be more than 0 and at most {} s",
            safety::MAX_DURATION_SECS
        );
    }
    let rates = match (load.rate, load.ramp) {
        (Some(r), _) => Some((r, r)),
        (None, Some(ramp)) => Some(ramp),
        (None, None) => None,
    };
    let model = match rates {
        None => LoadModel::Closed { customers },
        Some((a, b)) => {
            let ok = |r: f64| r.is_finite() && (0.0..=safety::MAX_RATE).contains(&r);
            if !ok(a) || !ok(b) || a + b <= 0.0 {
                bail!(
                    "rates must be within 0..={} per second (and not both 0)",
                    safety::MAX_RATE
                );
            }
            LoadModel::Open {
                customers,
                rate_start: a,
                rate_end: b,
                max_delay: load.max_delay,
            }
        }
    };
    Ok(LoadSpec {
        model,
        duration: load.duration,
        max_iterations: load.max_iterations,
    })
}

fn client(load: &LoadArgs) -> anyhow::Result<Client> {
    Ok(Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(usize::MAX)
        .pool_idle_timeout(Duration::from_secs(90))
        .timeout(load.request_timeout)
        .connect_timeout(Duration::from_secs(5))
        .build()?)
}

#[allow(clippy::too_many_arguments)]
fn options(
    case: &str,
    spec: ScenarioSpec,
    load: &LoadArgs,
    spec_load: LoadSpec,
    watch: Option<&WatchArgs>,
    output: &OutputArgs,
    stop: &watch::Receiver<bool>,
) -> RunOptions {
    RunOptions {
        case: case.to_owned(),
        spec,
        load: spec_load,
        watchers: watch.map_or(0, |w| w.watchers),
        retry: RetryPolicy {
            retries: load.retries,
            max_backoff: Duration::from_millis(500),
            idempotency_keys: !load.no_idempotency_keys,
        },
        open_in: load.open_in,
        settle: watch.map_or(Duration::ZERO, |w| w.settle),
        seed: load.seed,
        quiet: output.quiet,
        push_lag_samples: watch.map_or(0, |w| w.push_lag_samples),
        stop: stop.clone(),
    }
}

fn check_resources(customers: usize, watchers: usize) -> anyhow::Result<()> {
    if watchers > safety::MAX_WATCHERS {
        bail!("at most {} watchers", safety::MAX_WATCHERS);
    }
    let limit = safety::raise_nofile();
    safety::check_descriptors((customers + watchers) as u64, limit)
}

/// Runs a command; returns its report.
pub async fn run(
    command: Command,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(Report, OutputArgs)> {
    let started_at = chrono::Utc::now().to_rfc3339();
    let (name, runs, rows, output) = match command {
        Command::Rush {
            engine,
            scenario,
            load,
            watch,
            output,
        } => {
            let spec = scenario.spec().map_err(|e| anyhow!(e))?;
            let load_spec = load_spec(&load, load.customers)?;
            check_resources(load.customers, watch.watchers)?;
            let opts = options(
                &scenario.preset,
                spec.clone(),
                &load,
                load_spec,
                Some(&watch),
                &output,
                &stop,
            );
            let site = Site::open(&engine, true).await?;
            let result = rush(&site, &load, &opts).await;
            site.close().await;
            ("rush", vec![result?], Vec::new(), output)
        }
        Command::Baseline {
            engine,
            scenario,
            load,
            pool,
            output,
        } => {
            let spec = scenario.spec().map_err(|e| anyhow!(e))?;
            let load_spec = load_spec(&load, load.customers)?;
            check_resources(load.customers, 0)?;
            let opts = options(
                &scenario.preset,
                spec,
                &load,
                load_spec,
                None,
                &output,
                &stop,
            );
            let site = Site::open(&engine, false).await?;
            let result =
                runner::baseline::run(&site.database_url, pool, site.groups(), &opts).await;
            site.close().await;
            ("baseline", vec![result?], Vec::new(), output)
        }
        Command::Compare {
            engine,
            cases,
            load,
            watch,
            pool,
            output,
        } => {
            let cases = if cases.is_empty() {
                vec![
                    ("hot".into(), 64),
                    ("hot".into(), 256),
                    ("spread".into(), 64),
                    ("spread".into(), 256),
                ]
            } else {
                cases
            };
            let most = cases.iter().map(|c| c.1).max().unwrap_or(1);
            check_resources(most, watch.watchers)?;
            let site = Site::open(&engine, true).await?;
            let result = compare(&site, &cases, &load, &watch, pool, &output, &stop).await;
            site.close().await;
            let (runs, rows) = result?;
            ("compare", runs, rows, output)
        }
    };
    let thresholds = output
        .thresholds
        .iter()
        .map(|t| Threshold::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!(e))?;
    let verdicts = report::judge(&thresholds, &runs, &rows);
    let report = Report {
        schema: report::SCHEMA,
        command: name.to_owned(),
        started_at,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        checks_passed: runs.iter().all(RunReport::checks_passed),
        thresholds_passed: verdicts.iter().all(|v| v.passed),
        thresholds: verdicts,
        runs,
        comparison: rows,
    };
    write_outputs(&report, &output)?;
    Ok((report, output))
}

async fn rush(site: &Site, load: &LoadArgs, opts: &RunOptions) -> anyhow::Result<RunReport> {
    let url = site.url.clone().ok_or_else(|| anyhow!("no engine URL"))?;
    let client = client(load)?;
    let api = Api::new(client.clone(), &url);
    let accounts = Accounts::ensure(&api, None, opts.load.model.customers(), opts.spec.producers)
        .await
        .context("creating accounts through the API")?;
    let env = etal_env(site, &url, client).await?;
    runner::etal::run(&env, &accounts, opts).await
}

async fn etal_env(site: &Site, url: &str, client: Client) -> anyhow::Result<EtalEnv> {
    let db = PgPoolOptions::new()
        .max_connections(4)
        .connect(&site.database_url)
        .await
        .context("connecting to the engine's database for the checks")?;
    let targets = if site.targets.is_empty() {
        vec![url.to_owned()]
    } else {
        site.targets.clone()
    };
    Ok(EtalEnv {
        base_url: url.to_owned(),
        targets,
        kill_active_after: site.kill_active_after,
        db,
        client,
        groups: site.groups(),
    })
}

#[allow(clippy::too_many_arguments)]
async fn compare(
    site: &Site,
    cases: &[(String, usize)],
    load: &LoadArgs,
    watch: &WatchArgs,
    pool: Option<usize>,
    output: &OutputArgs,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<(Vec<RunReport>, Vec<CompareRow>)> {
    let url = site.url.clone().ok_or_else(|| anyhow!("no engine URL"))?;
    let client = client(load)?;
    let api = Api::new(client.clone(), &url);
    let most = cases.iter().map(|c| c.1).max().unwrap_or(1);
    let producers = cases
        .iter()
        .filter_map(|c| ScenarioSpec::preset(&c.0))
        .map(|s| s.producers)
        .max()
        .unwrap_or(1);
    let accounts = Accounts::ensure(&api, None, most, producers).await?;
    let env = etal_env(site, &url, client).await?;
    let mut runs = Vec::new();
    let mut rows = Vec::new();
    for (preset, customers) in cases {
        if *stop.borrow() {
            break;
        }
        let spec =
            ScenarioSpec::preset(preset).ok_or_else(|| anyhow!("unknown preset {preset}"))?;
        let opts = options(
            preset,
            spec,
            load,
            load_spec(load, *customers)?,
            Some(watch),
            output,
            stop,
        );
        eprintln!("loadtest: {preset} × {customers} against etal…");
        let etal = runner::etal::run(&env, &accounts, &opts).await?;
        if !output.quiet {
            eprint!("{}", table::run(&etal));
        }
        let base_opts = RunOptions {
            watchers: 0,
            ..opts.clone()
        };
        eprintln!("loadtest: {preset} × {customers} against the baseline…");
        let base =
            runner::baseline::run(&site.database_url, pool, site.groups(), &base_opts).await?;
        if !output.quiet {
            eprint!("{}", table::run(&base));
        }
        let p99 = |r: &RunReport| r.orders().map_or(0.0, |o| o.latency_ms.p99);
        rows.push(CompareRow {
            case: preset.clone(),
            customers: *customers,
            etal_orders_per_s: etal.accepted_orders_per_s,
            etal_p99_ms: p99(&etal),
            baseline_orders_per_s: base.accepted_orders_per_s,
            baseline_p99_ms: p99(&base),
            throughput_ratio: etal.accepted_orders_per_s / base.accepted_orders_per_s.max(1e-9),
            p99_ratio: p99(&base) / p99(&etal).max(1e-9),
            checks_passed: etal.checks_passed() && base.checks_passed(),
        });
        runs.push(etal);
        runs.push(base);
    }
    Ok((runs, rows))
}

fn write_outputs(report: &Report, output: &OutputArgs) -> anyhow::Result<()> {
    if let Some(path) = &output.json {
        let json = serde_json::to_string_pretty(report)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &output.html {
        std::fs::write(path, html::render(report))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
