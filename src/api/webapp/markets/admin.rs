//! A market admin's pages: `/mes-marches` (the markets administered, and
//! creating one — guide ch. 4 "Créez vos propres marchés", with its
//! payment mode), and `/mes-marches/{market_id}`, the market's
//! distributions with their figures and the form that plans one or a
//! weekly series (local dates and times in the market's zone).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::{chrome, MarketTab};
use crate::api::state::AppState;
use crate::api::webapp::home::Choice;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, FormState, InMarket, PageError, Posted, Section, SignedIn};
use crate::domain::market::{Weekday, DEFAULT_TIMEZONE};
use crate::domain::places;
use crate::domain::planning::weekly_count;
use crate::domain::schedule::{local_instant, weekly_series};
use crate::domain::text::{Name, ShortText};
use crate::domain::window::DistributionTimes;
use crate::store::market_admin::DistributionSummary;
use crate::store::markets::{MarketFields, MarketRecord};

/// Past distributions shown (days back).
const PAST_DAYS: i64 = 60;
/// Distributions listed at most.
const LISTED: i64 = 100;

#[derive(Template)]
#[template(path = "marche/mes_marches.html")]
struct MarketsPage<'a> {
    chrome: Chrome,
    markets: Vec<MarketRecord>,
    days: Vec<Choice>,
    form: &'a FormState,
}

/// A distribution in the admin's list.
struct DistributionRow {
    id: Uuid,
    when: String,
    window: String,
    status: String,
    catalogs: i64,
    orders: i64,
    total: String,
}

#[derive(Template)]
#[template(path = "marche/distributions.html")]
struct DistributionsPage<'a> {
    chrome: Chrome,
    market: MarketRecord,
    base: String,
    rows: Vec<DistributionRow>,
    form: &'a FormState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewMarket {
    name: String,
    address: String,
    lieu: String,
    jour: String,
    paiement: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewDistribution {
    date: String,
    debut: String,
    fin: String,
    ouverture_date: String,
    ouverture_heure: String,
    cloture_date: String,
    cloture_heure: String,
    lieu: String,
    semaines: String,
}

fn day_choices(selected: &str) -> Vec<Choice> {
    let mut days = vec![Choice {
        value: String::new(),
        label: "Pas de jour habituel".into(),
        selected: selected.is_empty(),
    }];
    days.extend((1..=7i16).map(|iso| Choice {
        value: iso.to_string(),
        label: fr::weekday(iso).to_owned(),
        selected: selected == iso.to_string(),
    }));
    days
}

async fn markets_page(
    state: &AppState,
    signed: &SignedIn,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let markets = state.store.markets_by_ids(&signed.caller.markets).await?;
    let visitor = &signed.visitor;
    visitor.page_with(
        status,
        &MarketsPage {
            chrome: visitor.chrome("Mes marchés", Section::Markets),
            markets,
            days: day_choices(form.value("jour")),
            form,
        },
    )
}

async fn my_markets(
    state: web::Data<AppState>,
    signed: SignedIn,
) -> Result<HttpResponse, PageError> {
    let form = FormState::new().with("paiement", "en_ligne");
    markets_page(&state, &signed, &form, StatusCode::OK).await
}

