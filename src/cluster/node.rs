//! A node's role and its ordering lease.
//!
//! A single engine (no cluster asked) is always active. A cluster node
//! starts as a standby and runs [`lease_loop`]: every tick it tries to take
//! the lease (free or expired); once it holds it, it renews it every
//! `lease_seconds / 3` and is the **active** engine — its actors, writer
//! and jobs run, it answers forwarded requests and publishes live changes.
//! It steps down (clears its fence, drops its actors) as soon as a renewal
//! finds the lease taken, or when it could not renew for `lease_seconds`
//! (it cannot know whether another node took over). A standby reads the
//! lease at each tick to know the active node's address; when the epoch
//! changes (or the new active node's announcement arrives first), its
//! storefronts take a fresh snapshot from the new engine.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

mod background;
mod feeds;

pub use feeds::Viewer;

use super::forward;
use super::live::{Mirror, NatsPublisher};
use super::wire::{self, ActiveMessage};
use crate::engine::Engine;
use crate::store::Store;
use background::{follow_nats, lease_loop, lease_step, listen_to_nodes, tell_interest, LeaseClock};

/// What a node does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs the ordering engine (a single engine always is).
    Active,
    /// Forwards to the active node and mirrors its feeds.
    Standby,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Standby => "standby",
        }
    }
}

/// The active node as this node last learnt it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveNode {
    pub node_id: Uuid,
    pub url: String,
    pub epoch: i64,
}

/// How a node joins a cluster.
#[derive(Debug, Clone)]
pub struct Membership {
    pub node_id: Uuid,
    /// The URL clients and other nodes reach this node at.
    pub url: String,
    /// This node's own HTTP server, for the forwarded requests it runs.
    pub local: String,
    pub lease: Duration,
    pub forward_timeout: Duration,
    pub interest_every: Duration,
}

/// A node: cheap to clone, held by the API.
#[derive(Clone)]
pub struct Node {
    inner: Arc<NodeInner>,
}

struct NodeInner {
    id: Uuid,
    url: String,
    engine: Engine,
    cluster: Option<ClusterNode>,
}

struct ClusterNode {
    client: async_nats::Client,
    store: Store,
    membership: Membership,
    mirror: Mirror,
    publisher: Arc<NatsPublisher>,
    active: RwLock<Option<ActiveNode>>,
    /// Highest epoch whose engine this node's feeds follow.
    seen_epoch: AtomicI64,
    /// The task answering forwarded requests while this node is active.
    responder: Mutex<Option<tokio::task::JoinHandle<()>>>,
    nats_up: AtomicBool,
    /// Shop reads shared by storefronts starting together ([`feeds`]).
    shops: dashmap::DashMap<Uuid, feeds::SharedShop>,
}

impl Node {
    /// A single engine: always active, nothing to forward.
    pub fn single(engine: Engine, url: String) -> Self {
        Self {
            inner: Arc::new(NodeInner {
                id: Uuid::new_v4(),
                url,
                engine,
                cluster: None,
            }),
        }
    }

    /// Joins a cluster through `client` (connected): tries the lease once
    /// (so the node knows its role and the active node before it serves),
    /// then keeps at it in the background. Must run on the runtime that
    /// lives as long as the process.
    pub async fn join(
        engine: Engine,
        store: Store,
        client: async_nats::Client,
        membership: Membership,
        nats_events: tokio::sync::mpsc::UnboundedReceiver<async_nats::Event>,
    ) -> Self {
        metrics::gauge!("cluster_role_active").set(0.0);
        metrics::gauge!("cluster_nats_connected").set(1.0);
        let node = Self {
            inner: Arc::new(NodeInner {
                id: membership.node_id,
                url: membership.url.clone(),
                engine: engine.clone(),
                cluster: Some(ClusterNode {
                    mirror: Mirror::start(client.clone(), engine.clone()),
                    publisher: Arc::new(NatsPublisher::start(client.clone())),
                    client,
                    store,
                    membership,
                    active: RwLock::new(None),
                    seen_epoch: AtomicI64::new(0),
                    responder: Mutex::new(None),
                    nats_up: AtomicBool::new(true),
                    shops: dashmap::DashMap::new(),
                }),
            }),
        };
        let mut clock = LeaseClock {
            renewed_at: Instant::now(),
            last_try: Instant::now(),
        };
        lease_step(&node, &mut clock).await;
        tokio::spawn(lease_loop(node.clone(), clock));
        tokio::spawn(listen_to_nodes(node.clone()));
        tokio::spawn(tell_interest(node.clone()));
        tokio::spawn(follow_nats(node.clone(), nats_events));
        node
    }

    pub fn id(&self) -> Uuid {
        self.inner.id
    }

    pub fn url(&self) -> &str {
        &self.inner.url
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Whether this node is one of a cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.cluster.is_some()
    }

    pub fn role(&self) -> Role {
        if self.inner.engine.is_active() {
            Role::Active
        } else {
            Role::Standby
        }
    }

    /// The active node: this one when it is, else as last read.
    pub fn active_node(&self) -> Option<ActiveNode> {
        match &self.inner.cluster {
            None => Some(ActiveNode {
                node_id: self.inner.id,
                url: self.inner.url.clone(),
                epoch: 0,
            }),
            Some(cluster) => cluster.active.read().ok().and_then(|a| a.clone()),
        }
    }

