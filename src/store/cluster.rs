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

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fs4::fs_std::FileExt;
use sha2::{Digest, Sha256};

/// The TCP-less "port": it only names the socket file (`.s.PGSQL.5432`),
/// which is private to the socket directory, so it never clashes.
pub const PORT: u16 = 5432;

/// The cluster's superuser role.
pub const SUPERUSER: &str = "postgres";

/// Longest socket file path the kernel accepts (`sun_path` is 108 bytes,
/// NUL included).
const MAX_SOCKET_PATH: usize = 107;

/// How long `pg_ctl` (and our own waits) may take to start or stop the server.
const PG_CTL_TIMEOUT_SECS: u64 = 60;

/// Lines of `pg.log` quoted when the server fails to start.
const LOG_TAIL_LINES: usize = 20;

/// The operating-system user the server runs as when we are root.
const POSTGRES_OS_USER: &str = "postgres";

/// The exact install instruction given whenever the server binaries are missing.
const INSTALL_HINT: &str =
    "install them with `apt-get install -y postgresql` (as root) or `sudo apt-get install -y postgresql`";

/// Settings appended to `postgresql.conf` by the first `initdb`.
const SERVER_SETTINGS: &str = "\
# ---- etal private cluster (appended by etal at initdb) ----
# Unix socket only; its directory is set in etal-runtime.conf at every start.
listen_addresses = ''
port = 5432
max_connections = 300
shared_buffers = 256MB
# Durability is a product promise: never turn these off.
fsync = on
synchronous_commit = on
full_page_writes = on
include 'etal-runtime.conf'
";

/// File (inside the cluster directory) rewritten before every start.
const RUNTIME_CONF: &str = "etal-runtime.conf";

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

