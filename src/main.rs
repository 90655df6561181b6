//! The `etal` command line: a thin layer over the library. `serve` runs the
//! engine (`--demo`: with the French demo, see `etal::demo`), `migrate`
//! applies the schema, `seed demo` loads the demo without serving, `db`
//! drives the private PostgreSQL cluster, `nats` the private NATS server
//! of a cluster of nodes, `config` prints the effective configuration
//! (secrets redacted).
//!
//! The engine allocates with mimalloc: glibc's allocator raises its mmap
//! threshold after the first large free, so the 19 MiB of each concurrent
//! argon2 hash then stayed in per-thread arenas — 64 concurrent sign-ups
//! left the engine at 1 GB of RSS (22 MB with mimalloc).

use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use etal::cluster::nats_server::PrivateNats;
use etal::configuration::Settings;
use etal::startup::{resolve_database, Application};
use etal::store::cluster::{ClusterStatus, PrivateCluster};
use etal::store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "etal",
    version,
    about = "Real-time ordering engine for producer markets"
)]
struct Cli {
    /// Where the private PostgreSQL cluster keeps its data (default `.etal/`).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine (starts the private PostgreSQL cluster when no DATABASE_URL is set).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (overrides server.listen).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Seed the French demo if missing (renewing its open sale) and print logins and URLs.
        #[arg(long)]
        demo: bool,
        /// Run as a node of a cluster (sets cluster.enabled): the node that
        /// holds the ordering lease runs the engine, the others forward to it.
        #[arg(long)]
        cluster: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load example data into the database, then exit.
    Seed {
        #[command(subcommand)]
        what: SeedWhat,
    },
    /// Manage the private PostgreSQL cluster.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Manage the private NATS server of a cluster of nodes.
    Nats {
        #[command(subcommand)]
        action: NatsAction,
    },
    /// Platform admins: the accounts that change producers' legal information.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Print the effective configuration, secrets redacted.
    Config,
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make the account with this email a platform admin.
    Grant { email: String },
    /// Take the platform admin role back from this account.
    Revoke { email: String },
    /// List the platform admins.
    List,
}

#[derive(Subcommand)]
enum SeedWhat {
    /// Two Lyon markets, four producers, ~30 products, a sale open now, one next week.
    Demo,
}

#[derive(Subcommand)]
enum DbAction {
    /// Initialise (first time) and start the private cluster.
    Start,
    /// Stop the private cluster.
    Stop,
    /// Say whether the private cluster is running.
    Status,
    /// Print the connection URL of the engine's database in the private cluster.
    Url,
}

