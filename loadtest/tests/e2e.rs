//! End to end: `loadtest rush --spawn` against a real etal (its own private
//! PostgreSQL cluster), a few seconds long, whose checks must pass; and
//! `rush --target … --kill-active-after` against two real cluster nodes
//! (a private PostgreSQL and NATS of the test's own), whose active node is
//! killed mid-rush.
//!
//! Finding `etal`: integration tests of this package do not get
//! `CARGO_BIN_EXE_etal`, and running `cargo build` from inside a test would
//! wait on the build-directory lock the outer `cargo test` holds. So the
//! test looks for the binary the workspace build already made —
//! `$CARGO_TARGET_DIR` (or `<workspace>/target`) `/<profile>/etal`, the
//! profile being the one this test was built with — and only when it is
//! missing builds it with `cargo build -p etal --bin etal --offline` into a
//! separate target directory (slow, but never blocked). Run the whole
//! workspace (`cargo test --workspace`) or `cargo build -p etal` first to
//! get the fast path.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `target/<profile>` this test binary lives in (`…/deps/e2e-<hash>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("test binary under target/<profile>/deps")
}

fn etal_binary() -> PathBuf {
    let beside = profile_dir().join("etal");
    if beside.is_file() {
        return beside;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let profile = profile_dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "debug".into());
    let candidate = target.join(&profile).join("etal");
    if candidate.is_file() {
        return candidate;
    }
    let separate = target.join("loadtest-e2e");
    eprintln!(
        "etal binary not found; building it into {}",
        separate.display()
    );
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "etal", "--bin", "etal", "--offline"])
        .env("CARGO_TARGET_DIR", &separate)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building etal failed");
    separate.join("debug").join("etal")
}

/// A finished `loadtest` run that must have succeeded: its JSON report
/// (written to `json`) and what it printed.
fn finished(output: &std::process::Output, json: &Path) -> (Value, String) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "loadtest failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status.code()
    );
    let report = serde_json::from_slice(&std::fs::read(json).expect("JSON report written"))
        .expect("valid JSON");
    (report, stdout)
}

