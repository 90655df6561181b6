//! The page vitrine of a producer (`/vitrine/{producer_id}`, public,
//! shareable): its presentation (logo, portrait, texts), its products, a
//! map of the markets where it sells (drawn on the bundled outline of
//! France, or on tiles when `web.map_tile_url` is set) and the agenda of
//! its next distributions with the links to their shops.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::kit::fr;
use super::kit::map::FranceMap;
use super::kit::{Chrome, PageError, Section, Visitor};
use super::producer::settings::thumbnail_of;
use super::sales::SaleView;
use crate::api::state::AppState;

/// Next sales shown per market.
const SALES_PER_MARKET: i64 = 4;

struct ProductCard {
    name: String,
    description: String,
    category: String,
    organic: bool,
    photo: Option<String>,
    price: String,
    several: bool,
}

struct MarketPlace {
    name: String,
    address: String,
}

struct AgendaLine {
    market: String,
    sale: SaleView,
}

#[derive(Template)]
#[template(path = "vitrine.html")]
struct ShowcasePage {
    chrome: Chrome,
    name: String,
    short_description: String,
    description: String,
    logo: Option<String>,
    portrait: Option<String>,
    products: Vec<ProductCard>,
    map: FranceMap,
    markets: Vec<MarketPlace>,
    agenda: Vec<AgendaLine>,
}

async fn showcase(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = Uuid::parse_str(&path).map_err(|_| PageError::NotFound)?;
    let profile = state
        .store
        .producer_profile(id)
        .await?
        .ok_or(PageError::NotFound)?;
    let now = state.clock.now();
    let products = state
        .store
        .showcase_products(id)
        .await?
        .into_iter()
        .map(|p| ProductCard {
            photo: p.photo_url.map(|u| u.replace("/affichage", "/vignette")),
            price: fr::money(p.from_price),
            several: p.offers > 1,
            name: p.name,
            description: p.description.unwrap_or_default(),
            category: p.category,
            organic: p.organic,
        })
        .collect();
    let mut market_ids: Vec<Uuid> = state
        .store
        .producer_market_links(id)
        .await?
        .into_iter()
        .map(|l| l.market_id)
        .collect();
    market_ids.dedup();
    let market_records = state.store.markets_by_ids(&market_ids).await?;
    let points: Vec<(String, f64, f64)> = market_records
        .iter()
        .map(|m| (m.name.clone(), m.lat, m.lng))
        .collect();
    let tiles = &state.settings.web.map_tile_url;
    let map = if tiles.is_empty() {
        FranceMap::outline(&points)
    } else {
        FranceMap::tiled(tiles, &points)
    };
    let zones: HashMap<Uuid, (String, String)> = market_records
        .iter()
        .map(|m| (m.id, (m.name.clone(), m.timezone.clone())))
        .collect();
    let agenda = state
        .store
        .producer_upcoming_sales(id, now, SALES_PER_MARKET)
        .await?
        .iter()
        .filter_map(|sale| {
            let (market, tz) = zones.get(&sale.market_id)?;
            Some(AgendaLine {
                market: market.clone(),
                sale: SaleView::new(sale, tz, now),
            })
        })
        .collect();
    visitor.page(&ShowcasePage {
        chrome: visitor.chrome(profile.name.clone(), Section::Directory),
        short_description: profile.short_description.unwrap_or_default(),
        description: profile.description.unwrap_or_default(),
        logo: thumbnail_of(profile.logo_image_id),
        portrait: profile
            .portrait_image_id
            .map(|i| format!("/images/{i}/affichage")),
        name: profile.name,
        products,
        map,
        markets: market_records
            .into_iter()
            .map(|m| MarketPlace {
                name: m.name,
                address: m.address,
            })
            .collect(),
        agenda,
    })
}

/// Registers the page vitrine.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/vitrine/{producer_id}", web::get().to(showcase));
}
