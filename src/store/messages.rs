//! Messages between a market's admins and their correspondents (producers'
//! members, customers): a conversation is (market, correspondent). Writing
//! a message queues its e-mails in the same transaction (outbox), one per
//! recipient, so a message is never lost nor sent twice.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::outbox::{queue, OutboxMessage};
use super::{DbResult, Store};

/// A message as shown in a conversation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: Uuid,
    pub market_id: Uuid,
    pub correspondent_id: Uuid,
    pub author_name: String,
    pub from_admin: bool,
    pub producer_id: Option<Uuid>,
    pub producer_name: Option<String>,
    pub catalog_id: Option<Uuid>,
    pub catalog_name: Option<String>,
    pub catalog_code: Option<String>,
    /// Whether the offered catalog is linked to the market now.
    pub catalog_linked: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// One conversation in an inbox: its last message and what is unread.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRecord {
    pub market_id: Uuid,
    pub market_name: String,
    pub correspondent_id: Uuid,
    pub correspondent_name: String,
    pub last_at: DateTime<Utc>,
    pub last_body: String,
    pub messages: i64,
    /// Messages of the other side not read yet.
    pub unread: i64,
}

/// A message to write.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub market_id: Uuid,
    pub correspondent_id: Uuid,
    pub author_id: Uuid,
    pub from_admin: bool,
    pub producer_id: Option<Uuid>,
    pub catalog_id: Option<Uuid>,
    pub body: String,
    pub at: DateTime<Utc>,
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.market_id, m.correspondent_id, a.name AS author_name,
        m.from_admin, m.producer_id, p.name AS producer_name, m.catalog_id, c.name AS catalog_name,
        c.code AS catalog_code,
        EXISTS (SELECT 1 FROM market_catalogs mc
                 WHERE mc.market_id = m.market_id AND mc.catalog_id = m.catalog_id) AS catalog_linked,
        m.body, m.created_at, m.read_at
   FROM messages m
   JOIN accounts a ON a.id = m.author_id
   LEFT JOIN producers p ON p.id = m.producer_id
   LEFT JOIN catalogs c ON c.id = m.catalog_id";

/// Conversations grouped from messages matching `filter` ($1); `unread`
/// counts the messages whose `from_admin` is `$2`.
fn conversations_sql(filter: &str) -> String {
    format!(
        "SELECT m.market_id, k.name AS market_name, m.correspondent_id, a.name AS correspondent_name,
                max(m.created_at) AS last_at,
                (array_agg(m.body ORDER BY m.created_at DESC))[1] AS last_body,
                count(*) AS messages,
                count(*) FILTER (WHERE m.read_at IS NULL AND m.from_admin = $2) AS unread
           FROM messages m
           JOIN markets k ON k.id = m.market_id
           JOIN accounts a ON a.id = m.correspondent_id
          WHERE {filter}
          GROUP BY m.market_id, k.name, m.correspondent_id, a.name
          ORDER BY last_at DESC
          LIMIT 200"
    )
}

impl Store {
    /// Writes a message and queues its e-mails (one per recipient).
    pub async fn send_message(
        &self,
        message: &NewMessage,
        emails: &[OutboxMessage],
    ) -> DbResult<Uuid> {
        let mut tx = self.pool().begin().await?;
        let (id,): (Uuid,) = sqlx::query_as(
            "INSERT INTO messages (market_id, correspondent_id, author_id, from_admin, producer_id,
                                   catalog_id, body, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(message.market_id)
        .bind(message.correspondent_id)
        .bind(message.author_id)
        .bind(message.from_admin)
        .bind(message.producer_id)
        .bind(message.catalog_id)
        .bind(&message.body)
        .bind(message.at)
        .fetch_one(&mut *tx)
        .await?;
        for (i, email) in emails.iter().enumerate() {
            let keyed = OutboxMessage {
                dedupe_key: format!("message:{id}:{i}"),
                ..email.clone()
            };
            queue(&mut tx, &keyed, message.at).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The messages of one conversation, oldest first.
    pub async fn conversation(
        &self,
        market_id: Uuid,
        correspondent_id: Uuid,
    ) -> DbResult<Vec<MessageRecord>> {
        Ok(sqlx::query_as::<_, MessageRecord>(&format!(
            "{MESSAGE_SELECT} WHERE m.market_id = $1 AND m.correspondent_id = $2
              ORDER BY m.created_at, m.id"
        ))
        .bind(market_id)
        .bind(correspondent_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Marks as read the messages of a conversation written by the other
    /// side (`by_admin`: the reader is an admin).
    pub async fn mark_read(
        &self,
        market_id: Uuid,
        correspondent_id: Uuid,
        by_admin: bool,
        at: DateTime<Utc>,
    ) -> DbResult<()> {
        sqlx::query(
            "UPDATE messages SET read_at = $4
              WHERE market_id = $1 AND correspondent_id = $2 AND from_admin <> $3 AND read_at IS NULL",
        )
        .bind(market_id)
        .bind(correspondent_id)
        .bind(by_admin)
        .bind(at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A correspondent's conversations with every market.
    pub async fn conversations_of(&self, account_id: Uuid) -> DbResult<Vec<ConversationRecord>> {
        Ok(
            sqlx::query_as::<_, ConversationRecord>(&conversations_sql("m.correspondent_id = $1"))
                .bind(account_id)
                .bind(true)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// The conversations of markets (their admins' inbox).
    pub async fn conversations_of_markets(
        &self,
        market_ids: &[Uuid],
    ) -> DbResult<Vec<ConversationRecord>> {
        Ok(
            sqlx::query_as::<_, ConversationRecord>(&conversations_sql("m.market_id = ANY($1)"))
                .bind(market_ids)
                .bind(false)
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Messages waiting for this account: unread answers of admins in its
    /// conversations, and unread messages to the markets it administers.
    pub async fn unread_messages(&self, account_id: Uuid, market_ids: &[Uuid]) -> DbResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM messages
              WHERE read_at IS NULL
                AND ((correspondent_id = $1 AND from_admin)
                  OR (market_id = ANY($2) AND NOT from_admin AND correspondent_id <> $1))",
        )
        .bind(account_id)
        .bind(market_ids)
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }

    /// The e-mail addresses of a market's admins.
    pub async fn market_admin_emails(&self, market_id: Uuid) -> DbResult<Vec<String>> {
        Ok(sqlx::query_as::<_, (String,)>(
            "SELECT a.email FROM market_admins ma JOIN accounts a ON a.id = ma.account_id
              WHERE ma.market_id = $1 ORDER BY ma.added_at",
        )
        .bind(market_id)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|(e,)| e)
        .collect())
    }

    /// An account's name and e-mail address.
    pub async fn account_contact(&self, id: Uuid) -> DbResult<Option<(String, String)>> {
        Ok(
            sqlx::query_as::<_, (String, String)>("SELECT name, email FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?,
        )
    }
}
