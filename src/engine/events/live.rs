//! What live sessions receive, as typed values, and the frames they travel
//! in. A [`LiveEvent`] is one WebSocket message (API.md, "WebSocket"); the
//! API layer encodes it ([`EventEncoder`], installed when the engine
//! starts), once per push: a [`Frame`] carries the encoded text in a
//! [`ByteString`], so every subscriber shares the same bytes (cloning it is
//! a reference count). A frame also carries the instant of the change it
//! reports, for the push-lag histogram, and the offers whose latest values
//! it carries (`availability`: every offer of the storefront that changed
//! in the flush; `stock`: one), so a session that is behind can drop a
//! frame whose every value a later frame supersedes.
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
    /// A storefront's view of the offers that changed in one flush.
    Availability(Vec<OfferAvailability>),
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

/// An offer's availability as storefronts see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OfferAvailability {
    pub offer_id: Uuid,
    /// `None` = unlimited; never negative.
    pub available: Option<Decimal>,
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
    /// The offers whose latest values it carries (`availability`,
    /// `stock`): once later frames carry all of them, it is useless to a
    /// session that has not written it yet.
    pub keys: FrameKeys,
}

/// The offers a [`Frame`] carries the latest values of.
#[derive(Debug, Clone, Default)]
pub enum FrameKeys {
    /// Not a value of offers (snapshots, sale edges, orders): always kept.
    #[default]
    None,
    One(Uuid),
    Many(Arc<[Uuid]>),
}

impl FrameKeys {
    /// The offers, in no particular order.
    pub fn as_slice(&self) -> &[Uuid] {
        match self {
            Self::None => &[],
            Self::One(id) => std::slice::from_ref(id),
            Self::Many(ids) => ids,
        }
    }
}

impl Frame {
    /// Encodes `event` once; its frame is then shared by every subscriber.
    pub fn encode(
        encoder: &dyn EventEncoder,
        event: &LiveEvent,
        at: Option<Instant>,
    ) -> Option<Frame> {
        let keys = match event {
            LiveEvent::Availability(offers) => match offers.as_slice() {
                [] => FrameKeys::None,
                [one] => FrameKeys::One(one.offer_id),
                many => FrameKeys::Many(many.iter().map(|o| o.offer_id).collect()),
            },
            LiveEvent::Stock { offer_id, .. } => FrameKeys::One(*offer_id),
            _ => FrameKeys::None,
        };
        Some(Frame {
            text: encoder.encode(event)?,
            at,
            keys,
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
