//! A producer's public profile (short presentation, description, logo,
//! portrait), its legal information, and the platform admins who alone
//! change that legal information.

use uuid::Uuid;

use super::{DbResult, Store};
use crate::domain::legal::LegalInfo;

/// Everything the settings pages and the page vitrine show of a producer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProducerProfile {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub short_description: Option<String>,
    pub logo_image_id: Option<Uuid>,
    pub portrait_image_id: Option<Uuid>,
    pub legal_name: Option<String>,
    pub siret: Option<String>,
    pub legal_address: Option<String>,
    pub vat_number: Option<String>,
}

/// A profile change: `None` for an image keeps the current one.
#[derive(Debug, Clone)]
pub struct ProfileChange<'a> {
    pub name: &'a str,
    pub short_description: Option<&'a str>,
    pub description: Option<&'a str>,
    pub logo: Option<Option<Uuid>>,
    pub portrait: Option<Option<Uuid>>,
}

const PROFILE_COLUMNS: &str = "id, name, description, short_description, logo_image_id, \
     portrait_image_id, legal_name, siret, legal_address, vat_number";

impl Store {
    pub async fn producer_profile(&self, id: Uuid) -> DbResult<Option<ProducerProfile>> {
        Ok(sqlx::query_as::<_, ProducerProfile>(&format!(
            "SELECT {PROFILE_COLUMNS} FROM producers WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Every producer, by name (the platform admin's list).
    pub async fn all_producer_profiles(&self) -> DbResult<Vec<ProducerProfile>> {
        Ok(sqlx::query_as::<_, ProducerProfile>(&format!(
            "SELECT {PROFILE_COLUMNS} FROM producers ORDER BY name, id"
        ))
        .fetch_all(self.pool())
        .await?)
    }

    /// Changes the public profile (images only when given).
    pub async fn update_profile(&self, id: Uuid, change: &ProfileChange<'_>) -> DbResult<()> {
        sqlx::query(
            "UPDATE producers SET name = $2, short_description = $3, description = $4,
                    logo_image_id = CASE WHEN $5 THEN $6 ELSE logo_image_id END,
                    portrait_image_id = CASE WHEN $7 THEN $8 ELSE portrait_image_id END
              WHERE id = $1",
        )
        .bind(id)
        .bind(change.name)
        .bind(change.short_description)
        .bind(change.description)
        .bind(change.logo.is_some())
        .bind(change.logo.flatten())
        .bind(change.portrait.is_some())
        .bind(change.portrait.flatten())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Sets the legal information (a platform admin's change).
    pub async fn set_legal_info(&self, id: Uuid, info: &LegalInfo) -> DbResult<bool> {
        let done = sqlx::query(
            "UPDATE producers SET legal_name = $2, siret = $3, legal_address = $4, vat_number = $5
              WHERE id = $1",
        )
        .bind(id)
        .bind(info.legal_name.as_ref().map(|v| v.as_str()))
        .bind(info.siret.as_ref().map(|v| v.as_str()))
        .bind(info.address.as_ref().map(|v| v.as_str()))
        .bind(info.vat_number.as_ref().map(|v| v.as_str()))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Fills what is missing of a producer's looks (the demo): a short
    /// presentation, a logo, a portrait, legal information.
    pub async fn dress_producer(
        &self,
        id: Uuid,
        short_description: &str,
        logo: Option<Uuid>,
        portrait: Option<Uuid>,
        legal: Option<&LegalInfo>,
    ) -> DbResult<()> {
        sqlx::query(
            "UPDATE producers SET short_description = COALESCE(short_description, $2),
                    logo_image_id = COALESCE(logo_image_id, $3),
                    portrait_image_id = COALESCE(portrait_image_id, $4)
              WHERE id = $1",
        )
        .bind(id)
        .bind(short_description)
        .bind(logo)
        .bind(portrait)
        .execute(self.pool())
        .await?;
        if let Some(legal) = legal {
            self.set_legal_info(id, legal).await?;
        }
        Ok(())
    }

    /// Sets a product's photo unless it has one.
    pub async fn set_photo_if_missing(&self, product_id: Uuid, url: &str) -> DbResult<()> {
        sqlx::query("UPDATE products SET photo_url = $2 WHERE id = $1 AND photo_url IS NULL")
            .bind(product_id)
            .bind(url)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn is_platform_admin(&self, account_id: Uuid) -> DbResult<bool> {
        let found: Option<(Uuid,)> =
            sqlx::query_as("SELECT account_id FROM platform_admins WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(found.is_some())
    }

    /// Makes the account with that email a platform admin; `false` when
    /// no account has it.
    pub async fn grant_platform_admin(&self, email: &str) -> DbResult<bool> {
        let done = sqlx::query(
            "INSERT INTO platform_admins (account_id)
             SELECT id FROM accounts WHERE email = lower($1)
             ON CONFLICT DO NOTHING",
        )
        .bind(email.trim())
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            let exists: Option<(Uuid,)> =
                sqlx::query_as("SELECT id FROM accounts WHERE email = lower($1)")
                    .bind(email.trim())
                    .fetch_optional(self.pool())
                    .await?;
            return Ok(exists.is_some());
        }
        Ok(true)
    }

    /// Takes the platform admin role back; `false` when it was not held.
    pub async fn revoke_platform_admin(&self, email: &str) -> DbResult<bool> {
        let done = sqlx::query(
            "DELETE FROM platform_admins WHERE account_id = (SELECT id FROM accounts WHERE email = lower($1))",
        )
        .bind(email.trim())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The platform admins' emails.
    pub async fn platform_admins(&self) -> DbResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT a.email FROM platform_admins p JOIN accounts a ON a.id = p.account_id ORDER BY a.email",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }
}
