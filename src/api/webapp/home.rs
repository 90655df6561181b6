//! The home page (`/`): every market with its next sales — open ones
//! first-class, with the link to their shop. (The searchable directory of
//! markets by town and day builds on it.)

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::kit::fr;
use super::kit::{Chrome, PageError, Section, Visitor};
use super::sales::SaleView;
use crate::api::state::AppState;

/// Next sales shown per market.
const SALES_PER_MARKET: i64 = 3;

struct MarketCard {
    id: Uuid,
    name: String,
    address: String,
    /// `le jeudi`, when it has a usual day.
    day: Option<String>,
    online_payment: bool,
    sales: Vec<SaleView>,
}

impl MarketCard {
    fn has_open_sale(&self) -> bool {
        self.sales.iter().any(|s| s.open)
    }
}

#[derive(Template)]
#[template(path = "accueil.html")]
struct HomePage {
    chrome: Chrome,
    markets: Vec<MarketCard>,
}

async fn home(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let mut sales: HashMap<Uuid, Vec<_>> = HashMap::new();
    for sale in state.store.upcoming_sales(now, SALES_PER_MARKET).await? {
        sales.entry(sale.market_id).or_default().push(sale);
    }
    let mut markets: Vec<MarketCard> = state
        .store
        .markets_on_weekday(None)
        .await?
        .into_iter()
        .map(|m| MarketCard {
            sales: sales
                .remove(&m.id)
                .unwrap_or_default()
                .iter()
                .map(|s| SaleView::new(s, &m.timezone, now))
                .collect(),
            day: m.usual_weekday.map(|d| format!("le {}", fr::weekday(d))),
            id: m.id,
            name: m.name,
            address: m.address,
            online_payment: m.online_payment,
        })
        .collect();
    // Markets selling now first, then by name.
    markets.sort_by(|a, b| {
        b.has_open_sale()
            .cmp(&a.has_open_sale())
            .then_with(|| a.name.cmp(&b.name))
    });
    visitor.page(&HomePage {
        chrome: visitor.chrome("Marchés de producteurs", Section::Directory),
        markets,
    })
}

/// Registers the home page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}
