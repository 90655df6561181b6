//! Engine memory per idle WebSocket connection (README, "Engine
//! benchmarks"): opens and closes a warm-up batch, reads the engine's
//! resident memory, opens N connections that take their first frame and
//! then stay idle (answering pings), reads it again and divides.
//!
//! ```sh
//! target/release/examples/ws_idle --pid $(pgrep -n etal) \
//!     --url ws://127.0.0.1:8080/ws/distributions/$D --n 5000
//! ```
//!
//! For a producer feed pass its URL with `?token=…` and `--first false`
//! (it sends nothing on connect). Loopback only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

struct Args {
    url: String,
    pid: u32,
    n: usize,
    warmup: usize,
    settle: Duration,
    /// Wait for a first frame (a storefront's snapshot); producer and
    /// market feeds send none.
    first: bool,
}

fn parse() -> Result<Args> {
    let mut args = Args {
        url: String::new(),
        pid: 0,
        n: 5000,
        warmup: 500,
        settle: Duration::from_secs(3),
        first: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => args.url = value,
            "--pid" => args.pid = value.parse()?,
            "--n" => args.n = value.parse()?,
            "--warmup" => args.warmup = value.parse()?,
            "--settle-secs" => args.settle = Duration::from_secs(value.parse()?),
            "--first" => args.first = value.parse()?,
            _ => bail!("unknown flag {flag}"),
        }
    }
    if args.url.is_empty() || args.pid == 0 {
        bail!(
            "usage: ws_idle --pid PID --url ws://127.0.0.1:PORT/ws/... [--n 5000] [--warmup 500]"
        );
    }
    let host = args
        .url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or("");
    if !(host == "localhost" || host.starts_with("127.") || args.url.contains("://[::1]")) {
        bail!("loopback addresses only");
    }
    Ok(args)
}

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?;
    Ok(kb * 1024)
}

/// Opens `n` connections that read their first frame, then stay open
/// (reading, so pings are answered) until `stop` turns true. Returns how
/// many took their first frame.
async fn open(
    url: &str,
    n: usize,
    first: bool,
    stop: &watch::Receiver<bool>,
) -> (usize, Vec<tokio::task::JoinHandle<()>>) {
    let gate = Arc::new(Semaphore::new(32));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<bool>(n.max(1));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let url = url.to_owned();
        let gate = gate.clone();
        let ready = ready_tx.clone();
        let mut stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let connected = {
                let _permit = gate.acquire().await;
                tokio::time::timeout(Duration::from_secs(20), async {
                    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.ok()?;
                    if !first {
                        return Some(ws);
                    }
                    loop {
                        match ws.next().await {
                            Some(Ok(Message::Text(_) | Message::Binary(_))) => return Some(ws),
                            Some(Ok(_)) => {}
                            _ => return None,
                        }
                    }
                })
                .await
                .ok()
                .flatten()
            };
            let Some(mut ws) = connected else {
                let _ = ready.send(false).await;
                return;
            };
            let _ = ready.send(true).await;
            loop {
                tokio::select! {
                    msg = ws.next() => if !matches!(msg, Some(Ok(_))) { return },
                    _ = stop.changed() => break,
                }
            }
            let _ = ws.close(None).await;
        }));
    }
    drop(ready_tx);
    let mut ok = 0;
    for _ in 0..n {
        match ready_rx.recv().await {
            Some(connected) => ok += usize::from(connected),
            None => break,
        }
    }
    (ok, tasks)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse()?;
    let _ = rlimit::increase_nofile_limit((args.n + args.warmup) as u64 + 1024);

    let (stop, stop_rx) = watch::channel(false);
    let (warm, tasks) = open(&args.url, args.warmup, args.first, &stop_rx).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    tokio::time::sleep(args.settle).await;
    let before = rss(args.pid)?;

    let (stop, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let (ok, tasks) = open(&args.url, args.n, args.first, &stop_rx).await;
    let ramp = started.elapsed();
    tokio::time::sleep(args.settle).await;
    let after = rss(args.pid)?;
    let per = after.saturating_sub(before) as f64 / ok.max(1) as f64;
    println!(
        "warm-up {warm}/{}; connected {ok}/{} in {:.1} s; engine RSS {:.1} MiB -> {:.1} MiB; \
         {:.0} B = {:.2} KiB per connection",
        args.warmup,
        args.n,
        ramp.as_secs_f64(),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per,
        per / 1024.0
    );
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}
