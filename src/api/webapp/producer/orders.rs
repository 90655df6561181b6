//! Commandes (guide ch. 7): the producer's distributions grouped by day —
//! tick every market of a day ("cocher l'ensemble des marchés") for one
//! recap by product or by member — then, per selection, the recap
//! ([`recap`]: on screen, as CSV, printable with the sign-off sheet),
//! a customer's line changed, weighed or removed ([`lines`]), and "Pesée
//! de produits en masse" ([`weighing`]); and the payouts of validated
//! distributions with the dates the money is available and paid.

pub mod lines;
pub mod recap;
pub mod weighing;

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::page::encode_query;
use crate::api::webapp::kit::{Chrome, InProducer, PageError, ProducerTab};
use crate::domain::planning::sale_status;
use crate::domain::window::SaleStatus;
use crate::store::producer_orders::ProducerSale;

/// Past distributions listed (days back): recaps, weighing, payouts.
const PAST_DAYS: i64 = 45;
/// Distributions listed at most.
const LISTED: i64 = 120;
/// Payouts listed.
const PAYOUTS_SHOWN: usize = 20;
/// Distributions in one recap at most.
pub const MAX_SELECTED: usize = 31;

/// Which distributions, and which view: the recap's query string
/// (`d=…&d=…&vue=membres`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Selection {
    pub d: Vec<String>,
    pub vue: String,
}

impl Selection {
    /// Reads a query string; `None` when an id is malformed or too many.
    pub fn parse(query: &str) -> Option<(Vec<Uuid>, bool)> {
        let selection: Selection = serde_html_form::from_str(query).ok()?;
        let mut ids = Vec::new();
        for raw in &selection.d {
            let id = Uuid::parse_str(raw.trim()).ok()?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        (ids.len() <= MAX_SELECTED).then_some((ids, selection.vue == "membres"))
    }

    /// The query string of a selection.
    pub fn query(ids: &[Uuid], by_member: bool) -> String {
        let mut parts: Vec<String> = ids.iter().map(|id| format!("d={id}")).collect();
        parts.push(format!(
            "vue={}",
            if by_member { "membres" } else { "produits" }
        ));
        parts.join("&")
    }
}

/// A distribution in the list.
pub struct SaleLine {
    pub id: Uuid,
    pub market: String,
    pub when: String,
    pub window: String,
    pub status: String,
    pub orders: i64,
    /// Its sale has closed: there is something to weigh.
    pub closed: bool,
}

impl SaleLine {
    pub fn new(s: &ProducerSale, now: DateTime<Utc>) -> Self {
        let tz = fr::zone(&s.timezone);
        let status = if s.validated_at.is_some() {
            "validée".to_owned()
        } else if now >= s.ends_at {
            "terminée".to_owned()
        } else {
            match sale_status(s.opens_at, s.closes_at, now) {
                SaleStatus::Open => "commandes ouvertes".into(),
                SaleStatus::Upcoming => "à venir".into(),
                SaleStatus::Closed => "commandes closes — à préparer".into(),
            }
        };
        Self {
            id: s.distribution_id,
            market: s.market_name.clone(),
            when: fr::span(s.starts_at, s.ends_at, tz, now),
            window: format!(
                "commandes du {} au {}",
                fr::moment(s.opens_at, tz, now),
                fr::moment(s.closes_at, tz, now)
            ),
            status,
            orders: s.orders,
            closed: now >= s.closes_at,
        }
    }
}

/// The distributions of one local day.
struct DayGroup {
    day: String,
    sales: Vec<SaleLine>,
}

/// A payout of a validated distribution.
struct PayoutLine {
    market: String,
    day: String,
    net: String,
    available_on: String,
    paid_on: String,
    offline: bool,
}

#[derive(Template)]
#[template(path = "producteur/commandes.html")]
struct OrdersPage {
    chrome: Chrome,
    base: String,
    planning: String,
    days: Vec<DayGroup>,
    payouts: Vec<PayoutLine>,
}

/// `/espace-producteur/{id}/commandes`.
pub fn base(space: &InProducer) -> String {
    ProducerTab::Orders.href(space.producer.id)
}

/// The recap page of a selection.
pub fn recap_path(space: &InProducer, ids: &[Uuid], by_member: bool) -> String {
    format!("{}/recap?{}", base(space), Selection::query(ids, by_member))
}

async fn page(state: web::Data<AppState>, space: InProducer) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let sales = state
        .store
        .producer_sales(space.producer.id, now - Duration::days(PAST_DAYS), LISTED)
        .await?;
    let mut days: Vec<(NaiveDate, DayGroup)> = Vec::new();
    for s in &sales {
        let tz = fr::zone(&s.timezone);
        let date = s.starts_at.with_timezone(&tz).date_naive();
        let line = SaleLine::new(s, now);
        match days.iter_mut().find(|(d, _)| *d == date) {
            Some((_, group)) => group.sales.push(line),
            None => days.push((
                date,
                DayGroup {
                    day: fr::day(s.starts_at, tz, now),
                    sales: vec![line],
                },
            )),
        }
    }
    let payouts = state
        .store
        .producer_payouts(space.producer.id)
        .await?
        .into_iter()
        .take(PAYOUTS_SHOWN)
        .map(|p| PayoutLine {
            day: fr::day(p.distribution_starts_at, chrono_tz::Europe::Paris, now),
            market: p.market_name,
            net: fr::money(p.net),
            available_on: p.available_on.map(|d| fr::date(d, now)).unwrap_or_default(),
            paid_on: p.paid_on.map(|d| fr::date(d, now)).unwrap_or_default(),
            offline: p.status == "offline",
        })
        .collect();
    space.visitor.page(&OrdersPage {
        chrome: space.chrome("Commandes", ProducerTab::Orders),
        base: base(&space),
        planning: format!(
            "{}/planifier",
            ProducerTab::Dashboard.href(space.producer.id)
        ),
        days: days.into_iter().map(|(_, g)| g).collect(),
        payouts,
    })
}

/// A local path back to a page of this producer's orders, else the list.
pub fn back_to(space: &InProducer, raw: &str) -> String {
    crate::api::webapp::kit::page::local_path(Some(raw))
        .filter(|p| p.starts_with(&format!("{}/", base(space))))
        .unwrap_or_else(|| base(space))
}

/// Percent-encodes a path for a hidden `retour` field's link.
pub fn encoded(path: &str) -> String {
    encode_query(path)
}

/// Registers the Commandes pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/espace-producteur/{producer_id}/commandes",
        web::get().to(page),
    );
    recap::configure(cfg);
    lines::configure(cfg);
    weighing::configure(cfg);
}
