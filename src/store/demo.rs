//! Look-ups the demo seeder (`crate::demo`) needs to find what an earlier
//! run created: the producers an account owns and the markets it
//! administers. Nothing here writes — the demo writes through the same store
//! functions the API uses, so its data obeys the same rules.

use uuid::Uuid;

use super::markets::MarketRecord;
use super::producers::ProducerRecord;
use super::{DbResult, Store};

impl Store {
    /// Producers whose owner is `account_id`, oldest first.
    pub async fn owned_producers(&self, account_id: Uuid) -> DbResult<Vec<ProducerRecord>> {
        Ok(sqlx::query_as::<_, ProducerRecord>(
            "SELECT p.id, p.name, p.description
               FROM producers p JOIN producer_members m ON m.producer_id = p.id
              WHERE m.account_id = $1 AND m.role = 'owner'
              ORDER BY p.created_at, p.id",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Markets `account_id` administers, oldest first.
    pub async fn administered_markets(&self, account_id: Uuid) -> DbResult<Vec<MarketRecord>> {
        Ok(sqlx::query_as::<_, MarketRecord>(
            "SELECT m.id, m.name, m.address, m.lat, m.lng, m.usual_weekday, m.online_payment,
                    m.timezone, m.fee_rate
               FROM markets m JOIN market_admins a ON a.market_id = m.id
              WHERE a.account_id = $1
              ORDER BY m.created_at, m.id",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?)
    }
}
