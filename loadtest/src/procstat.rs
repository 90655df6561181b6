//! CPU and memory of processes, sampled from `/proc` during a run: the
//! engine (when spawned), its PostgreSQL server (the postmaster and its
//! backends) and the load tester itself — on a 2-core machine all three
//! share the same cores, so the split says where the time goes.
//!
//! CPU is in percent of one core (200 % = both cores of this machine);
//! memory is resident memory in MB, shared pages counted once per group.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::record::now_us;

/// Which processes make up a group.
#[derive(Debug, Clone)]
pub enum Group {
    /// One process.
    Pid(u32),
    /// A process and its direct children (PostgreSQL's postmaster).
    Tree(u32),
}

/// Summary of one group over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Usage {
    pub cpu_avg_pct: f64,
    pub cpu_max_pct: f64,
    pub mem_max_mb: f64,
    pub mem_last_mb: f64,
    /// `[seconds from the first sample, cpu %, memory MB]`.
    pub samples: Vec<[f64; 3]>,
}

/// The machine's 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// (utime + stime ticks, parent pid) of a process.
fn stat(pid: u32) -> Option<(u64, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime, ppid))
}

/// Memory of a process from `/proc/<pid>/status` (cheap to read, unlike
/// `smaps_rollup`, whose page walk over a 2 GB process cost the tester half
/// its CPU): (private anonymous kB, shared file + shmem kB).
fn memory_kb(pid: u32) -> (u64, u64) {
    let path = format!("/proc/{pid}/status");
    let Ok(text) = std::fs::read_to_string(path) else {
        return (0, 0);
    };
    let get = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (get("RssAnon:"), get("RssFile:") + get("RssShmem:"))
}

/// Memory of a group, kB: private memory summed, shared memory (binaries,
/// PostgreSQL's shared buffers) counted once — the largest share seen.
fn group_memory_kb(pids: impl Iterator<Item = u32>) -> u64 {
    let (mut private, mut shared) = (0, 0);
    for pid in pids {
        let (p, s) = memory_kb(pid);
        private += p;
        shared = shared.max(s);
    }
    private + shared
}

fn members(group: &Group) -> Vec<u32> {
    match group {
        Group::Pid(pid) => vec![*pid],
        Group::Tree(root) => {
            let mut pids = vec![*root];
            if let Ok(dir) = std::fs::read_dir("/proc") {
                for entry in dir.flatten() {
                    let Some(pid) = entry
                        .file_name()
                        .to_str()
                        .and_then(|n| n.parse::<u32>().ok())
                    else {
                        continue;
                    };
                    if stat(pid).is_some_and(|(_, ppid)| ppid == *root) {
                        pids.push(pid);
                    }
                }
            }
            pids
        }
    }
}

/// Samples groups every `every` until stopped.
pub struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<(String, Usage)>>,
}

impl Sampler {
    pub fn start(groups: Vec<(String, Group)>, every: Duration) -> Self {
        let (stop, mut stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let hz = clock_ticks();
            let first_us = now_us();
            let mut last: Vec<(u64, HashMap<u32, u64>)> = groups
                .iter()
                .map(|(_, g)| (now_us(), ticks_of(g)))
                .collect();
            let mut usage: Vec<Usage> = groups.iter().map(|_| Usage::default()).collect();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop_rx.changed() => break,
                }
                for (i, (_, group)) in groups.iter().enumerate() {
                    let t = now_us();
                    let ticks = ticks_of(group);
                    let (t0, before) = &last[i];
                    let delta: u64 = ticks
                        .iter()
                        .map(|(pid, now)| now.saturating_sub(before.get(pid).copied().unwrap_or(0)))
                        .sum();
                    let secs = (t - t0) as f64 / 1e6;
                    let cpu = if secs > 0.0 {
                        delta as f64 / hz / secs * 100.0
                    } else {
                        0.0
                    };
                    let rss = group_memory_kb(ticks.keys().copied());
                    usage[i]
                        .samples
                        .push([(t - first_us) as f64 / 1e6, cpu, rss as f64 / 1024.0]);
                    last[i] = (t, ticks);
                }
            }
            groups
                .into_iter()
                .zip(usage)
                .map(|((name, _), u)| (name, summarise(u)))
                .collect()
        });
        Self { stop, task }
    }

    pub async fn finish(self) -> Vec<(String, Usage)> {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_default()
    }
}

fn ticks_of(group: &Group) -> HashMap<u32, u64> {
    members(group)
        .into_iter()
        .filter_map(|pid| stat(pid).map(|(t, _)| (pid, t)))
        .collect()
}

fn summarise(mut u: Usage) -> Usage {
    let n = u.samples.len().max(1) as f64;
    u.cpu_avg_pct = u.samples.iter().map(|s| s[1]).sum::<f64>() / n;
    u.cpu_max_pct = u.samples.iter().map(|s| s[1]).fold(0.0, f64::max);
    u.mem_max_mb = u.samples.iter().map(|s| s[2]).fold(0.0, f64::max);
    u.mem_last_mb = u.samples.last().map_or(0.0, |s| s[2]);
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        let (ticks, ppid) = stat(me).expect("own stat");
        assert!(ppid > 0);
        let _ = ticks;
        assert!(group_memory_kb([me].into_iter()) > 0);
        assert!(members(&Group::Tree(me)).contains(&me));
    }

    #[tokio::test]
    async fn sampler_reports_cpu_of_a_busy_process() {
        let sampler = Sampler::start(
            vec![("self".into(), Group::Pid(std::process::id()))],
            Duration::from_millis(50),
        );
        // Burn some CPU on a blocking thread.
        tokio::task::spawn_blocking(|| {
            let start = std::time::Instant::now();
            let mut x = 0u64;
            while start.elapsed() < Duration::from_millis(300) {
                x = x.wrapping_mul(31).wrapping_add(7);
            }
            x
        })
        .await
        .unwrap();
        let usage = sampler.finish().await;
        assert_eq!(usage.len(), 1);
        assert!(!usage[0].1.samples.is_empty());
        assert!(usage[0].1.cpu_max_pct > 0.0, "{:?}", usage[0].1);
        assert!(usage[0].1.mem_max_mb > 0.0);
    }
}
