//! Where a signed-in account lands: `/espace-producteur` (its producer
//! space; a chooser when it belongs to several, the creation form when it
//! has none), `/mes-marches` (the markets it administers) and
//! `/mes-commandes` (its orders in every market). The markets it
//! administers (`/mes-marches`) are in `markets::admin`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::fr;
use super::kit::{see_other, Chrome, FormState, PageError, Posted, Section, SignedIn};
use crate::api::state::AppState;
use crate::domain::text::{LongText, Name};
use crate::store::producers::ProducerRecord;

/// Orders listed on `/mes-commandes`.
const ORDERS_SHOWN: i64 = 200;

#[derive(Template)]
#[template(path = "espace_choix.html")]
struct ChooserPage<'a> {
    chrome: Chrome,
    producers: Vec<ProducerRecord>,
    form: &'a FormState,
}

struct OrderLine {
    number: i32,
    cancelled: bool,
    market_name: String,
    when: String,
    shop: String,
    lines: i64,
}

#[derive(Template)]
#[template(path = "mes_commandes.html")]
struct OrdersPage {
    chrome: Chrome,
    orders: Vec<OrderLine>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewProducer {
    name: String,
    description: String,
}

async fn chooser(state: web::Data<AppState>, signed: SignedIn) -> Result<HttpResponse, PageError> {
    let ids: Vec<Uuid> = signed.caller.producers.iter().map(|(id, _)| *id).collect();
    if let [only] = ids.as_slice() {
        return Ok(see_other(&format!("/espace-producteur/{only}")));
    }
    let producers = state.store.producers_by_ids(&ids).await?;
    let visitor = &signed.visitor;
    visitor.page(&ChooserPage {
        chrome: visitor.chrome("Espace producteur", Section::Producer),
        producers,
        form: &FormState::new(),
    })
}

async fn create_producer(
    state: web::Data<AppState>,
    signed: SignedIn,
    Posted(input): Posted<NewProducer>,
) -> Result<HttpResponse, PageError> {
    let mut form = FormState::new()
        .with("name", input.name.trim())
        .with("description", input.description.trim());
    let name = form.check(Name::parse(&input.name, "name"));
    let description = form.check(LongText::parse(&input.description, "description", 2000));
    let (Some(name), Some(description)) = (name, description) else {
        let ids: Vec<Uuid> = signed.caller.producers.iter().map(|(id, _)| *id).collect();
        let producers = state.store.producers_by_ids(&ids).await?;
        let visitor = &signed.visitor;
        return visitor.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ChooserPage {
                chrome: visitor.chrome("Espace producteur", Section::Producer),
                producers,
                form: &form,
            },
        );
    };
    let description = (!description.is_empty()).then(|| description.as_str().to_owned());
    let producer = state
        .store
        .create_producer(
            signed.caller.account_id,
            name.as_str(),
            description.as_deref(),
        )
        .await?;
    Ok(signed.visitor.redirect_with(
        &format!("/espace-producteur/{}", producer.id),
        "Votre espace producteur est créé.",
    ))
}

async fn my_orders(
    state: web::Data<AppState>,
    signed: SignedIn,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let orders = state
        .store
        .customer_orders(signed.caller.account_id, ORDERS_SHOWN)
        .await?
        .into_iter()
        .map(|o| OrderLine {
            number: o.number,
            cancelled: o.status == "cancelled",
            market_name: o.market_name,
            when: fr::span(o.starts_at, o.ends_at, fr::zone(&o.timezone), now),
            shop: format!("/shop/{}", o.distribution_id),
            lines: o.lines,
        })
        .collect();
    let visitor = &signed.visitor;
    visitor.page(&OrdersPage {
        chrome: visitor.chrome("Mes commandes", Section::Orders),
        orders,
    })
}

/// Registers the landing pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/espace-producteur", web::get().to(chooser))
        .route("/espace-producteur", web::post().to(create_producer))
        .route("/mes-commandes", web::get().to(my_orders));
}