    /// Whether NATS is connected (`None`: not a cluster).
    pub fn nats_connected(&self) -> Option<bool> {
        self.inner
            .cluster
            .as_ref()
            .map(|c| c.nats_up.load(Ordering::Acquire))
    }

    /// Whether this request must go to the active node.
    pub fn forwards(&self, method: &str, path: &str, content_type: &str) -> bool {
        self.is_cluster()
            && !self.inner.engine.is_active()
            && (forward::engine_route(method, path)
                || forward::page_change(method, path, content_type))
    }

    /// Forwards a request to the active node (see [`forward::forward`]).
    pub async fn forward<'a>(
        &self,
        method: &str,
        path_and_query: &str,
        headers: impl Iterator<Item = (&'a str, &'a str)>,
        body: bytes::Bytes,
    ) -> Result<forward::Answer, forward::ForwardError> {
        let Some(cluster) = &self.inner.cluster else {
            return Err(forward::ForwardError::NoEngine);
        };
        let timeout = cluster.membership.forward_timeout;
        forward::forward(
            &cluster.client,
            timeout,
            method,
            path_and_query,
            headers,
            body,
        )
        .await
    }

    /// Shutdown: an active node gives the lease up so a standby takes over
    /// at once instead of after it expires.
    pub async fn leave(&self) {
        let Some(cluster) = &self.inner.cluster else {
            return;
        };
        let fence = self.inner.engine.fence();
        if let crate::engine::fence::WriteRight::Epoch(epoch) = fence.right() {
            self.step_down("shutting down");
            if let Err(error) = cluster.store.release_lease(self.inner.id, epoch).await {
                tracing::warn!(%error, "the ordering lease was not released; it will expire");
            } else {
                metrics::counter!("cluster_lease_changes_total", "change" => "released")
                    .increment(1);
            }
        }
    }

    /// Took the lease at `epoch`: become the active engine.
    async fn take_over(&self, epoch: i64) {
        let Some(cluster) = &self.inner.cluster else {
            return;
        };
        let engine = &self.inner.engine;
        engine.forget_state();
        engine.fence().hold(epoch);
        engine.hub().set_publisher(Some(cluster.publisher.clone()));
        match forward::serve(
            cluster.client.clone(),
            engine.clone(),
            cluster.membership.local.clone(),
            self.inner.id,
            cluster.membership.forward_timeout,
        )
        .await
        {
            Ok(task) => {
                if let Ok(mut slot) = cluster.responder.lock() {
                    if let Some(old) = slot.replace(task) {
                        old.abort();
                    }
                }
            }
            Err(error) => tracing::error!(%error, "cannot answer forwarded requests"),
        }
        let me = ActiveNode {
            node_id: self.inner.id,
            url: self.inner.url.clone(),
            epoch,
        };
        if let Ok(mut active) = cluster.active.write() {
            *active = Some(me.clone());
        }
        cluster.seen_epoch.fetch_max(epoch, Ordering::AcqRel);
        let announcement = ActiveMessage {
            node_id: me.node_id,
            url: me.url,
            epoch,
        };
        if let Ok(payload) = serde_json::to_vec(&announcement) {
            let _ = cluster.client.publish(wire::ACTIVE, payload.into()).await;
        }
        // This node's storefronts followed the old engine: snapshot again.
        engine.hub().resync_all();
        metrics::gauge!("cluster_role_active").set(1.0);
        metrics::counter!("cluster_lease_changes_total", "change" => "taken").increment(1);
        tracing::info!(epoch, node = %self.inner.id, "took the ordering lease: this node is the active engine");
    }

    /// Lost the lease (or leaving): write nothing more, drop the actors.
    fn step_down(&self, why: &str) {
        let Some(cluster) = &self.inner.cluster else {
            return;
        };
        let engine = &self.inner.engine;
        engine.fence().release();
        if let Ok(mut slot) = cluster.responder.lock() {
            if let Some(task) = slot.take() {
                task.abort();
            }
        }
        engine.hub().set_publisher(None);
        engine.forget_state();
        engine.hub().resync_all();
        metrics::gauge!("cluster_role_active").set(0.0);
        metrics::counter!("cluster_lease_changes_total", "change" => "lost").increment(1);
        tracing::warn!(reason = why, node = %self.inner.id, "stepped down: this node is a standby");
    }

    /// Another engine took over (seen in the lease or announced): this
    /// node's feeds follow it from now on.
    fn new_active(&self, active: ActiveNode) {
        let Some(cluster) = &self.inner.cluster else {
            return;
        };
        let previous = cluster.seen_epoch.fetch_max(active.epoch, Ordering::AcqRel);
        if let Ok(mut slot) = cluster.active.write() {
            if !matches!(slot.as_ref(), Some(known) if known.epoch > active.epoch) {
                *slot = Some(active.clone());
            }
        }
        if active.epoch > previous && active.node_id != self.inner.id && previous != 0 {
            let hub = self.inner.engine.hub();
            hub.forget_stock();
            hub.resync_all();
            tracing::info!(epoch = active.epoch, url = %active.url, "a new active engine: storefronts resynchronised");
        }
    }
}
