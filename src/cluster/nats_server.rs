//! The private NATS server: when a cluster is asked for and no
//! `cluster.nats_url` is given, etal runs Debian's `nats-server` itself,
//! like the private PostgreSQL — under `<data_dir>/nats/`, on a free
//! loopback port, its pid and URL kept there so later starts (other nodes
//! of a local cluster, `etal nats url`) reuse it; restarted, it takes the
//! same port again when it is free, so connected nodes find it back. Missing binaries give the
//! exact install command. Nothing is stored in NATS (no JetStream): it only
//! carries requests and live events between nodes.

use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fs4::fs_std::FileExt;

/// The exact install instruction every "not found" message gives.
pub const INSTALL_HINT: &str =
    "install it with `apt-get install -y nats-server` (as root) or `sudo apt-get install -y nats-server`";

/// Where Debian puts the server (`/usr/sbin` is not on every user's PATH).
const KNOWN_LOCATIONS: [&str; 3] = [
    "/usr/sbin/nats-server",
    "/usr/bin/nats-server",
    "/usr/local/bin/nats-server",
];

/// How long a freshly started server gets to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the private NATS server could not be run.
#[derive(Debug, thiserror::Error)]
pub enum NatsServerError {
    #[error("the NATS server (`nats-server`) is not installed; {INSTALL_HINT}")]
    Missing,
    #[error("private NATS server under {dir}: {reason}")]
    Failed { dir: String, reason: String },
}

/// Whether this call started the server or found it running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatsStart {
    Started,
    AlreadyRunning,
}

/// The private server of one data directory.
#[derive(Debug, Clone)]
pub struct PrivateNats {
    dir: PathBuf,
}

impl PrivateNats {
    /// The server kept under `<data_dir>/nats`.
    pub fn new(data_dir: &Path) -> Self {
        let data_dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        Self {
            dir: data_dir.join("nats"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn failed(&self, reason: impl std::fmt::Display) -> NatsServerError {
        NatsServerError::Failed {
            dir: self.dir.display().to_string(),
            reason: reason.to_string(),
        }
    }

    /// The running server's pid and URL, if it runs.
    pub fn running(&self) -> Option<(u32, String)> {
        let pid: u32 = fs::read_to_string(self.dir.join("nats.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        if !alive(pid) {
            return None;
        }
        let url = fs::read_to_string(self.dir.join("url")).ok()?;
        Some((pid, url.trim().to_owned()))
    }

    /// Starts the server unless it runs; its URL. Several processes may
    /// call this at once: one starts it, the others find it.
    pub fn ensure_started(&self) -> Result<(String, NatsStart), NatsServerError> {
        fs::create_dir_all(&self.dir).map_err(|e| self.failed(e))?;
        let lock = fs::File::create(self.dir.join("lock")).map_err(|e| self.failed(e))?;
        lock.lock_exclusive().map_err(|e| self.failed(e))?;
        if let Some((_, url)) = self.running() {
            return Ok((url, NatsStart::AlreadyRunning));
        }
        let binary = find_binary().ok_or(NatsServerError::Missing)?;
        // The same port as last time when it is free: nodes given the old
        // URL reconnect to a restarted server by themselves.
        let previous = fs::read_to_string(self.dir.join("url"))
            .ok()
            .and_then(|url| url.trim().rsplit(':').next()?.parse::<u16>().ok())
            .filter(|port| TcpListener::bind(("127.0.0.1", *port)).is_ok());
        let port = match previous {
            Some(port) => port,
            None => free_port().map_err(|e| self.failed(e))?,
        };
        let _ = fs::remove_file(self.dir.join("nats.pid"));
        let log = fs::File::create(self.dir.join("nats.log")).map_err(|e| self.failed(e))?;
        Command::new(&binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-P"])
            .arg(self.dir.join("nats.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| self.failed(format!("cannot run {}: {e}", binary.display())))?;
        let url = format!("nats://127.0.0.1:{port}");
        let mut file = fs::File::create(self.dir.join("url")).map_err(|e| self.failed(e))?;
        writeln!(file, "{url}").map_err(|e| self.failed(e))?;
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() && self.running().is_some() {
                return Ok((url, NatsStart::Started));
            }
            if started.elapsed() > START_TIMEOUT {
                let log = fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default();
                return Err(self.failed(format!(
                    "did not accept connections within {START_TIMEOUT:?}; its log: {}",
                    log.trim()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server if it runs (waits until it is gone).
    pub fn stop(&self) -> Result<(), NatsServerError> {
        let Some((pid, _)) = self.running() else {
            return Ok(());
        };
        let binary = find_binary().ok_or(NatsServerError::Missing)?;
        let status = Command::new(binary)
            .arg(format!("--signal=stop={pid}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| self.failed(e))?;
        if !status.success() {
            return Err(self.failed(format!("could not signal pid {pid}")));
        }
        let started = Instant::now();
        while alive(pid) && started.elapsed() < START_TIMEOUT {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

/// Whether `pid` is a running `nats-server` (not gone, not a zombie: the
/// process that started it may not have reaped it yet).
fn alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state …`: the name may hold spaces or parentheses.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let name = &stat[open + 1..close];
    let state = stat[close + 1..].split_whitespace().next().unwrap_or("Z");
    name == "nats-server" && state != "Z" && state != "X"
}

/// `nats-server` on PATH, then where Debian installs it.
pub fn find_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        KNOWN_LOCATIONS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    })
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_without_a_server_is_not_running() {
        let dir = std::env::temp_dir().join(format!("etal-nats-{}", uuid::Uuid::new_v4()));
        let nats = PrivateNats::new(&dir);
        assert!(nats.dir().ends_with("nats"));
        assert_eq!(nats.running(), None);
        // A pid file naming a process that is not nats-server is stale.
        fs::create_dir_all(nats.dir()).expect("dir");
        fs::write(nats.dir().join("nats.pid"), std::process::id().to_string()).expect("pid");
        fs::write(nats.dir().join("url"), "nats://127.0.0.1:1").expect("url");
        assert_eq!(nats.running(), None);
        assert!(nats.stop().is_ok());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_missing_message_gives_the_install_command() {
        let message = NatsServerError::Missing.to_string();
        assert!(
            message.contains("apt-get install -y nats-server"),
            "{message}"
        );
    }
}
