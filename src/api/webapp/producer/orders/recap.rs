//! The recap of a selection of distributions (one or several markets of a
//! day): by product (what to prepare) or by member (order numbers, with
//! each line's change, weighing and removal forms), as CSV, and printable
//! — the order form by product or the sign-off sheet ("liste
//! d'émargement") with a column to sign.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{back_to, base, recap_path, Selection};
use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::page::html;
use crate::api::webapp::kit::{Chrome, FormState, InProducer, PageError, ProducerTab};
use crate::domain::recap::render::{orders_csv, products_csv};
use crate::domain::recap::Recap;
use crate::store::producer_orders::ProducerSale;
use crate::store::recaps::RecapScope;

/// A product row, said in French.
pub struct ProductLine {
    pub product: String,
    pub offer: String,
    pub quantity: String,
    pub weight: Option<String>,
    pub to_weigh: usize,
    pub total: String,
}

/// What a producer may do to a line now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineAction {
    /// The sale is open: only removing it (the customer is told).
    Remove,
    /// Every sale has closed: quantity, and weight when priced by weight.
    Change,
    /// Validated: nothing.
    None,
}

/// A line of an order, with its form.
pub struct OrderLineView {
    pub id: Uuid,
    pub product: String,
    pub quantity: String,
    pub weight: Option<String>,
    /// The weight as the field shows it (`1,85`), "" when not weighed.
    pub weight_value: String,
    pub variable: bool,
    pub to_weigh: bool,
    pub total: String,
    pub action: LineAction,
}

/// An order, said in French.
pub struct OrderView {
    pub number: i32,
    pub customer: String,
    pub market: String,
    pub lines: Vec<OrderLineView>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "producteur/recap.html")]
struct RecapPage<'a> {
    chrome: Chrome,
    base: String,
    headings: Vec<String>,
    by_member: bool,
    /// This page's path (where line forms come back).
    here: String,
    other_view: String,
    print: String,
    csv: String,
    weighing: Vec<(String, String)>,
    products: Vec<ProductLine>,
    orders: Vec<OrderView>,
    total: String,
    vat: Vec<(String, String, String)>,
    form: &'a FormState,
}

#[derive(Template)]
#[template(path = "producteur/imprimer.html")]
struct PrintPage {
    title: String,
    headings: Vec<String>,
    by_member: bool,
    products: Vec<ProductLine>,
    orders: Vec<OrderView>,
    total: String,
    count: usize,
}

/// A selection read and checked: the producer's distributions, the recap.
pub struct Loaded {
    pub ids: Vec<Uuid>,
    pub by_member: bool,
    pub sales: Vec<ProducerSale>,
    pub recap: Recap,
}

/// Reads the selection of `query` (every distribution must be one the
/// producer takes part in, else 404).
pub async fn load(
    state: &AppState,
    space: &InProducer,
    query: &str,
) -> Result<Option<Loaded>, PageError> {
    let (ids, by_member) = Selection::parse(query).ok_or(PageError::NotFound)?;
    if ids.is_empty() {
        return Ok(None);
    }
    let sales = state
        .store
        .producer_sales_by_ids(space.producer.id, &ids)
        .await?;
    if sales.len() != ids.len() {
        return Err(PageError::NotFound);
    }
    let scope = RecapScope {
        distribution_ids: ids.clone(),
        producer_id: Some(space.producer.id),
        catalog_ids: None,
    };
    let recap = Recap::build(&state.store.recap_lines(&scope).await?);
    Ok(Some(Loaded {
        ids,
        by_member,
        sales,
        recap,
    }))
}

fn headings(sales: &[ProducerSale], now: DateTime<Utc>) -> Vec<String> {
    sales
        .iter()
        .map(|s| {
            format!(
                "{} — {}",
                s.market_name,
                fr::span(s.starts_at, s.ends_at, fr::zone(&s.timezone), now)
            )
        })
        .collect()
}

fn products(recap: &Recap) -> Vec<ProductLine> {
    recap
        .products
        .iter()
        .map(|p| ProductLine {
            product: p.product_name.clone(),
            offer: format!(
                "{} ({} {})",
                p.label,
                fr::quantity(p.offer_quantity),
                p.unit
            ),
            quantity: fr::quantity(p.quantity),
            weight: p.weight.map(|w| format!("{} {}", fr::quantity(w), p.unit)),
            to_weigh: p.lines_to_weigh,
            total: fr::money(p.total_incl.amount()),
        })
        .collect()
}

