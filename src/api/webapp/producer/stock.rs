//! The stock page (under Produits), the one producers edit every week:
//! for each active offer, whether its stock is limited, the real stock,
//! what is ordered (not yet delivered) and what is left to sell. Every row
//! is checked before any is saved; saved rows are live at once in every
//! shop selling the offer (`Engine::stock_changed`, as the JSON API does).

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::webapp::kit::form::{decimal_input, french};
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, FormState, InProducer, PageError, Posted, ProducerTab};
use crate::domain::decimal::parse_decimal;
use crate::domain::offer::real_stock;
use crate::domain::quantity::StockLevel;
use crate::domain::stock::StockFigures;
use crate::store::offers::StockRow;
use crate::store::DbError;

struct StockLine {
    offer_id: Uuid,
    name: String,
    tracked: bool,
    /// The real stock as shown in its field.
    real: String,
    ordered: String,
    available: String,
    low: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "producteur/stocks.html")]
struct StockPage<'a> {
    chrome: Chrome,
    base: String,
    products: String,
    lines: Vec<StockLine>,
    form: &'a FormState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StockForm {
    /// Every row's offer, in order; `real` in the same order.
    row: Vec<String>,
    real: Vec<String>,
    /// The offers whose stock is limited.
    tracked: Vec<String>,
}

fn base(space: &InProducer) -> String {
    format!("{}/stocks", ProducerTab::Products.href(space.producer.id))
}

fn line(row: &StockRow, typed: Option<(&bool, &String)>, error: Option<String>) -> StockLine {
    let figures = StockFigures::stored(row.tracked, row.real, row.ordered);
    let available = figures.available();
    StockLine {
        offer_id: row.offer_id,
        name: format!(
            "{} — {} ({} {})",
            row.product_name,
            row.label,
            fr::quantity(row.quantity),
            row.unit
        ),
        tracked: typed.map_or(row.tracked, |(t, _)| *t),
        real: typed.map_or_else(|| fr::quantity(row.real), |(_, r)| r.clone()),
        ordered: fr::quantity(row.ordered),
        available: available.map_or_else(|| "illimité".to_owned(), fr::quantity),
        low: available.is_some_and(|a| a <= Decimal::ZERO),
        error,
    }
}

async fn render(
    state: &AppState,
    space: &InProducer,
    typed: &HashMap<Uuid, (bool, String)>,
    errors: &HashMap<Uuid, String>,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let lines = state
        .store
        .stocks(space.producer.id, None)
        .await?
        .iter()
        .map(|row| {
            let typed = typed.get(&row.offer_id).map(|(t, r)| (t, r));
            line(row, typed, errors.get(&row.offer_id).cloned())
        })
        .collect();
    space.visitor.page_with(
        status,
        &StockPage {
            chrome: space.chrome("Stocks", ProducerTab::Products),
            base: base(space),
            products: ProducerTab::Products.href(space.producer.id),
            lines,
            form,
        },
    )
}

async fn page(state: web::Data<AppState>, space: InProducer) -> Result<HttpResponse, PageError> {
    let none = HashMap::new();
    render(
        &state,
        &space,
        &HashMap::new(),
        &none,
        &FormState::new(),
        StatusCode::OK,
    )
    .await
}

async fn save(
    state: web::Data<AppState>,
    space: InProducer,
    Posted(input): Posted<StockForm>,
) -> Result<HttpResponse, PageError> {
    let current: HashMap<Uuid, StockRow> = state
        .store
        .stocks(space.producer.id, None)
        .await?
        .into_iter()
        .map(|r| (r.offer_id, r))
        .collect();
    let tracked: HashSet<Uuid> = input
        .tracked
        .iter()
        .filter_map(|t| t.parse().ok())
        .collect();
    let mut typed = HashMap::new();
    let mut errors = HashMap::new();
    let mut changes = Vec::new();
    for (row, real) in input.row.iter().zip(input.real.iter()) {
        // Rows of offers that are not this producer's active ones are ignored.
        let Some(offer) = row.parse::<Uuid>().ok().and_then(|id| current.get(&id)) else {
            continue;
        };
        let on = tracked.contains(&offer.offer_id);
        typed.insert(offer.offer_id, (on, real.trim().to_owned()));
        let level = match real.trim() {
            "" if !on => None,
            "" => Some(Err(french("is required"))),
            text => Some(
                parse_decimal(&decimal_input(text), "real")
                    .and_then(|v| real_stock(v, offer.fractional, "real"))
                    .map_err(|e| {
                        if e.reason.starts_with("must be a whole number") {
                            "Ce produit se vend à l'unité : indiquez un nombre entier.".to_owned()
                        } else {
                            french(&e.reason)
                        }
                    }),
            ),
        };
        match level {
            Some(Err(reason)) => {
                errors.insert(offer.offer_id, reason);
            }
            Some(Ok(level)) if on != offer.tracked || level.value() != offer.real => {
                changes.push((offer.offer_id, on, Some(level)));
            }
            None if on != offer.tracked => changes.push((offer.offer_id, on, None)),
            _ => {}
        }
    }
    if !errors.is_empty() {
        let mut form = FormState::new();
        form.refuse(
            "form",
            "Un stock est à corriger ; aucun n'a été enregistré.",
        );
        return render(
            &state,
            &space,
            &typed,
            &errors,
            &form,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let count = changes.len();
    for (offer_id, on, level) in changes {
        let stock = state
            .store
            .set_offer_stock(offer_id, on, level, Some(space.caller.account_id))
            .await?;
        // Committed: the offer's live actor (if any) takes the new figures now.
        let level = StockLevel::parse(stock.real, "real").map_err(DbError::corrupt)?;
        state
            .engine
            .stock_changed(stock.offer_id, stock.tracked, level);
    }
    let message = match count {
        0 => "Aucun changement.".to_owned(),
        1 => "Stock enregistré : les boutiques suivent déjà.".to_owned(),
        n => format!("{n} stocks enregistrés : les boutiques suivent déjà."),
    };
    Ok(space.visitor.redirect_with(&base(&space), &message))
}

/// Registers the stock page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/espace-producteur/{producer_id}/produits/stocks";
    cfg.route(at, web::get().to(page))
        .route(at, web::post().to(save));
}
