//! The `etal` command line: a thin layer over the library. `serve` runs the
//! engine, `migrate` applies the schema, `db` drives the private PostgreSQL
//! cluster, `config` prints the effective configuration (secrets redacted).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use etal::configuration::Settings;
use etal::startup::{resolve_database, Application};
use etal::store::cluster::{ClusterStatus, PrivateCluster};
use etal::store::Store;

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
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage the private PostgreSQL cluster.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Print the effective configuration, secrets redacted.
    Config,
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
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            run_async(serve(settings))
        }
        Command::Migrate => run_async(migrate(settings)),
        Command::Db { action } => db(&settings, action),
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

async fn serve(settings: Settings) -> Result<(), String> {
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(port = app.port(), "etal is listening");
    println!("etal listening on http://127.0.0.1:{}", app.port());
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

async fn migrate(settings: Settings) -> Result<(), String> {
    let database = resolve_database(&settings)
        .await
        .map_err(|e| e.to_string())?;
    let store = Store::connect_lazy(&database.url, 2, std::time::Duration::from_secs(10))
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
