//! Running the server tools, as the `postgres` system user when etal runs as
//! root (PostgreSQL refuses to run as root): detecting who we are, switching
//! user with `runuser` or `su`, handing the data directory to `postgres`
//! (ownership, mode 0700) and checking that `postgres` can traverse every
//! parent of it. Everything that differs between a root and a non-root run
//! lives here.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::binaries::{find_binaries, find_tool, Binaries};
use super::error::{io_err, ClusterError};
use super::PrivateCluster;

/// The operating-system user the server runs as when we are root.
const POSTGRES_OS_USER: &str = "postgres";

impl PrivateCluster {
    /// Directory ownership and modes; when root, hands everything to `postgres`
    /// and checks that `postgres` can reach the data directory.
    pub(super) fn prepare_dirs(&self, env: &Env) -> Result<(), ClusterError> {
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

    /// Runs a PostgreSQL program (as `postgres` when we are root).
    pub(super) fn run(
        &self,
        env: &Env,
        program: &Path,
        args: &[OsString],
    ) -> Result<Output, ClusterError> {
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

/// Uid/gid of the `postgres` system user.
#[derive(Debug, Clone, Copy)]
pub(super) struct Owner {
    pub(super) uid: u32,
    pub(super) gid: u32,
}

/// How to run the server tools on this machine.
pub(super) struct Env {
    pub(super) bins: Binaries,
    runner: Runner,
    pub(super) euid: u32,
    /// `Some` when we are root and everything must belong to `postgres`.
    pub(super) owner: Option<Owner>,
}

impl Env {
    pub(super) fn detect() -> Result<Self, ClusterError> {
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
pub(super) fn chown_if_wrong(
    path: &Path,
    owner: Owner,
    recursive: bool,
) -> Result<(), ClusterError> {
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

pub(super) fn set_mode_0700(dir: &Path) -> Result<(), ClusterError> {
    let meta = fs::metadata(dir).map_err(io_err(format!("inspecting {}", dir.display())))?;
    if meta.permissions().mode() & 0o7777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("setting mode 0700 on {}", dir.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote(b"it's"), b"'it'\\''s'".to_vec());
    }
}
