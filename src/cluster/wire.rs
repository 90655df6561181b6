//! What travels on NATS between nodes: the subjects and the message
//! bodies. Live events go on subjects per distribution, per producer and
//! per market, and offers' figures on `etal.live.stock.<producer>.<offer>`,
//! so a node subscribes to exactly what its sessions watch: a storefront
//! to `etal.live.stock.*.<offer>` for each offer of its shop, a producer's
//! feed to `etal.live.stock.<producer>.*`.
//!
//! Order events travel already encoded (the JSON the WebSocket sends),
//! figures, sale statuses and waiting rooms as small JSON documents each
//! node turns into its own frames. A distribution's waiting room travels
//! on the distribution's subject: its audience is exactly that
//! distribution's storefronts, in order with its resyncs and sale edges.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::admission::RoomStatus;
use crate::domain::stock::StockFigures;
use crate::domain::window::SaleStatus;

/// Requests for the active engine (HTTP requests, forwarded).
pub const ENGINE_REQUESTS: &str = "etal.engine.http";
/// A node announcing it took the ordering lease.
pub const ACTIVE: &str = "etal.cluster.active";
/// Nodes telling the active engine which distributions they watch.
pub const INTEREST: &str = "etal.cluster.interest";

/// Headers of a forwarded request and its answer (the HTTP headers travel
/// beside them under their own names).
pub mod header {
    pub const METHOD: &str = "Etal-Method";
    pub const PATH: &str = "Etal-Path";
    /// Unix time in ms after which the sender no longer waits: a request
    /// found later (by a node that was paused) is dropped unanswered.
    pub const DEADLINE: &str = "Etal-Deadline-Ms";
    pub const STATUS: &str = "Etal-Status";
    /// The node that forwarded it (HTTP header on the active node's own call).
    pub const FORWARDED_BY: &str = "x-etal-forwarded-by";
}

pub fn stock(producer_id: Uuid, offer_id: Uuid) -> String {
    format!("etal.live.stock.{producer_id}.{offer_id}")
}

pub fn stock_of_offer(offer_id: Uuid) -> String {
    format!("etal.live.stock.*.{offer_id}")
}

pub fn stock_of_producer(producer_id: Uuid) -> String {
    format!("etal.live.stock.{producer_id}.*")
}

pub fn distribution(distribution_id: Uuid) -> String {
    format!("etal.live.distribution.{distribution_id}")
}

pub fn producer(producer_id: Uuid) -> String {
    format!("etal.live.producer.{producer_id}")
}

pub fn market(market_id: Uuid) -> String {
    format!("etal.live.market.{market_id}")
}

/// The offer a stock subject is about (its last token).
pub fn offer_of_stock_subject(subject: &str) -> Option<Uuid> {
    subject
        .rsplit('.')
        .next()
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// An offer's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMessage {
    pub tracked: bool,
    pub real: Decimal,
    pub ordered: Decimal,
    pub held: Decimal,
}

impl From<StockFigures> for StockMessage {
    fn from(f: StockFigures) -> Self {
        Self {
            tracked: f.tracked,
            real: f.real,
            ordered: f.ordered,
            held: f.held,
        }
    }
}

impl From<StockMessage> for StockFigures {
    fn from(m: StockMessage) -> Self {
        Self {
            tracked: m.tracked,
            real: m.real,
            ordered: m.ordered,
            held: m.held,
        }
    }
}

/// What a distribution's subject carries: `{"kind", "body"}`. Adjacently
/// tagged, not internally: serde reads an internally tagged body through a
/// buffer, where serde_json's `arbitrary_precision` (on for the money
/// types) leaves a float such as a room's `rate_per_s` unreadable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum DistributionMessage {
    /// A catalog's sale reached this status.
    Status {
        catalog_id: Uuid,
        status: SaleStatus,
    },
    /// Storefronts take a fresh snapshot.
    Resync,
    /// The waiting room moved: storefronts get an `admission` message.
    Admission { room: RoomStatus },
}

/// A node took the ordering lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveMessage {
    pub node_id: Uuid,
    pub url: String,
    pub epoch: i64,
}

/// The distributions a node's storefronts watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestMessage {
    pub node_id: Uuid,
    pub distributions: Vec<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn stock_subjects_match_per_offer_and_per_producer() {
        let (p, o) = (Uuid::new_v4(), Uuid::new_v4());
        let subject = stock(p, o);
        assert_eq!(offer_of_stock_subject(&subject), Some(o));
        assert_eq!(stock_of_offer(o).replace('*', &p.to_string()), subject);
        assert_eq!(stock_of_producer(p).replace('*', &o.to_string()), subject);
    }

    #[test]
    fn messages_read_back_what_was_written() {
        let figures = StockFigures {
            tracked: true,
            real: dec!(10.5),
            ordered: dec!(3),
            held: dec!(1),
        };
        let text = serde_json::to_vec(&StockMessage::from(figures)).expect("encode");
        let back: StockMessage = serde_json::from_slice(&text).expect("decode");
        assert_eq!(StockFigures::from(back), figures);

        let status = DistributionMessage::Status {
            catalog_id: Uuid::nil(),
            status: SaleStatus::Open,
        };
        let text = serde_json::to_string(&status).expect("encode");
        assert!(text.contains(r#""kind":"status""#), "{text}");
        assert_eq!(
            serde_json::from_str::<DistributionMessage>(&text).expect("decode"),
            status
        );
        assert_eq!(
            serde_json::from_str::<DistributionMessage>(r#"{"kind":"resync"}"#).expect("decode"),
            DistributionMessage::Resync
        );

        let room = DistributionMessage::Admission {
            room: RoomStatus {
                active: true,
                drawn: true,
                admitted: 12,
                waiting: 30,
                rate_per_s: 2.5,
            },
        };
        let text = serde_json::to_string(&room).expect("encode");
        assert!(text.contains(r#""kind":"admission""#), "{text}");
        assert_eq!(
            serde_json::from_str::<DistributionMessage>(&text).expect("decode"),
            room
        );
    }
}
