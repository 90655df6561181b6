//! Layered configuration.
//!
//! Layers, each overriding the previous one:
//! 1. the built-in defaults (`config/default.toml`, compiled into the binary so
//!    `etal` runs from any directory);
//! 2. `config/default.toml` beside the working directory, when present;
//! 3. `config/<profile>.toml`, the profile chosen by `ETAL_PROFILE`;
//! 4. `ETAL__SECTION__KEY` environment variables;
//! 5. `DATABASE_URL`, which sets `database.url`.
//!
//! A value of the wrong type or out of range stops start-up with a message
//! naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

const BUILT_IN_DEFAULTS: &str = include_str!("../config/default.toml");

/// The effective configuration of an engine.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub engine: EngineSettings,
    pub notify: NotifySettings,
    pub web: WebSettings,
    pub cluster: ClusterSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub body_limit_bytes: usize,
    pub shutdown_timeout_secs: u64,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Threads the WebSocket sessions run on, apart from the HTTP
    /// workers; 0 means one per core.
    pub live_threads: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Empty means "run the private cluster under `data_dir`". A secret
    /// (it may carry a password): shown with the password redacted.
    #[serde(serialize_with = "serialize_url_redacted")]
    pub url: SecretString,
    pub data_dir: PathBuf,
    /// Database name inside the private cluster.
    pub name: String,
    pub max_connections: u32,
    /// Longest wait for the database at start (migrations).
    pub connect_timeout_secs: u64,
    /// Longest a request (or the order writer) waits for a connection,
    /// making one included, before answering 503 + `Retry-After`.
    pub acquire_timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub token_ttl_hours: u32,
}

/// The web pages: cookies, uploads, platform admins, the map.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Mark the session and CSRF cookies `Secure` (sent over HTTPS only;
    /// browsers also accept them from `http://localhost` and `127.0.0.1`).
    pub secure_cookies: bool,
    /// Largest photo or logo accepted, in bytes.
    pub upload_limit_bytes: usize,
    /// Map tiles for the page vitrine (`{z}/{x}/{y}`); empty: the markets
    /// are drawn on the bundled outline of France.
    pub map_tile_url: String,
}

/// Several etal nodes on one database (`crate::cluster`). Off by default:
/// one engine, no NATS, exactly as a single process.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// Run as a node of a cluster: the node holding the ordering lease is
    /// the active engine, the others forward to it and mirror its feeds.
    pub enabled: bool,
    /// The NATS server the nodes share (`nats://host:port`). Empty: a
    /// private `nats-server` under `database.data_dir` (started if needed).
    pub nats_url: String,
    /// This node's id (a UUID); empty: a fresh one at every start.
    pub node_id: String,
    /// The URL other nodes and clients reach this node at (shown by
    /// `/ready`); empty: `http://` + the listen address.
    pub advertise_url: String,
    /// Lifetime of the ordering lease: a standby takes over at most this
    /// long after the active node stopped renewing it.
    pub lease_seconds: u64,
    /// Longest wait for the active engine's answer to a forwarded request,
    /// in ms (then 503 + `Retry-After`).
    pub forward_timeout_ms: u64,
    /// How often a node tells the active engine which distributions its
    /// storefronts watch (their actors stay active to tick), in ms.
    pub interest_every_ms: u64,
}

/// Where an offer's actor is activated (a distribution's actor always
/// goes by its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorPlacement {
    /// Spread by the offer's id.
    ById,
    /// On the thread of the distribution whose order first needs it.
    WithDistribution,
}

