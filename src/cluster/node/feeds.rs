//! A node's live sessions: a storefront watched on a standby starts from
//! the active engine's shop and follows its changes through the mirror; a
//! producer's or market's feed opening here makes the mirror follow it.
//! On the active node (and a single engine) the engine serves them itself.
//!
//! Storefronts that (re)start together — every session of a node after a
//! failover, a NATS outage or a catalog sync — share one read of the shop
//! per distribution and resync epoch, so the new active engine is not asked
//! for the same document by each of thousands of watchers. A shared read
//! is only ever started once the node already follows the distribution, so
//! no change can fall between it and the subscriptions.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::Node;
use crate::domain::shop::ShopView;
use crate::engine::error::OrderError;
use crate::engine::events::Subscription;

/// A signed-in customer watching a storefront: the snapshot shows what
/// their basket holds. Their token goes with the shop read forwarded to
/// the active engine (held in memory only, never logged).
#[derive(Clone)]
pub struct Viewer {
    pub account_id: Uuid,
    pub token: SecretString,
}

/// A shop read shared by the storefronts starting at one resync epoch.
pub(super) type SharedShop = (u64, Arc<OnceCell<Result<Option<ShopView>, OrderError>>>);

impl Node {
    /// Starts watching a distribution's storefront on this node: from the
    /// engine's actors on the active node, from the active node's shop and
    /// live changes elsewhere.
    pub async fn watch_storefront(
        &self,
        distribution_id: Uuid,
        viewer: Option<&Viewer>,
    ) -> Result<Option<Subscription>, OrderError> {
        let engine = &self.inner.engine;
        let customer = viewer.map(|v| v.account_id);
        let Some(cluster) = &self.inner.cluster else {
            return engine.watch_storefront(distribution_id, customer).await;
        };
        if engine.is_active() {
            return engine.watch_storefront(distribution_id, customer).await;
        }
        let hub = engine.hub();
        for _ in 0..5 {
            let epoch = hub.epoch();
            // A customer's shop shows their basket: read for them alone.
            let shop = match viewer {
                None if cluster.mirror.follows(distribution_id) => {
                    self.shared_shop(distribution_id, epoch).await?
                }
                _ => self.remote_shop(distribution_id, viewer).await?,
            };
            let Some(shop) = shop else {
                return Ok(None);
            };
            let offers: Vec<Uuid> = shop.offers.iter().map(|o| o.offer_id).collect();
            match cluster
                .mirror
                .follow_distribution(distribution_id, &offers)
                .await
            {
                // New subscriptions: read the shop again, after them.
                Ok(true) => {
                    cluster.shops.remove(&distribution_id);
                    continue;
                }
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

    /// The shop read once for every storefront starting at `epoch`.
    async fn shared_shop(
        &self,
        distribution_id: Uuid,
        epoch: u64,
    ) -> Result<Option<ShopView>, OrderError> {
        let Some(cluster) = &self.inner.cluster else {
            return self.remote_shop(distribution_id, None).await;
        };
        let cell = {
            let mut entry = cluster
                .shops
                .entry(distribution_id)
                .or_insert_with(|| (epoch, Arc::default()));
            if entry.0 != epoch {
                *entry = (epoch, Arc::default());
            }
            entry.1.clone()
        };
        let read = cell
            .get_or_init(|| self.remote_shop(distribution_id, None))
            .await
            .clone();
        if read.is_err() {
            // A failed read is not shared with later attempts.
            cluster
                .shops
                .remove_if(&distribution_id, |_, (_, c)| Arc::ptr_eq(c, &cell));
        }
        read
    }

    /// The shop document, asked of the active engine.
    async fn remote_shop(
        &self,
        distribution_id: Uuid,
        viewer: Option<&Viewer>,
    ) -> Result<Option<ShopView>, OrderError> {
        let path = format!("/api/v1/distributions/{distribution_id}/shop");
        let authorization = viewer.map(|v| format!("Bearer {}", v.token.expose_secret()));
        let headers = authorization
            .iter()
            .map(|value| ("authorization", value.as_str()));
        let answer = self
            .forward("GET", &path, headers, bytes::Bytes::new())
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
