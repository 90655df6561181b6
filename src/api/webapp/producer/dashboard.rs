//! Tableau de bord: the producer's next sales (with their order windows and
//! what is ordered so far), its markets ("Mes marchés"), the nearest
//! markets it does not sell in yet (guide ch. 4) and the way to the
//! directory of markets.

use std::collections::{HashMap, HashSet};

use actix_web::{web, HttpResponse};
use askama::Template;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, InProducer, PageError, ProducerTab};
use crate::domain::geo::{haversine_km, Coordinates};
use crate::domain::money::Money;
use crate::domain::planning::sale_status;
use crate::domain::pricing::line_total;
use crate::domain::quantity::Quantity;
use crate::domain::window::SaleStatus;
use crate::store::participations::PlanningFilter;

/// Planning rows read for the dashboard.
const PLANNING_READ: i64 = 200;
/// Next sales shown.
const NEXT_SALES: usize = 10;

struct NextSale {
    /// `3 commandes · 54,20 €` so far.
    ordered: String,
    market: String,
    catalog: String,
    when: String,
    window: String,
    open: bool,
    shop: String,
}

struct MarketLine {
    id: Uuid,
    name: String,
    address: String,
    catalogs: Vec<String>,
}

/// A market it does not sell in yet, nearest first.
struct NearbyMarket {
    /// Its page (`/marche/{id}`): who runs it, "Envoyer un catalogue".
    id: Uuid,
    name: String,
    address: String,
    /// `à 4 km`, when it has markets to measure from.
    distance: Option<String>,
    day: Option<String>,
}

/// Markets suggested on the dashboard.
const NEARBY: usize = 5;

#[derive(Template)]
#[template(path = "producteur/tableau.html")]
struct DashboardPage {
    chrome: Chrome,
    producer_id: uuid::Uuid,
    sales: Vec<NextSale>,
    markets: Vec<MarketLine>,
    nearby: Vec<NearbyMarket>,
    to_plan: usize,
}

/// Orders and amount so far, by participation (domain pricing per line).
async fn ordered_so_far(
    state: &AppState,
    participations: &[Uuid],
) -> Result<HashMap<Uuid, (usize, Decimal)>, PageError> {
    let mut orders: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    let mut amounts: HashMap<Uuid, Decimal> = HashMap::new();
    for line in state.store.ordered_lines(participations).await? {
        let (Ok(price), Ok(quantity)) = (
            Money::parse(line.unit_price, "unit_price"),
            Quantity::parse(line.quantity, "quantity"),
        ) else {
            return Err(PageError::Internal);
        };
        *amounts.entry(line.participation_id).or_default() += line_total(price, quantity).amount();
        orders
            .entry(line.participation_id)
            .or_default()
            .insert(line.order_id);
    }
    Ok(orders
        .into_iter()
        .map(|(p, o)| (p, (o.len(), amounts.get(&p).copied().unwrap_or_default())))
        .collect())
}

/// The markets it does not sell in, nearest to those it does (all of
/// them, by name, when it sells nowhere yet).
async fn nearby_markets(
    state: &AppState,
    own: &HashSet<Uuid>,
) -> Result<Vec<NearbyMarket>, PageError> {
    let all = state.store.markets_on_weekday(None).await?;
    let mine: Vec<Coordinates> = all
        .iter()
        .filter(|m| own.contains(&m.id))
        .filter_map(|m| Coordinates::parse(m.lat, m.lng).ok())
        .collect();
    let mut others: Vec<(Option<f64>, NearbyMarket)> = all
        .into_iter()
        .filter(|m| !own.contains(&m.id))
        .map(|m| {
            let here = Coordinates::parse(m.lat, m.lng).ok();
            let km = here.and_then(|here| {
                mine.iter()
                    .map(|c| haversine_km(*c, here))
                    .min_by(|a, b| a.total_cmp(b))
            });
            (
                km,
                NearbyMarket {
                    distance: km.map(|km| format!("à {} km", km.round())),
                    day: m.usual_weekday.map(|d| format!("le {}", fr::weekday(d))),
                    id: m.id,
                    name: m.name,
                    address: m.address,
                },
            )
        })
        .collect();
    others.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.1.name.cmp(&b.1.name),
    });
    Ok(others.into_iter().take(NEARBY).map(|(_, m)| m).collect())
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
    let own: HashSet<Uuid> = links.iter().map(|l| l.market_id).collect();
    let nearby = nearby_markets(&state, &own).await?;
    let participations: Vec<Uuid> = planning.iter().filter_map(|r| r.participation_id).collect();
    let so_far = ordered_so_far(&state, &participations).await?;
    let mut markets: Vec<MarketLine> = Vec::new();
    for link in links {
        match markets.iter_mut().find(|m| m.name == link.market_name) {
            Some(m) => m.catalogs.push(link.catalog_name),
            None => markets.push(MarketLine {
                id: link.market_id,
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
            let (orders, amount) = r
                .participation_id
                .and_then(|p| so_far.get(&p).copied())
                .unwrap_or_default();
            NextSale {
                ordered: match orders {
                    0 => "Pas encore de commande".to_owned(),
                    1 => format!("1 commande · {}", fr::money(amount)),
                    n => format!("{n} commandes · {}", fr::money(amount)),
                },
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
        nearby,
        to_plan,
    })
}

/// Registers the dashboard.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/espace-producteur/{producer_id}", web::get().to(dashboard));
}
