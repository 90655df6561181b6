//! The shop of a distribution: the sale's document (from its actor) with
//! each offer's availability from its stock ledger (activated if needed),
//! so it is the live figure orders are checked against, not a database
//! read that lags them. Also where producers' changes reach the actors: a
//! forced catalog sync and a stock change.

use futures_util::future::join_all;
use uuid::Uuid;

use super::distribution_actor::{GetShop, Reload};
use super::error::OrderError;
use super::offer_actor::{GetStock, SetStock};
use super::Engine;
use crate::domain::quantity::StockLevel;
use crate::domain::shop::ShopView;
use crate::domain::stock::StockFigures;

impl Engine {
    /// The shop of a distribution; `Ok(None)` when it does not exist.
    pub async fn shop(&self, distribution_id: Uuid) -> Result<Option<ShopView>, OrderError> {
        let actor = self.distribution(distribution_id);
        let Some(mut shop) = self.ask(&actor, GetShop).await? else {
            return Ok(None);
        };
        let figures = join_all(
            shop.offers
                .iter()
                .map(|o| self.live_stock(o.offer_id, Some(distribution_id))),
        )
        .await;
        let by_offer: std::collections::HashMap<Uuid, StockFigures> = shop
            .offers
            .iter()
            .zip(figures)
            .filter_map(|(o, f)| Some((o.offer_id, f?)))
            .collect();
        shop.fill_availability(|offer| by_offer.get(&offer).copied());
        Ok(Some(shop))
    }

    /// The shop as `customer` sees it (what their basket holds of each
    /// offer), or as anyone does.
    pub async fn shop_for(
        &self,
        distribution_id: Uuid,
        customer: Option<Uuid>,
    ) -> Result<Option<ShopView>, OrderError> {
        let Some(mut shop) = self.shop(distribution_id).await? else {
            return Ok(None);
        };
        if let Some(customer_id) = customer {
            let cart = self.cart(distribution_id, customer_id).await?;
            shop.fill_held(|offer| {
                cart.lines
                    .iter()
                    .filter(|l| l.offer_id == offer)
                    .map(|l| l.held)
                    .sum()
            });
        }
        Ok(Some(shop))
    }

    /// The live figures of an offer, from its actor (activated for the shop
    /// of `distribution` if needed).
    pub async fn live_stock(
        &self,
        offer_id: Uuid,
        distribution: Option<Uuid>,
    ) -> Option<StockFigures> {
        if let Some(stock) = self.hub().latest_stock(offer_id) {
            if self.active_offer(offer_id).is_some() {
                return Some(stock);
            }
        }
        let actor = self.offer_for(offer_id, distribution);
        self.ask(&actor, GetStock).await.ok().flatten()
    }

    /// What baskets hold of an offer right now (nothing if its actor is not
    /// active: an offer actor holding stock never passivates).
    pub fn live_held(&self, offer_id: Uuid) -> rust_decimal::Decimal {
        self.active_offer(offer_id)
            .and(self.hub().latest_stock(offer_id))
            .map_or(rust_decimal::Decimal::ZERO, |figures| figures.held)
    }

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
            self.reload_distribution(distribution_id);
            distributions.push(distribution_id);
        }
        Ok(distributions)
    }

    /// The distribution's actor (if active) re-reads its sale and orders.
    pub fn reload_distribution(&self, distribution_id: Uuid) {
        if let Some(actor) = self.active_distribution(distribution_id) {
            actor.do_send(Reload);
        }
    }

    /// The producer changed an offer's stock (already written): the offer's
    /// actor, if active, takes it at once; if a live session shows it, the
    /// actor is activated so the change is pushed.
    pub fn stock_changed(&self, offer_id: Uuid, tracked: bool, real: StockLevel) {
        if let Some(actor) = self.active_offer(offer_id) {
            actor.do_send(SetStock { tracked, real });
        } else if self.hub().wants_stock(offer_id) {
            // Watched live: activating the actor reads and publishes it.
            let _ = self.offer(offer_id);
        }
    }
}
