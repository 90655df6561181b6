//! Locating the PostgreSQL server tools (`initdb`, `pg_ctl`) and the other
//! programs the cluster needs (`runuser`, `su`), plus the one install
//! instruction every "not found" message repeats. Pure filesystem lookups,
//! separate from the lifecycle so they can be tested on a fake tree.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The exact install instruction given whenever the server binaries are missing.
pub(super) const INSTALL_HINT: &str =
    "install them with `apt-get install -y postgresql` (as root) or `sudo apt-get install -y postgresql`";

/// Absolute paths of the server tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Binaries {
    pub(super) initdb: PathBuf,
    pub(super) pg_ctl: PathBuf,
}

/// `initdb` and `pg_ctl`: from `PATH` first (symlinks resolved, so the tools
/// come from one installation), then the highest version under
/// `/usr/lib/postgresql/*/bin`.
pub(super) fn find_binaries(path_var: Option<&OsStr>) -> Option<Binaries> {
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

pub(super) fn find_tool(name: &str) -> Option<PathBuf> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cluster::ClusterError;
    use std::ffi::OsString;

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
}
