//! Producers ("Espace Producteur") and their members.

use uuid::Uuid;

use super::{DbResult, Store};
use crate::domain::roles::ProducerRole;

/// A producer's public face.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProducerRecord {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
}

/// A member of a producer's space.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRecord {
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
}

impl Store {
    /// Creates a producer whose owner is `owner`.
    pub async fn create_producer(
        &self,
        owner: Uuid,
        name: &str,
        description: Option<&str>,
    ) -> DbResult<ProducerRecord> {
        let mut tx = self.pool().begin().await?;
        let producer = sqlx::query_as::<_, ProducerRecord>(
            "INSERT INTO producers (name, description) VALUES ($1, $2)
             RETURNING id, name, description",
        )
        .bind(name)
        .bind(description)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO producer_members (producer_id, account_id, role) VALUES ($1, $2, 'owner')",
        )
        .bind(producer.id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.roles_changed();
        Ok(producer)
    }

    pub async fn producer(&self, id: Uuid) -> DbResult<Option<ProducerRecord>> {
        Ok(sqlx::query_as::<_, ProducerRecord>(
            "SELECT id, name, description FROM producers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Several producers, by name (a member's chooser).
    pub async fn producers_by_ids(&self, ids: &[Uuid]) -> DbResult<Vec<ProducerRecord>> {
        Ok(sqlx::query_as::<_, ProducerRecord>(
            "SELECT id, name, description FROM producers WHERE id = ANY($1) ORDER BY name, id",
        )
        .bind(ids)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn update_producer(
        &self,
        id: Uuid,
        name: &str,
        description: Option<&str>,
    ) -> DbResult<Option<ProducerRecord>> {
        Ok(sqlx::query_as::<_, ProducerRecord>(
            "UPDATE producers SET name = $2, description = $3 WHERE id = $1
             RETURNING id, name, description",
        )
        .bind(id)
        .bind(name)
        .bind(description)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Adds a member; `Conflict` when already a member.
    pub async fn add_producer_member(
        &self,
        producer_id: Uuid,
        account_id: Uuid,
        role: ProducerRole,
    ) -> DbResult<()> {
        sqlx::query(
            "INSERT INTO producer_members (producer_id, account_id, role) VALUES ($1, $2, $3)",
        )
        .bind(producer_id)
        .bind(account_id)
        .bind(role.as_str())
        .execute(self.pool())
        .await?;
        self.roles_changed();
        Ok(())
    }

    /// Removes a member if `allowed(its role, owners)` says so, under a
    /// lock of the space's members (two removals cannot both pass the
    /// last-owner check). `Ok(None)`: not a member.
    pub async fn remove_producer_member<E>(
        &self,
        producer_id: Uuid,
        account_id: Uuid,
        allowed: impl FnOnce(ProducerRole, usize) -> Result<(), E>,
    ) -> DbResult<Option<Result<(), E>>> {
        let mut tx = self.pool().begin().await?;
        let members: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT account_id, role FROM producer_members WHERE producer_id = $1 FOR UPDATE",
        )
        .bind(producer_id)
        .fetch_all(&mut *tx)
        .await?;
        let owners = members.iter().filter(|(_, r)| r == "owner").count();
        let Some((_, role)) = members.iter().find(|(id, _)| *id == account_id) else {
            return Ok(None);
        };
        let role = ProducerRole::parse(role, "role")
            .map_err(|e| super::DbError::Other(format!("stored producer role: {e}")))?;
        if let Err(refusal) = allowed(role, owners) {
            return Ok(Some(Err(refusal)));
        }
        sqlx::query("DELETE FROM producer_members WHERE producer_id = $1 AND account_id = $2")
            .bind(producer_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.roles_changed();
        Ok(Some(Ok(())))
    }

    pub async fn producer_members(&self, producer_id: Uuid) -> DbResult<Vec<MemberRecord>> {
        Ok(sqlx::query_as::<_, MemberRecord>(
            "SELECT a.id AS account_id, a.email, a.name, m.role
               FROM producer_members m JOIN accounts a ON a.id = m.account_id
              WHERE m.producer_id = $1 ORDER BY m.role DESC, a.name",
        )
        .bind(producer_id)
        .fetch_all(self.pool())
        .await?)
    }
}
