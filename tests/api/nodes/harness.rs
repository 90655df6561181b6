//! Several `etal serve --cluster` processes on one test database and one
//! private NATS server of their own: starting, reading each node's
//! `/ready`, finding the active one, killing (SIGKILL), pausing (SIGSTOP)
//! and waking (SIGCONT) a node. Everything is stopped on drop, also when
//! an assertion fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use etal::cluster::nats_server::PrivateNats;
use serde_json::Value;

use crate::helpers::{fresh_database, TestApp};

/// The lease of the test clusters: failovers within about a second.
pub const LEASE_SECONDS: &str = "1";

/// Each node's log (warnings), kept under the target directory for a
/// failed test's post-mortem.
fn log_file(port: u16) -> Stdio {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("node-{port}.log"));
    std::fs::File::create(path).map_or_else(|_| Stdio::null(), Stdio::from)
}

/// One node process.
pub struct NodeProcess {
    child: Child,
    pub port: u16,
    pub url: String,
}

impl NodeProcess {
    fn spawn(database_url: &str, nats_url: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_etal"));
        command
            .args([
                "serve",
                "--cluster",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DATABASE_URL", database_url)
            .env("ETAL__CLUSTER__NATS_URL", nats_url)
            .env("ETAL__CLUSTER__LEASE_SECONDS", LEASE_SECONDS)
            .env("ETAL__CLUSTER__INTEREST_EVERY_MS", "200")
            .env("ETAL__LOG__LEVEL", "warn")
            .env("ETAL__SERVER__WORKERS", "2")
            .env("ETAL__SERVER__LIVE_THREADS", "1")
            .env("ETAL__ENGINE__ACTOR_THREADS", "1")
            .stdout(log_file(port))
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start an etal node");
        Self {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// SIGKILL: no shutdown code runs, the lease is not given up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a signal by name (`STOP`, `CONT`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name}");
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.pid()]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A cluster under test.
pub struct Nodes {
    pub database_url: String,
    pub nats_url: String,
    nats: PrivateNats,
    nats_dir: PathBuf,
    env: Vec<(String, String)>,
    pub nodes: Vec<NodeProcess>,
    client: reqwest::Client,
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        let _ = self.nats.stop();
        let _ = std::fs::remove_dir_all(&self.nats_dir);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Nodes {
    /// `n` nodes on a fresh database, ready, one of them active.
    pub async fn start(n: usize, env: &[(&str, &str)]) -> Self {
        let database_url = fresh_database().await;
        let nats_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("nats-{}", uuid::Uuid::new_v4().simple()));
        let nats = PrivateNats::new(&nats_dir);
        let (nats_url, _) = nats.ensure_started().expect("a private nats-server starts");
        let mut cluster = Self {
            database_url,
            nats_url,
            nats,
            nats_dir,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            nodes: Vec::new(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client"),
        };
        for _ in 0..n {
            cluster.add(free_port()).await;
        }
        cluster.active().await;
        cluster
    }

    /// Starts one more node on `port` (the same port: a restart) and waits
    /// until it is ready; its index.
    pub async fn add(&mut self, port: u16) -> usize {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let node = NodeProcess::spawn(&self.database_url, &self.nats_url, port, &env);
        let url = node.url.clone();
        self.nodes.push(node);
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                if self.ready_of(&url).await.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(ready.is_ok(), "node {url} became ready");
        self.nodes.len() - 1
    }

    /// A node's `/ready` document, if it answers 200.
    pub async fn ready_of(&self, url: &str) -> Option<Value> {
        let answer = self.client.get(format!("{url}/ready")).send().await.ok()?;
        if !answer.status().is_success() {
            return None;
        }
        answer.json().await.ok()
    }

    /// Index of the one active node among `candidates`, waiting (30 s at
    /// most) until exactly one says so.
    pub async fn active_among(&self, candidates: &[usize]) -> usize {
        let found = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let mut active = Vec::new();
                for &i in candidates {
                    if let Some(ready) = self.ready_of(&self.nodes[i].url).await {
                        if ready["role"] == "active" {
                            active.push(i);
                        }
                    }
                }
                if let [one] = active.as_slice() {
                    return *one;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        found.expect("exactly one node became active")
    }

    /// Index of the active node among all.
    pub async fn active(&self) -> usize {
        let all: Vec<usize> = (0..self.nodes.len()).collect();
        self.active_among(&all).await
    }

    /// Stops the NATS server (an outage).
    pub fn stop_nats(&self) {
        self.nats.stop().expect("nats-server stops");
    }

    /// Starts it again, on the same port.
    pub fn restart_nats(&self) {
        let (url, _) = self.nats.ensure_started().expect("nats-server restarts");
        assert_eq!(url, self.nats_url, "the same address again");
    }

    /// Waits (20 s at most) until node `i`'s `/ready` says NATS is `state`.
    pub async fn wait_nats(&self, i: usize, state: &str) {
        let url = &self.nodes[i].url;
        let reached = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if self.ready_of(url).await.is_some_and(|r| r["nats"] == state) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(
            reached.is_ok(),
            "node {i} saw NATS {state}: {:?}",
            self.ready_of(url).await
        );
    }

    /// A client of node `i` (fixtures, orders, WebSockets).
    pub async fn app(&self, i: usize) -> TestApp {
        let node = &self.nodes[i];
        TestApp::external(node.url.clone(), node.port, &self.database_url).await
    }
}
