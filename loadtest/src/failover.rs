//! `--kill-active-after`: the fault of a cluster run. At the given time
//! after the load starts, each node's `/ready` says which one is active
//! and its process id; that process gets SIGKILL (this machine only — the
//! URLs are loopback). The report then says how long ordering was
//! unavailable: from the kill to the answer of the first order accepted
//! from a try sent after it (a surviving node forwarding to the standby
//! that took over).

use std::time::Duration;

use reqwest::Client;
use serde::{Deserialize, Serialize};

use crate::record::now_us;

/// What the fault did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FailoverReport {
    /// The node killed (`null`: no active node was found).
    pub killed_url: Option<String>,
    pub killed_pid: Option<u32>,
    /// When, in seconds from the start of the load.
    pub killed_at_s: f64,
    /// From the kill to the first order accepted after it (`null`: none).
    pub unavailable_ms: Option<f64>,
    /// Whatever prevented the kill.
    pub error: Option<String>,
}

#[derive(Deserialize)]
struct Ready {
    role: Option<String>,
    pid: Option<u32>,
}

/// The active node among `targets`, and its process id.
async fn find_active(client: &Client, targets: &[String]) -> Option<(String, u32)> {
    for url in targets {
        // A node that does not answer is not the active one.
        let Ok(answer) = client
            .get(format!("{}/ready", url.trim_end_matches('/')))
            .timeout(Duration::from_secs(2))
            .send()
            .await
        else {
            continue;
        };
        let Ok(ready) = answer.json::<Ready>().await else {
            continue;
        };
        if ready.role.as_deref() == Some("active") {
            return Some((url.clone(), ready.pid?));
        }
    }
    None
}

/// Waits `after`, then kills the active node; the kill's instant (µs).
pub async fn kill_active(
    client: Client,
    targets: Vec<String>,
    after: Duration,
    start_us: u64,
) -> (FailoverReport, Option<u64>) {
    tokio::time::sleep(after).await;
    let mut report = FailoverReport::default();
    let Some((url, pid)) = find_active(&client, &targets).await else {
        report.error = Some("no node said it was active".into());
        return (report, None);
    };
    let at = now_us();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    report.killed_url = Some(url.clone());
    report.killed_pid = Some(pid);
    report.killed_at_s = at.saturating_sub(start_us) as f64 / 1e6;
    match killed {
        Ok(status) if status.success() => {
            eprintln!("loadtest: killed the active node {url} (pid {pid})");
            (report, Some(at))
        }
        Ok(status) => {
            report.error = Some(format!("kill exited with {status}"));
            (report, None)
        }
        Err(e) => {
            report.error = Some(format!("kill: {e}"));
            (report, None)
        }
    }
}
