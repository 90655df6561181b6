//! The shop of a distribution: what is on sale, at which price, in which
//! windows, and how much is left right now. Availability comes from the
//! offer actors (activated if needed), so it is the live figure that
//! reservations are checked against, not a database read that lags them.

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::distribution_actor::GetShop;
use super::offer_actor::GetStock;
use super::ordering::OrderError;
use super::Engine;
use crate::domain::money::Money;
use crate::domain::window::SaleStatus;
use crate::store::sale::OfferStock;

#[derive(Debug, Clone, Serialize)]
pub struct ShopView {
    pub distribution: ShopDistribution,
    pub catalogs: Vec<ShopCatalog>,
    pub offers: Vec<ShopOffer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShopDistribution {
    pub id: Uuid,
    pub market_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShopCatalog {
    pub catalog_id: Uuid,
    pub name: String,
    pub producer: Named,
    pub orders_open_at: DateTime<Utc>,
    pub orders_close_at: DateTime<Utc>,
    pub status: SaleStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct Named {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShopProduct {
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub variable_price: bool,
    pub multi_weight: bool,
    pub fractional: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShopOffer {
    pub offer_id: Uuid,
    pub catalog_id: Uuid,
    pub product: ShopProduct,
    pub label: String,
    #[serde(with = "crate::domain::decimal::string")]
    pub quantity: Decimal,
    pub unit: String,
    pub price: Money,
    /// `null` for an offer without limited stock.
    #[serde(with = "crate::domain::decimal::string_option")]
    pub available: Option<Decimal>,
}

/// What a shop shows as available: nothing below zero, `None` if unlimited.
pub fn shown_available(stock: Option<OfferStock>) -> Option<Decimal> {
    stock
        .filter(|s| s.tracked)
        .map(|s| (s.real - s.ordered).max(Decimal::ZERO))
}

impl Engine {
    /// The shop of a distribution; `Ok(None)` when it does not exist.
    pub async fn shop(&self, distribution_id: Uuid) -> Result<Option<ShopView>, OrderError> {
        let actor = self.distribution(distribution_id);
        let Some(data) = self.ask(&actor, GetShop).await? else {
            return Ok(None);
        };
        let catalog_of = |participation_id: Uuid| {
            data.participations
                .iter()
                .find(|(p, _)| p.id == participation_id)
                .map(|(p, _)| p.catalog_id)
                .unwrap_or_default()
        };
        let stocks = join_all(
            data.offers
                .iter()
                .map(|o| self.live_stock(o.offer_id, Some(distribution_id))),
        )
        .await;
        let offers = data
            .offers
            .iter()
            .zip(stocks)
            .map(|(o, stock)| ShopOffer {
                offer_id: o.offer_id,
                catalog_id: catalog_of(o.participation_id),
                product: ShopProduct {
                    id: o.product_id,
                    name: o.product_name.clone(),
                    unit: o.product_unit.clone(),
                    variable_price: o.variable_price,
                    multi_weight: o.multi_weight,
                    fractional: o.fractional,
                },
                label: o.label.clone(),
                quantity: o.quantity,
                unit: o.unit.clone(),
                price: Money::from_rounded(o.price).unwrap_or(Money::ZERO),
                available: shown_available(stock),
            })
            .collect();
        Ok(Some(ShopView {
            distribution: ShopDistribution {
                id: data.distribution.id,
                market_id: data.distribution.market_id,
                starts_at: data.distribution.starts_at,
                ends_at: data.distribution.ends_at,
                cancelled: data.distribution.cancelled_at.is_some(),
            },
            catalogs: data
                .participations
                .iter()
                .map(|(p, status)| ShopCatalog {
                    catalog_id: p.catalog_id,
                    name: p.catalog_name.clone(),
                    producer: Named {
                        id: p.producer_id,
                        name: p.producer_name.clone(),
                    },
                    orders_open_at: p.opens_at,
                    orders_close_at: p.closes_at,
                    status: *status,
                })
                .collect(),
            offers,
        }))
    }

    /// The live stock of an offer, from its actor (activated for the shop
    /// of `distribution` if needed).
    pub async fn live_stock(
        &self,
        offer_id: Uuid,
        distribution: Option<Uuid>,
    ) -> Option<OfferStock> {
        if let Some(stock) = self.hub().latest_stock(offer_id) {
            if self.active_offer(offer_id).is_some() {
                return Some(stock);
            }
        }
        let actor = self.offer_for(offer_id, distribution);
        self.ask(&actor, GetStock).await.ok().flatten()
    }
}

impl Engine {
    /// Forced sync of a catalog: refreshes the frozen snapshot of each of
    /// its open sales and has their distribution actors reload it. Returns
    /// the distributions touched.
    pub async fn sync_catalog(&self, catalog_id: Uuid) -> Result<Vec<Uuid>, crate::store::DbError> {
        let now = self.clock().now();
        let open = self
            .store()
            .open_participations_of_catalog(catalog_id, now)
            .await?;
        let mut distributions = Vec::with_capacity(open.len());
        for (participation_id, distribution_id) in open {
            self.store().freeze_snapshot(participation_id, now).await?;
            if let Some(actor) = self.active_distribution(distribution_id) {
                actor.do_send(super::distribution_actor::Reload);
            }
            distributions.push(distribution_id);
        }
        Ok(distributions)
    }

    /// The producer changed an offer's stock (already written): the offer's
    /// actor, if active, takes it at once; if a live session shows it, the
    /// actor is activated so the change is pushed.
    pub fn stock_changed(&self, offer_id: Uuid, tracked: bool, real: Decimal) {
        if let Some(actor) = self.active_offer(offer_id) {
            actor.do_send(super::offer_actor::SetStock { tracked, real });
        } else if self.hub().wants_stock(offer_id) {
            // Watched live: activating the actor reads and publishes it.
            let _ = self.offer(offer_id);
        }
    }
}
