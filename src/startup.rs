//! Building and running the engine (after zero-to-production's
//! `Application`): resolve the database (the private cluster when no URL is
//! configured), take the one-engine-per-database lock, migrate, bind the
//! listener, and serve until SIGINT/SIGTERM — then finish in-flight
//! requests, free the lock and stop the private cluster if we started it.
//!
//! With `cluster.enabled`, the node also connects to NATS (a private
//! `nats-server` when no URL is given), holds the lock shared with the
//! other nodes, and joins the cluster as a standby ([`crate::cluster`]);
//! at shutdown an active node gives its lease up.

use secrecy::{ExposeSecret, SecretString};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_http::{HttpService, KeepAlive};
use actix_service::{map_config, IntoServiceFactory, ServiceFactory};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, NormalizePath, TrailingSlash};
use actix_web::{web, App};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::{scope, AppExt};

use crate::api::ws::threads::LiveThreads;
use crate::api::{self, metrics, state::AppState, system};
use crate::cluster::bus::{self, BusError};
use crate::cluster::nats_server::PrivateNats;
use crate::cluster::{Membership, Node};
use crate::configuration::Settings;
use crate::engine::clock::{SharedClock, SystemClock};
use crate::engine::fence::Fence;
use crate::engine::Engine;
use crate::store::cluster::{PrivateCluster, StartOutcome};
use crate::store::engine_lock::{EngineLock, LockError};
use crate::store::{DbError, Store};

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Cluster(#[from] crate::store::cluster::ClusterError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// The database an engine uses, and whether this process started its cluster.
pub struct ResolvedDatabase {
    /// Its URL (a secret: it may carry a password).
    pub url: SecretString,
    /// `Some` when this process started the private cluster (and so stops it).
    pub started_cluster: Option<PrivateCluster>,
}

/// Finds the database: `database.url`, or the private cluster (started if
/// needed, its database created if missing).
pub async fn resolve_database(settings: &Settings) -> Result<ResolvedDatabase, StartError> {
    if !settings.uses_private_cluster() {
        return Ok(ResolvedDatabase {
            url: settings.database.url.clone(),
            started_cluster: None,
        });
    }
    let data_dir = settings.database.data_dir.clone();
    let (cluster, outcome) = tokio::task::spawn_blocking(move || {
        let cluster = PrivateCluster::new(&data_dir)?;
        let outcome = cluster.ensure_started()?;
        Ok::<_, crate::store::cluster::ClusterError>((cluster, outcome))
    })
    .await
    .map_err(|e| DbError::Other(format!("cluster task failed: {e}")))??;
    let admin = Store::connect_lazy(&cluster.url("postgres"), 2, Duration::from_secs(10))?;
    admin
        .create_database_if_missing(&settings.database.name)
        .await?;
    admin.close().await;
    let url = SecretString::from(cluster.url(&settings.database.name));
    tracing::info!(data_dir = %cluster.data_dir().display(), ?outcome, "private PostgreSQL cluster");
    Ok(ResolvedDatabase {
        url,
        started_cluster: (outcome == StartOutcome::Started).then_some(cluster),
    })
}

/// At shutdown, how long live sessions get to send their close frames
/// and hear the client's (a session lingers 1 s at most after its own).
const LIVE_SESSIONS_GRACE: Duration = Duration::from_secs(2);

/// A built engine, listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    lock: EngineLock,
    started_cluster: Option<PrivateCluster>,
    started_nats: Option<PrivateNats>,
}

