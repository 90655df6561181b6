//! The home page (`/`) is the directory of markets (guide ch. 4, "Voir
//! tous les marchés"): searched by town or postal code (the vendored
//! table of French communes, `domain::places`) and by distribution day,
//! nearest first, each market with its producers, its number of
//! customers, its admins' names, its next sales and its page. Without a
//! place, every market (of that day), those selling now first.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::fr;
use super::kit::{Chrome, PageError, Section, Visitor};
use super::sales::SaleView;
use crate::api::state::AppState;
use crate::domain::geo::{nearest, Coordinates};
use crate::domain::market::Weekday;
use crate::domain::places::{self, Place, Precision};
use crate::store::markets::MarketRecord;

/// Next sales shown per market.
const SALES_PER_MARKET: i64 = 3;
/// Places proposed for an ambiguous search.
const PLACES_SHOWN: usize = 8;
/// Markets listed at most.
const MARKETS_SHOWN: usize = 50;
/// The radii offered, in km.
const RADII: [u32; 4] = [10, 25, 50, 100];

/// A market on the directory.
pub struct MarketCard {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    /// `le jeudi`, when it has a usual day.
    pub day: Option<String>,
    pub online_payment: bool,
    /// `à 3,2 km`, when searched from a place.
    pub distance: Option<String>,
    pub producers: Vec<String>,
    pub customers: i64,
    pub admins: Vec<String>,
    pub sales: Vec<SaleView>,
}

impl MarketCard {
    fn has_open_sale(&self) -> bool {
        self.sales.iter().any(|s| s.open)
    }
}

/// An option of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A place proposed when the search names several.
struct PlaceLink {
    label: String,
    href: String,
}

