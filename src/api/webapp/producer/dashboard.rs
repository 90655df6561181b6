//! Tableau de bord: the producer's next sales (with their order windows),
//! its markets ("Mes marchés") and the way to the directory of markets.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, InProducer, PageError, ProducerTab};
use crate::domain::planning::sale_status;
use crate::domain::window::SaleStatus;
use crate::store::participations::PlanningFilter;

/// Planning rows read for the dashboard.
const PLANNING_READ: i64 = 200;
/// Next sales shown.
const NEXT_SALES: usize = 10;

struct NextSale {
    market: String,
    catalog: String,
    when: String,
    window: String,
    open: bool,
    shop: String,
}

struct MarketLine {
    name: String,
    address: String,
    catalogs: Vec<String>,
}

#[derive(Template)]
#[template(path = "producteur/tableau.html")]
struct DashboardPage {
    chrome: Chrome,
    producer_id: uuid::Uuid,
    sales: Vec<NextSale>,
    markets: Vec<MarketLine>,
    to_plan: usize,
}

async fn dashboard(
    state: web::Data<AppState>,
    space: InProducer,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let producer_id = space.producer.id;
    let planning = state
        .store
        .producer_planning(producer_id, now, &PlanningFilter::default(), PLANNING_READ)
        .await?;
    let links = state.store.producer_market_links(producer_id).await?;
    let mut markets: Vec<MarketLine> = Vec::new();
    for link in links {
        match markets.iter_mut().find(|m| m.name == link.market_name) {
            Some(m) => m.catalogs.push(link.catalog_name),
            None => markets.push(MarketLine {
                name: link.market_name,
                address: link.address,
                catalogs: vec![link.catalog_name],
            }),
        }
    }
    let to_plan = planning
        .iter()
        .filter(|r| r.participation_id.is_none())
        .count();
    let sales = planning
        .into_iter()
        .filter(|r| r.participation_id.is_some())
        .take(NEXT_SALES)
        .map(|r| {
            // Dates are shown in the producer's usual zone: the markets'.
            let tz = chrono_tz::Europe::Paris;
            let status = sale_status(r.orders_open_at, r.orders_close_at, now);
            NextSale {
                window: format!(
                    "Commandes du {} au {}",
                    fr::moment(r.orders_open_at, tz, now),
                    fr::moment(r.orders_close_at, tz, now)
                ),
                open: status == SaleStatus::Open,
                when: fr::span(r.distribution.starts_at, r.distribution.ends_at, tz, now),
                shop: format!("/shop/{}", r.distribution.id),
                market: r.market_name,
                catalog: r.catalog_name,
            }
        })
        .collect();
    space.visitor.page(&DashboardPage {
        chrome: space.chrome("Tableau de bord", ProducerTab::Dashboard),
        producer_id,
        sales,
        markets,
        to_plan,
    })
}

/// Registers the dashboard.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/espace-producteur/{producer_id}", web::get().to(dashboard));
}
