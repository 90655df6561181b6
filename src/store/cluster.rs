//! The embedded private PostgreSQL cluster (`DESIGN.md` §5).
//!
//! When no `DATABASE_URL` is configured, etal runs its own PostgreSQL cluster
//! out of a data directory it owns (`.etal/` by default), built and started
//! with the machine's own `initdb` / `pg_ctl` (Debian's `postgresql`
//! package). The tests use the same machinery, so a fresh clone needs nothing
//! but the server binaries.
//!
//! Layout under the data directory `D`:
//!
//! * `D/pg/` — the cluster itself (`initdb` output). It is built in
//!   `D/pg.initdb-tmp/` and renamed into place once complete, so an
//!   interrupted first run never leaves a half-made cluster behind;
//! * `D/pg.log` — the server log (`pg_ctl -l`);
//! * `D/run/` — the Unix socket directory. Socket paths are limited to 107
//!   bytes, so when `D/run/.s.PGSQL.5432` would be longer (or `D` contains
//!   characters PostgreSQL's settings cannot carry) the socket lives in
//!   `/tmp/etal-<first 16 hex digits of sha256(D)>` instead;
//! * `D/cluster.lock` — an exclusive file lock held around init/start/stop,
//!   so several processes may call [`PrivateCluster::ensure_started`] at once.
//!
//! The server listens on its Unix socket only (`listen_addresses = ''`),
//! trusts local connections (anyone who can reach the socket directory, which
//! is mode 0700) and rejects TCP ones. `fsync` and `synchronous_commit` stay
//! on: an acknowledged order is a durable order.
//!
//! PostgreSQL refuses to run as root. When etal runs as root (containers, CI),
//! `initdb` and `pg_ctl` run as the `postgres` system user (via `runuser`, or
//! `su` when `runuser` is missing); the data and socket directories are then
//! owned by `postgres` with mode 0700, and every parent directory of `D` must
//! be traversable by `postgres`.
//!
//! Everything here is blocking (`std::process`); async callers wrap calls in
//! `tokio::task::spawn_blocking`. Linux only (process liveness is read from
//! `/proc`).
//!
//! This file holds the public face — [`PrivateCluster`], its status and
//! lifecycle (`ensure_started` → lock, prepare, `initdb`, `pg_ctl start`;
//! `stop`) — and the submodules hold the machinery it drives:
//!
//! * `error` — [`ClusterError`], every way this can fail;
//! * `binaries` — locating `initdb` / `pg_ctl` and the install hint;
//! * `as_postgres` — running the tools as the `postgres` user when root,
//!   ownership, modes and traversability of the data directory;
//! * `settings` — the socket directory choice, `postgresql.conf` and the
//!   runtime configuration, the connection URL's encoding;
//! * `status` — reading `postmaster.pid` and telling live servers from
//!   zombies and strangers.

mod as_postgres;
mod binaries;
mod error;
mod settings;
mod status;

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

use as_postgres::Env;
use error::io_err;
pub use error::ClusterError;
use settings::{percent_encode, socket_dir_for, SERVER_SETTINGS};

/// The TCP-less "port": it only names the socket file (`.s.PGSQL.5432`),
/// which is private to the socket directory, so it never clashes.
pub const PORT: u16 = 5432;

/// The cluster's superuser role.
pub const SUPERUSER: &str = "postgres";

/// How long `pg_ctl` (and our own waits) may take to start or stop the server.
const PG_CTL_TIMEOUT_SECS: u64 = 60;

/// Lines of `pg.log` quoted when the server fails to start.
const LOG_TAIL_LINES: usize = 20;

/// A private PostgreSQL cluster living in a data directory of its own.
#[derive(Debug, Clone)]
pub struct PrivateCluster {
    /// Absolute, symlink-free data directory.
    data_dir: PathBuf,
}

/// What [`PrivateCluster::status`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterStatus {
    /// No cluster has been created in the data directory yet.
    NotInitialised,
    /// The cluster exists but no server is running on it.
    Stopped,
    /// A server (the postmaster with this process id) is running on it.
    Running {
        /// Process id of the postmaster.
        pid: u32,
    },
}