/// Tunables of the ordering engine, the live push and the settlement.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    pub writer_batch_max: usize,
    pub writer_batch_wait_ms: u64,
    pub writer_queue_capacity: usize,
    pub writer_connections: u32,
    pub mailbox_capacity: usize,
    /// Threads (actix arbiters) the actors are spread over; 0 = one per core.
    pub actor_threads: usize,
    /// Which thread an offer's actor lives on.
    pub actor_placement: ActorPlacement,
    /// How long a message to an actor may wait before the request gets 503.
    pub actor_timeout_ms: u64,
    /// How often sale windows are checked (opening/closing events), in ms.
    pub tick_ms: u64,
    pub idle_passivate_secs: u64,
    /// The narrowest push window (storefront and stock pushes are
    /// coalesced this long), where it starts and returns to while every
    /// session keeps up, in ms.
    pub push_coalesce_ms: u64,
    /// The widest push window, in ms: it widens up to this while sessions
    /// fall behind.
    pub push_coalesce_max_ms: u64,
    pub ws_buffer_frames: usize,
    pub ws_max_connections: usize,
    pub ws_max_frame_bytes: usize,
    /// Outgoing messages longer than this go out as continuation frames of
    /// this size (keeps each connection's write buffer small).
    pub ws_fragment_bytes: usize,
    pub ws_heartbeat_secs: u64,
    pub ws_idle_timeout_secs: u64,
    pub delivery_delay_minutes: u32,
    /// How long a basket holds stock after its last change, in seconds
    /// (1 to 86,400).
    pub cart_hold_seconds: u64,
    /// How often background jobs (closing summaries, delivery settlement,
    /// outbox delivery) look for due work, in ms.
    pub jobs_interval_ms: u64,
}

/// How messages (closing recaps, order-change notices) leave the engine.
/// With no `smtp_host` they stay in the `outbox` table and go to the log.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls`, `tls` (implicit TLS) or `none` (a local relay only).
    pub smtp_tls: SmtpTls,
    pub smtp_username: String,
    /// Shown as `***` when set.
    #[serde(serialize_with = "serialize_redacted")]
    pub smtp_password: SecretString,
    /// Sender, e.g. `etal <no-reply@example.org>`.
    pub from: String,
    /// Delivery attempts per message before it is left aside.
    pub max_attempts: u32,
    /// Longest wait for the SMTP server, in seconds.
    pub smtp_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    Starttls,
    Tls,
    None,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: `{key}` {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// Where the layers come from; tests pass their own.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Folder holding `default.toml` and the profile files (usually `config/`).
    pub config_dir: Option<PathBuf>,
    pub profile: Option<String>,
    /// `(name, value)` pairs read as environment variables.
    pub env: Vec<(String, String)>,
}

impl Sources {
    /// The process's real sources: `./config`, `ETAL_PROFILE`, the environment.
    pub fn from_process() -> Self {
        Self {
            config_dir: Some(PathBuf::from("config")),
            profile: std::env::var("ETAL_PROFILE").ok().filter(|p| !p.is_empty()),
            env: std::env::vars().collect(),
        }
    }
}