/// Everything that can go wrong while managing the private cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// `initdb` / `pg_ctl` are neither on `PATH` nor under
    /// `/usr/lib/postgresql/*/bin`.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH nor under \
         /usr/lib/postgresql/*/bin; {INSTALL_HINT}"
    )]
    BinariesNotFound,

    /// Running as root, but there is no `postgres` system user to run the
    /// server as.
    #[error(
        "running as root, and PostgreSQL refuses to run as root, but the `postgres` system user \
         was not found ({detail}); it comes with the server package: {INSTALL_HINT}"
    )]
    PostgresUserMissing {
        /// What the lookup said.
        detail: String,
    },

    /// Running as root with neither `runuser` nor `su` available.
    #[error(
        "running as root, and PostgreSQL refuses to run as root, but neither `runuser` nor `su` \
         was found to run it as the `postgres` user (install util-linux / login)"
    )]
    NoUserSwitchTool,

    /// Running as root, and the `postgres` user cannot reach the data directory.
    #[error(
        "the `postgres` system user cannot traverse {} (on the way to the data directory {}); \
         PostgreSQL refuses to run as root, so the private cluster runs as `postgres`: move the \
         data directory somewhere `postgres` can reach, or allow it with `chmod o+x {}`",
        .dir.display(), .data_dir.display(), .dir.display()
    )]
    NotTraversable {
        /// The first directory `postgres` cannot enter.
        dir: PathBuf,
        /// The data directory it leads to.
        data_dir: PathBuf,
    },

    /// The socket directory exists but cannot be used safely.
    #[error("socket directory {}: {reason}", .dir.display())]
    SocketDir {
        /// The socket directory.
        dir: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },

    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// An external command (initdb, pg_ctl, …) failed.
    #[error("`{command}` failed ({status}){}{output}", if .output.is_empty() { "" } else { ":\n" })]
    Command {
        /// The command line, for humans.
        command: String,
        /// Exit status.
        status: String,
        /// Its stdout and stderr.
        output: String,
    },

    /// `pg_ctl start` failed; the server log says why.
    #[error(
        "could not start the private PostgreSQL cluster in {}: {detail}\n--- last {LOG_TAIL_LINES} \
         lines of {} ---\n{log_tail}",
        .cluster_dir.display(), .log.display()
    )]
    StartFailed {
        /// The cluster directory.
        cluster_dir: PathBuf,
        /// What pg_ctl said.
        detail: String,
        /// The server log file.
        log: PathBuf,
        /// Its last lines.
        log_tail: String,
    },

    /// A server neither became ready nor went away in time.
    #[error("timed out after {PG_CTL_TIMEOUT_SECS} s waiting for {what}")]
    Timeout {
        /// What we were waiting for.
        what: String,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
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
            "fast".into(),
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

    /// The live postmaster of this cluster, if any, from `postmaster.pid`.
    fn postmaster(&self) -> Result<Option<Postmaster>, ClusterError> {
        let pid_file = self.cluster_dir().join("postmaster.pid");
        let text = match fs::read_to_string(&pid_file) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(format!("reading {}", pid_file.display()))(e)),
        };
        let mut lines = text.lines();
        // A pid file being written may briefly be empty or partial.
        let Some(pid) = lines.next().and_then(|l| l.trim().parse::<u32>().ok()) else {
            return Ok(None);
        };
        if !process_is_postgres(pid) {
            return Ok(None);
        }
        // Line 8 is the postmaster status: starting / stopping / ready / standby.
        let state = lines
            .nth(6)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        Ok(Some(Postmaster { pid, state }))
    }

    /// Waits until a running postmaster is ready (`true`) or gone (`false`).
    fn wait_until_settled(&self) -> Result<bool, ClusterError> {
        let deadline = Instant::now() + Duration::from_secs(PG_CTL_TIMEOUT_SECS);
        loop {
            match self.postmaster()? {
                None => return Ok(false),
                Some(pm) if pm.state == "ready" || pm.state == "standby" => return Ok(true),
                Some(_) if Instant::now() >= deadline => {
                    return Err(ClusterError::Timeout {
                        what: format!(
                            "the server on {} to become ready or stop",
                            self.cluster_dir().display()
                        ),
                    })
                }
                Some(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Directory ownership and modes; when root, hands everything to `postgres`
    /// and checks that `postgres` can reach the data directory.
    fn prepare_dirs(&self, env: &Env) -> Result<(), ClusterError> {
        let data_dir = &self.data_dir;
        if let Some(owner) = env.owner {
            // Anything a previous non-root run left behind must change hands.
            chown_if_wrong(data_dir, owner, false)?;
            let entries = fs::read_dir(data_dir)
                .map_err(io_err(format!("listing {}", data_dir.display())))?;
            for entry in entries {
                let entry = entry.map_err(io_err(format!("listing {}", data_dir.display())))?;
                chown_if_wrong(&entry.path(), owner, true)?;
            }
        }
        set_mode_0700(data_dir)?;
        if env.owner.is_some() {
            self.check_traversable(env)?;
        }
        self.prepare_socket_dir(env)
    }

    fn check_traversable(&self, env: &Env) -> Result<(), ClusterError> {
        let can_enter = |dir: &Path| -> Result<bool, ClusterError> {
            let args: Vec<OsString> = vec!["-x".into(), dir.into()];
            let output = env
                .runner
                .command(Path::new("test"), &args)
                .current_dir("/")
                .output()
                .map_err(io_err("running `test` as the postgres user"))?;
            Ok(output.status.success())
        };
        if can_enter(&self.data_dir)? {
            return Ok(());
        }
        // Find the culprit, from the root down.
        let mut ancestors: Vec<&Path> = self.data_dir.ancestors().collect();
        ancestors.reverse();
        let dir = ancestors
            .into_iter()
            .find_map(|dir| match can_enter(dir) {
                Ok(true) => None,
                Ok(false) => Some(Ok(dir.to_path_buf())),
                Err(e) => Some(Err(e)),
            })
            .transpose()?
            .unwrap_or_else(|| self.data_dir.clone());
        Err(ClusterError::NotTraversable {
            dir,
            data_dir: self.data_dir.clone(),
        })
    }

    fn prepare_socket_dir(&self, env: &Env) -> Result<(), ClusterError> {
        let dir = self.socket_dir();
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(format!("creating {}", dir.display()))(e)),
        }
        let meta =
            fs::symlink_metadata(&dir).map_err(io_err(format!("inspecting {}", dir.display())))?;
        if !meta.is_dir() {
            return Err(ClusterError::SocketDir {
                dir,
                reason: "exists and is not a directory".into(),
            });
        }
        let expected_uid = match env.owner {
            Some(owner) => {
                // Ours to hand over only if we (root) made it, or it is already theirs.
                if meta.uid() == 0 || meta.uid() == owner.uid {
                    chown_if_wrong(&dir, owner, false)?;
                }
                owner.uid
            }
            None => env.euid,
        };
        let meta =
            fs::symlink_metadata(&dir).map_err(io_err(format!("inspecting {}", dir.display())))?;
        if meta.uid() != expected_uid {
            return Err(ClusterError::SocketDir {
                reason: format!(
                    "owned by uid {}, expected uid {expected_uid}; remove it and retry",
                    meta.uid()
                ),
                dir,
            });
        }
        set_mode_0700(&dir)
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

    /// Settings that depend on where the data directory lives, rewritten
    /// before every start (the directory may have moved since initdb).
    fn write_runtime_conf(&self, env: &Env, cluster_dir: &Path) -> Result<(), ClusterError> {
        let socket_dir = self.socket_dir();
        let value = socket_dir.to_string_lossy().replace('\'', "''");
        let text = format!(
            "# Written by etal before every start; do not edit.\nunix_socket_directories = '{value}'\n"
        );
        let path = cluster_dir.join(RUNTIME_CONF);
        fs::write(&path, text).map_err(io_err(format!("writing {}", path.display())))?;
        if let Some(owner) = env.owner {
            chown_if_wrong(&path, owner, false)?;
        }
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

    /// Runs a PostgreSQL program (as `postgres` when we are root).
    fn run(&self, env: &Env, program: &Path, args: &[OsString]) -> Result<Output, ClusterError> {
        let mut command = env.runner.command(program, args);
        command.current_dir(&self.data_dir);
        // Never let the caller's libpq environment steer the server tools.
        for var in [
            "PGDATA",
            "PGPORT",
            "PGHOST",
            "PGHOSTADDR",
            "PGOPTIONS",
            "PGUSER",
        ] {
            command.env_remove(var);
        }
        let shown = show_command(program, args);
        tracing::debug!(command = %shown, "running");
        let output = command
            .output()
            .map_err(io_err(format!("running `{shown}`")))?;
        if output.status.success() {
            return Ok(output);
        }
        let mut text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !stderr.trim().is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(stderr.trim());
        }
        Err(ClusterError::Command {
            command: shown,
            status: output.status.to_string(),
            output: text,
        })
    }
}

/// What `postmaster.pid` says about a live server.
struct Postmaster {
    pid: u32,
    state: String,
}

/// Uid/gid of the `postgres` system user.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
}

/// How to run the server tools on this machine.
struct Env {
    bins: Binaries,
    runner: Runner,
    euid: u32,
    /// `Some` when we are root and everything must belong to `postgres`.
    owner: Option<Owner>,
}

impl Env {
    fn detect() -> Result<Self, ClusterError> {
        let bins = find_binaries(std::env::var_os("PATH").as_deref())
            .ok_or(ClusterError::BinariesNotFound)?;
        let euid = effective_uid()?;
        if euid != 0 {
            return Ok(Self {
                bins,
                runner: Runner::Direct,
                euid,
                owner: None,
            });
        }
        let owner = postgres_owner()?;
        let runner = if let Some(runuser) = find_tool("runuser") {
            Runner::Runuser(runuser)
        } else if let Some(su) = find_tool("su") {
            Runner::Su(su)
        } else {
            return Err(ClusterError::NoUserSwitchTool);
        };
        Ok(Self {
            bins,
            runner,
            euid,
            owner: Some(owner),
        })
    }
}

/// Runs commands as ourselves, or as `postgres` when we are root.
enum Runner {
    Direct,
    Runuser(PathBuf),
    Su(PathBuf),
}

impl Runner {
    fn command(&self, program: &Path, args: &[OsString]) -> Command {
        match self {
            Runner::Direct => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
            Runner::Runuser(runuser) => {
                let mut command = Command::new(runuser);
                command
                    .args(["-u", POSTGRES_OS_USER, "--"])
                    .arg(program)
                    .args(args);
                command
            }
            Runner::Su(su) => {
                let mut script = b"exec".to_vec();
                for word in
                    std::iter::once(program.as_os_str()).chain(args.iter().map(|a| a.as_os_str()))
                {
                    script.push(b' ');
                    script.extend_from_slice(&shell_quote(word.as_bytes()));
                }
                let mut command = Command::new(su);
                command
                    .args([POSTGRES_OS_USER, "-s", "/bin/sh", "-c"])
                    .arg(OsString::from_vec(script));
                command
            }
        }
    }
}

/// Absolute paths of the server tools.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

/// `initdb` and `pg_ctl`: from `PATH` first (symlinks resolved, so the tools
/// come from one installation), then the highest version under
/// `/usr/lib/postgresql/*/bin`.
fn find_binaries(path_var: Option<&OsStr>) -> Option<Binaries> {
    find_binaries_in(path_var, Path::new("/usr/lib/postgresql"))
}

fn find_binaries_in(path_var: Option<&OsStr>, versions_root: &Path) -> Option<Binaries> {
    if let Some(initdb) = path_var.and_then(|p| find_in_path(p, "initdb")) {
        let initdb = fs::canonicalize(&initdb).unwrap_or(initdb);
        let sibling = initdb.parent().map(|dir| dir.join("pg_ctl"));
        let pg_ctl = sibling
            .filter(|p| is_executable(p))
            .or_else(|| path_var.and_then(|p| find_in_path(p, "pg_ctl")));
        if let Some(pg_ctl) = pg_ctl {
            let pg_ctl = fs::canonicalize(&pg_ctl).unwrap_or(pg_ctl);
            return Some(Binaries { initdb, pg_ctl });
        }
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(versions_root)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name();
            let version = name
                .to_str()?
                .split('.')
                .map(|part| part.parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions.into_iter().rev().find_map(|(_, bin)| {
        let initdb = bin.join("initdb");
        let pg_ctl = bin.join("pg_ctl");
        (is_executable(&initdb) && is_executable(&pg_ctl)).then_some(Binaries { initdb, pg_ctl })
    })
}

fn find_in_path(path_var: &OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn find_tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|p| find_in_path(&p, name))
        .or_else(|| {
            ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
                .iter()
                .map(|dir| Path::new(dir).join(name))
                .find(|candidate| is_executable(candidate))
        })
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The socket directory for a data directory: `<data_dir>/run` unless the
/// socket path would exceed the kernel's limit (or the path cannot be written
/// into `unix_socket_directories`), then `/tmp/etal-<16 hex of sha256>`.
fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let preferred = data_dir.join("run");
    let socket_len = preferred.as_os_str().len() + format!("/.s.PGSQL.{PORT}").len();
    let representable = preferred
        .to_str()
        .is_some_and(|s| !s.chars().any(|c| c == ',' || c == '"' || c.is_control()));
    if socket_len <= MAX_SOCKET_PATH && representable {
        return preferred;
    }
    let digest = Sha256::digest(data_dir.as_os_str().as_bytes());
    let hex = hex::encode(digest);
    PathBuf::from(format!("/tmp/etal-{}", &hex[..16]))
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/`
/// when `keep_slash`), which survives both URL path and query decoding.
fn percent_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn shell_quote(word: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in word {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

fn show_command(program: &Path, args: &[OsString]) -> String {
    let mut shown = program.display().to_string();
    for arg in args {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}

/// Whether `pid` is alive (not a zombie) and is a PostgreSQL server process.
fn process_is_postgres(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_is_live_postgres(&stat),
        // Without /proc we cannot tell; trust the pid file.
        Err(_) => !Path::new("/proc/self").exists(),
    }
}

/// Parses `/proc/<pid>/stat` (`pid (comm) state …`). A killed postmaster
/// whose parent never reaps it lingers as a zombie: that is not a server.
fn stat_is_live_postgres(stat: &str) -> bool {
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = stat.get(open + 1..close).unwrap_or_default();
    let state = stat
        .get(close + 1..)
        .unwrap_or_default()
        .trim_start()
        .chars()
        .next();
    matches!(comm, "postgres" | "postmaster") && !matches!(state, None | Some('Z' | 'X' | 'x'))
}

/// The effective uid, from `/proc/self/status` (no libc), else `id -u`.
fn effective_uid() -> Result<u32, ClusterError> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        let euid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|euid| euid.parse().ok());
        if let Some(euid) = euid {
            return Ok(euid);
        }
    }
    let output = Command::new("id")
        .arg("-u")
        .output()
        .map_err(io_err("running `id -u`"))?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| ClusterError::Command {
            command: "id -u".into(),
            status: output.status.to_string(),
            output: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
}

