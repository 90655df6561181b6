//! Planifier (guide ch. 6, "indiquez vos participations aux ventes"): the
//! upcoming distributions of the markets the producer's catalogs are
//! linked to, filtered by market or catalog; tick any number and "+
//! Participer" joins them all at once (or none, each refusal named), with
//! an optional custom order window ("Personnaliser dates d'ouverture/
//! fermeture"); "Ne plus participer" withdraws, refused once orders exist
//! (set their quantities to 0 first, from Commandes).

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::participations::{check_items, Refusal};
use crate::api::state::AppState;
use crate::api::webapp::home::Choice;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{
    Chrome, FormState, InProducer, NoFields, PageError, Posted, ProducerTab,
};
use crate::domain::schedule::local_instant;
use crate::store::participations::{NewParticipation, PlanningFilter, WithdrawOutcome};
use crate::store::DbError;

/// Planning rows listed at most.
const ROWS: i64 = 300;

struct Row {
    /// `distribution:catalog`, the checkbox's value.
    key: String,
    market: String,
    catalog: String,
    when: String,
    window: String,
    participation: Option<Uuid>,
    custom: bool,
    linked: bool,
    checked: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "producteur/planifier.html")]
struct PlanningPage<'a> {
    chrome: Chrome,
    action: String,
    markets: Vec<Choice>,
    catalogs: Vec<Choice>,
    rows: Vec<Row>,
    form: &'a FormState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Filter {
    marche: String,
    catalogue: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Join {
    p: Vec<String>,
    ouverture_date: String,
    ouverture_heure: String,
    cloture_date: String,
    cloture_heure: String,
}

fn base(space: &InProducer) -> String {
    format!(
        "{}/planifier",
        ProducerTab::Dashboard.href(space.producer.id)
    )
}

async fn render(
    state: &AppState,
    space: &InProducer,
    filter: &Filter,
    form: &FormState,
    refused: &[(String, String)],
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let links = state.store.producer_market_links(space.producer.id).await?;
    let market = Uuid::parse_str(filter.marche.trim()).ok();
    let catalog = Uuid::parse_str(filter.catalogue.trim()).ok();
    let mut markets = vec![Choice {
        value: String::new(),
        label: "Tous les marchés".into(),
        selected: market.is_none(),
    }];
    let mut catalogs = vec![Choice {
        value: String::new(),
        label: "Tous les catalogues".into(),
        selected: catalog.is_none(),
    }];
    let mut seen = HashSet::new();
    for l in &links {
        if seen.insert(l.market_id) {
            markets.push(Choice {
                value: l.market_id.to_string(),
                label: l.market_name.clone(),
                selected: market == Some(l.market_id),
            });
        }
        if seen.insert(l.catalog_id) {
            catalogs.push(Choice {
                value: l.catalog_id.to_string(),
                label: l.catalog_name.clone(),
                selected: catalog == Some(l.catalog_id),
            });
        }
    }
    let chosen: Vec<&str> = form.value("p").split(' ').collect();
    let rows = state
        .store
        .producer_planning(
            space.producer.id,
            now,
            &PlanningFilter {
                market_id: market,
                catalog_id: catalog,
                to: None,
            },
            ROWS,
        )
        .await?
        .into_iter()
        .map(|r| {
            let tz = chrono_tz::Europe::Paris;
            let key = format!("{}:{}", r.distribution.id, r.catalog_id);
            Row {
                checked: chosen.contains(&key.as_str()),
                error: refused
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, e)| e.clone()),
                market: r.market_name,
                catalog: r.catalog_name,
                when: fr::span(r.distribution.starts_at, r.distribution.ends_at, tz, now),
                window: format!(
                    "du {} au {}",
                    fr::moment(r.orders_open_at, tz, now),
                    fr::moment(r.orders_close_at, tz, now)
                ),
                participation: r.participation_id,
                custom: r.custom_window,
                linked: r.linked,
                key,
            }
        })
        .collect();
    space.visitor.page_with(
        status,
        &PlanningPage {
            chrome: space.chrome("Planifier mes ventes", ProducerTab::Dashboard),
            action: base(space),
            markets,
            catalogs,
            rows,
            form,
        },
    )
}

async fn page(
    state: web::Data<AppState>,
    space: InProducer,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let filter: Filter = serde_html_form::from_str(req.query_string()).unwrap_or_default();
    render(
        &state,
        &space,
        &filter,
        &FormState::new(),
        &[],
        StatusCode::OK,
    )
    .await
}

fn refusal_text(refusal: &Refusal) -> String {
    match refusal {
        Refusal::AlreadyParticipates => "Vous participez déjà à cette distribution.".into(),
        Refusal::NotUpcoming(_) => "Cette distribution n'est plus à venir.".into(),
        Refusal::Invalid(e) if e.field == "catalog_id" => {
            "Ce catalogue n'est plus relié à ce marché.".into()
        }
        Refusal::Invalid(e) if e.field.starts_with("orders_") => {
            "Les dates personnalisées ne conviennent pas à cette distribution (l'ouverture doit précéder la clôture, qui doit venir avant la fin de la distribution et ne pas être passée).".into()
        }
        Refusal::Invalid(_) => "Cette participation n'est pas possible.".into(),
    }
}