impl Settings {
    /// Loads the configuration of this process.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(&Sources::from_process())
    }

    /// Loads the configuration from explicit sources.
    pub fn load_from(sources: &Sources) -> Result<Self, ConfigError> {
        let mut builder =
            Config::builder().add_source(File::from_str(BUILT_IN_DEFAULTS, FileFormat::Toml));
        if let Some(dir) = &sources.config_dir {
            builder = builder.add_source(optional_file(&dir.join("default.toml")));
            if let Some(profile) = &sources.profile {
                let path = dir.join(format!("{profile}.toml"));
                if !path.exists() {
                    return Err(ConfigError::Invalid {
                        key: "ETAL_PROFILE",
                        reason: format!("names a profile with no file at {}", path.display()),
                    });
                }
                builder = builder.add_source(File::from(path).format(FileFormat::Toml));
            }
        }
        let env: config::Map<String, String> = sources
            .env
            .iter()
            .filter(|(k, _)| k.starts_with("ETAL__"))
            .cloned()
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("ETAL")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(env)),
        );
        if let Some((_, url)) = sources.env.iter().find(|(k, _)| k == "DATABASE_URL") {
            builder = builder.set_override("database.url", url.clone())?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&'static str, bool, &str); 14] = [
            (
                "database.acquire_timeout_ms",
                self.database.acquire_timeout_ms >= 50,
                "must be at least 50",
            ),
            (
                "server.body_limit_bytes",
                self.server.body_limit_bytes >= 1024,
                "must be at least 1024",
            ),
            (
                "database.max_connections",
                self.database.max_connections >= 2,
                "must be at least 2",
            ),
            (
                "database.name",
                valid_identifier(&self.database.name),
                "must be letters, digits and underscores",
            ),
            (
                "auth.token_ttl_hours",
                self.auth.token_ttl_hours >= 1,
                "must be at least 1",
            ),
            (
                "engine.writer_batch_max",
                self.engine.writer_batch_max >= 1,
                "must be at least 1",
            ),
            (
                "engine.writer_queue_capacity",
                self.engine.writer_queue_capacity >= 1,
                "must be at least 1",
            ),
            (
                "engine.writer_connections",
                self.engine.writer_connections >= 1,
                "must be at least 1",
            ),
            (
                "engine.mailbox_capacity",
                self.engine.mailbox_capacity >= 16,
                "must be at least 16",
            ),
            (
                "engine.push_coalesce_ms",
                self.engine.push_coalesce_ms >= 1,
                "must be at least 1",
            ),
            (
                "engine.push_coalesce_max_ms",
                self.engine.push_coalesce_max_ms >= self.engine.push_coalesce_ms,
                "must be at least engine.push_coalesce_ms",
            ),
            (
                "engine.ws_buffer_frames",
                self.engine.ws_buffer_frames >= 4,
                "must be at least 4",
            ),
            (
                "engine.ws_fragment_bytes",
                self.engine.ws_fragment_bytes >= 64,
                "must be at least 64",
            ),
            (
                "engine.cart_hold_seconds",
                (1..=86_400).contains(&self.engine.cart_hold_seconds),
                "must be between 1 and 86400",
            ),
        ];
        for (key, ok, reason) in checks {
            if !ok {
                return Err(ConfigError::Invalid {
                    key,
                    reason: reason.to_owned(),
                });
            }
        }
        if self.cluster.lease_seconds < 1 {
            return Err(ConfigError::Invalid {
                key: "cluster.lease_seconds",
                reason: "must be at least 1".into(),
            });
        }
        if !self.cluster.node_id.is_empty() && uuid::Uuid::parse_str(&self.cluster.node_id).is_err()
        {
            return Err(ConfigError::Invalid {
                key: "cluster.node_id",
                reason: "must be a UUID (or empty for a fresh one)".into(),
            });
        }
        if self.log.level.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "log.level",
                reason: "must not be empty".into(),
            });
        }
        Ok(())
    }

    /// Whether the engine runs its own private PostgreSQL cluster.
    pub fn uses_private_cluster(&self) -> bool {
        self.database.url.expose_secret().trim().is_empty()
    }

    /// The configuration as TOML with secrets (the database password, the
    /// SMTP password) redacted.
    pub fn redacted_toml(&self) -> String {
        toml_string(self)
    }
}

/// Writes a secret as `***` (or empty when unset): secrets are never shown.
fn serialize_redacted<S: serde::Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let shown = if secret.expose_secret().is_empty() {
        ""
    } else {
        "***"
    };
    serializer.serialize_str(shown)
}

/// Writes a database URL with its password redacted.
fn serialize_url_redacted<S: serde::Serializer>(
    url: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&redact_url_password(url.expose_secret()))
}

