//! What live sessions receive, as typed values, and the frames they travel
//! in. A [`LiveEvent`] is one WebSocket message (API.md, "WebSocket"); the
//! API layer encodes it ([`EventEncoder`], installed when the engine
//! starts), once per push: a [`Frame`] carries the encoded text in a
//! [`ByteString`], so every subscriber shares the same bytes (cloning it is
//! a reference count). A frame also carries the instant of the change it
//! reports, for the push-lag histogram, and for `availability` / `stock`
//! the offer, so a session that is behind can drop a value a later frame
//! supersedes.
//!
//! A [`Push`] is what travels on a broadcast channel: the frames of one
//! flush (or one order event) for one audience, or an order to resynchronise.

use std::sync::Arc;
use std::time::Instant;

use bytestring::ByteString;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::money::Money;
use crate::domain::quantity::Quantity;
use crate::domain::shop::ShopView;
use crate::domain::stock::StockFigures;

/// One live message, before encoding.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// A storefront's view of an offer: `None` = unlimited, never negative.
    Availability {
        offer_id: Uuid,
        available: Option<Decimal>,
    },
    /// A producer's view of an offer's figures.
    Stock {
        offer_id: Uuid,
        figures: StockFigures,
    },
    /// A catalog's sale opened or closed.
    SaleEdge { catalog_id: Uuid, opened: bool },
    /// A storefront's starting point: the shop document.
    Snapshot(ShopView),
    /// A committed order change, for producers and market admins.
    Order(OrderEvent),
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEventKind {
    Placed,
    Modified,
    Cancelled,
}

/// A committed order change as one audience sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub kind: OrderEventKind,
    pub order_id: Uuid,
    pub number: i32,
    pub distribution_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    /// The lines this audience sees (a producer: its own only).
    pub lines: Vec<OrderEventLine>,
    pub total: Money,
}

/// A line of an [`OrderEvent`], with the catalog and producer it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEventLine {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub catalog_id: Uuid,
    pub producer_id: Uuid,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub total: Money,
}

/// Turns an event into the text of its WebSocket message (the API's JSON);
/// `None` if it cannot (logged by the encoder).
pub trait EventEncoder: Send + Sync {
    fn encode(&self, event: &LiveEvent) -> Option<ByteString>;
}

/// One encoded WebSocket text message.
#[derive(Debug, Clone)]
pub struct Frame {
    pub text: ByteString,
    /// When the change it reports happened (`None` for snapshots).
    pub at: Option<Instant>,
    /// The offer whose latest value it carries (`availability`, `stock`):
    /// a later frame with the same key makes it useless to a session that
    /// has not written it yet.
    pub key: Option<Uuid>,
}

impl Frame {
    /// Encodes `event` once; its frame is then shared by every subscriber.
    pub fn encode(
        encoder: &dyn EventEncoder,
        event: &LiveEvent,
        at: Option<Instant>,
    ) -> Option<Frame> {
        let key = match event {
            LiveEvent::Availability { offer_id, .. } | LiveEvent::Stock { offer_id, .. } => {
                Some(*offer_id)
            }
            _ => None,
        };
        Some(Frame {
            text: encoder.encode(event)?,
            at,
            key,
        })
    }
}

/// What a broadcast channel carries.
#[derive(Debug, Clone)]
pub enum Push {
    /// Frames to write in order.
    Frames(Arc<[Frame]>),
    /// The session must take a fresh snapshot (storefronts).
    Resync,
}

impl Push {
    /// A push of a single frame.
    pub fn one(frame: Frame) -> Self {
        Self::Frames(Arc::from(vec![frame]))
    }
}
