//! The transactional outbox: messages (closing recaps, order-change
//! notices) are inserted in the same transaction as the change that causes
//! them, under a unique `dedupe_key`, and delivered afterwards by the
//! notifier (`engine::notifier`). A message is therefore never lost when the
//! engine stops, and never queued twice for the same cause.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{DbResult, Store};

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// `summary`, `line_change` …
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Unique per cause: a second insert with the same key is ignored.
    pub dedupe_key: String,
}

/// A queued message not yet delivered.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingMessage {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
}

/// Queues a message inside the caller's transaction; `false` when a message
/// with the same `dedupe_key` was queued before.
pub(crate) async fn queue(
    conn: &mut PgConnection,
    message: &OutboxMessage,
    at: DateTime<Utc>,
) -> DbResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO outbox (kind, recipient, subject, body, dedupe_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(message.kind)
    .bind(&message.recipient)
    .bind(&message.subject)
    .bind(&message.body)
    .bind(&message.dedupe_key)
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

impl Store {
    /// Undelivered messages that may still be tried, oldest first.
    pub async fn pending_messages(
        &self,
        max_attempts: i32,
        limit: i64,
    ) -> DbResult<Vec<PendingMessage>> {
        Ok(sqlx::query_as::<_, PendingMessage>(
            "SELECT id, kind, recipient, subject, body, attempts FROM outbox
              WHERE sent_at IS NULL AND attempts < $1 ORDER BY id LIMIT $2",
        )
        .bind(max_attempts)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The message was delivered (to the SMTP server, or to the log).
    pub async fn message_sent(&self, id: i64, at: DateTime<Utc>) -> DbResult<()> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL
              WHERE id = $1 AND sent_at IS NULL",
        )
        .bind(id)
        .bind(at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A delivery attempt failed; it is tried again until `max_attempts`.
    pub async fn message_failed(&self, id: i64, error: &str) -> DbResult<()> {
        let error: String = error.chars().take(1000).collect();
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// E-mail addresses of a producer's members (owner first).
    pub async fn producer_member_emails(&self, producer_id: Uuid) -> DbResult<Vec<String>> {
        Ok(sqlx::query_as::<_, (String,)>(
            "SELECT a.email FROM producer_members m JOIN accounts a ON a.id = m.account_id
              WHERE m.producer_id = $1 ORDER BY m.role = 'owner' DESC, m.added_at, a.email",
        )
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|(e,)| e)
        .collect())
    }
}
