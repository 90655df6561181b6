//! Accounts and bearer tokens. Tokens are stored only as their SHA-256
//! hash; the clear token exists in the client's hands and nowhere else.
//!
//! Every authenticated request resolves its token, so a rush of customers
//! would otherwise spend the connection pool on token look-ups. A short-lived
//! in-memory cache of token owners answers repeats; it is keyed by the hash,
//! dropped on logout, and invalidated as a whole whenever anybody's roles
//! change (`roles_changed`), so a cached caller never carries stale roles.
//! There is one engine per database, so no other process can revoke behind
//! its back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dashmap::DashMap;
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

/// How long a resolved token is answered from memory.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);

/// Resolved tokens, by hash.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: DashMap<Vec<u8>, CachedOwner>,
    /// Bumped on every role change; entries from an older version are stale.
    roles_version: AtomicU64,
}

#[derive(Debug, Clone)]
struct CachedOwner {
    owner: TokenOwner,
    cached_at: Instant,
    roles_version: u64,
}

/// What a valid token says about its bearer: who and with which roles.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub token_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub account: AccountRecord,
    pub producers: Vec<(Uuid, ProducerRole)>,
    pub markets: Vec<Uuid>,
}

#[derive(sqlx::FromRow)]
struct TokenOwnerRow {
    token_id: Uuid,
    expires_at: DateTime<Utc>,
    id: Uuid,
    email: String,
    name: String,
    producer_ids: Vec<Uuid>,
    producer_roles: Vec<String>,
    market_ids: Vec<Uuid>,
}

/// The spaces an account may manage.
#[derive(Debug, Clone, Default)]
pub struct AccountRoles {
    pub producers: Vec<Uuid>,
    pub markets: Vec<Uuid>,
}

impl Store {
    /// The producers an account is a member of and the markets it administers.
    pub async fn account_roles(&self, account_id: Uuid) -> DbResult<AccountRoles> {
        let (producers, markets) = sqlx::query_as::<_, (Vec<Uuid>, Vec<Uuid>)>(
            "SELECT COALESCE(ARRAY(SELECT producer_id FROM producer_members
                                    WHERE account_id = $1 ORDER BY producer_id), '{}'),
                    COALESCE(ARRAY(SELECT market_id FROM market_admins
                                    WHERE account_id = $1 ORDER BY market_id), '{}')",
        )
        .bind(account_id)
        .fetch_one(self.pool())
        .await?;
        Ok(AccountRoles { producers, markets })
    }

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

    /// Somebody's roles changed: forget every cached token owner.
    pub(crate) fn roles_changed(&self) {
        self.tokens.roles_version.fetch_add(1, Ordering::SeqCst);
        self.tokens.entries.clear();
    }

    /// The bearer of a live (unexpired, unrevoked) token, with its roles.
    pub async fn token_owner(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> DbResult<Option<TokenOwner>> {
        let version = self.tokens.roles_version.load(Ordering::SeqCst);
        if let Some(hit) = self.tokens.entries.get(token_hash) {
            if hit.roles_version == version && hit.cached_at.elapsed() < TOKEN_CACHE_TTL {
                return Ok((hit.owner.expires_at > now).then(|| hit.owner.clone()));
            }
        }
        let owner = self.token_owner_from_db(token_hash, now).await?;
        if let Some(owner) = &owner {
            if self.tokens.entries.len() > 100_000 {
                self.tokens.entries.clear();
            }
            self.tokens.entries.insert(
                token_hash.to_vec(),
                CachedOwner {
                    owner: owner.clone(),
                    cached_at: Instant::now(),
                    roles_version: version,
                },
            );
        }
        Ok(owner)
    }

    async fn token_owner_from_db(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> DbResult<Option<TokenOwner>> {
        let row = sqlx::query_as::<_, TokenOwnerRow>(
            "SELECT t.id AS token_id, t.expires_at, a.id, a.email, a.name,
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
            expires_at: row.expires_at,
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
        self.tokens
            .entries
            .retain(|_, cached| cached.owner.token_id != token_id);
        sqlx::query("UPDATE auth_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(token_id)
            .bind(now)
            .execute(self.pool())
            .await?;
        // Again after the update: a look-up racing the logout may have
        // cached the token in between.
        self.tokens
            .entries
            .retain(|_, cached| cached.owner.token_id != token_id);
        Ok(())
    }
}
