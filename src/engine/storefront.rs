//! Starting a storefront's live view: the shop document read from the
//! actors, handed to the hub task, which stamps it with the latest
//! availability and subscribes the session in the same step (so nothing
//! older than the snapshot ever follows it). A resync between the read
//! and the stamp makes the hub refuse it: the shop is read again.

use uuid::Uuid;

use super::error::OrderError;
use super::events::Subscription;
use super::Engine;

/// Attempts at a snapshot while resyncs keep invalidating it.
const SNAPSHOT_ATTEMPTS: usize = 5;

impl Engine {
    /// Starts watching a distribution's storefront: its snapshot (the shop
    /// document with the latest availability, and what `customer`'s basket
    /// holds) and the pushes after it. `Ok(None)` when the distribution
    /// does not exist.
    pub async fn watch_storefront(
        &self,
        distribution_id: Uuid,
        customer: Option<Uuid>,
    ) -> Result<Option<Subscription>, OrderError> {
        let hub = self.hub();
        for _ in 0..SNAPSHOT_ATTEMPTS {
            let epoch = hub.epoch();
            let Some(shop) = self.shop_for(distribution_id, customer).await? else {
                return Ok(None);
            };
            match hub.subscribe_storefront(distribution_id, epoch, shop).await {
                Ok(Some(subscription)) => return Ok(Some(subscription)),
                Ok(None) => continue,
                Err(_) => return Err(OrderError::Unavailable),
            }
        }
        Err(OrderError::Overloaded)
    }
}
