//! Staying within this machine and within its limits: the targets must be
//! loopback addresses (or a Unix socket for the database) unless the user
//! says otherwise, and the open-file limit is raised as far as the system
//! allows, with a clear message when the connections asked for cannot fit.

use std::net::IpAddr;

use anyhow::bail;
use reqwest::Url;

/// Upper bounds on what one command may ask for.
pub const MAX_CUSTOMERS: usize = 10_000;
pub const MAX_WATCHERS: usize = 20_000;
pub const MAX_DURATION_SECS: u64 = 600;
pub const MAX_RATE: f64 = 200_000.0;

fn loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses an engine URL that is not on this machine.
pub fn check_engine_url(url: &str, allow_remote: bool) -> anyhow::Result<()> {
    let parsed = Url::parse(url).map_err(|e| anyhow::anyhow!("--url {url}: {e}"))?;
    if parsed.scheme() != "http" {
        bail!("--url {url}: only http:// is supported");
    }
    let host = parsed.host_str().unwrap_or("");
    if !loopback_host(host) && !allow_remote {
        bail!(
            "--url {url}: {host} is not a loopback address; this tool only loads this machine \
             (pass --allow-remote if you really mean it)"
        );
    }
    Ok(())
}

/// Refuses a database URL that is not on this machine (a Unix socket given
/// as `host=/path` counts as local).
pub fn check_database_url(url: &str, allow_remote: bool) -> anyhow::Result<()> {
    let parsed = Url::parse(url).map_err(|e| anyhow::anyhow!("database URL: {e}"))?;
    let socket = parsed
        .query_pairs()
        .any(|(k, v)| k == "host" && v.starts_with('/'));
    let host = parsed.host_str().unwrap_or("");
    if socket || host.is_empty() || loopback_host(host) || allow_remote {
        return Ok(());
    }
    bail!("database URL points at {host}, not this machine (pass --allow-remote to allow it)")
}

/// Raises the soft open-file limit as far as allowed; returns it.
pub fn raise_nofile() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            eprintln!("loadtest: could not raise the open-file limit: {e}");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}

/// Says so when `needed` descriptors do not fit under `limit`.
pub fn check_descriptors(needed: u64, limit: u64) -> anyhow::Result<()> {
    // Room for the database pool, stdio, the log files and a margin.
    let reserve = 64;
    if needed + reserve > limit {
        bail!(
            "{needed} connections asked for, but this process may open only {limit} files \
             (the system's hard limit): lower --customers/--watchers or raise `ulimit -Hn`"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_engines_are_allowed() {
        assert!(check_engine_url("http://127.0.0.1:8080", false).is_ok());
        assert!(check_engine_url("http://localhost:8080/", false).is_ok());
        assert!(check_engine_url("http://[::1]:8080", false).is_ok());
        assert!(check_engine_url("http://10.0.0.5:8080", false).is_err());
        assert!(check_engine_url("http://example.org", false).is_err());
        assert!(check_engine_url("http://example.org", true).is_ok());
        assert!(check_engine_url("https://127.0.0.1", false).is_err());
    }

    #[test]
    fn only_local_databases_are_allowed() {
        assert!(check_database_url(
            "postgres://postgres@localhost:5432/etal?host=/tmp/etal-abc&sslmode=disable",
            false
        )
        .is_ok());
        assert!(check_database_url("postgres://u@127.0.0.1/db", false).is_ok());
        assert!(check_database_url("postgres://u@db.example.org/db", false).is_err());
    }

    #[test]
    fn descriptors_are_checked() {
        assert!(check_descriptors(100, 1024).is_ok());
        assert!(check_descriptors(1000, 1024).is_err());
    }
}
