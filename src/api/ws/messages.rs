//! The JSON of live messages (API.md, "WebSocket"): how the engine's typed
//! [`LiveEvent`]s look on the wire. The engine's hub calls [`JsonEvents`]
//! once per push and shares the bytes with every subscriber.

use bytestring::ByteString;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::money::Money;
use crate::domain::quantity::Quantity;
use crate::domain::shop::ShopView;
use crate::engine::events::live::{OrderEvent, OrderEventKind};
use crate::engine::events::{EventEncoder, LiveEvent};

/// The API's encoder of live events.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonEvents;

impl EventEncoder for JsonEvents {
    fn encode(&self, event: &LiveEvent) -> Option<ByteString> {
        let encoded = match event {
            LiveEvent::Availability(offers) => serde_json::to_string(&Availability {
                kind: "availability",
                offers: offers
                    .iter()
                    .map(|o| OfferAvailable {
                        offer_id: o.offer_id,
                        available: o.available,
                    })
                    .collect(),
            }),
            LiveEvent::Stock { offer_id, figures } => serde_json::to_string(&Stock {
                kind: "stock",
                offer_id: *offer_id,
                tracked: figures.tracked,
                real: figures.real,
                ordered: figures.ordered,
                held: figures.held,
                available: figures.available(),
            }),
            LiveEvent::SaleEdge { catalog_id, opened } => serde_json::to_string(&SaleEdge {
                kind: if *opened {
                    "sale_opened"
                } else {
                    "sale_closed"
                },
                catalog_id: *catalog_id,
            }),
            LiveEvent::Snapshot(shop) => serde_json::to_string(&Snapshot {
                kind: "snapshot",
                shop,
            }),
            LiveEvent::Order(order) => serde_json::to_string(&OrderMessage::of(order)),
        };
        match encoded {
            Ok(text) => Some(ByteString::from(text)),
            Err(error) => {
                tracing::warn!(%error, "live message not encoded");
                None
            }
        }
    }
}

/// `{"type":"availability","offers":[{"offer_id","available"}, …]}`: every
/// offer of the storefront that changed since the previous push.
#[derive(Serialize)]
struct Availability {
    #[serde(rename = "type")]
    kind: &'static str,
    offers: Vec<OfferAvailable>,
}

/// `{"offer_id","available"}` (`null` = unlimited).
#[derive(Serialize)]
struct OfferAvailable {
    offer_id: Uuid,
    #[serde(with = "crate::domain::decimal::string_option")]
    available: Option<Decimal>,
}

/// `{"type":"stock","offer_id","tracked","real","ordered","held","available"}`.
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
    /// What customers' baskets hold for a while.
    #[serde(with = "crate::domain::decimal::string")]
    held: Decimal,
    /// `real − ordered − held` when tracked (may be negative, as on the
    /// stock page); `null` = unlimited.
    #[serde(with = "crate::domain::decimal::string_option")]
    available: Option<Decimal>,
}

/// `{"type":"sale_opened"|"sale_closed","catalog_id"}`.
#[derive(Serialize)]
struct SaleEdge {
    #[serde(rename = "type")]
    kind: &'static str,
    catalog_id: Uuid,
}

/// `{"type":"snapshot", …the shop document…}`.
#[derive(Serialize)]
struct Snapshot<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    shop: &'a ShopView,
}

/// `{"type":"order_placed"|"order_modified"|"order_cancelled","order":{…}}`.
#[derive(Serialize)]
struct OrderMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    order: OrderBody<'a>,
}

#[derive(Serialize)]
struct OrderBody<'a> {
    id: Uuid,
    number: i32,
    distribution_id: Uuid,
    customer: CustomerBody<'a>,
    lines: Vec<LineBody>,
    total: Money,
}

#[derive(Serialize)]
struct CustomerBody<'a> {
    id: Uuid,
    name: &'a str,
}

#[derive(Serialize)]
struct LineBody {
    id: Uuid,
    offer_id: Uuid,
    catalog_id: Uuid,
    producer_id: Uuid,
    quantity: Quantity,
    unit_price: Money,
    total: Money,
}

impl<'a> OrderMessage<'a> {
    fn of(order: &'a OrderEvent) -> Self {
        OrderMessage {
            kind: match order.kind {
                OrderEventKind::Placed => "order_placed",
                OrderEventKind::Modified => "order_modified",
                OrderEventKind::Cancelled => "order_cancelled",
            },
            order: OrderBody {
                id: order.order_id,
                number: order.number,
                distribution_id: order.distribution_id,
                customer: CustomerBody {
                    id: order.customer_id,
                    name: &order.customer_name,
                },
                lines: order
                    .lines
                    .iter()
                    .map(|l| LineBody {
                        id: l.id,
                        offer_id: l.offer_id,
                        catalog_id: l.catalog_id,
                        producer_id: l.producer_id,
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        total: l.total,
                    })
                    .collect(),
                total: order.total,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::stock::StockFigures;
    use crate::engine::events::live::OfferAvailability;
    use rust_decimal_macros::dec;

    fn json(event: &LiveEvent) -> serde_json::Value {
        let text = JsonEvents.encode(event).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn availability_carries_every_changed_offer_as_a_string_or_null() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let v = json(&LiveEvent::Availability(vec![
            OfferAvailability {
                offer_id: a,
                available: Some(dec!(0)),
            },
            OfferAvailability {
                offer_id: b,
                available: None,
            },
        ]));
        assert_eq!(
            v,
            serde_json::json!({"type": "availability", "offers": [
                {"offer_id": a.to_string(), "available": "0"},
                {"offer_id": b.to_string(), "available": null},
            ]})
        );
    }

    #[test]
    fn stock_shows_the_producer_the_real_figures() {
        let id = Uuid::new_v4();
        let v = json(&LiveEvent::Stock {
            offer_id: id,
            figures: StockFigures::stored(true, dec!(3), dec!(5.50)),
        });
        assert_eq!(v["type"], "stock");
        assert_eq!(v["tracked"], true);
        assert_eq!(v["real"], "3");
        assert_eq!(v["ordered"], "5.5");
        assert_eq!(v["held"], "0");
        assert_eq!(v["available"], "-2.5");
    }

    #[test]
    fn sale_edges_name_the_catalog() {
        let id = Uuid::new_v4();
        let v = json(&LiveEvent::SaleEdge {
            catalog_id: id,
            opened: true,
        });
        assert_eq!(v["type"], "sale_opened");
        assert_eq!(v["catalog_id"], id.to_string());
        let closed = LiveEvent::SaleEdge {
            catalog_id: id,
            opened: false,
        };
        assert_eq!(json(&closed)["type"], "sale_closed");
    }

    #[test]
    fn order_events_carry_their_lines() {
        let event = LiveEvent::Order(OrderEvent {
            kind: OrderEventKind::Modified,
            order_id: Uuid::new_v4(),
            number: 7,
            distribution_id: Uuid::new_v4(),
            customer_id: Uuid::new_v4(),
            customer_name: "Léa".into(),
            lines: vec![],
            total: Money::ZERO,
        });
        let v = json(&event);
        assert_eq!(v["type"], "order_modified");
        assert_eq!(v["order"]["number"], 7);
        assert_eq!(v["order"]["customer"]["name"], "Léa");
        assert_eq!(v["order"]["total"], "0.00");
    }
}
