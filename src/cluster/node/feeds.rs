//! A node's live sessions: a storefront watched on a standby starts from
//! the active engine's shop and follows its changes through the mirror; a
//! producer's or market's feed opening here makes the mirror follow it.
//! On the active node (and a single engine) the engine serves them itself.

use uuid::Uuid;

use super::Node;
use crate::engine::error::OrderError;
use crate::engine::events::Subscription;

impl Node {
    /// Starts watching a distribution's storefront on this node: from the
    /// engine's actors on the active node, from the active node's shop and
    /// live changes elsewhere.
    pub async fn watch_storefront(
        &self,
        distribution_id: Uuid,
    ) -> Result<Option<Subscription>, OrderError> {
        let engine = &self.inner.engine;
        let Some(cluster) = &self.inner.cluster else {
            return engine.watch_storefront(distribution_id).await;
        };
        if engine.is_active() {
            return engine.watch_storefront(distribution_id).await;
        }
        let hub = engine.hub();
        for _ in 0..5 {
            let epoch = hub.epoch();
            let Some(shop) = self.remote_shop(distribution_id).await? else {
                return Ok(None);
            };
            let offers: Vec<Uuid> = shop.offers.iter().map(|o| o.offer_id).collect();
            match cluster
                .mirror
                .follow_distribution(distribution_id, &offers)
                .await
            {
                // New subscriptions: read the shop again, after them.
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, "live changes of a distribution not followed");
                    return Err(OrderError::Unavailable);
                }
            }
            match hub.subscribe_storefront(distribution_id, epoch, shop).await {
                Ok(Some(subscription)) => return Ok(Some(subscription)),
                Ok(None) => continue,
                Err(_) => return Err(OrderError::Unavailable),
            }
        }
        Err(OrderError::Overloaded)
    }

    /// The shop document, asked of the active engine.
    async fn remote_shop(
        &self,
        distribution_id: Uuid,
    ) -> Result<Option<crate::domain::shop::ShopView>, OrderError> {
        let path = format!("/api/v1/distributions/{distribution_id}/shop");
        let answer = self
            .forward("GET", &path, std::iter::empty(), bytes::Bytes::new())
            .await
            .map_err(|_| OrderError::Unavailable)?;
        match answer.status {
            200 => serde_json::from_slice(&answer.body)
                .map(Some)
                .map_err(|error| {
                    tracing::warn!(%error, "the active engine's shop is unreadable");
                    OrderError::Unavailable
                }),
            404 => Ok(None),
            _ => Err(OrderError::Unavailable),
        }
    }

    /// A producer's feed opens on this node: follow its live changes.
    pub async fn follow_producer(&self, producer_id: Uuid) {
        if let Some(cluster) = &self.inner.cluster {
            if let Err(error) = cluster.mirror.follow_producer(producer_id).await {
                tracing::warn!(%error, "a producer's live changes not followed");
            }
        }
    }

    /// A market's feed opens on this node: follow its order events.
    pub async fn follow_market(&self, market_id: Uuid) {
        if let Some(cluster) = &self.inner.cluster {
            if let Err(error) = cluster.mirror.follow_market(market_id).await {
                tracing::warn!(%error, "a market's live changes not followed");
            }
        }
    }
}
