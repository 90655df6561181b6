//! A market's public page (`/marche/{market_id}`, guide ch. 4 "la fiche de
//! présentation de chaque marché"): where and when, payment, its admins'
//! names, its number of customers, the producers present and the next
//! distributions with their shops; for a signed-in visitor the forms of
//! "Envoyer un message" and "Envoyer un catalogue" (handled in
//! [`contact`](super::contact)).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, FormState, PageError, Section, Visitor};
use crate::api::webapp::sales::SaleView;
use crate::store::markets::MarketRecord;
use crate::store::public::UpcomingSale;

/// Distributions shown.
const NEXT_DISTRIBUTIONS: i64 = 8;

struct DistributionLine {
    sale: SaleView,
    place: Option<String>,
}

/// A catalog the visitor may offer.
struct CatalogChoice {
    id: Uuid,
    label: String,
    linked: bool,
}

#[derive(Template)]
#[template(path = "marche/public.html")]
struct MarketPage<'a> {
    chrome: Chrome,
    market: MarketRecord,
    day: Option<String>,
    admins: Vec<String>,
    customers: i64,
    producers: Vec<(Uuid, String)>,
    distributions: Vec<DistributionLine>,
    signed_in: bool,
    is_admin: bool,
    /// The visitor's producer spaces (writing for one of them).
    producers_of_visitor: Vec<(Uuid, String)>,
    catalogs: Vec<CatalogChoice>,
    form: &'a FormState,
    catalog_form: &'a FormState,
    /// Sign in, then back here.
    sign_in: String,
}

fn market_id(path: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(path).map_err(|_| PageError::NotFound)
}

pub(super) async fn render(
    state: &AppState,
    visitor: &Visitor,
    market: MarketRecord,
    form: &FormState,
    catalog_form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let facts = state
        .store
        .market_facts(&[market.id])
        .await?
        .remove(&market.id)
        .unwrap_or_default();
    let distributions = state
        .store
        .market_distributions(market.id, now, None, false, NEXT_DISTRIBUTIONS)
        .await?;
    let participating = state
        .store
        .upcoming_sales(now, NEXT_DISTRIBUTIONS)
        .await?
        .into_iter()
        .filter(|s| s.market_id == market.id)
        .collect::<Vec<_>>();
    let distributions = distributions
        .into_iter()
        .map(|d| {
            let sale = participating
                .iter()
                .find(|s| s.distribution_id == d.id)
                .cloned()
                .unwrap_or(UpcomingSale {
                    market_id: market.id,
                    distribution_id: d.id,
                    place: d.place.clone(),
                    starts_at: d.starts_at,
                    ends_at: d.ends_at,
                    orders_open_at: d.orders_open_at,
                    orders_close_at: d.orders_close_at,
                    producers: 0,
                });
            DistributionLine {
                sale: SaleView::new(&sale, &market.timezone, now),
                place: d.place,
            }
        })
        .collect();
    let mut producers_of_visitor = Vec::new();
    let mut catalogs = Vec::new();
    let is_admin = visitor
        .account
        .as_ref()
        .is_some_and(|c| c.is_market_admin(market.id));
    if let Some(caller) = &visitor.account {
        let producer_ids: Vec<Uuid> = caller.producers.iter().map(|(id, _)| *id).collect();
        let linked: Vec<Uuid> = state
            .store
            .market_catalog_links(market.id, None)
            .await?
            .into_iter()
            .map(|l| l.catalog_id)
            .collect();
        for producer in state.store.producers_by_ids(&producer_ids).await? {
            for catalog in state.store.producer_catalogs(producer.id).await? {
                catalogs.push(CatalogChoice {
                    linked: linked.contains(&catalog.id),
                    label: if producer_ids.len() > 1 {
                        format!(
                            "{} — {} (code {})",
                            producer.name, catalog.name, catalog.code
                        )
                    } else {
                        format!("{} (code {})", catalog.name, catalog.code)
                    },
                    id: catalog.id,
                });
            }
            producers_of_visitor.push((producer.id, producer.name));
        }
    }
    let page = MarketPage {
        chrome: visitor.chrome(market.name.clone(), Section::Directory),
        day: market
            .usual_weekday
            .map(|d| format!("le {}", fr::weekday(d))),
        admins: facts.admins,
        customers: facts.customers,
        producers: facts.producers,
        distributions,
        signed_in: visitor.account.is_some(),
        is_admin,
        producers_of_visitor,
        catalogs,
        form,
        catalog_form,
        sign_in: format!(
            "/connexion?suite={}",
            crate::api::webapp::kit::page::encode_query(&visitor.here)
        ),
        market,
    };
    visitor.page_with(status, &page)
}

pub(super) async fn load(state: &AppState, id: &str) -> Result<MarketRecord, PageError> {
    state
        .store
        .market(market_id(id)?)
        .await?
        .ok_or(PageError::NotFound)
}

async fn page(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let market = load(&state, &path).await?;
    let empty = FormState::new();
    render(&state, &visitor, market, &empty, &empty, StatusCode::OK).await
}

/// Registers the public market page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/marche/{market_id}", web::get().to(page));
}
