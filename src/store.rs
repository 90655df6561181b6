//! Persistence: every SQL query lives under this module, plus the embedded
//! private PostgreSQL cluster used when no `DATABASE_URL` is configured.
//! sqlx types stop here: callers see domain types and [`DbError`], never a
//! `sqlx::Error`, so handlers cannot leak database details into answers.
//!
//! One file per part of the domain (`accounts`, …); [`Store`] is the cheap,
//! clonable handle (a connection pool) they all hang off.

pub mod account_deletion;
pub mod account_settings;
pub mod accounts;
pub mod after_sale;
pub mod catalogs;
pub mod cluster;
pub mod customer_orders;
pub mod demo;
pub mod distributions;
pub mod engine_lock;
pub mod images;
pub mod lease;
pub mod live;
pub mod market_admin;
pub mod markets;
pub mod messages;
pub mod offers;
pub mod order_writes;
pub mod outbox;
pub mod participations;
pub mod producer_orders;
pub mod producer_profile;
pub mod producers;
pub mod products;
pub mod public;
pub mod recaps;
pub mod sale;
pub mod sales_so_far;
pub mod settlement;
pub mod storefront;
pub mod vat_rates;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// Why a query failed, in the terms callers act on.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached (connection refused, pool timeout):
    /// answer 503 and let the client retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("not found")]
    NotFound,
    /// A uniqueness or integrity rule of the schema refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Other(String),
    /// This node's ordering lease was taken over (epoch `held` is gone,
    /// the lease is at `current`): it must write nothing.
    #[error("this node lost the ordering lease (epoch {held}, now {current})")]
    Fenced { held: i64, current: i64 },
}

impl DbError {
    /// A stored value that breaks a rule of the domain (a row written
    /// behind the engine's back, or a schema laxer than the domain).
    pub fn corrupt(error: crate::domain::error::FieldError) -> DbError {
        DbError::Other(format!(
            "a stored {} breaks a rule: {}",
            error.field, error.reason
        ))
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => DbError::Unavailable(e.to_string()),
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // unique_violation, exclusion_violation
                Some("23505") | Some("23P01") => {
                    DbError::Conflict(db.constraint().unwrap_or("unique").to_owned())
                }
                // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
                Some("57P01") | Some("57P02") | Some("57P03") | Some("53300") => {
                    DbError::Unavailable(e.to_string())
                }
                _ => DbError::Other(e.to_string()),
            },
            _ => DbError::Other(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        DbError::Other(format!("migration failed: {e}"))
    }
}

/// Result of a store call.
pub type DbResult<T> = Result<T, DbError>;

/// Handle to the database: a connection pool. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
    /// Recently authenticated tokens (see `accounts`), shared by clones.
    tokens: std::sync::Arc<accounts::TokenCache>,
}

/// The migrations of `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens a pool on `url`. Connections are made lazily, so an engine can
    /// start (and answer `/ready` with 503) while the database is away.
    pub fn connect_lazy(url: &str, max_connections: u32, timeout: Duration) -> DbResult<Self> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| DbError::Other(format!("invalid database URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            tokens: Default::default(),
        })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> DbResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> DbResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Creates a database of this server unless it exists (private cluster).
    /// `name` must be a plain identifier (the configuration checks it).
    pub async fn create_database_if_missing(&self, name: &str) -> DbResult<()> {
        let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', ""));
            match sqlx::query(&statement)
                .execute(&self.pool)
                .await
                .map_err(DbError::from)
            {
                // Another process created it meanwhile: fine.
                Ok(_) | Err(DbError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The pool, for the store's own modules.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection (shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