#[derive(Subcommand)]
enum NatsAction {
    /// Start the private NATS server (under the data directory) unless it runs.
    Start,
    /// Stop it.
    Stop,
    /// Say whether it runs.
    Status,
    /// Print its URL (for `ETAL__CLUSTER__NATS_URL`).
    Url,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("etal: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = cli.data_dir.clone() {
        settings.database.data_dir = dir;
    }
    etal::telemetry::init(&settings.log);
    let outcome = match cli.command {
        Command::Serve {
            listen,
            demo,
            cluster,
        } => {
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            settings.cluster.enabled |= cluster;
            if demo && settings.cluster.enabled {
                eprintln!("etal: --demo seeds through a single engine; run `etal seed demo` before starting the cluster's nodes");
                return ExitCode::from(2);
            }
            run_async(serve(settings, demo))
        }
        Command::Migrate => run_async(migrate(settings)),
        Command::Seed {
            what: SeedWhat::Demo,
        } => run_async(seed_demo(settings)),
        Command::Db { action } => db(&settings, action),
        Command::Nats { action } => nats(&settings, action),
        Command::Admin { action } => run_async(admin(settings, action)),
        Command::Config => {
            print!("{}", settings.redacted_toml());
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("etal: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_async<F: std::future::Future<Output = Result<(), String>>>(f: F) -> Result<(), String> {
    actix_web::rt::System::new().block_on(f)
}

async fn serve(settings: Settings, demo: bool) -> Result<(), String> {
    let listen = settings.server.listen;
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    let base = etal::startup::local_url(listen, app.port());
    // Seeded before serving, so no client ever sees half a demo.
    let demo = if demo {
        match etal::demo::ensure(&app.state().engine).await {
            Ok(demo) => Some(demo),
            Err(e) => {
                eprintln!("etal: the demo could not be prepared ({e}); serving without it");
                None
            }
        }
    } else {
        None
    };
    tracing::info!(port = app.port(), "etal is listening");
    app.stop_on_signals();
    let running = actix_web::rt::spawn(app.run_until_stopped());
    // Let the server start accepting before telling anyone where it is.
    actix_web::rt::task::yield_now().await;
    println!("etal listening on {base}");
    if let Some(demo) = demo {
        // stdout only: the demo's (public) passwords never go through tracing.
        print!("{}", demo.render(&base));
    }
    running
        .await
        .map_err(|e| format!("server task failed: {e}"))?
        .map_err(|e| e.to_string())
}

async fn seed_demo(settings: Settings) -> Result<(), String> {
    let base = etal::startup::local_url(settings.server.listen, settings.server.listen.port());
    let demo = etal::demo::seed(&settings)
        .await
        .map_err(|e| e.to_string())?;
    println!("demo ready; start the engine (`etal serve` or ./scripts/run) to try it");
    print!("{}", demo.render(&base));
    Ok(())
}

async fn admin(settings: Settings, action: AdminAction) -> Result<(), String> {
    let database = resolve_database(&settings)
        .await
        .map_err(|e| e.to_string())?;
    let store = Store::connect_lazy(
        database.url.expose_secret(),
        2,
        std::time::Duration::from_secs(10),
    )
    .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let outcome = match action {
        AdminAction::Grant { email } => match store.grant_platform_admin(&email).await {
            Ok(true) => {
                println!("{email} is a platform admin");
                Ok(())
            }
            Ok(false) => Err(format!("no account has the email {email}")),
            Err(e) => Err(e.to_string()),
        },
        AdminAction::Revoke { email } => match store.revoke_platform_admin(&email).await {
            Ok(true) => {
                println!("{email} is no longer a platform admin");
                Ok(())
            }
            Ok(false) => Err(format!("{email} was not a platform admin")),
            Err(e) => Err(e.to_string()),
        },
        AdminAction::List => store
            .platform_admins()
            .await
            .map(|emails| emails.iter().for_each(|e| println!("{e}")))
            .map_err(|e| e.to_string()),
    };
    store.close().await;
    if let Some(cluster) = database.started_cluster {
        cluster.stop().map_err(|e| e.to_string())?;
    }
    outcome
}

async fn migrate(settings: Settings) -> Result<(), String> {
    let database = resolve_database(&settings)
        .await
        .map_err(|e| e.to_string())?;
    let store = Store::connect_lazy(
        database.url.expose_secret(),
        2,
        std::time::Duration::from_secs(10),
    )
    .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    store.close().await;
    println!("migrations applied");
    if let Some(cluster) = database.started_cluster {
        cluster.stop().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn db(settings: &Settings, action: DbAction) -> Result<(), String> {
    let cluster = PrivateCluster::new(&settings.database.data_dir).map_err(|e| e.to_string())?;
    match action {
        DbAction::Start => {
            let outcome = cluster.ensure_started().map_err(|e| e.to_string())?;
            println!("{outcome:?}: {}", cluster.data_dir().display());
        }
        DbAction::Stop => {
            cluster.stop().map_err(|e| e.to_string())?;
            println!("stopped");
        }
        DbAction::Status => match cluster.status().map_err(|e| e.to_string())? {
            ClusterStatus::Running { pid } => println!("running (pid {pid})"),
            ClusterStatus::Stopped => println!("stopped"),
            ClusterStatus::NotInitialised => println!("not initialised"),
        },
        DbAction::Url => println!("{}", cluster.url(&settings.database.name)),
    }
    Ok(())
}

fn nats(settings: &Settings, action: NatsAction) -> Result<(), String> {
    let server = PrivateNats::new(&settings.database.data_dir);
    match action {
        NatsAction::Start => {
            let (url, outcome) = server.ensure_started().map_err(|e| e.to_string())?;
            println!("{outcome:?}: {url}");
        }
        NatsAction::Stop => {
            server.stop().map_err(|e| e.to_string())?;
            println!("stopped");
        }
        NatsAction::Status => match server.running() {
            Some((pid, url)) => println!("running (pid {pid}) at {url}"),
            None => println!("stopped"),
        },
        NatsAction::Url => match server.running() {
            Some((_, url)) => println!("{url}"),
            None => return Err("the private NATS server is not running (`etal nats start`)".into()),
        },
    }
    Ok(())
}
