//! Markets in the browser: the public page of a market (`/marche/{id}`,
//! with "Envoyer un message" and "Envoyer un catalogue" to its admins) and
//! the admins' pages (`/mes-marches/…`: creating a market, its
//! distributions and weekly series, validation and payouts, its catalogs,
//! its messages and its admins).

pub mod admin;
pub mod admins;
pub mod catalogs;
pub mod contact;
pub mod distribution;
pub mod inbox;
pub mod public;

use actix_web::web;

use super::kit::InMarket;

/// Registers the market pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    public::configure(cfg);
    contact::configure(cfg);
    // `/mes-marches/nouveau` before `/mes-marches/{market_id}`.
    admin::configure(cfg);
    distribution::configure(cfg);
    catalogs::configure(cfg);
    inbox::configure(cfg);
    admins::configure(cfg);
}

/// The tabs of a market's administration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketTab {
    Distributions,
    Catalogs,
    Messages,
    Admins,
}

impl MarketTab {
    const ALL: [MarketTab; 4] = [
        MarketTab::Distributions,
        MarketTab::Catalogs,
        MarketTab::Messages,
        MarketTab::Admins,
    ];

    fn label(self) -> &'static str {
        match self {
            MarketTab::Distributions => "Distributions",
            MarketTab::Catalogs => "Catalogues",
            MarketTab::Messages => "Messages",
            MarketTab::Admins => "Administrateurs",
        }
    }

    /// The tab's path for market `id`.
    pub fn href(self, id: uuid::Uuid) -> String {
        let base = format!("/mes-marches/{id}");
        match self {
            MarketTab::Distributions => base,
            MarketTab::Catalogs => format!("{base}/catalogues"),
            MarketTab::Messages => format!("{base}/messages"),
            MarketTab::Admins => format!("{base}/administrateurs"),
        }
    }
}

/// The chrome of a market administration page on `tab`.
pub fn chrome(space: &InMarket, title: &str, tab: MarketTab) -> super::kit::Chrome {
    let mut tabs: Vec<(&str, String, bool)> = MarketTab::ALL
        .iter()
        .map(|t| (t.label(), t.href(space.market.id), *t == tab))
        .collect();
    tabs.push((
        "Page publique",
        format!("/marche/{}", space.market.id),
        false,
    ));
    space.chrome(title, &tabs)
}
