//! What live sessions receive, encoded once. A [`Frame`] is the JSON text of
//! one WebSocket message (API.md, "WebSocket") in a [`ByteString`], so every
//! subscriber shares the same bytes (cloning it is a reference count), the
//! instant of the change it reports, for the push-lag histogram, and for
//! `availability` / `stock` the offer, so a session that is behind can drop
//! a value a later frame supersedes.
//!
//! A [`Push`] is what travels on a broadcast channel: the frames of one
//! flush (or one order event) for one audience, or an order to resynchronise.

use std::sync::Arc;
use std::time::Instant;

use bytestring::ByteString;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::engine::shop::{shown_available, ShopView};
use crate::store::sale::OfferStock;

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
    fn keyed(self, key: Uuid) -> Self {
        Self {
            key: Some(key),
            ..self
        }
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

/// Encodes a message; `None` (logged) if serde refuses, which our plain
/// structs never make it do.
pub(crate) fn encode<T: Serialize>(message: &T, at: Option<Instant>) -> Option<Frame> {
    match serde_json::to_string(message) {
        Ok(text) => Some(Frame {
            text: ByteString::from(text),
            at,
            key: None,
        }),
        Err(error) => {
            tracing::warn!(%error, "live frame not encoded");
            None
        }
    }
}

#[derive(Serialize)]
struct Availability {
    #[serde(rename = "type")]
    kind: &'static str,
    offer_id: Uuid,
    #[serde(with = "crate::domain::decimal::string_option")]
    available: Option<Decimal>,
}

/// `{"type":"availability","offer_id","available"}` (`null` = unlimited).
pub fn availability(offer_id: Uuid, stock: Option<OfferStock>, at: Instant) -> Option<Frame> {
    encode(
        &Availability {
            kind: "availability",
            offer_id,
            available: shown_available(stock),
        },
        Some(at),
    )
    .map(|frame| frame.keyed(offer_id))
}

#[derive(Serialize)]
struct Stock {
    #[serde(rename = "type")]
    kind: &'static str,
    offer_id: Uuid,
    tracked: bool,
    #[serde(with = "crate::domain::decimal::string")]
    real: Decimal,
    #[serde(with = "crate::domain::decimal::string")]
    ordered: Decimal,
    /// `real − ordered` when tracked (may be negative, as on the stock
    /// page); `null` = unlimited.
    #[serde(with = "crate::domain::decimal::string_option")]
    available: Option<Decimal>,
}

/// `{"type":"stock","offer_id","tracked","real","ordered","available"}` for producers.
pub fn stock(offer_id: Uuid, stock: OfferStock, at: Instant) -> Option<Frame> {
    encode(
        &Stock {
            kind: "stock",
            offer_id,
            tracked: stock.tracked,
            real: stock.real,
            ordered: stock.ordered,
            available: stock.tracked.then(|| stock.real - stock.ordered),
        },
        Some(at),
    )
    .map(|frame| frame.keyed(offer_id))
}

#[derive(Serialize)]
struct SaleEdge {
    #[serde(rename = "type")]
    kind: &'static str,
    catalog_id: Uuid,
}

/// `{"type":"sale_opened"|"sale_closed","catalog_id"}`.
pub fn sale_edge(catalog_id: Uuid, opened: bool, at: Instant) -> Option<Frame> {
    let kind = if opened { "sale_opened" } else { "sale_closed" };
    encode(&SaleEdge { kind, catalog_id }, Some(at))
}

#[derive(Serialize)]
struct Snapshot<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    shop: &'a ShopView,
}

/// `{"type":"snapshot", …the shop document…}`.
pub fn snapshot(shop: &ShopView) -> Option<Frame> {
    encode(
        &Snapshot {
            kind: "snapshot",
            shop,
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn json(frame: Option<Frame>) -> serde_json::Value {
        let frame = frame.unwrap_or_else(|| panic!("frame encoded"));
        serde_json::from_str(&frame.text).unwrap_or_default()
    }

    #[test]
    fn availability_is_never_negative_and_null_when_unlimited() {
        let id = Uuid::new_v4();
        let short = OfferStock {
            tracked: true,
            real: dec!(3),
            ordered: dec!(5),
        };
        let v = json(availability(id, Some(short), Instant::now()));
        assert_eq!(v["type"], "availability");
        assert_eq!(v["offer_id"], id.to_string());
        assert_eq!(v["available"], "0");
        let unlimited = OfferStock {
            tracked: false,
            ..short
        };
        let v = json(availability(id, Some(unlimited), Instant::now()));
        assert!(v["available"].is_null());
    }

    #[test]
    fn stock_shows_the_producer_the_real_figures() {
        let id = Uuid::new_v4();
        let s = OfferStock {
            tracked: true,
            real: dec!(3),
            ordered: dec!(5.50),
        };
        let v = json(stock(id, s, Instant::now()));
        assert_eq!(v["type"], "stock");
        assert_eq!(v["real"], "3");
        assert_eq!(v["ordered"], "5.5");
        assert_eq!(v["available"], "-2.5");
    }

    #[test]
    fn sale_edges_name_the_catalog() {
        let id = Uuid::new_v4();
        let v = json(sale_edge(id, true, Instant::now()));
        assert_eq!(v["type"], "sale_opened");
        assert_eq!(v["catalog_id"], id.to_string());
        assert_eq!(
            json(sale_edge(id, false, Instant::now()))["type"],
            "sale_closed"
        );
    }
}