#[test]
fn rush_with_spawned_engine_passes_its_checks() {
    let etal = etal_binary();
    let dir = std::env::temp_dir().join(format!("loadtest-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let json = dir.join("report.json");
    let html = dir.join("report.html");
    let output = Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args(["rush", "--spawn", "--etal-bin"])
        .arg(&etal)
        .args([
            "--preset",
            "rush",
            "--customers",
            "12",
            "--watchers",
            "3",
            "--duration",
            "3s",
            "--open-in",
            "2s",
            "--hot-stock",
            "60",
            "--quiet",
            "--threshold",
            "oversold<1",
            "--json",
        ])
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("loadtest runs");
    let (report, stdout) = finished(&output, &json);
    assert_eq!(report["schema"], "etal-loadtest/1");
    assert_eq!(report["checks_passed"], true, "{stdout}");
    let run = &report["runs"][0];
    assert_eq!(run["system"], "etal");
    let orders = &run["operations"]["orders"];
    assert!(
        orders["accepted"].as_u64().unwrap_or(0) > 0,
        "some orders went through: {stdout}"
    );
    for check in run["checks"].as_array().expect("checks") {
        if check["gating"] == true {
            assert_eq!(check["passed"], true, "check {check}");
        }
    }
    let oversold = run["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "oversold_units"))
        .expect("oversold check present");
    assert_eq!(oversold["value"], 0);
    assert!(
        run["watchers"]["connected"].as_u64().unwrap_or(0) > 0,
        "{stdout}"
    );
    assert!(
        run["resources"]["engine"]["samples"].is_array(),
        "engine sampled"
    );
    let page = std::fs::read_to_string(&html).expect("HTML report written");
    assert!(
        page.contains("<svg") && !page.contains("<script src"),
        "self-contained"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A process of the cluster test, killed when the test ends (also when it
/// fails).
struct Node(std::process::Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The private PostgreSQL and NATS of the cluster test, stopped and
/// removed when the test ends.
struct Private {
    etal: PathBuf,
    dir: PathBuf,
}

impl Private {
    fn etal(&self, args: &[&str]) -> String {
        let output = Command::new(&self.etal)
            .args(args)
            .arg("--data-dir")
            .arg(&self.dir)
            .output()
            .expect("etal runs");
        assert!(
            output.status.success(),
            "etal {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        for what in ["nats", "db"] {
            let _ = Command::new(&self.etal)
                .args([what, "stop", "--data-dir"])
                .arg(&self.dir)
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until `url` answers `/ready` (at most 60 s).
fn wait_ready(url: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let ready = runtime.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let answer = client.get(format!("{url}/ready")).send().await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    });
    assert!(ready, "{url} never became ready");
}

/// `--target` over two real cluster nodes and `--kill-active-after`: the
/// active node is killed mid-rush, the report names it and says how long
/// ordering was unavailable, and the checks (nothing oversold, every
/// acknowledged order stored) pass.
#[test]
fn rush_over_two_nodes_survives_killing_the_active_one() {
    let etal = etal_binary();
    let dir = std::env::temp_dir().join(format!("loadtest-e2e-cluster-{}", std::process::id()));
    let private = Private {
        etal: etal.clone(),
        dir: dir.clone(),
    };
    private.etal(&["db", "start"]);
    private.etal(&["nats", "start"]);
    let nats_url = private.etal(&["nats", "url"]);
    let database_url = private.etal(&["db", "url"]);
    let mut nodes = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let child = Command::new(&etal)
            .args(["serve", "--cluster", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&dir)
            .env("ETAL__CLUSTER__NATS_URL", &nats_url)
            .env("ETAL__CLUSTER__LEASE_SECONDS", "1")
            .env("ETAL__LOG__LEVEL", "warn")
            .env("ETAL__SERVER__WORKERS", "2")
            .env("ETAL__SERVER__LIVE_THREADS", "1")
            .env("ETAL__ENGINE__ACTOR_THREADS", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start a node");
        nodes.push(Node(child));
        // One after the other: the first creates the database.
        wait_ready(&url);
        urls.push(url);
    }
    let json = dir.join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_loadtest"))
        .args(["rush", "--database-url", &database_url])
        .args(["--target", &urls[0], "--target", &urls[1]])
        .args([
            "--preset",
            "hot",
            "--customers",
            "12",
            "--watchers",
            "4",
            "--open-in",
            "2s",
            "--duration",
            "6s",
            "--kill-active-after",
            "2s",
            "--retries",
            "40",
            "--quiet",
            "--threshold",
            "oversold<1",
            "--json",
        ])
        .arg(&json)
        .output()
        .expect("loadtest runs");
    let (report, stdout) = finished(&output, &json);
    let run = &report["runs"][0];
    let failover = &run["failover"];
    assert!(
        urls.iter().any(|u| failover["killed_url"] == *u.as_str()),
        "a node was killed: {failover}\n{stdout}"
    );
    let pids: Vec<u32> = nodes.iter().map(|n| n.0.id()).collect();
    assert!(
        pids.iter().any(|p| failover["killed_pid"] == *p),
        "the killed process is one of the nodes: {failover}"
    );
    assert!(
        failover["unavailable_ms"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0),
        "ordering resumed after the kill: {failover}\n{stdout}"
    );
    // The watchers of the killed node moved to the survivor (all connected
    // at the end, some reconnected) and show the database too.
    let watchers = &run["watchers"];
    assert_eq!(watchers["connected_at_end"], 4, "{watchers}");
    assert!(
        watchers["reconnected"].as_u64().unwrap_or(0) >= 1,
        "{watchers}"
    );
    for name in [
        "oversold_units",
        "acknowledged_missing",
        "watchers_final_availability",
    ] {
        let check = run["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == name))
            .unwrap_or_else(|| panic!("check {name} present: {stdout}"));
        assert_eq!(check["passed"], true, "{check}\n{stdout}");
    }
    drop(nodes);
    drop(private);
}
