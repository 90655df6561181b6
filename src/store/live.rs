//! What live push reads from the database: the producer of offers whose
//! stock changed, so each stock frame reaches its producer's feed. An
//! offer's producer never changes, so the hub caches the answer.

use uuid::Uuid;

use super::{DbResult, Store};

impl Store {
    /// `(offer, producer)` for each of these offers that exists.
    #[tracing::instrument(name = "offer_producers", skip_all, fields(offers = offer_ids.len()))]
    pub async fn offer_producers(&self, offer_ids: &[Uuid]) -> DbResult<Vec<(Uuid, Uuid)>> {
        Ok(sqlx::query_as::<_, (Uuid, Uuid)>(
            "SELECT o.id, p.producer_id FROM offers o JOIN products p ON p.id = o.product_id
              WHERE o.id = ANY($1)",
        )
        .bind(offer_ids)
        .fetch_all(self.pool())
        .await?)
    }
}
