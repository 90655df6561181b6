//! "Pesée de produits en masse" (guide ch. 7): every line priced by
//! weight of one distribution on one page, product by product, one field
//! each; saved all at once or not at all (a wrong weight is shown next to
//! its line, nothing is saved). The price of a weighed line becomes the
//! offer's price × weight ÷ the offer's quantity.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{base, recap_path};
use crate::api::state::AppState;
use crate::api::webapp::kit::form::{decimal_input, french};
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, FormState, InProducer, PageError, Posted, ProducerTab};
use crate::api::webapp::producer::orders::lines::refusal_text;
use crate::domain::decimal::parse_decimal;
use crate::engine::after_sale::AfterSaleError;
use crate::store::producer_orders::ProducerSale;

struct WeighLine {
    id: Uuid,
    product: String,
    order: String,
    ordered: String,
    unit: String,
    price: String,
    total: String,
}

#[derive(Template)]
#[template(path = "producteur/pesee.html")]
struct WeighingPage<'a> {
    chrome: Chrome,
    base: String,
    heading: String,
    action: String,
    recap: String,
    lines: Vec<WeighLine>,
    form: &'a FormState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Which {
    d: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Weights {
    ligne: Vec<String>,
    poids: Vec<String>,
}

async fn sale_of(
    state: &AppState,
    space: &InProducer,
    raw: &str,
) -> Result<ProducerSale, PageError> {
    let id = Uuid::parse_str(raw.trim()).map_err(|_| PageError::NotFound)?;
    state
        .store
        .producer_sales_by_ids(space.producer.id, &[id])
        .await?
        .pop()
        .ok_or(PageError::NotFound)
}

async fn render(
    state: &AppState,
    space: &InProducer,
    sale: &ProducerSale,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let lines = state
        .store
        .weighing_lines(sale.distribution_id, space.producer.id, true)
        .await?
        .into_iter()
        .map(|l| WeighLine {
            id: l.line_id,
            product: format!("{} — {}", l.product_name, l.label),
            order: format!("n° {} — {}", l.order_number, l.customer_name),
            ordered: fr::quantity(l.quantity),
            unit: l.unit.clone(),
            price: format!(
                "{} les {} {}",
                fr::money(l.unit_price.amount()),
                fr::quantity(l.offer_quantity),
                l.unit
            ),
            total: fr::money(l.total().amount()),
        })
        .collect();
    space.visitor.page_with(
        status,
        &WeighingPage {
            chrome: space.chrome("Pesée de produits en masse", ProducerTab::Orders),
            base: base(space),
            heading: format!(
                "{} — {}",
                sale.market_name,
                fr::span(sale.starts_at, sale.ends_at, fr::zone(&sale.timezone), now)
            ),
            action: format!("{}/pesee?d={}", base(space), sale.distribution_id),
            recap: recap_path(space, &[sale.distribution_id], true),
            lines,
            form,
        },
    )
}

async fn page(
    state: web::Data<AppState>,
    space: InProducer,
    query: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    let sale = sale_of(&state, &space, &query.d).await?;
    let mut form = FormState::new();
    for l in state
        .store
        .weighing_lines(sale.distribution_id, space.producer.id, true)
        .await?
    {
        if let Some(w) = l.weight {
            form.set(&format!("poids-{}", l.line_id), fr::quantity(w));
        }
    }
    render(&state, &space, &sale, &form, StatusCode::OK).await
}

async fn save(
    state: web::Data<AppState>,
    space: InProducer,
    req: HttpRequest,
    Posted(input): Posted<Weights>,
) -> Result<HttpResponse, PageError> {
    let which: Which = serde_html_form::from_str(req.query_string()).unwrap_or_default();
    let sale = sale_of(&state, &space, &which.d).await?;
    let mut form = FormState::new();
    let mut entries = Vec::new();
    let mut fields = Vec::new();
    for (raw_id, raw_weight) in input.ligne.iter().zip(input.poids.iter()) {
        let Ok(line_id) = Uuid::parse_str(raw_id.trim()) else {
            return Err(PageError::NotFound);
        };
        let field = format!("poids-{line_id}");
        form.set(&field, raw_weight.trim());
        if raw_weight.trim().is_empty() {
            continue; // not weighed yet
        }
        match parse_decimal(&decimal_input(raw_weight), &field) {
            Ok(weight) => {
                entries.push((line_id, weight));
                fields.push(field);
            }
            Err(_) => form.refuse(&field, "Indiquez un poids, comme 1,85."),
        }
    }
    if form.is_valid() && entries.is_empty() {
        form.refuse("form", "Saisissez au moins un poids.");
    }
    if form.is_valid() {
        match state
            .engine
            .weigh_lines(
                sale.distribution_id,
                space.caller.account_id,
                &[space.producer.id],
                &entries,
            )
            .await
        {
            Ok(n) => {
                return Ok(space.visitor.redirect_with(
                    &format!("{}/pesee?d={}", base(&space), sale.distribution_id),
                    &format!(
                        "{n} pesée{} enregistrée{} ; les totaux des commandes sont à jour.",
                        if n > 1 { "s" } else { "" },
                        if n > 1 { "s" } else { "" }
                    ),
                ))
            }
            Err(AfterSaleError::Invalid(errors)) => {
                for e in errors {
                    // `lines[i].…` names the i-th weight sent.
                    let index = e
                        .field
                        .strip_prefix("lines[")
                        .and_then(|rest| rest.split(']').next())
                        .and_then(|i| i.parse::<usize>().ok());
                    match index.and_then(|i| fields.get(i)) {
                        Some(field) => form.refuse(field, french(&e.reason)),
                        None => form.refuse("form", french(&e.reason)),
                    }
                }
            }
            Err(AfterSaleError::Refused(code, _)) => form.refuse("form", refusal_text(code)),
            Err(AfterSaleError::Stock(_)) => form.refuse(
                "form",
                "Les pesées n'ont pas pu être enregistrées : réessayez.",
            ),
            Err(AfterSaleError::Db(e)) => return Err(e.into()),
        }
    }
    render(
        &state,
        &space,
        &sale,
        &form,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// Registers the bulk weighing page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/espace-producteur/{producer_id}/commandes/pesee";
    cfg.route(at, web::get().to(page))
        .route(at, web::post().to(save));
}
