//! A cluster node's background tasks: the lease loop (take, renew, step
//! down, learn the active node), listening to the other nodes
//! (announcements, and on the active node their storefronts' interest),
//! telling the active node what this one watches, and following the NATS
//! connection's state.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::{ActiveNode, Node};
use crate::cluster::wire::{self, ActiveMessage, InterestMessage};

/// Where the lease loop stands.
pub(super) struct LeaseClock {
    /// When the last successful renewal (or the take) was sent.
    pub(super) renewed_at: Instant,
    /// When a renewal was last tried.
    pub(super) last_try: Instant,
}

/// The lease: taken, renewed, lost (see the module doc). The first step
/// ran in [`Node::join`], so a node is never ready without knowing the
/// active node.
pub(super) async fn lease_loop(node: Node, mut clock: LeaseClock) {
    let Some(cluster) = &node.inner.cluster else {
        return;
    };
    let tick =
        (cluster.membership.lease / 6).clamp(Duration::from_millis(50), Duration::from_millis(500));
    loop {
        tokio::time::sleep(tick).await;
        lease_step(&node, &mut clock).await;
    }
}

pub(super) async fn lease_step(node: &Node, clock: &mut LeaseClock) {
    let Some(cluster) = &node.inner.cluster else {
        return;
    };
    let lease = cluster.membership.lease;
    let engine = &node.inner.engine;
    if let crate::engine::fence::WriteRight::Epoch(epoch) = engine.fence().right() {
        if clock.renewed_at.elapsed() >= lease {
            node.step_down("the lease could not be renewed in time");
            return;
        }
        if clock.last_try.elapsed() < lease / 3 {
            return;
        }
        let asked = Instant::now();
        clock.last_try = asked;
        match cluster.store.renew_lease(node.inner.id, epoch, lease).await {
            Ok(true) => clock.renewed_at = asked,
            Ok(false) => node.step_down("another node took the lease"),
            Err(error) => tracing::warn!(%error, "the ordering lease was not renewed"),
        }
        return;
    }
    let asked = Instant::now();
    let url = &cluster.membership.url;
    match cluster.store.take_lease(node.inner.id, url, lease).await {
        Ok(Some(epoch)) => {
            clock.renewed_at = asked;
            clock.last_try = asked;
            node.take_over(epoch).await;
        }
        Ok(None) => match cluster.store.lease().await {
            Ok(view) => {
                if let (Some(holder), Some(url)) = (view.holder, view.holder_url) {
                    node.new_active(ActiveNode {
                        node_id: holder,
                        url,
                        epoch: view.epoch,
                    });
                }
            }
            Err(error) => tracing::debug!(%error, "the lease was not read"),
        },
        Err(error) => tracing::warn!(%error, "the ordering lease could not be tried"),
    }
}

/// Announcements of new active nodes, and (on the active node) the
/// distributions other nodes watch.
pub(super) async fn listen_to_nodes(node: Node) {
    let Some(cluster) = &node.inner.cluster else {
        return;
    };
    let (announcements, interests) = match (
        cluster.client.subscribe(wire::ACTIVE).await,
        cluster.client.subscribe(wire::INTEREST).await,
    ) {
        (Ok(a), Ok(i)) => (a, i),
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!(%error, "cannot listen to the other nodes");
            return;
        }
    };
    let mut messages = futures_util::stream::select(
        announcements.map(|m| (true, m)),
        interests.map(|m| (false, m)),
    );
    while let Some((announcement, message)) = messages.next().await {
        if announcement {
            if let Ok(active) = serde_json::from_slice::<ActiveMessage>(&message.payload) {
                node.new_active(ActiveNode {
                    node_id: active.node_id,
                    url: active.url,
                    epoch: active.epoch,
                });
            }
            continue;
        }
        let engine = &node.inner.engine;
        if !engine.is_active() {
            continue;
        }
        if let Ok(interest) = serde_json::from_slice::<InterestMessage>(&message.payload) {
            engine.hub().note_remote_interest(&interest.distributions);
            // Active actors tick: sale edges reach the watchers.
            for distribution_id in interest.distributions {
                if engine.active_distribution(distribution_id).is_none() {
                    let _ = engine.distribution(distribution_id);
                }
            }
        }
    }
}

/// A standby tells the active node what its storefronts watch.
pub(super) async fn tell_interest(node: Node) {
    let Some(cluster) = &node.inner.cluster else {
        return;
    };
    let mut every = tokio::time::interval(cluster.membership.interest_every);
    loop {
        every.tick().await;
        let engine = &node.inner.engine;
        if engine.is_active() {
            continue;
        }
        let distributions = engine.hub().watched_distributions();
        cluster.shops.retain(|d, _| distributions.contains(d));
        metrics::gauge!("cluster_mirror_subscriptions").set(cluster.mirror.subscriptions() as f64);
        if distributions.is_empty() {
            continue;
        }
        let message = InterestMessage {
            node_id: node.inner.id,
            distributions,
        };
        if let Ok(payload) = serde_json::to_vec(&message) {
            let _ = cluster.client.publish(wire::INTEREST, payload.into()).await;
        }
    }
}

/// NATS connection state: metrics, and feeds resynchronised when it comes
/// back (what was published meanwhile is lost).
pub(super) async fn follow_nats(
    node: Node,
    mut events: tokio::sync::mpsc::UnboundedReceiver<async_nats::Event>,
) {
    let Some(cluster) = &node.inner.cluster else {
        return;
    };
    while let Some(event) = events.recv().await {
        match event {
            async_nats::Event::Connected => {
                let was_down = !cluster.nats_up.swap(true, Ordering::AcqRel);
                metrics::gauge!("cluster_nats_connected").set(1.0);
                if was_down {
                    tracing::info!("NATS is back: storefronts resynchronised");
                    let hub = node.inner.engine.hub();
                    if !node.inner.engine.is_active() {
                        hub.forget_stock();
                    }
                    hub.resync_all();
                }
            }
            async_nats::Event::Disconnected => {
                cluster.nats_up.store(false, Ordering::Release);
                metrics::gauge!("cluster_nats_connected").set(0.0);
                tracing::warn!("NATS connection lost; forwarding answers 503 until it returns");
            }
            other => tracing::debug!(event = %other, "NATS"),
        }
    }
}
