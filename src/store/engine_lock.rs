//! One engine per database: the engine holds a PostgreSQL session-level
//! advisory lock for as long as it runs. Actors are the serialisation points
//! of stock; two engines on one database would each believe they own the
//! stock and could oversell, so a second engine must refuse to start.

use sqlx::{Connection, PgConnection};

use super::DbError;

/// Arbitrary, fixed key of the engine's advisory lock ("etal" in ASCII).
const ENGINE_LOCK_KEY: i64 = 0x6574_616c;

/// Holds the advisory lock; dropping it (or closing its connection) frees it.
pub struct EngineLock {
    connection: PgConnection,
    /// Held shared (a cluster node) rather than alone.
    shared: bool,
}

impl std::fmt::Debug for EngineLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineLock")
    }
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another etal engine is already running on this database; stop it first (only one engine per database is allowed)")]
    Held,
    #[error("a single etal engine runs on this database; stop it before starting cluster nodes")]
    HeldBySingle,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl EngineLock {
    /// Takes the lock on a dedicated connection, or fails at once if another
    /// engine holds it.
    pub async fn acquire(url: &str) -> Result<Self, LockError> {
        Self::take(url, false).await
    }

    /// Takes the lock shared (a cluster node), or fails at once if a single
    /// engine holds it.
    pub async fn acquire_shared(url: &str) -> Result<Self, LockError> {
        Self::take(url, true).await
    }

    async fn take(url: &str, shared: bool) -> Result<Self, LockError> {
        let mut connection = PgConnection::connect(url).await.map_err(DbError::from)?;
        let try_lock = if shared {
            "SELECT pg_try_advisory_lock_shared($1)"
        } else {
            "SELECT pg_try_advisory_lock($1)"
        };
        let (taken,): (bool,) = sqlx::query_as(try_lock)
            .bind(ENGINE_LOCK_KEY)
            .fetch_one(&mut connection)
            .await
            .map_err(DbError::from)?;
        match (taken, shared) {
            (true, _) => Ok(Self { connection, shared }),
            (false, false) => Err(LockError::Held),
            (false, true) => Err(LockError::HeldBySingle),
        }
    }

    /// Frees the lock explicitly (shutdown). Unlocked before the connection
    /// closes: a closed connection's backend frees its locks only when it
    /// exits, a moment later, and an engine started right after (a restart)
    /// would find the lock still held.
    pub async fn release(mut self) {
        let unlock = if self.shared {
            "SELECT pg_advisory_unlock_shared($1)"
        } else {
            "SELECT pg_advisory_unlock($1)"
        };
        let unlocked = sqlx::query(unlock)
            .bind(ENGINE_LOCK_KEY)
            .execute(&mut self.connection)
            .await;
        if let Err(e) = unlocked {
            tracing::warn!(error = %e, "engine lock not unlocked; closing its connection frees it");
        }
        let _ = self.connection.close().await;
    }
}
