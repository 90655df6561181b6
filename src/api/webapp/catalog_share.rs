//! The page behind a catalog's share link (`/catalog/{code}`, no sign-in):
//! the catalog's producer, its offers at catalog prices, the markets it is
//! linked to and their next sales where this catalog is sold, with links
//! to their shops. A market admin looks here before linking it by code.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::kit::fr;
use super::kit::{Chrome, PageError, Section, Visitor};
use super::sales::SaleView;
use crate::api::state::AppState;
use crate::domain::market::CatalogCode;

/// Next sales shown per market.
const SALES_PER_MARKET: i64 = 3;

struct OfferLine {
    label: String,
    /// `10 kg`.
    amount: String,
    price: String,
}

struct ProductGroup {
    name: String,
    offers: Vec<OfferLine>,
}

struct MarketLine {
    name: String,
    sales: Vec<SaleView>,
}

#[derive(Template)]
#[template(path = "catalogue_public.html")]
struct SharePage {
    chrome: Chrome,
    name: String,
    code: String,
    producer_id: Uuid,
    producer_name: String,
    products: Vec<ProductGroup>,
    markets: Vec<MarketLine>,
}

async fn share_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    code: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let code = CatalogCode::parse(&code, "code").map_err(|_| PageError::NotFound)?;
    let catalog = state
        .store
        .catalog_by_code(&code)
        .await?
        .ok_or(PageError::NotFound)?;
    let mut products: Vec<ProductGroup> = Vec::new();
    for entry in state.store.catalog_entries(&[catalog.id]).await? {
        if !entry.active {
            continue;
        }
        let line = OfferLine {
            label: entry.label,
            amount: format!("{} {}", fr::quantity(entry.quantity), entry.unit),
            price: fr::money(entry.price_override.unwrap_or(entry.offer_price)),
        };
        match products.iter_mut().find(|p| p.name == entry.product_name) {
            Some(group) => group.offers.push(line),
            None => products.push(ProductGroup {
                name: entry.product_name,
                offers: vec![line],
            }),
        }
    }
    let now = state.clock.now();
    let mut sales: HashMap<Uuid, Vec<_>> = HashMap::new();
    for sale in state
        .store
        .catalog_upcoming_sales(catalog.id, now, SALES_PER_MARKET)
        .await?
    {
        sales.entry(sale.market_id).or_default().push(sale);
    }
    let linked = state.store.catalogs_markets(&[catalog.id]).await?;
    let mut markets = Vec::with_capacity(linked.len());
    for link in linked {
        let timezone = match state.store.market(link.id).await? {
            Some(market) => market.timezone,
            None => continue,
        };
        markets.push(MarketLine {
            sales: sales
                .remove(&link.id)
                .unwrap_or_default()
                .iter()
                .map(|s| SaleView::new(s, &timezone, now))
                .collect(),
            name: link.name,
        });
    }
    visitor.page(&SharePage {
        chrome: visitor.chrome(
            format!("Catalogue {} — {}", catalog.name, catalog.producer_name),
            Section::Directory,
        ),
        name: catalog.name,
        code: catalog.code,
        producer_id: catalog.producer_id,
        producer_name: catalog.producer_name,
        products,
        markets,
    })
}

/// Registers the share page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/catalog/{code}", web::get().to(share_page));
}