/// Uid and gid of the `postgres` system user.
fn postgres_owner() -> Result<Owner, ClusterError> {
    let id = |flag: &str| -> Result<u32, ClusterError> {
        let output = Command::new("id")
            .args([flag, POSTGRES_OS_USER])
            .output()
            .map_err(|e| ClusterError::PostgresUserMissing {
                detail: format!("running `id {flag} {POSTGRES_OS_USER}`: {e}"),
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        match text.trim().parse() {
            Ok(n) if output.status.success() => Ok(n),
            _ => Err(ClusterError::PostgresUserMissing {
                detail: format!(
                    "`id {flag} {POSTGRES_OS_USER}`: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            }),
        }
    };
    Ok(Owner {
        uid: id("-u")?,
        gid: id("-g")?,
    })
}

/// Gives `path` (and, if `recursive`, everything below it) to `owner` when
/// its owner is wrong. Symlinks are changed, never followed.
fn chown_if_wrong(path: &Path, owner: Owner, recursive: bool) -> Result<(), ClusterError> {
    let meta =
        fs::symlink_metadata(path).map_err(io_err(format!("inspecting {}", path.display())))?;
    if meta.uid() == owner.uid && meta.gid() == owner.gid {
        // Children are handed over before their parent, so a parent with the
        // right owner means its tree is done.
        return Ok(());
    }
    if recursive && meta.is_dir() {
        let entries = fs::read_dir(path).map_err(io_err(format!("listing {}", path.display())))?;
        for entry in entries {
            let entry = entry.map_err(io_err(format!("listing {}", path.display())))?;
            chown_if_wrong(&entry.path(), owner, true)?;
        }
    }
    std::os::unix::fs::lchown(path, Some(owner.uid), Some(owner.gid)).map_err(io_err(format!(
        "changing the owner of {} to postgres",
        path.display()
    )))
}

fn set_mode_0700(dir: &Path) -> Result<(), ClusterError> {
    let meta = fs::metadata(dir).map_err(io_err(format!("inspecting {}", dir.display())))?;
    if meta.permissions().mode() & 0o7777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("setting mode 0700 on {}", dir.display())))?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn short_data_dirs_keep_their_socket_inside() {
        let dir = Path::new("/srv/etal/.etal");
        assert_eq!(socket_dir_for(dir), dir.join("run"));
    }

    #[test]
    fn long_data_dirs_move_their_socket_to_tmp() {
        let dir = PathBuf::from(format!("/srv/{}", "x".repeat(120)));
        let socket = socket_dir_for(&dir);
        let name = socket
            .strip_prefix("/tmp")
            .expect("socket dir under /tmp")
            .to_str()
            .expect("utf-8");
        let hex = name.strip_prefix("etal-").expect("etal- prefix");
        assert_eq!(hex.len(), 16);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
        // Stable for a given data directory, distinct for another.
        assert_eq!(socket, socket_dir_for(&dir));
        assert_ne!(socket, socket_dir_for(&dir.join("y")));
    }

    #[test]
    fn the_socket_limit_is_exactly_107_bytes() {
        let suffix = "/run/.s.PGSQL.5432".len();
        let fits = PathBuf::from(format!("/{}", "a".repeat(MAX_SOCKET_PATH - suffix - 1)));
        assert_eq!(socket_dir_for(&fits), fits.join("run"));
        let too_long = PathBuf::from(format!("/{}", "a".repeat(MAX_SOCKET_PATH - suffix)));
        assert!(socket_dir_for(&too_long).starts_with("/tmp"));
    }

    #[test]
    fn commas_in_the_path_move_the_socket_to_tmp() {
        assert!(socket_dir_for(Path::new("/srv/a,b")).starts_with("/tmp"));
    }

    #[test]
    fn urls_parse_with_sqlx_even_for_odd_paths() {
        let cluster = PrivateCluster {
            data_dir: PathBuf::from("/srv/my data+x&y=z%/.etal"),
        };
        let url = cluster.url("shop db");
        let options =
            sqlx::postgres::PgConnectOptions::from_str(&url).expect("sqlx parses the URL");
        assert_eq!(
            options.get_socket(),
            Some(&PathBuf::from("/srv/my data+x&y=z%/.etal/run"))
        );
        assert_eq!(options.get_database(), Some("shop db"));
        assert_eq!(options.get_username(), "postgres");
        assert_eq!(options.get_port(), PORT);
    }

    #[test]
    fn binaries_fall_back_to_the_highest_installed_version() {
        let root = std::env::temp_dir().join(format!("etal-pgbin-{}", uuid::Uuid::new_v4()));
        for version in ["9.6", "15", "13"] {
            let bin = root.join(version).join("bin");
            fs::create_dir_all(&bin).expect("mkdir");
            for tool in ["initdb", "pg_ctl"] {
                fs::write(bin.join(tool), "#!/bin/sh\n").expect("write");
                fs::set_permissions(bin.join(tool), fs::Permissions::from_mode(0o755))
                    .expect("chmod");
            }
        }
        let empty_path = OsString::from("/nonexistent-etal-bin");
        let found = find_binaries_in(Some(&empty_path), &root).expect("found");
        assert_eq!(found.initdb, root.join("15/bin/initdb"));
        assert_eq!(found.pg_ctl, root.join("15/bin/pg_ctl"));
        assert_eq!(
            find_binaries_in(Some(&empty_path), &root.join("missing")),
            None
        );
        fs::remove_dir_all(&root).expect("cleanup");
    }

    #[test]
    fn the_missing_binaries_error_says_what_to_install() {
        let message = ClusterError::BinariesNotFound.to_string();
        assert!(message.contains("apt-get install -y postgresql"));
        assert!(message.contains("sudo apt-get install -y postgresql"));
    }

    #[test]
    fn zombies_and_strangers_are_not_servers() {
        assert!(stat_is_live_postgres("4242 (postgres) S 1 4242 4242 0 -1"));
        assert!(!stat_is_live_postgres("4242 (postgres) Z 1 4242 4242 0 -1"));
        assert!(!stat_is_live_postgres("4242 (bash) S 1 4242 4242 0 -1"));
        assert!(!stat_is_live_postgres("4242 (we (ird) S 1"));
        assert!(!stat_is_live_postgres(""));
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote(b"it's"), b"'it'\\''s'".to_vec());
    }
}
