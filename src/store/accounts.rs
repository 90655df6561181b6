//! Accounts and bearer tokens. Tokens are stored only as their SHA-256
//! hash; the clear token exists in the client's hands and nowhere else.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbError, DbResult, Store};
use crate::domain::account::Email;
use crate::domain::roles::ProducerRole;

/// An account as shown to its owner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRecord {
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

/// What a valid token says about its bearer: who and with which roles.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub token_id: Uuid,
    pub account: AccountRecord,
    pub producers: Vec<(Uuid, ProducerRole)>,
    pub markets: Vec<Uuid>,
}

#[derive(sqlx::FromRow)]
struct TokenOwnerRow {
    token_id: Uuid,
    id: Uuid,
    email: String,
    name: String,
    producer_ids: Vec<Uuid>,
    producer_roles: Vec<String>,
    market_ids: Vec<Uuid>,
}

impl Store {
    /// Creates an account; `Conflict` when the email is taken.
    pub async fn create_account(
        &self,
        email: &Email,
        name: &str,
        password_hash: &str,
    ) -> DbResult<AccountRecord> {
        let row = sqlx::query_as::<_, AccountRecord>(
            "INSERT INTO accounts (email, name, password_hash) VALUES ($1, $2, $3)
             RETURNING id, email, name",
        )
        .bind(email.as_str())
        .bind(name)
        .bind(password_hash)
        .fetch_one(self.pool())
        .await?;
        Ok(row)
    }

    /// The id and password hash of the account with that email, if any.
    pub async fn credentials(&self, email: &Email) -> DbResult<Option<(Uuid, String)>> {
        let row = sqlx::query_as::<_, (Uuid, String)>(
            "SELECT id, password_hash FROM accounts WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// The account with that email, if any.
    pub async fn account_by_email(&self, email: &Email) -> DbResult<Option<AccountRecord>> {
        let row = sqlx::query_as::<_, AccountRecord>(
            "SELECT id, email, name FROM accounts WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(row)
    }

    /// Stores a new token (by hash) for an account.
    pub async fn insert_token(
        &self,
        account_id: Uuid,
        token_hash: &[u8],
        expires_at: DateTime<Utc>,
    ) -> DbResult<Uuid> {
        let (id,) = sqlx::query_as::<_, (Uuid,)>(
            "INSERT INTO auth_tokens (account_id, token_hash, expires_at) VALUES ($1, $2, $3)
             RETURNING id",
        )
        .bind(account_id)
        .bind(token_hash)
        .bind(expires_at)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    /// The bearer of a live (unexpired, unrevoked) token, with its roles.
    pub async fn token_owner(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> DbResult<Option<TokenOwner>> {
        let row = sqlx::query_as::<_, TokenOwnerRow>(
            "SELECT t.id AS token_id, a.id, a.email, a.name,
                    COALESCE(ARRAY(SELECT producer_id FROM producer_members m
                                    WHERE m.account_id = a.id ORDER BY producer_id), '{}') AS producer_ids,
                    COALESCE(ARRAY(SELECT role FROM producer_members m
                                    WHERE m.account_id = a.id ORDER BY producer_id), '{}') AS producer_roles,
                    COALESCE(ARRAY(SELECT market_id FROM market_admins ma
                                    WHERE ma.account_id = a.id), '{}') AS market_ids
               FROM auth_tokens t JOIN accounts a ON a.id = t.account_id
              WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut producers = Vec::with_capacity(row.producer_ids.len());
        for (id, role) in row.producer_ids.into_iter().zip(row.producer_roles) {
            let role = ProducerRole::parse(&role, "role")
                .map_err(|e| DbError::Other(format!("stored producer role: {e}")))?;
            producers.push((id, role));
        }
        Ok(Some(TokenOwner {
            token_id: row.token_id,
            account: AccountRecord {
                id: row.id,
                email: row.email,
                name: row.name,
            },
            producers,
            markets: row.market_ids,
        }))
    }

    /// Revokes one token (logout).
    pub async fn revoke_token(&self, token_id: Uuid, now: DateTime<Utc>) -> DbResult<()> {
        sqlx::query("UPDATE auth_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(token_id)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