#[derive(Template)]
#[template(path = "accueil.html")]
struct HomePage {
    chrome: Chrome,
    lieu: String,
    days: Vec<Choice>,
    radii: Vec<Choice>,
    /// The place searched from, said in full.
    from: Option<String>,
    /// Why the place was not understood.
    place_error: Option<String>,
    /// Other places the search could mean.
    others: Vec<PlaceLink>,
    markets: Vec<MarketCard>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Search {
    lieu: String,
    jour: String,
    rayon: String,
}

fn day_choices(selected: Option<Weekday>) -> Vec<Choice> {
    let mut days = vec![Choice {
        value: String::new(),
        label: "Tous les jours".into(),
        selected: selected.is_none(),
    }];
    for iso in 1..=7i16 {
        days.push(Choice {
            value: iso.to_string(),
            label: fr::weekday(iso).to_owned(),
            selected: selected.is_some_and(|d| d.iso() == iso),
        });
    }
    days
}

fn radius_choices(selected: Option<u32>) -> Vec<Choice> {
    let mut radii = vec![Choice {
        value: String::new(),
        label: "Sans limite".into(),
        selected: selected.is_none(),
    }];
    radii.extend(RADII.iter().map(|r| Choice {
        value: r.to_string(),
        label: format!("{r} km"),
        selected: selected == Some(*r),
    }));
    radii
}

/// `3,2 km`, `850 m`.
fn distance(km: f64) -> String {
    if km < 1.0 {
        format!("à {} m", ((km * 1000.0 / 50.0).round() * 50.0) as i64)
    } else {
        format!("à {} km", format!("{:.1}", km).replace('.', ","))
    }
}

fn place_phrase(place: &Place) -> String {
    let approx = match place.precision {
        Precision::Commune => "",
        _ => " (position approchée)",
    };
    format!("{}{approx}", place.label())
}

/// The cards of these markets, with their producers, customers, admins
/// and next sales, in the given order.
pub async fn market_cards(
    state: &AppState,
    markets: Vec<(Option<f64>, MarketRecord)>,
) -> Result<Vec<MarketCard>, PageError> {
    let now = state.clock.now();
    let ids: Vec<Uuid> = markets.iter().map(|(_, m)| m.id).collect();
    let mut facts = state.store.market_facts(&ids).await?;
    let mut sales: HashMap<Uuid, Vec<_>> = HashMap::new();
    for sale in state.store.upcoming_sales(now, SALES_PER_MARKET).await? {
        sales.entry(sale.market_id).or_default().push(sale);
    }
    Ok(markets
        .into_iter()
        .map(|(km, m)| MarketCard {
            sales: sales
                .remove(&m.id)
                .unwrap_or_default()
                .iter()
                .map(|s| SaleView::new(s, &m.timezone, now))
                .collect(),
            day: m.usual_weekday.map(|d| format!("le {}", fr::weekday(d))),
            distance: km.map(distance),
            producers: facts
                .get(&m.id)
                .map(|f| f.producers.iter().map(|(_, n)| n.clone()).collect())
                .unwrap_or_default(),
            customers: facts.get(&m.id).map_or(0, |f| f.customers),
            admins: facts.remove(&m.id).map(|f| f.admins).unwrap_or_default(),
            id: m.id,
            name: m.name,
            address: m.address,
            online_payment: m.online_payment,
        })
        .collect())
}

/// The markets of `weekday` nearest first from `from` (within `radius`).
pub async fn markets_near(
    state: &AppState,
    from: Coordinates,
    weekday: Option<Weekday>,
    radius_km: Option<f64>,
    limit: usize,
) -> Result<Vec<(Option<f64>, MarketRecord)>, PageError> {
    let mut candidates = state
        .store
        .markets_on_weekday(weekday.map(Weekday::iso))
        .await?;
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    let mut found = nearest(
        from,
        candidates,
        |m| Coordinates::parse(m.lat, m.lng).ok(),
        radius_km,
    );
    found.truncate(limit);
    Ok(found.into_iter().map(|(d, m)| (Some(d), m)).collect())
}

async fn home(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<Search>,
) -> Result<HttpResponse, PageError> {
    let search = query.into_inner();
    // A day or radius that does not parse is ignored, as if not chosen.
    let weekday = Weekday::parse_str(search.jour.trim(), "jour").ok();
    let radius = search
        .rayon
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|r| RADII.contains(r));
    let lieu = search.lieu.trim().to_owned();
    let mut page = HomePage {
        chrome: visitor.chrome("Trouver un marché", Section::Directory),
        lieu: lieu.clone(),
        days: day_choices(weekday),
        radii: radius_choices(radius),
        from: None,
        place_error: None,
        others: Vec::new(),
        markets: Vec::new(),
    };
    let markets = if lieu.is_empty() {
        let mut all: Vec<(Option<f64>, MarketRecord)> = state
            .store
            .markets_on_weekday(weekday.map(Weekday::iso))
            .await?
            .into_iter()
            .map(|m| (None, m))
            .collect();
        all.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        all.truncate(MARKETS_SHOWN);
        all
    } else {
        let found = places::search(&lieu, PLACES_SHOWN + 1);
        match found.split_first() {
            None => {
                page.place_error = Some(format!(
                    "Aucune commune ne correspond à « {lieu} ». Indiquez le nom d'une commune ou un code postal, comme « Villeurbanne » ou « 69100 »."
                ));
                Vec::new()
            }
            Some((first, others)) => {
                page.from = Some(place_phrase(first));
                page.others = others
                    .iter()
                    .map(|p| PlaceLink {
                        label: p.label(),
                        href: format!(
                            "/?lieu={}&jour={}&rayon={}",
                            super::kit::page::encode_query(&p.label()),
                            weekday.map_or(String::new(), |d| d.iso().to_string()),
                            radius.map_or(String::new(), |r| r.to_string()),
                        ),
                    })
                    .collect();
                markets_near(
                    &state,
                    first.at,
                    weekday,
                    radius.map(f64::from),
                    MARKETS_SHOWN,
                )
                .await?
            }
        }
    };
    let mut cards = market_cards(&state, markets).await?;
    if lieu.is_empty() {
        // Markets selling now first, then by name.
        cards.sort_by_key(|c| !c.has_open_sale());
    }
    page.markets = cards;
    visitor.page(&page)
}

/// Registers the home page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_read_the_french_way() {
        assert_eq!(distance(3.24), "à 3,2 km");
        assert_eq!(distance(0.43), "à 450 m");
        assert_eq!(distance(12.0), "à 12,0 km");
    }
}
