//! How an upcoming sale reads on the public pages: when the distribution
//! is, whether its orders are open, and the link to its shop.

use chrono::{DateTime, Utc};

use super::kit::fr;
use crate::domain::planning::sale_status;
use crate::domain::window::SaleStatus;
use crate::store::public::UpcomingSale;

/// An upcoming sale, said in French.
pub struct SaleView {
    pub shop: String,
    /// `jeudi 12 décembre, 17 h – 19 h`.
    pub when: String,
    /// Whether orders are open now.
    pub open: bool,
    /// `Commandes ouvertes jusqu'au …`, `Ouverture des commandes le …`, …
    pub window: String,
    pub producers: i64,
}

impl SaleView {
    pub fn new(sale: &UpcomingSale, timezone: &str, now: DateTime<Utc>) -> Self {
        let tz = fr::zone(timezone);
        let status = sale_status(sale.orders_open_at, sale.orders_close_at, now);
        let window = match status {
            SaleStatus::Open => format!(
                "Commandes ouvertes jusqu'au {}",
                fr::moment(sale.orders_close_at, tz, now)
            ),
            SaleStatus::Upcoming => format!(
                "Ouverture des commandes le {}",
                fr::moment(sale.orders_open_at, tz, now)
            ),
            SaleStatus::Closed => "Commandes closes".to_owned(),
        };
        Self {
            shop: format!("/shop/{}", sale.distribution_id),
            when: fr::span(sale.starts_at, sale.ends_at, tz, now),
            open: status == SaleStatus::Open,
            window,
            producers: sale.producers,
        }
    }
}
