//! What a distribution's sale is made of, as the store reads it: the
//! distribution, the catalogs taking part with their effective order
//! windows, and the offers on sale with their prices for this sale (frozen
//! once it opens).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::money::Money;
use crate::domain::quantity::Quantity;
use crate::domain::vat::VatRate;
use crate::domain::window::{OrderWindow, SaleStatus};

/// A distribution, as far as its sale is concerned.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleDistribution {
    pub id: Uuid,
    pub market_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub validated_at: Option<DateTime<Utc>>,
    /// Marked popular by a market admin: it opens through the waiting room.
    pub popular: bool,
}

/// A catalog taking part, with its effective window (its own or the
/// distribution's).
#[derive(Debug, Clone, PartialEq)]
pub struct SaleParticipation {
    pub id: Uuid,
    pub catalog_id: Uuid,
    pub catalog_name: String,
    pub producer_id: Uuid,
    pub producer_name: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// When its prices were frozen (`None`: not open yet).
    pub snapshot_taken_at: Option<DateTime<Utc>>,
}

impl SaleParticipation {
    /// The sale's status at `now` (a malformed window counts as closed).
    pub fn window_status(&self, now: DateTime<Utc>) -> SaleStatus {
        OrderWindow::parse(self.opens_at, self.closes_at)
            .map_or(SaleStatus::Closed, |window| window.status_at(now))
    }
}

/// The product an offer sells, as the shop needs it (and shows it:
/// the shop document's product).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleProduct {
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub variable_price: bool,
    pub multi_weight: bool,
    pub fractional: bool,
}

impl SaleProduct {
    /// Whether it is ordered in whole units only.
    pub fn whole_units(&self) -> bool {
        !self.fractional || self.multi_weight
    }
}

/// One orderable offer of a participation, with its price for this sale.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleOffer {
    pub participation_id: Uuid,
    pub offer_id: Uuid,
    pub product: SaleProduct,
    pub label: String,
    pub quantity: Quantity,
    pub unit: String,
    pub price: Money,
    pub vat_rate: VatRate,
    /// Its place in the catalog.
    pub position: i32,
}
