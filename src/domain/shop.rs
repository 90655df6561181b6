//! The shop document of a distribution: what is on sale, at which price, in
//! which windows, and how much is left. The sale builds it
//! ([`ShopView::of_sale`]); availability is then filled in from the stock
//! ledgers, whose figures are the ones orders are checked against. It reads
//! back from its JSON too: a cluster node that is not the active engine
//! gets it from the active one (`crate::cluster`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::money::Money;
use super::quantity::Quantity;
use super::sale::Sale;
use super::stock::StockFigures;
use super::window::SaleStatus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopView {
    pub distribution: ShopDistribution,
    pub catalogs: Vec<ShopCatalog>,
    pub offers: Vec<ShopOffer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopDistribution {
    pub id: Uuid,
    pub market_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopCatalog {
    pub catalog_id: Uuid,
    pub name: String,
    pub producer: Named,
    pub orders_open_at: DateTime<Utc>,
    pub orders_close_at: DateTime<Utc>,
    pub status: SaleStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopProduct {
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub variable_price: bool,
    pub multi_weight: bool,
    pub fractional: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopOffer {
    pub offer_id: Uuid,
    pub catalog_id: Uuid,
    pub product: ShopProduct,
    pub label: String,
    pub quantity: Quantity,
    pub unit: String,
    pub price: Money,
    /// `null` for an offer without limited stock.
    #[serde(with = "crate::domain::decimal::string_option")]
    pub available: Option<Decimal>,
    /// What the caller's basket holds of it (only when the caller is known).
    #[serde(
        with = "crate::domain::decimal::string_option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub held: Option<Decimal>,
}

impl ShopView {
    /// The shop of a sale at `now`, availability not filled in yet.
    pub fn of_sale(sale: &Sale, now: DateTime<Utc>) -> ShopView {
        let catalog_of = |participation_id: Uuid| {
            sale.participations
                .iter()
                .find(|p| p.id == participation_id)
                .map(|p| p.catalog_id)
                .unwrap_or_default()
        };
        ShopView {
            distribution: ShopDistribution {
                id: sale.distribution.id,
                market_id: sale.distribution.market_id,
                starts_at: sale.distribution.starts_at,
                ends_at: sale.distribution.ends_at,
                cancelled: sale.distribution.cancelled_at.is_some(),
            },
            catalogs: sale
                .participations
                .iter()
                .map(|p| ShopCatalog {
                    catalog_id: p.catalog_id,
                    name: p.catalog_name.clone(),
                    producer: Named {
                        id: p.producer_id,
                        name: p.producer_name.clone(),
                    },
                    orders_open_at: p.opens_at,
                    orders_close_at: p.closes_at,
                    status: sale.status(p, now),
                })
                .collect(),
            offers: sale
                .shop_offers()
                .into_iter()
                .map(|o| ShopOffer {
                    offer_id: o.offer_id,
                    catalog_id: catalog_of(o.participation_id),
                    product: ShopProduct {
                        id: o.product.id,
                        name: o.product.name.clone(),
                        unit: o.product.unit.clone(),
                        variable_price: o.product.variable_price,
                        multi_weight: o.product.multi_weight,
                        fractional: o.product.fractional,
                    },
                    label: o.label.clone(),
                    quantity: o.quantity,
                    unit: o.unit.clone(),
                    price: o.price,
                    available: None,
                    held: None,
                })
                .collect(),
        }
    }

    /// Fills in each offer's availability from its stock figures (`None`:
    /// unknown, shown as unlimited).
    pub fn fill_availability(&mut self, figures: impl Fn(Uuid) -> Option<StockFigures>) {
        for offer in &mut self.offers {
            offer.available = figures(offer.offer_id).and_then(|f| f.shown_available());
        }
    }

    /// Fills in what the caller's basket holds of each offer.
    pub fn fill_held(&mut self, held: impl Fn(Uuid) -> Decimal) {
        for offer in &mut self.offers {
            offer.held = Some(held(offer.offer_id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster node reads the active engine's shop back from its JSON,
    /// with or without the caller's basket.
    #[test]
    fn the_shop_document_reads_back_what_it_wrote() {
        let offer = |held: &str| {
            format!(
                r#"{{"offer_id":"{o}","catalog_id":"{c}","product":{{"id":"{p}","name":"Poulet",
                "unit":"pièce","variable_price":false,"multi_weight":false,"fractional":false}},
                "label":"Entier","quantity":"1","unit":"pièce","price":"12.50","available":"3"{held}}}"#,
                o = Uuid::nil(),
                c = Uuid::nil(),
                p = Uuid::nil(),
            )
        };
        for held in ["", r#","held":"2""#] {
            let text = format!(
                r#"{{"distribution":{{"id":"{id}","market_id":"{id}","starts_at":"2026-12-10T16:00:00Z",
                "ends_at":"2026-12-10T18:00:00Z","cancelled":false}},"catalogs":[],"offers":[{offer}]}}"#,
                id = Uuid::nil(),
                offer = offer(held),
            );
            let shop: ShopView = serde_json::from_str(&text).expect("reads");
            let again: ShopView =
                serde_json::from_str(&serde_json::to_string(&shop).expect("writes"))
                    .expect("reads");
            assert_eq!(again, shop);
            assert_eq!(shop.offers[0].held.is_some(), !held.is_empty());
        }
    }
}
