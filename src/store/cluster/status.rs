//! Is a server running on this cluster? Reads `postmaster.pid` and checks,
//! through `/proc`, that the process it names is a live PostgreSQL server
//! (not a zombie left by a killed postmaster, not an unrelated process that
//! inherited the pid), and waits for a starting or stopping server to settle.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use super::error::{io_err, ClusterError};
use super::{PrivateCluster, PG_CTL_TIMEOUT_SECS};

impl PrivateCluster {
    /// The live postmaster of this cluster, if any, from `postmaster.pid`.
    pub(super) fn postmaster(&self) -> Result<Option<Postmaster>, ClusterError> {
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
    pub(super) fn wait_until_settled(&self) -> Result<bool, ClusterError> {
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
}

/// What `postmaster.pid` says about a live server.
pub(super) struct Postmaster {
    pub(super) pid: u32,
    pub(super) state: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zombies_and_strangers_are_not_servers() {
        assert!(stat_is_live_postgres("4242 (postgres) S 1 4242 4242 0 -1"));
        assert!(!stat_is_live_postgres("4242 (postgres) Z 1 4242 4242 0 -1"));
        assert!(!stat_is_live_postgres("4242 (bash) S 1 4242 4242 0 -1"));
        assert!(!stat_is_live_postgres("4242 (we (ird) S 1"));
        assert!(!stat_is_live_postgres(""));
    }
}
