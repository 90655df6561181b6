//! [`ClusterError`]: everything that can go wrong while managing the private
//! cluster, worded for the person running etal (what to install, which
//! directory to fix, the server log's last lines). Kept apart from the
//! lifecycle code because the messages alone are a screenful.

use std::io;
use std::path::PathBuf;

use super::binaries::INSTALL_HINT;
use super::{LOG_TAIL_LINES, PG_CTL_TIMEOUT_SECS};

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

pub(super) fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}