async fn join(
    state: web::Data<AppState>,
    space: InProducer,
    Posted(input): Posted<Join>,
) -> Result<HttpResponse, PageError> {
    let tz = chrono_tz::Europe::Paris;
    let mut form = FormState::new()
        .with("p", input.p.join(" "))
        .with("ouverture_date", input.ouverture_date.trim())
        .with("ouverture_heure", input.ouverture_heure.trim())
        .with("cloture_date", input.cloture_date.trim())
        .with("cloture_heure", input.cloture_heure.trim());
    let mut custom = |date: &str, time: &str, field: &str| {
        if date.trim().is_empty() && time.trim().is_empty() {
            return None;
        }
        let at = local_instant(date, time, tz);
        if at.is_none() {
            form.refuse(field, "Indiquez une date et une heure, ou laissez vide.");
        }
        at
    };
    let opens = custom(
        &input.ouverture_date,
        &input.ouverture_heure,
        "ouverture_date",
    );
    let closes = custom(&input.cloture_date, &input.cloture_heure, "cloture_date");
    let mut items = Vec::new();
    for raw in &input.p {
        let parsed = raw
            .split_once(':')
            .and_then(|(d, c)| Some((Uuid::parse_str(d).ok()?, Uuid::parse_str(c).ok()?)));
        let Some((distribution_id, catalog_id)) = parsed else {
            return Err(PageError::NotFound);
        };
        items.push(NewParticipation {
            distribution_id,
            catalog_id,
            opens_override: opens,
            closes_override: closes,
        });
    }
    if items.is_empty() {
        form.refuse("p", "Cochez au moins une distribution.");
    }
    let own: HashSet<Uuid> = state
        .store
        .producer_catalogs(space.producer.id)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    if items.iter().any(|i| !own.contains(&i.catalog_id)) {
        return Err(PageError::NotFound);
    }
    let now = state.clock.now();
    let mut refused = Vec::new();
    if form.is_valid() {
        for (i, refusal) in check_items(&state, &items, now).await? {
            let item = &items[i];
            refused.push((
                format!("{}:{}", item.distribution_id, item.catalog_id),
                refusal_text(&refusal),
            ));
        }
        if !refused.is_empty() {
            form.refuse(
                "p",
                "Aucune participation n'a été enregistrée : voyez les lignes signalées.",
            );
        }
    }
    if form.is_valid() {
        match state.store.create_participations(&items).await {
            Ok(created) => {
                let mut touched: Vec<Uuid> = created.iter().map(|p| p.distribution_id).collect();
                touched.sort();
                touched.dedup();
                for d in touched {
                    state.engine.reload_distribution(d);
                    state.engine.hub().resync(d);
                }
                return Ok(space.visitor.redirect_with(
                    &base(&space),
                    &format!(
                        "Participation{} enregistrée{} : {}.",
                        if created.len() > 1 { "s" } else { "" },
                        if created.len() > 1 { "s" } else { "" },
                        created.len()
                    ),
                ));
            }
            Err(DbError::Conflict(_)) => form.refuse(
                "p",
                "Une de ces participations vient d'être créée ou le catalogue n'est plus relié : rien n'a été enregistré.",
            ),
            Err(e) => return Err(e.into()),
        }
    }
    render(
        &state,
        &space,
        &Filter::default(),
        &form,
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn withdraw(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (_, participation_id) = path.into_inner();
    let participation = state
        .store
        .participation(participation_id)
        .await?
        .ok_or(PageError::NotFound)?;
    if participation.producer_id != space.producer.id {
        return Err(PageError::NotFound);
    }
    let message = match state.store.withdraw_participation(participation_id).await? {
        None => return Err(PageError::NotFound),
        Some(WithdrawOutcome::Withdrawn) => {
            state.engine.reload_distribution(participation.distribution_id);
            state.engine.hub().resync(participation.distribution_id);
            "Vous ne participez plus à cette distribution.".to_owned()
        }
        Some(WithdrawOutcome::HasOrders(n)) => format!(
            "Vous avez déjà {n} commande{} pour cette distribution : prévenez les clients, mettez leurs quantités à 0 (Commandes → Récap. par membres), puis revenez ici.",
            if n > 1 { "s" } else { "" }
        ),
    };
    Ok(space.visitor.redirect_with(&base(&space), &message))
}

/// Registers the planning page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/espace-producteur/{producer_id}/planifier";
    cfg.route(at, web::get().to(page))
        .route(at, web::post().to(join))
        .route(
            "/espace-producteur/{producer_id}/planifier/{participation_id}/retirer",
            web::post().to(withdraw),
        );
}
