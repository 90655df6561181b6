//! `--spawn`: the engine started by the tester, so one command runs
//! everything. Runs `etal serve --listen 127.0.0.1:<free port> --data-dir
//! <temp dir>` without `DATABASE_URL` (etal then starts its own private
//! PostgreSQL cluster there), waits for `/ready`, asks `etal db url` for the
//! database the checks and the baseline use, and at the end stops the
//! engine (SIGTERM, then SIGKILL after 30 s), runs `etal db stop` and
//! removes the directory. A tester that dies half-way still stops both
//! (`Drop`).

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use uuid::Uuid;

/// A running engine started by the tester.
pub struct SpawnedEngine {
    child: Child,
    pub pid: u32,
    pub port: u16,
    pub dir: PathBuf,
    pub data_dir: PathBuf,
    bin: PathBuf,
    keep: bool,
    stopped: bool,
}

/// The `etal` binary: `explicit`, else beside the running executable (or
/// one level up, for test binaries under `target/<profile>/deps/`).
pub fn find_etal(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path.to_owned());
        }
        bail!("--etal-bin {}: no such file", path.display());
    }
    let exe = std::env::current_exe().context("locating the loadtest binary")?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("loadtest binary has no directory"))?;
    for candidate in [dir.join("etal"), dir.join("../etal")] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no `etal` binary beside {} — build it (`cargo build --release --locked --workspace`, as ./scripts/run does) or pass --etal-bin",
        exe.display()
    )
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The last `lines` lines of a file.
fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(16_384)));
        let _ = f.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl SpawnedEngine {
    /// Starts the engine and waits until it is ready (first start of a
    /// cluster runs `initdb`, which takes a few seconds).
    pub async fn start(bin: PathBuf, log_level: &str, keep: bool) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "etal-loadtest-{}",
            &Uuid::new_v4().simple().to_string()[..8]
        ));
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // The cluster runs as `postgres` when we are root: it must be able
        // to reach its data directory.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
        let data_dir = dir.join("data");
        let port = free_port()?;
        let log_path = dir.join("etal.log");
        let log = File::create(&log_path)?;
        let child = Command::new(&bin)
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data_dir)
            .current_dir(&dir)
            .env_remove("DATABASE_URL")
            .env_remove("ETAL__DATABASE__URL")
            .env("RUST_LOG", log_level)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut engine = Self {
            pid: child.id(),
            child,
            port,
            dir,
            data_dir,
            bin,
            keep,
            stopped: false,
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()?;
        let ready = format!("{}/ready", engine.url());
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Some(status) = engine.child.try_wait()? {
                let log = tail(&log_path, 20);
                engine.stopped = true;
                bail!("etal exited during start-up ({status}):\n{log}");
            }
            if let Ok(r) = client.get(&ready).send().await {
                if r.status().is_success() {
                    return Ok(engine);
                }
            }
            if Instant::now() > deadline {
                let log = tail(&log_path, 20);
                engine.shutdown();
                bail!("etal was not ready after 180 s:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The engine's database in its private cluster (`etal db url`).
    pub async fn database_url(&self) -> anyhow::Result<String> {
        let out = tokio::process::Command::new(&self.bin)
            .arg("db")
            .arg("url")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .current_dir(&self.dir)
            .env_remove("DATABASE_URL")
            .output()
            .await?;
        if !out.status.success() {
            bail!("etal db url: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// The postmaster's pid (first line of `postmaster.pid`).
    pub fn postmaster_pid(&self) -> Option<u32> {
        fs::read_to_string(self.data_dir.join("pg").join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Where the engine's log goes.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("etal.log")
    }

    /// Stops the engine and its cluster and removes the directory.
    pub async fn stop(mut self) {
        tokio::task::spawn_blocking(move || self.shutdown())
            .await
            .ok();
    }

    fn shutdown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    eprintln!("loadtest: etal did not stop within 30 s; killing it");
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        // etal stops a cluster it started itself; make sure of it.
        let _ = Command::new(&self.bin)
            .arg("db")
            .arg("stop")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if self.keep {
            eprintln!("loadtest: engine data kept in {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for SpawnedEngine {
    fn drop(&mut self) {
        self.shutdown();
    }
}
