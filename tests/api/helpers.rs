//! The test harness: one private PostgreSQL cluster per test run (under
//! `target/`, shared by every test binary and reused between runs), a
//! migrated template database made once, and for each test a fresh database
//! copied from it plus the engine started in-process on port 0. A test's
//! database is named after its process; the first test of a process drops
//! the databases of processes that are gone, so the cluster does not grow
//! from run to run.
//!
//! Everything a test does goes through HTTP like a client would; `db` is
//! there only to check the database afterwards.

// Shared test support: not every test uses every field or helper.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use etal::configuration::{Settings, Sources};
use etal::engine::clock::ManualClock;
use etal::startup::Application;
use etal::store::cluster::PrivateCluster;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

/// The shared cluster of this test run.
pub fn cluster() -> &'static PrivateCluster {
    static CLUSTER: OnceLock<PrivateCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-cluster");
        let cluster = PrivateCluster::new(&dir).expect("test cluster directory");
        cluster.ensure_started().expect("test cluster starts");
        cluster
    })
}

/// Name of the migrated template for the current migrations.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    for migration in etal::store::MIGRATOR.iter() {
        hasher.update(&migration.checksum);
    }
    format!("etal_template_{}", &hex::encode(hasher.finalize())[..12])
}

/// Creates the template once per cluster (guarded by an advisory lock so
/// concurrent test binaries do not race), then copies it for this test.
pub async fn fresh_database() -> String {
    let cluster = cluster();
    let template = template_name();
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("connect to the test cluster");
    admin
        .execute("SELECT pg_advisory_lock(727274)")
        .await
        .expect("template lock");
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut admin)
        .await
        .expect("look up template");
    if exists.is_none() {
        let building = format!("{template}_building");
        admin
            .execute(format!("DROP DATABASE IF EXISTS {building}").as_str())
            .await
            .expect("drop half-built template");
        admin
            .execute(format!("CREATE DATABASE {building}").as_str())
            .await
            .expect("create template");
        {
            let pool = PgPool::connect(&cluster.url(&building))
                .await
                .expect("connect template");
            etal::store::MIGRATOR
                .run(&pool)
                .await
                .expect("migrate template");
            pool.close().await;
        }
        admin
            .execute(format!("ALTER DATABASE {building} RENAME TO {template}").as_str())
            .await
            .expect("publish template");
    }
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if !SWEPT.swap(true, Ordering::AcqRel) {
        drop_databases_of_finished_runs(&mut admin).await;
    }
    admin
        .execute("SELECT pg_advisory_unlock(727274)")
        .await
        .expect("template unlock");
    let name = format!("test_{}_{}", std::process::id(), Uuid::new_v4().simple());
    admin
        .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
        .await
        .expect("create test database");
    admin.close().await.ok();
    cluster.url(&name)
}

/// Drops the test databases whose process is no longer running (named
/// `test_{pid}_{uuid}`; older names without a process are dropped too).
/// Only where `/proc` tells which processes run: elsewhere nothing is dropped.
async fn drop_databases_of_finished_runs(admin: &mut PgConnection) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'")
            .fetch_all(&mut *admin)
            .await
            .expect("list test databases");
    for (name,) in names {
        let owner = name
            .strip_prefix("test_")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        let running = owner.is_some_and(|pid| PathBuf::from(format!("/proc/{pid}")).exists());
        if !running {
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await
                .expect("drop a finished run's database");
        }
    }
}

/// Log lines written by every app of this test process (for "never logged" checks).
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().map(|b| b.clone()).unwrap_or_default())
        .into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
}

#[derive(Clone)]
struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let writer = CaptureWriter(log_buffer().clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info,etal=debug,tracing_actix_web=debug")
            .with_writer(move || writer.clone())
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .json()
            .try_init();
    });
}

/// The settings tests run with (profile `test`, port 0, the given database).
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings::load_from(&Sources {
        config_dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")),
        profile: Some("test".into()),
        env: vec![],
    })
    .expect("test settings");
    settings.server.listen = "127.0.0.1:0".parse().expect("address");
    settings.server.workers = 2;
    settings.database.url = database_url.into();
    // Generous: the concurrency tests share two cores (and wait for a
    // connection rather than answer 503; `outage.rs` tests the default).
    settings.database.connect_timeout_secs = 15;
    settings.database.acquire_timeout_ms = 15_000;
    settings
}

/// A running engine and ways to talk to it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    /// Direct access to this test's database, for checks.
    pub db: PgPool,
    pub database_url: String,
    pub clock: ManualClock,
}

/// A signed-up, logged-in account.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub password: String,
    pub name: String,
    pub token: String,
}

/// Starts an engine on a fresh database with a manual clock set to now.
pub async fn spawn_app() -> TestApp {
    let url = fresh_database().await;
    spawn_app_with(test_settings(&url), Utc::now()).await
}

/// Starts an engine with explicit settings and clock start.
pub async fn spawn_app_with(settings: Settings, now: DateTime<Utc>) -> TestApp {
    init_logs();
    let database_url = settings.database.url.expose_secret().to_owned();
    let clock = ManualClock::new(now);
    let app = Application::build_with_clock(settings, Arc::new(clock.clone()))
        .await
        .expect("application builds");
    let port = app.port();
    actix_web::rt::spawn(app.run_until_stopped());
    let db = PgPool::connect(&database_url).await.expect("test pool");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client"),
        db,
        database_url,
        clock,
    }
}