fn orders(loaded: &Loaded, now: DateTime<Utc>) -> Vec<OrderView> {
    let sales: HashMap<Uuid, &ProducerSale> = loaded
        .sales
        .iter()
        .map(|s| (s.distribution_id, s))
        .collect();
    loaded
        .recap
        .orders
        .iter()
        .map(|o| {
            let sale = sales.get(&o.distribution_id);
            let action = match sale {
                Some(s) if s.validated_at.is_some() => LineAction::None,
                Some(s) if now < s.all_closed_at => LineAction::Remove,
                Some(_) => LineAction::Change,
                None => LineAction::None,
            };
            OrderView {
                number: o.number,
                customer: o.customer_name.clone(),
                market: sale.map(|s| s.market_name.clone()).unwrap_or_default(),
                lines: o
                    .lines
                    .iter()
                    .map(|l| OrderLineView {
                        id: l.line_id,
                        product: format!("{} — {}", l.product_name, l.label),
                        quantity: fr::quantity(l.quantity),
                        weight: l.weight.map(|w| format!("{} {}", fr::quantity(w), l.unit)),
                        weight_value: l.weight.map(fr::quantity).unwrap_or_default(),
                        variable: l.to_weigh || l.weight.is_some(),
                        to_weigh: l.to_weigh,
                        total: fr::money(l.total.amount()),
                        action,
                    })
                    .collect(),
                total: fr::money(o.total.amount()),
            }
        })
        .collect()
}

/// Renders the recap page (also with a line form's errors, 422).
pub async fn render(
    state: &AppState,
    space: &InProducer,
    loaded: &Loaded,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let query = Selection::query(&loaded.ids, loaded.by_member);
    let weighing = loaded
        .sales
        .iter()
        .map(|s| {
            (
                s.market_name.clone(),
                format!("{}/pesee?d={}", base(space), s.distribution_id),
            )
        })
        .collect();
    let recap = &loaded.recap;
    space.visitor.page_with(
        status,
        &RecapPage {
            chrome: space.chrome("Récapitulatif des commandes", ProducerTab::Orders),
            base: base(space),
            headings: headings(&loaded.sales, now),
            by_member: loaded.by_member,
            here: recap_path(space, &loaded.ids, loaded.by_member),
            other_view: recap_path(space, &loaded.ids, !loaded.by_member),
            print: format!("{}/imprimer?{query}", base(space)),
            csv: format!("{}/recap.csv?{query}", base(space)),
            weighing,
            products: products(recap),
            orders: orders(loaded, now),
            total: fr::money(recap.totals.incl.amount()),
            vat: recap
                .vat
                .iter()
                .map(|v| {
                    (
                        fr::percent(v.rate.percent()),
                        fr::money(v.excl.amount()),
                        fr::money(v.vat.amount()),
                    )
                })
                .collect(),
            form,
        },
    )
}

async fn page(
    state: web::Data<AppState>,
    space: InProducer,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    match load(&state, &space, req.query_string()).await? {
        Some(loaded) => render(&state, &space, &loaded, &FormState::new(), StatusCode::OK).await,
        None => Ok(space
            .visitor
            .redirect_with(&back_to(&space, ""), "Cochez au moins une distribution.")),
    }
}

async fn print(
    state: web::Data<AppState>,
    space: InProducer,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let Some(loaded) = load(&state, &space, req.query_string()).await? else {
        return Err(PageError::NotFound);
    };
    let now = state.clock.now();
    let page = PrintPage {
        title: format!(
            "{} — {}",
            space.producer.name,
            if loaded.by_member {
                "liste d'émargement"
            } else {
                "bon de commande"
            }
        ),
        headings: headings(&loaded.sales, now),
        by_member: loaded.by_member,
        products: products(&loaded.recap),
        orders: orders(&loaded, now),
        total: fr::money(loaded.recap.totals.incl.amount()),
        count: loaded.recap.orders.len(),
    };
    Ok(html(StatusCode::OK, page.render()?))
}

async fn csv(
    state: web::Data<AppState>,
    space: InProducer,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let Some(loaded) = load(&state, &space, req.query_string()).await? else {
        return Err(PageError::NotFound);
    };
    let (name, body) = if loaded.by_member {
        ("membres", orders_csv(&loaded.recap))
    } else {
        ("produits", products_csv(&loaded.recap))
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"recap-{name}.csv\""),
        ))
        .body(body))
}

/// Registers the recap pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/espace-producteur/{producer_id}/commandes";
    cfg.route(&format!("{at}/recap"), web::get().to(page))
        .route(&format!("{at}/recap.csv"), web::get().to(csv))
        .route(&format!("{at}/imprimer"), web::get().to(print));
}
