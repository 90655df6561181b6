//! `loadtest`: the rush-hour simulator for etal.
//!
//! * `loadtest rush` sets up a sale through etal's public API, connects
//!   storefront watchers over WebSocket, lets customers order when the sale
//!   opens (closed or open load model), then checks the outcome against the
//!   database (nothing oversold, nothing acknowledged lost, watchers agree).
//! * `loadtest baseline` runs the same workload as the conventional
//!   row-locking checkout straight on PostgreSQL.
//! * `loadtest compare` runs both, case by case, and prints the ratios.
//!
//! Layout: `cli` (arguments), `commands` (the flows), `scenario` (what is
//! sold and ordered — pure), `setup` (the scenario through the API),
//! `model` (closed/open load models), `workload` (a customer iteration),
//! `checkout` (etal over HTTP, the baseline over SQL), `watchers`
//! (WebSocket), `record` (histograms, timeline, acknowledgements),
//! `storefront_frame` (decoding), `arrival` (kernel receive stamps),
//! `pushlag`, `checks` + `dbview` (after-run verification), `spawn` +
//! `procstat` (`--spawn` and `/proc` sampling), `safety` (loopback only,
//! file limits), `report/` (JSON, table, HTML with inline SVG) and
//! `threshold` (`--threshold`).

mod arrival;
mod checkout;
mod checks;
mod cli;
mod commands;
mod dbview;
mod failover;
mod layout;
mod model;
mod procstat;
mod pushlag;
mod record;
mod report;
mod run;
mod safety;
mod scenario;
mod setup;
mod spawn;
mod storefront_frame;
mod threshold;
mod watchers;
mod workload;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    record::init_clock();
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadtest: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let outcome = runtime.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nloadtest: interrupted; finishing the iterations under way…");
                let _ = stop_tx.send(true);
            }
        });
        commands::run(cli.command, stop_rx).await
    });
    match outcome {
        Ok((report, _output)) => {
            print!("{}", report::table::render(&report));
            if !report.checks_passed {
                ExitCode::from(1)
            } else if !report.thresholds_passed {
                ExitCode::from(4)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("loadtest: {e:#}");
            ExitCode::from(3)
        }
    }
}