impl Application {
    /// Builds the engine with the system clock.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the engine with an injected clock (tests).
    pub async fn build_with_clock(
        settings: Settings,
        clock: SharedClock,
    ) -> Result<Self, StartError> {
        let database = resolve_database(&settings).await?;
        let clustered = settings.cluster.enabled;
        let lock = if clustered {
            EngineLock::acquire_shared(database.url.expose_secret()).await?
        } else {
            EngineLock::acquire(database.url.expose_secret()).await?
        };
        // Migrations may wait for a database that is still starting; serving
        // never waits longer than `acquire_timeout_ms` for a connection.
        let migrations = Store::connect_lazy(
            database.url.expose_secret(),
            2,
            Duration::from_secs(settings.database.connect_timeout_secs),
        )?;
        migrations.migrate().await?;
        migrations.close().await;
        let acquire = Duration::from_millis(settings.database.acquire_timeout_ms);
        let store = Store::connect_lazy(
            database.url.expose_secret(),
            settings.database.max_connections,
            acquire,
        )?;

        let address = settings.server.listen.to_string();
        let listener =
            TcpListener::bind(settings.server.listen).map_err(|source| StartError::Bind {
                address: address.clone(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind { address, source })?
            .port();

        let openapi = api::openapi::document();
        let routes = api::route_table::MethodTable::from_document(&openapi);
        let openapi_json = openapi.to_string();
        // The order writer has connections of its own: a rush of requests
        // must never make committing orders wait for the request pool.
        let writer_store = Store::connect_lazy(
            database.url.expose_secret(),
            settings.engine.writer_connections,
            acquire,
        )?;
        let engine = Engine::start(
            store.clone(),
            writer_store,
            clock.clone(),
            &settings.engine,
            Arc::new(crate::api::ws::messages::JsonEvents),
            if clustered {
                Fence::lease()
            } else {
                Fence::single()
            },
        );
        crate::engine::jobs::Jobs::new(engine.clone(), &settings).spawn();
        let local = local_url(settings.server.listen, port);
        let url = match settings.cluster.advertise_url.trim() {
            "" => local.clone(),
            advertised => advertised.trim_end_matches('/').to_owned(),
        };
        let mut started_nats = None;
        let node = if clustered {
            let node_id = match settings.cluster.node_id.trim() {
                "" => uuid::Uuid::new_v4(),
                id => uuid::Uuid::parse_str(id).map_err(|e| DbError::Other(e.to_string()))?,
            };
            let (nats_url, started) = bus::resolve(&settings).await?;
            started_nats = started;
            let (client, events) = bus::connect(&nats_url, node_id).await?;
            Node::join(
                engine.clone(),
                store.clone(),
                client,
                Membership {
                    node_id,
                    url,
                    local,
                    lease: Duration::from_secs(settings.cluster.lease_seconds),
                    forward_timeout: Duration::from_millis(settings.cluster.forward_timeout_ms),
                    interest_every: Duration::from_millis(
                        settings.cluster.interest_every_ms.max(50),
                    ),
                },
                events,
            )
            .await
        } else {
            Node::single(engine.clone(), url)
        };
        let state = AppState {
            node,
            live: LiveThreads::start(settings.server.live_threads),
            store,
            settings: Arc::new(settings),
            engine,
            clock,
            metrics: metrics::prometheus_handle(),
            openapi_json: Arc::new(openapi_json),
            routes: Arc::new(routes),
        };
        let server = serve(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
            lock,
            started_cluster: database.started_cluster,
            started_nats,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests reach the store through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A handle that stops the server (tests restart an engine on one database).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// SIGINT (Ctrl-C) and SIGTERM stop the engine gracefully: no new
    /// connection, in-flight requests finish (`server.shutdown_timeout_secs`
    /// at most), then the cleanup of [`Application::run_until_stopped`]. A
    /// second signal exits at once (code 130), leaving the private cluster
    /// running for the next start. The command line calls this; engines
    /// started inside tests do not, so Ctrl-C still stops a test run.
    pub fn stop_on_signals(&self) {
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut interrupt), Ok(mut terminate)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                tracing::warn!("signal handlers could not be installed");
                return;
            };
            let first = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::info!(
                signal = first,
                "stopping: finishing in-flight requests (again to stop at once)"
            );
            eprintln!("etal: stopping after the requests in flight (Ctrl-C again to stop at once)");
            actix_web::rt::spawn(handle.stop(true));
            let second = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::warn!(signal = second, "stopping at once");
            eprintln!("etal: stopped at once");
            std::process::exit(130);
        });
    }