async fn create_market(
    state: web::Data<AppState>,
    signed: SignedIn,
    Posted(input): Posted<NewMarket>,
) -> Result<HttpResponse, PageError> {
    let mut form = FormState::new()
        .with("name", input.name.trim())
        .with("address", input.address.trim())
        .with("lieu", input.lieu.trim())
        .with("jour", input.jour.trim())
        .with("paiement", input.paiement.trim());
    let name = form.check(Name::parse(&input.name, "name"));
    let address = form.check(ShortText::parse(&input.address, "address", 300));
    let place = places::search(&input.lieu, 1).into_iter().next();
    if place.is_none() {
        form.refuse(
            "lieu",
            "Commune introuvable : indiquez son nom ou son code postal, comme « 69100 ».",
        );
    }
    let weekday = match input.jour.trim() {
        "" => Some(None),
        raw => match Weekday::parse_str(raw, "jour") {
            Ok(day) => Some(Some(day)),
            Err(_) => {
                form.refuse("jour", "Choisissez un jour de la semaine.");
                None
            }
        },
    };
    let online_payment = match input.paiement.trim() {
        "en_ligne" => Some(true),
        "direct" => Some(false),
        _ => {
            form.refuse("paiement", "Choisissez le mode de paiement.");
            None
        }
    };
    let (Some(name), Some(address), Some(place), Some(weekday), Some(online_payment)) =
        (name, address, place, weekday, online_payment)
    else {
        return markets_page(&state, &signed, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let fields = MarketFields {
        name: name.as_str().to_owned(),
        address: format!("{}, {}", address.as_str(), place.label()),
        lat: place.at.lat(),
        lng: place.at.lng(),
        usual_weekday: weekday.map(Weekday::iso),
        online_payment,
        timezone: DEFAULT_TIMEZONE.to_owned(),
        fee_rate: Decimal::ZERO,
    };
    let market = state
        .store
        .create_market(signed.caller.account_id, &fields)
        .await?;
    Ok(signed.visitor.redirect_with(
        &format!("/mes-marches/{}", market.id),
        "Votre marché est créé : planifiez ses distributions, puis reliez les catalogues des producteurs.",
    ))
}

fn status_of(d: &DistributionSummary, now: DateTime<Utc>) -> String {
    if d.cancelled_at.is_some() {
        "Annulée".into()
    } else if d.validated_at.is_some() {
        "Validée".into()
    } else if now >= d.ends_at {
        "Terminée — à valider".into()
    } else if now >= d.orders_close_at {
        "Commandes closes".into()
    } else if now >= d.orders_open_at {
        "Commandes ouvertes".into()
    } else {
        "À venir".into()
    }
}

async fn distributions_page(
    state: &AppState,
    space: &InMarket,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let tz = fr::zone(&space.market.timezone);
    let rows = state
        .store
        .market_distribution_summaries(space.market.id, now - Duration::days(PAST_DAYS), LISTED)
        .await?
        .into_iter()
        .map(|d| DistributionRow {
            id: d.id,
            when: fr::span(d.starts_at, d.ends_at, tz, now),
            window: format!(
                "du {} au {}",
                fr::moment(d.orders_open_at, tz, now),
                fr::moment(d.orders_close_at, tz, now)
            ),
            status: status_of(&d, now),
            catalogs: d.catalogs,
            orders: d.orders,
            total: fr::money(d.total),
        })
        .collect();
    space.visitor.page_with(
        status,
        &DistributionsPage {
            chrome: chrome(space, "Distributions", MarketTab::Distributions),
            market: space.market.clone(),
            base: MarketTab::Distributions.href(space.market.id),
            rows,
            form,
        },
    )
}

async fn distributions(
    state: web::Data<AppState>,
    space: InMarket,
) -> Result<HttpResponse, PageError> {
    let form = FormState::new()
        .with("debut", "17:00")
        .with("fin", "19:00")
        .with("ouverture_heure", "08:00")
        .with("cloture_heure", "20:00")
        .with("semaines", "1");
    distributions_page(&state, &space, &form, StatusCode::OK).await
}

async fn plan(
    state: web::Data<AppState>,
    space: InMarket,
    Posted(input): Posted<NewDistribution>,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let tz = fr::zone(&space.market.timezone);
    let mut form = FormState::new();
    for (field, value) in [
        ("date", &input.date),
        ("debut", &input.debut),
        ("fin", &input.fin),
        ("ouverture_date", &input.ouverture_date),
        ("ouverture_heure", &input.ouverture_heure),
        ("cloture_date", &input.cloture_date),
        ("cloture_heure", &input.cloture_heure),
        ("lieu", &input.lieu),
        ("semaines", &input.semaines),
    ] {
        form.set(field, value.trim());
    }
    let mut instant = |date: &str, time: &str, field: &str| {
        let at = local_instant(date, time, tz);
        if at.is_none() {
            form.refuse(
                field,
                "Indiquez une date et une heure (jour/mois/année, heures:minutes).",
            );
        }
        at
    };
    let starts = instant(&input.date, &input.debut, "date");
    let ends = instant(&input.date, &input.fin, "fin");
    let opens = instant(
        &input.ouverture_date,
        &input.ouverture_heure,
        "ouverture_date",
    );
    let closes = instant(&input.cloture_date, &input.cloture_heure, "cloture_date");
    let place = match input.lieu.trim() {
        "" => Some(None),
        text => form
            .check(ShortText::parse(text, "lieu", 500))
            .map(|t| Some(t.into_string())),
    };
    let weeks = match input.semaines.trim().parse::<i64>() {
        Ok(n) => weekly_count(n).ok().or_else(|| {
            form.refuse("semaines", "Indiquez un nombre de semaines entre 1 et 52.");
            None
        }),
        Err(_) => {
            form.refuse("semaines", "Indiquez un nombre de semaines entre 1 et 52.");
            None
        }
    };
    let mut times = None;
    if let (Some(starts), Some(ends), Some(opens), Some(closes)) = (starts, ends, opens, closes) {
        if ends <= starts {
            form.refuse("fin", "La fin doit venir après le début.");
        } else if ends <= now {
            form.refuse("date", "Cette date est passée.");
        } else if closes <= opens {
            form.refuse(
                "cloture_date",
                "La clôture des commandes doit venir après leur ouverture.",
            );
        } else if closes > ends {
            form.refuse(
                "cloture_date",
                "Les commandes doivent fermer au plus tard à la fin de la distribution.",
            );
        } else {
            match DistributionTimes::parse(starts, ends, opens, closes) {
                Ok(t) => times = Some(t),
                Err(e) => form.refuse("date", crate::api::webapp::kit::form::french(&e.reason)),
            }
        }
    }
    let (Some(times), Some(place), Some(weeks), true) = (times, place, weeks, form.is_valid())
    else {
        return distributions_page(&state, &space, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let occurrences = match weekly_series(&times, weeks, tz) {
        Ok(o) => o,
        Err(_) => {
            form.refuse(
                "semaines",
                "Un changement d'heure rend une des dates impossible : planifiez-la à part.",
            );
            return distributions_page(&state, &space, &form, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let series = (weeks > 1).then(Uuid::new_v4);
    let created = state
        .store
        .create_distributions(space.market.id, place.as_deref(), &occurrences, series)
        .await?;
    let message = if created.len() > 1 {
        format!(
            "{} distributions planifiées, une par semaine.",
            created.len()
        )
    } else {
        "Distribution planifiée.".to_owned()
    };
    Ok(space
        .visitor
        .redirect_with(&MarketTab::Distributions.href(space.market.id), &message))
}

/// Registers the admin's market list and distributions.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mes-marches", web::get().to(my_markets))
        .route("/mes-marches", web::post().to(create_market))
        .route("/mes-marches/{market_id}", web::get().to(distributions))
        .route("/mes-marches/{market_id}", web::post().to(plan));
}
