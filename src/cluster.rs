//! Several etal nodes on one database, on NATS (`async-nats`) and a
//! PostgreSQL lease — no protocol of our own.
//!
//! Every node serves the whole HTTP API and the WebSocket feeds. The node
//! holding the **ordering lease** ([`node`], `store::lease`) is the active
//! engine: its actors and writer work as in a single engine, and every
//! writer transaction checks the lease's fencing epoch. The others are
//! standbys: they forward the requests that need the engine to it over
//! NATS request-reply ([`forward`]) and serve their live sessions from the
//! changes it publishes ([`live`], subjects in [`wire`]). When the active
//! node dies, a standby takes the lease within `cluster.lease_seconds` and
//! its actors activate from the database, as after a crash.
//!
//! Arrows: the API uses this module; this module uses the engine (its
//! fence, its hub's publisher and mirror hooks) and the store; neither
//! knows about NATS. A single engine (`cluster.enabled = false`) builds
//! none of it.

pub mod bus;
pub mod forward;
pub mod live;
pub mod nats_server;
pub mod node;
pub mod wire;

pub use node::{ActiveNode, Membership, Node, Role, Viewer};