    /// Serves until SIGINT/SIGTERM, then drains and cleans up.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Application {
            server,
            state,
            lock,
            started_cluster,
            started_nats,
            ..
        } = self;
        let result = server.await;
        tracing::info!("HTTP server stopped; closing live sessions");
        let hub = state.engine.hub();
        hub.close_feeds();
        state
            .live
            .stop(LIVE_SESSIONS_GRACE, || hub.open_sessions())
            .await;
        state.node.leave().await;
        tracing::info!("releasing the engine lock");
        state.engine.stop();
        lock.release().await;
        state.store.close().await;
        if let Some(nats) = started_nats {
            tracing::info!("stopping the private NATS server");
            if let Err(e) = tokio::task::spawn_blocking(move || nats.stop()).await {
                tracing::warn!(error = %e, "stopping the private NATS server failed");
            }
        }
        if let Some(cluster) = started_cluster {
            tracing::info!("stopping the private PostgreSQL cluster");
            if let Err(e) = tokio::task::spawn_blocking(move || cluster.stop()).await {
                tracing::warn!(error = %e, "stopping the private cluster failed");
            }
        }
        result
    }
}

/// The URL to reach an engine listening on `listen` at `port` (loopback
/// when listening on every address): what it prints, and the address a
/// cluster node sends forwarded requests to itself at.
pub fn local_url(listen: std::net::SocketAddr, port: u16) -> String {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, port))
}

/// The HTTP server: actix-web's `HttpServer`, assembled by hand for one
/// difference — connections that ask for an upgrade leave actix-http's
/// dispatcher and its per-connection buffers ([`api::upgraded`]). The
/// timeouts are `HttpServer`'s defaults.
fn serve(listener: TcpListener, state: AppState) -> Result<Server, StartError> {
    let settings = state.settings.clone();
    let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
        address: "listener".into(),
        source,
    })?;
    let data = web::Data::new(state);
    // Signals are ours (`Application::stop_on_signals`): actix-server's
    // own handling makes SIGINT a forced stop, cutting in-flight requests.
    let mut builder = actix_server::Server::build()
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .disable_signals();
    if settings.server.workers > 0 {
        builder = builder.workers(settings.server.workers);
    }
    let server = builder
        .listen("etal", listener, move || {
            let (data, settings) = (data.clone(), settings.clone());
            let upgrade_data = data.clone();
            let upgrade_settings = settings.clone();
            HttpService::build()
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(local_addr)
                .upgrade(api::upgraded::factory(move || {
                    application(upgrade_data.clone(), &upgrade_settings).into_factory()
                }))
                .finish(map_config(application(data, &settings), |()| {
                    AppConfig::default()
                }))
                .tcp()
        })
        .map_err(|source| StartError::Bind {
            address: "listener".into(),
            source,
        })?;
    Ok(server.run())
}

/// The application: every route, its middleware and shared state.
fn application(
    data: web::Data<AppState>,
    settings: &Settings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(from_fn(api::forwarding::to_active_engine))
        .wrap(from_fn(metrics::record))
        .wrap(TracingLogger::<api::request_span::PathOnlySpan>::new())
        .wrap(NormalizePath::new(TrailingSlash::Trim))
        .app_data(data)
        .app_data(api::json_config(settings.server.body_limit_bytes))
        .app_data(api::json::BodyLimit(settings.server.body_limit_bytes))
        .app_data(web::PayloadConfig::new(settings.server.body_limit_bytes))
        .app_data(api::json::path_config())
        .app_data(api::json::query_config())
        // Before the `/api/v1` scope, which would otherwise claim the path.
        .service(system::openapi)
        .service(system::metrics)
        .configure(api::ws::configure)
        .into_utoipa_app()
        .service(scope("/api/v1").configure(api::api_v1))
        .service(system::health)
        .service(system::ready)
        .into_app()
        .configure(api::pages::configure)
        .configure(api::webapp::configure)
        .default_service(web::to(api::methods::unmatched))
}