/// What [`PrivateCluster::ensure_started`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOutcome {
    /// This call started the server (creating the cluster first if needed).
    Started,
    /// A server was already running and ready; it is reused.
    AlreadyRunning,
}

/// How `pg_ctl stop` stops the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Roll back open transactions, then stop cleanly.
    Fast,
    /// Stop at once, like a crash: the next start replays the WAL.
    Immediate,
}

impl StopMode {
    fn as_arg(self) -> &'static str {
        match self {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

impl PrivateCluster {
    /// A cluster rooted at `data_dir`, which is created if missing and made
    /// absolute (symlinks resolved). Nothing is initialised or started yet.
    pub fn new(data_dir: impl AsRef<Path>) -> Result<Self, ClusterError> {
        let given = data_dir.as_ref();
        fs::create_dir_all(given).map_err(io_err(format!(
            "creating the data directory {}",
            given.display()
        )))?;
        let data_dir = fs::canonicalize(given).map_err(io_err(format!(
            "resolving the data directory {}",
            given.display()
        )))?;
        Ok(Self { data_dir })
    }

    /// The absolute data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The PostgreSQL cluster directory (`<data_dir>/pg`).
    pub fn cluster_dir(&self) -> PathBuf {
        self.data_dir.join("pg")
    }

    /// The server log (`<data_dir>/pg.log`).
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("pg.log")
    }

    /// The directory holding the server's Unix socket: `<data_dir>/run`, or
    /// `/tmp/etal-<hash>` when that path would be too long for a socket.
    pub fn socket_dir(&self) -> PathBuf {
        socket_dir_for(&self.data_dir)
    }

    /// Connection URL for `database` in this cluster, in the form sqlx 0.8
    /// accepts for a Unix socket:
    /// `postgres://postgres@localhost:5432/DATABASE?host=/socket/dir&sslmode=disable`
    /// (database and socket directory percent-encoded).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost:{PORT}/{}?host={}&sslmode=disable",
            percent_encode(database.as_bytes(), false),
            percent_encode(self.socket_dir().as_os_str().as_bytes(), true),
        )
    }

    /// Whether the cluster exists, and whether a server is running on it.
    pub fn status(&self) -> Result<ClusterStatus, ClusterError> {
        Ok(match self.postmaster()? {
            None if !self.is_initialised() => ClusterStatus::NotInitialised,
            None => ClusterStatus::Stopped,
            Some(pm) => ClusterStatus::Running { pid: pm.pid },
        })
    }

    /// Creates the cluster on first use (superuser `postgres`, trust auth on
    /// the local socket only, UTF8, locale C), then starts the server unless
    /// it is already running. Idempotent, and safe when several processes
    /// (or threads) call it at once: they serialise on `<data_dir>/cluster.lock`.
    pub fn ensure_started(&self) -> Result<StartOutcome, ClusterError> {
        let _lock = self.lock()?;
        if self.postmaster()?.is_some() && self.wait_until_settled()? {
            return Ok(StartOutcome::AlreadyRunning);
        }
        let env = Env::detect()?;
        self.prepare_dirs(&env)?;
        if !self.is_initialised() {
            self.initdb(&env)?;
        }
        self.start(&env)?;
        Ok(StartOutcome::Started)
    }

    /// Stops the server with a fast shutdown (`pg_ctl stop -m fast`): open
    /// transactions are rolled back, committed data is safe. Does nothing if
    /// no server is running.
    pub fn stop(&self) -> Result<(), ClusterError> {
        self.stop_in(StopMode::Fast)
    }

    /// Stops the server in `mode`; [`StopMode::Immediate`] is a crash (the
    /// next start runs crash recovery), for outage drills.
    pub fn stop_in(&self, mode: StopMode) -> Result<(), ClusterError> {
        let _lock = self.lock()?;
        if self.postmaster()?.is_none() {
            return Ok(());
        }
        let env = Env::detect()?;
        let cluster_dir = self.cluster_dir();
        let args: Vec<OsString> = vec![
            "stop".into(),
            "-D".into(),
            cluster_dir.clone().into(),
            "-m".into(),
            mode.as_arg().into(),
            "-w".into(),
            "-t".into(),
            PG_CTL_TIMEOUT_SECS.to_string().into(),
        ];
        match self.run(&env, &env.bins.pg_ctl, &args) {
            Ok(_) => {}
            // It may have gone away on its own in the meantime.
            Err(_) if self.postmaster()?.is_none() => {}
            Err(e) => return Err(e),
        }
        tracing::info!(cluster = %cluster_dir.display(), "private PostgreSQL cluster stopped");
        Ok(())
    }

    // ---- internals -------------------------------------------------------

    fn is_initialised(&self) -> bool {
        self.cluster_dir().join("PG_VERSION").is_file()
    }

    /// Takes the exclusive lock serialising init/start/stop across processes.
    /// Released when the returned file is dropped.
    fn lock(&self) -> Result<File, ClusterError> {
        let path = self.data_dir.join("cluster.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err(format!("opening the lock file {}", path.display())))?;
        FileExt::lock_exclusive(&file).map_err(io_err(format!("locking {}", path.display())))?;
        Ok(file)
    }

    /// Creates the cluster in a scratch directory, then renames it into place.
    fn initdb(&self, env: &Env) -> Result<(), ClusterError> {
        let scratch = self.data_dir.join("pg.initdb-tmp");
        if scratch.exists() {
            // Left over by an interrupted first run (we hold the lock).
            fs::remove_dir_all(&scratch)
                .map_err(io_err(format!("removing the stale {}", scratch.display())))?;
        }
        tracing::info!(cluster = %self.cluster_dir().display(), "initialising the private PostgreSQL cluster");
        let args: Vec<OsString> = vec![
            "-D".into(),
            scratch.clone().into(),
            "-U".into(),
            SUPERUSER.into(),
            "--auth-local=trust".into(),
            "--auth-host=reject".into(),
            "-E".into(),
            "UTF8".into(),
            "--locale=C".into(),
        ];
        self.run(env, &env.bins.initdb, &args)?;

        let conf = scratch.join("postgresql.conf");
        let mut file = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(io_err(format!("opening {}", conf.display())))?;
        file.write_all(format!("\n{SERVER_SETTINGS}").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io_err(format!("writing {}", conf.display())))?;
        self.write_runtime_conf(env, &scratch)?;

        let cluster_dir = self.cluster_dir();
        fs::rename(&scratch, &cluster_dir).map_err(io_err(format!(
            "moving {} to {}",
            scratch.display(),
            cluster_dir.display()
        )))?;
        File::open(&self.data_dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_err(format!("syncing {}", self.data_dir.display())))?;
        Ok(())
    }

    fn start(&self, env: &Env) -> Result<(), ClusterError> {
        let cluster_dir = self.cluster_dir();
        self.write_runtime_conf(env, &cluster_dir)?;
        let log = self.log_file();
        let args: Vec<OsString> = vec![
            "start".into(),
            "-D".into(),
            cluster_dir.clone().into(),
            "-w".into(),
            "-t".into(),
            PG_CTL_TIMEOUT_SECS.to_string().into(),
            "-l".into(),
            log.clone().into(),
        ];
        let started =
            self.run(env, &env.bins.pg_ctl, &args)
                .and_then(|_| match self.postmaster()? {
                    Some(pm) if pm.state == "ready" || pm.state == "standby" => Ok(()),
                    _ => Err(ClusterError::Command {
                        command: "pg_ctl start".into(),
                        status: "reported success".into(),
                        output: "but no ready server was found afterwards".into(),
                    }),
                });
        if let Err(e) = started {
            return Err(ClusterError::StartFailed {
                cluster_dir,
                detail: e.to_string(),
                log_tail: tail_lines(&log, LOG_TAIL_LINES),
                log,
            });
        }
        tracing::info!(
            cluster = %cluster_dir.display(),
            socket = %self.socket_dir().display(),
            "private PostgreSQL cluster started"
        );
        Ok(())
    }
}

/// The last `n` lines of a (possibly large) text file, or a note saying why
/// there are none.
fn tail_lines(path: &Path, n: usize) -> String {
    const WINDOW: u64 = 64 * 1024;
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(WINDOW)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(n)..].join("\n");
            if tail.trim().is_empty() {
                "(the log is empty)".into()
            } else {
                tail
            }
        }
        Err(e) => format!("(could not read the log: {e})"),
    }
}
