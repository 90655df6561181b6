//! The ordering lease of a cluster (migration `engine_lease`): which node
//! is the active engine, until when, and its fencing epoch. Every time is
//! the database's (`clock_timestamp()`), so the nodes' clocks never matter.
//!
//! - [`Store::take_lease`]: free (released) or expired → this node holds
//!   it, with the next epoch;
//! - [`Store::renew_lease`]: the holder pushes the expiry back; `false` once
//!   someone else took it;
//! - [`Store::release_lease`]: graceful shutdown, a standby takes over at
//!   its next try;
//! - [`check_epoch`]: the fence, run by the order writer inside its own
//!   transaction. The share lock it takes makes a takeover wait for the
//!   transactions of the old epoch in flight, so a new active engine reads
//!   (when its actors activate) everything the old one committed, and the
//!   old one commits nothing after.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use super::{DbError, DbResult, Store};

/// The lease as any node reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseView {
    pub epoch: i64,
    /// The node holding it (`None`: released).
    pub holder: Option<Uuid>,
    pub holder_url: Option<String>,
    /// Not expired (by the database's clock).
    pub live: bool,
}

impl Store {
    /// Takes the lease for `lease` if it is free or expired; the new epoch.
    pub async fn take_lease(
        &self,
        node: Uuid,
        url: &str,
        lease: Duration,
    ) -> DbResult<Option<i64>> {
        let epoch: Option<(i64,)> = sqlx::query_as(
            "UPDATE engine_lease
                SET epoch = epoch + 1, holder = $1, holder_url = $2,
                    expires_at = clock_timestamp() + make_interval(secs => $3)
              WHERE id = 1 AND (holder IS NULL OR expires_at < clock_timestamp())
             RETURNING epoch",
        )
        .bind(node)
        .bind(url)
        .bind(lease.as_secs_f64())
        .fetch_optional(self.pool())
        .await?;
        Ok(epoch.map(|(e,)| e))
    }

    /// Pushes the expiry back while `node` still holds `epoch`; `false`
    /// when the lease is someone else's now.
    pub async fn renew_lease(&self, node: Uuid, epoch: i64, lease: Duration) -> DbResult<bool> {
        let renewed = sqlx::query(
            "UPDATE engine_lease SET expires_at = clock_timestamp() + make_interval(secs => $3)
              WHERE id = 1 AND holder = $1 AND epoch = $2",
        )
        .bind(node)
        .bind(epoch)
        .bind(lease.as_secs_f64())
        .execute(self.pool())
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Gives the lease up (graceful shutdown) if `node` still holds `epoch`.
    pub async fn release_lease(&self, node: Uuid, epoch: i64) -> DbResult<()> {
        sqlx::query(
            "UPDATE engine_lease SET holder = NULL, holder_url = NULL, expires_at = '-infinity'
              WHERE id = 1 AND holder = $1 AND epoch = $2",
        )
        .bind(node)
        .bind(epoch)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The lease as it stands.
    pub async fn lease(&self) -> DbResult<LeaseView> {
        let (epoch, holder, holder_url, live): (i64, Option<Uuid>, Option<String>, bool) =
            sqlx::query_as(
                "SELECT epoch, holder, holder_url, expires_at > clock_timestamp()
                   FROM engine_lease WHERE id = 1",
            )
            .fetch_one(self.pool())
            .await?;
        Ok(LeaseView {
            epoch,
            holder,
            holder_url,
            live,
        })
    }
}

/// The fence: inside the caller's transaction, the lease still carries
/// `epoch` (share-locked until the transaction ends). [`DbError::Fenced`]
/// otherwise: this node lost the lease and must write nothing.
pub async fn check_epoch(tx: &mut PgConnection, epoch: i64) -> DbResult<()> {
    let (current,): (i64,) =
        sqlx::query_as("SELECT epoch FROM engine_lease WHERE id = 1 FOR SHARE")
            .fetch_one(&mut *tx)
            .await?;
    if current == epoch {
        Ok(())
    } else {
        Err(DbError::Fenced {
            held: epoch,
            current,
        })
    }
}