fn toml_string(settings: &Settings) -> String {
    // serde_json → a readable, stable rendering without pulling a TOML writer.
    let value = serde_json::to_value(settings).unwrap_or_default();
    let mut out = String::new();
    if let serde_json::Value::Object(sections) = value {
        for (section, body) in sections {
            out.push_str(&format!("[{section}]\n"));
            if let serde_json::Value::Object(keys) = body {
                for (key, v) in keys {
                    out.push_str(&format!("{key} = {v}\n"));
                }
            }
            out.push('\n');
        }
    }
    out
}

fn optional_file(path: &Path) -> File<config::FileSourceFile, FileFormat> {
    File::from(path.to_path_buf())
        .format(FileFormat::Toml)
        .required(false)
}

fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces the password of a `postgres://user:password@host/db` URL by `***`.
pub fn redact_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn built_in_defaults_load_without_a_config_folder() {
        let s = Settings::load_from(&Sources::default()).expect("defaults load");
        assert_eq!(s.server.listen.port(), 8080);
        assert!(s.uses_private_cluster());
        assert_eq!(s.log.format, LogFormat::Pretty);
    }

    #[test]
    fn layers_apply_in_order_profile_then_env_then_database_url() {
        let dir = std::env::temp_dir().join(format!("etal-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("default.toml"),
            "[server]\nlisten = \"127.0.0.1:9000\"\n[log]\nformat = \"json\"\n",
        )
        .expect("write default");
        std::fs::write(
            dir.join("ci.toml"),
            "[server]\nlisten = \"127.0.0.1:9100\"\nbody_limit_bytes = 2048\n",
        )
        .expect("write profile");
        let sources = Sources {
            config_dir: Some(dir.clone()),
            profile: Some("ci".into()),
            env: env(&[
                ("ETAL__SERVER__BODY_LIMIT_BYTES", "4096"),
                ("DATABASE_URL", "postgres://u:secret@db/etal"),
                ("UNRELATED", "x"),
            ]),
        };
        let s = Settings::load_from(&sources).expect("layers load");
        assert_eq!(s.server.listen.port(), 9100, "profile beats default.toml");
        assert_eq!(s.server.body_limit_bytes, 4096, "env beats profile");
        assert_eq!(s.log.format, LogFormat::Json, "default.toml beats built-in");
        assert_eq!(
            s.database.url.expose_secret(),
            "postgres://u:secret@db/etal"
        );
        assert!(!s.uses_private_cluster());
        assert!(!format!("{s:?}").contains("secret"), "Debug hides secrets");
        let shown = s.redacted_toml();
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("postgres://u:***@db/etal"), "{shown}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let sources = Sources {
            env: env(&[("ETAL__SERVER__BODY_LIMIT_BYTES", "lots")]),
            ..Sources::default()
        };
        let err = Settings::load_from(&sources).expect_err("bad value refused");
        assert!(err.to_string().contains("body_limit_bytes"), "{err}");

        let sources = Sources {
            env: env(&[("ETAL__SERVER__LISTEN", "nowhere")]),
            ..Sources::default()
        };
        let err = Settings::load_from(&sources).expect_err("bad address refused");
        assert!(err.to_string().contains("listen"), "{err}");

        let sources = Sources {
            env: env(&[("ETAL__DATABASE__MAX_CONNECTIONS", "1")]),
            ..Sources::default()
        };
        let err = Settings::load_from(&sources).expect_err("range refused");
        assert!(
            err.to_string().contains("database.max_connections"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_profile_is_refused() {
        let sources = Sources {
            config_dir: Some(std::env::temp_dir()),
            profile: Some("no-such-profile-xyz".into()),
            env: vec![],
        };
        let err = Settings::load_from(&sources).expect_err("missing profile");
        assert!(err.to_string().contains("ETAL_PROFILE"), "{err}");
    }

    #[test]
    fn redaction_leaves_urls_without_password_alone() {
        assert_eq!(
            redact_url_password("postgres://postgres@localhost/etal?host=/tmp"),
            "postgres://postgres@localhost/etal?host=/tmp"
        );
        assert_eq!(redact_url_password(""), "");
    }
}
