//! One rush against etal: deploy the scenario through the API, connect the
//! watchers, wait for the sale to open (`sale_opened` from a watcher, or
//! the announced `orders_open_at` when no watcher is connected), run the
//! load, let the watchers settle, then check everything against the
//! database and compute push lag.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use reqwest::Client;
use sqlx::PgPool;

use super::{availability, base_report, measure, ChartProbe, RunOptions};
use crate::checkout::etal::EtalTarget;
use crate::checkout::Target;
use crate::checks;
use crate::dbview::{self, System};
use crate::procstat::Group;
use crate::pushlag::{push_lag, Observed};
use crate::record::{now_us, spectrum, Recorder};
use crate::report::{PushLagReport, RunReport, WatchersReport};
use crate::setup::{deploy, Accounts, Api};
use crate::watchers::{WatchShared, Watchers};
use crate::workload::Workload;

/// The engine under test.
pub struct EtalEnv {
    /// Where the scenario is set up (the first node).
    pub base_url: String,
    /// Every node: customers and watchers are spread over them.
    pub targets: Vec<String>,
    /// `--kill-active-after`.
    pub kill_active_after: Option<Duration>,
    pub db: PgPool,
    pub client: Client,
    /// Processes to sample (engine, PostgreSQL, the tester).
    pub groups: Vec<(String, Group)>,
}

