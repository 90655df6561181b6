//! Where the server listens and what it is configured with: the choice of
//! socket directory (inside the data directory unless the socket path would
//! be too long), preparing that directory, the settings appended to
//! `postgresql.conf` at `initdb`, the runtime configuration rewritten before
//! every start, and the percent-encoding of the connection URL.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::as_postgres::{chown_if_wrong, set_mode_0700, Env};
use super::error::{io_err, ClusterError};
use super::{PrivateCluster, PORT};

/// Longest socket file path the kernel accepts (`sun_path` is 108 bytes,
/// NUL included).
const MAX_SOCKET_PATH: usize = 107;

/// Settings appended to `postgresql.conf` by the first `initdb`.
pub(super) const SERVER_SETTINGS: &str = "\
# ---- etal private cluster (appended by etal at initdb) ----
# Unix socket only; its directory is set in etal-runtime.conf at every start.
listen_addresses = ''
port = 5432
# max_connections is set in etal-runtime.conf (see MAX_CONNECTIONS).
shared_buffers = 256MB
# Durability is a product promise: never turn these off.
fsync = on
synchronous_commit = on
full_page_writes = on
include 'etal-runtime.conf'
";

/// Connections the server accepts (set at every start, see
/// [`PrivateCluster::write_runtime_conf`]).
const MAX_CONNECTIONS: u32 = 1000;

/// File (inside the cluster directory) rewritten before every start.
const RUNTIME_CONF: &str = "etal-runtime.conf";

impl PrivateCluster {
    pub(super) fn prepare_socket_dir(&self, env: &Env) -> Result<(), ClusterError> {
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

    /// Settings that depend on where the data directory lives, rewritten
    /// before every start (the directory may have moved since initdb).
    pub(super) fn write_runtime_conf(
        &self,
        env: &Env,
        cluster_dir: &Path,
    ) -> Result<(), ClusterError> {
        let socket_dir = self.socket_dir();
        let value = socket_dir.to_string_lossy().replace('\'', "''");
        // Room for the test suite: each of its ~150 in-process engines keeps
        // a few connections open until the test process ends (3–4 a test,
        // measured), more than the 300 once set at initdb when the API tests passed 140.
        // Set here, at every start, so clusters made before get it too.
        let text = format!(
            "# Written by etal before every start; do not edit.\n\
             unix_socket_directories = '{value}'\nmax_connections = {MAX_CONNECTIONS}\n"
        );
        let path = cluster_dir.join(RUNTIME_CONF);
        fs::write(&path, text).map_err(io_err(format!("writing {}", path.display())))?;
        if let Some(owner) = env.owner {
            chown_if_wrong(&path, owner, false)?;
        }
        Ok(())
    }
}

/// The socket directory for a data directory: `<data_dir>/run` unless the
/// socket path would exceed the kernel's limit (or the path cannot be written
/// into `unix_socket_directories`), then `/tmp/etal-<16 hex of sha256>`.
pub(super) fn socket_dir_for(data_dir: &Path) -> PathBuf {
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
pub(super) fn percent_encode(bytes: &[u8], keep_slash: bool) -> String {
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
}
