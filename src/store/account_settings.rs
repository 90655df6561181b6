//! An account's own settings (`/mon-compte`): its name, its password (a
//! new password signs every other session out).

use uuid::Uuid;

use super::{DbResult, Store};

impl Store {
    /// Renames an account.
    pub async fn set_account_name(&self, account_id: Uuid, name: &str) -> DbResult<()> {
        sqlx::query("UPDATE accounts SET name = $2 WHERE id = $1")
            .bind(account_id)
            .bind(name)
            .execute(self.pool())
            .await?;
        self.roles_changed();
        Ok(())
    }

    /// Replaces the password hash and revokes every token but `keep`.
    pub async fn set_password_hash(
        &self,
        account_id: Uuid,
        hash: &str,
        keep: Uuid,
    ) -> DbResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1")
            .bind(account_id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM auth_tokens WHERE account_id = $1 AND id <> $2")
            .bind(account_id)
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.roles_changed();
        Ok(())
    }
}