/// Runs one rush and reports it.
pub async fn run(
    env: &EtalEnv,
    accounts: &Accounts,
    opts: &RunOptions,
) -> anyhow::Result<RunReport> {
    let api = Api::new(env.client.clone(), &env.base_url);
    let layout = opts.spec.layout();
    let customers = opts.load.model.customers();
    // Give the watchers time to connect before the sale opens.
    let open_in = opts.open_in + Duration::from_millis(2 * opts.watchers as u64);
    let deployed = deploy(&api, accounts, &layout, open_in)
        .await
        .context("setting the scenario up through the API")?;
    let observed = layout.observed();
    let shared = WatchShared::new(&deployed.offer_ids, &observed, opts.watchers);
    let ws_urls: Vec<String> = env
        .targets
        .iter()
        .map(|base| {
            format!(
                "{}/ws/distributions/{}",
                base.replacen("http", "ws", 1).trim_end_matches('/'),
                deployed.distribution_id
            )
        })
        .collect();
    let ws_url = ws_urls.join(" ");
    let watchers = Watchers::connect(shared.clone(), &ws_urls).await;
    let connected = shared.alive_count();
    if opts.watchers > 0 && connected < opts.watchers {
        eprintln!(
            "loadtest: only {connected} of {} watchers connected to {ws_url}",
            opts.watchers
        );
    }

    // Wait for the sale to open.
    let until_open = (deployed.opens_at - Utc::now())
        .to_std()
        .unwrap_or_default();
    let open_us = now_us() + until_open.as_micros() as u64;
    let mut opened = shared.opened.subscribe();
    let open_signal = if connected > 0 {
        let wait = opened.wait_for(|at| at.is_some());
        match tokio::time::timeout(until_open + Duration::from_secs(5), wait).await {
            Ok(Ok(_)) => "sale_opened",
            _ => {
                eprintln!("loadtest: no sale_opened within 5 s of orders_open_at; starting anyway");
                "orders_open_at"
            }
        }
    } else {
        tokio::time::sleep(until_open + Duration::from_millis(20)).await;
        "orders_open_at"
    };
    let opened_delay = *shared.opened.borrow();

    let rec = Arc::new(Mutex::new(Recorder::new(now_us())));
    let tokens = Arc::new(
        accounts
            .customers
            .iter()
            .take(customers)
            .map(|a| a.token.clone())
            .collect::<Vec<_>>(),
    );
    let offer_ids = Arc::new(deployed.offer_ids.clone());
    let target = EtalTarget::new(
        env.client.clone(),
        &env.targets,
        deployed.distribution_id,
        offer_ids.clone(),
        tokens,
        opts.retry,
    )?;
    let think = matches!(opts.load.model, crate::model::LoadModel::Closed { .. });
    let workload = Arc::new(Workload::new(
        opts.spec.clone(),
        layout.clone(),
        Target::Etal(target),
        rec.clone(),
        customers,
        think,
        opts.seed,
    ));
    let chart_offer = observed.first().copied();
    let probe = chart_offer.map(|offer| ChartProbe {
        pool: env.db.clone(),
        system: System::Etal,
        offer_id: deployed.offer_ids[offer],
        offer,
        watchers: Some(shared.clone()),
    });
    let fault = env.kill_active_after.map(|after| {
        tokio::spawn(crate::failover::kill_active(
            env.client.clone(),
            env.targets.clone(),
            after,
            now_us(),
        ))
    });
    let measured = measure(workload, opts, probe, env.groups.clone()).await;
    let failover = match fault {
        Some(task) => Some(task.await.context("the fault task")?),
        None => None,
    };

    // Let the watchers catch up with the database (bounded).
    let settle_deadline = tokio::time::Instant::now() + opts.settle;
    let (db, final_values) = loop {
        let db = dbview::view(
            &env.db,
            System::Etal,
            &deployed.offer_ids,
            Some(deployed.distribution_id),
        )
        .await
        .context("reading the database for the checks")?;
        let values = shared.live_values();
        let available = db.available();
        let agree = values.iter().all(|w| {
            available
                .iter()
                .enumerate()
                .all(|(i, a)| w.get(i).copied() == Some(a.unwrap_or(crate::watchers::UNLIMITED)))
        });
        if agree || opts.watchers == 0 || tokio::time::Instant::now() >= settle_deadline {
            break (db, values);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let logs = watchers.finish().await;

    let rec = rec
        .lock()
        .map_err(|_| anyhow::anyhow!("recorder poisoned"))?;
    let mut report = base_report(System::Etal, opts, &rec, &measured);
    report.open_signal = open_signal.to_owned();
    report.failover = failover.map(|(mut failover, killed_us)| {
        failover.unavailable_ms = killed_us
            .and_then(|at| rec.first_accepted_sent_after(at))
            .map(|us| us as f64 / 1000.0);
        failover
    });
    report.sale_opened_delay_ms = opened_delay.map(|at| (at as f64 - open_us as f64) / 1000.0);
    report.checks = vec![
        checks::oversold(&db.offers),
        checks::acknowledged_missing(&rec.orders, &db.orders),
        checks::unacknowledged(&rec.orders, &db.orders),
        checks::watchers_final(
            &db.available(),
            &final_values,
            opts.watchers,
            logs.iter().filter(|l| l.connected).count(),
        ),
    ];

    let mut watch_report = WatchersReport {
        asked: opts.watchers,
        frames: shared.frames.load(std::sync::atomic::Ordering::Relaxed),
        ..Default::default()
    };
    for log in &logs {
        watch_report.connected += usize::from(log.connected);
        watch_report.connected_at_end += usize::from(log.connected_at_end);
        watch_report.disconnected += log.disconnects as usize;
        watch_report.reconnected += log.reconnects as usize;
        watch_report.snapshots += u64::from(log.snapshots);
        if let Some(e) = &log.error {
            let key: String = e.chars().take(60).collect();
            *watch_report.errors.entry(key).or_default() += 1;
        }
    }
    report.watchers = watch_report;

    let mut acks = rec.acks.clone();
    acks.sort_by_key(|a| a.t_us);
    let obs: Vec<Observed> = observed
        .iter()
        .filter_map(|&o| {
            Some(Observed {
                offer: o as u32,
                stock: layout.offers[o].stock? as i64 * 1000,
            })
        })
        .collect();
    if opts.watchers > 0 {
        let frames: Vec<Vec<_>> = logs
            .iter()
            .filter(|l| l.connected)
            .map(|l| l.frames.clone())
            .collect();
        let lag = push_lag(&acks, &obs, &frames, opts.push_lag_samples);
        report.push_lag_spectrum_ms = spectrum(&lag.hist);
        report.push_lag_ms = Some(PushLagReport::of(&lag));
        let stamped = logs
            .iter()
            .any(|l| l.frames.iter().zip(&l.arrived).any(|(f, &a)| a < f.0));
        if stamped {
            let by_arrival: Vec<Vec<_>> = logs
                .iter()
                .filter(|l| l.connected)
                .map(|l| l.frames_by_arrival())
                .collect();
            let lag = push_lag(&acks, &obs, &by_arrival, opts.push_lag_samples);
            report.push_lag_arrival_ms = Some(PushLagReport::of(&lag));
        }
    }
    if let (Some(offer), Some(first)) = (chart_offer, obs.first()) {
        report.availability = Some(availability(
            &measured,
            &acks,
            deployed.offer_ids[offer],
            first,
        ));
    }
    Ok(report)
}