/// An HTTP answer: status and JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts a problem document with this status and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Value {
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = self.expect(status);
        assert_eq!(ct, "application/problem+json", "problem content type");
        assert_eq!(body["code"], code, "problem code; body: {body}");
        assert_eq!(body["status"], status);
        body
    }
}

impl TestApp {
    /// A handle on an engine running elsewhere (a child process).
    pub async fn external(address: String, port: u16, database_url: &str) -> Self {
        TestApp {
            address,
            port,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            db: PgPool::connect(database_url).await.expect("test pool"),
            database_url: database_url.to_owned(),
            clock: ManualClock::new(Utc::now()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request with an optional JSON body and bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Answer {
        self.try_call(method, path, body, token)
            .await
            .expect("request sent")
    }

    /// Like [`TestApp::call`], but a connection failure is returned, not a panic.
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(Answer {
            status,
            body,
            headers,
        })
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, None, token).await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Answer {
        self.call(Method::POST, path, Some(body), token).await
    }

    pub async fn put(&self, path: &str, body: &Value, token: Option<&str>) -> Answer {
        self.call(Method::PUT, path, Some(body), token).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> Answer {
        self.call(Method::PATCH, path, Some(body), token).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::DELETE, path, None, token).await
    }

    /// Signs up and logs in a new account named `name`.
    pub async fn user(&self, name: &str) -> TestUser {
        let email = format!(
            "{}-{}@example.org",
            name.to_lowercase().replace(' ', "."),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        let password = format!("pw-{}", Uuid::new_v4().simple());
        let account = self
            .post(
                "/api/v1/accounts",
                &json!({"email": email, "password": password, "name": name}),
                None,
            )
            .await
            .expect(201);
        let session = self
            .post(
                "/api/v1/sessions",
                &json!({"email": email, "password": password}),
                None,
            )
            .await
            .expect(201);
        TestUser {
            id: parse_id(&account["id"]),
            email,
            password,
            name: name.to_owned(),
            token: session["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Creates a producer owned by `owner`.
    pub async fn producer(&self, owner: &TestUser, name: &str) -> Uuid {
        let body = self
            .post(
                "/api/v1/producers",
                &json!({"name": name}),
                Some(&owner.token),
            )
            .await
            .expect(201);
        parse_id(&body["id"])
    }
}

/// What `sql` (a `SELECT count(*) …` without parameters) counts.
pub async fn count_rows(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// What `sql` (a `SELECT count(*) …` with one `$1`) counts for `id`.
pub async fn count(app: &TestApp, sql: &str, id: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Reads a UUID out of a JSON value.
#[track_caller]
pub fn parse_id(value: &Value) -> Uuid {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a uuid: {value}"))
}

/// A Unix-socket proxy in front of the test cluster that can be cut and
/// restored, to take the database away from a running engine.
pub struct SocketProxy {
    pub dir: PathBuf,
    upstream: PathBuf,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl SocketProxy {
    /// Starts a proxy to the cluster whose sockets live in `upstream_dir`.
    pub async fn start(upstream_dir: PathBuf) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "etal-proxy-{}",
            &Uuid::new_v4().simple().to_string()[..8]
        ));
        std::fs::create_dir_all(&dir).expect("proxy dir");
        let proxy = Self {
            dir,
            upstream: upstream_dir.join(".s.PGSQL.5432"),
            task: std::sync::Mutex::new(None),
            connections: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.restore();
        proxy
    }

    /// The URL of `database_url`'s database, reached through this proxy.
    pub fn url_for(&self, database_url: &str) -> String {
        database_url.replace(
            &cluster().socket_dir().display().to_string(),
            &self.dir.display().to_string(),
        )
    }

    /// (Re)opens the listening socket.
    pub fn restore(&self) {
        let socket = self.dir.join(".s.PGSQL.5432");
        let _ = std::fs::remove_file(&socket);
        let listener = tokio::net::UnixListener::bind(&socket).expect("bind proxy");
        let upstream = self.upstream.clone();
        let tracked = self.connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let handle = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::UnixStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                if let Ok(mut list) = tracked.lock() {
                    list.push(handle);
                }
            }
        });
        if let Ok(mut slot) = self.task.lock() {
            *slot = Some(task);
        }
    }

    /// Stops accepting, drops every open connection and removes the socket.
    pub fn cut(&self) {
        if let Ok(mut slot) = self.task.lock() {
            if let Some(task) = slot.take() {
                task.abort();
            }
        }
        if let Ok(mut list) = self.connections.lock() {
            for handle in list.drain(..) {
                handle.abort();
            }
        }
        let _ = std::fs::remove_file(self.dir.join(".s.PGSQL.5432"));
    }
}

/// Tests that load the machine hard (hundreds of customers, a thousand
/// sockets, a killed engine) take this one at a time: each keeps its real
/// concurrency, but two of them together would starve both on two cores.
pub async fn heavy() -> tokio::sync::SemaphorePermit<'static> {
    static HEAVY: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    HEAVY
        .acquire()
        .await
        .expect("the semaphore is never closed")
}
