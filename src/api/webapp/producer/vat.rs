//! "Gérer les taux de TVA" (under Produits): the producer's VAT rates,
//! adding one, removing one no offer uses (else the offers to change
//! first are named).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::webapp::kit::form::decimal_input;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{
    Chrome, FormState, InProducer, NoFields, PageError, Posted, ProducerTab,
};
use crate::domain::text::ShortText;
use crate::domain::vat::VatRate;
use crate::store::vat_rates::VatRateRemoval;
use crate::store::DbError;

struct RateLine {
    id: Uuid,
    name: String,
    rate: String,
}

#[derive(Template)]
#[template(path = "producteur/tva.html")]
struct VatPage<'a> {
    chrome: Chrome,
    base: String,
    products: String,
    rates: Vec<RateLine>,
    form: &'a FormState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RateForm {
    name: String,
    rate: String,
}

fn base(space: &InProducer) -> String {
    format!("{}/tva", ProducerTab::Products.href(space.producer.id))
}

async fn render(
    state: &AppState,
    space: &InProducer,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let rates = state
        .store
        .vat_rates(space.producer.id)
        .await?
        .into_iter()
        .map(|r| RateLine {
            id: r.id,
            name: r.name,
            rate: fr::percent(r.rate),
        })
        .collect();
    space.visitor.page_with(
        status,
        &VatPage {
            chrome: space.chrome("Taux de TVA", ProducerTab::Products),
            base: base(space),
            products: ProducerTab::Products.href(space.producer.id),
            rates,
            form,
        },
    )
}

async fn page(state: web::Data<AppState>, space: InProducer) -> Result<HttpResponse, PageError> {
    render(&state, &space, &FormState::new(), StatusCode::OK).await
}

async fn add(
    state: web::Data<AppState>,
    space: InProducer,
    Posted(input): Posted<RateForm>,
) -> Result<HttpResponse, PageError> {
    let mut form = FormState::new()
        .with("name", input.name.trim())
        .with("rate", input.rate.trim());
    let name = form.check(ShortText::parse(&input.name, "name", 100));
    let rate = form.check(VatRate::parse_str(&decimal_input(&input.rate), "rate"));
    if let (Some(name), Some(rate)) = (name, rate) {
        match state
            .store
            .create_vat_rate(space.producer.id, &name, rate)
            .await
        {
            Ok(_) => {
                return Ok(space
                    .visitor
                    .redirect_with(&base(&space), "Taux de TVA ajouté."))
            }
            Err(DbError::Conflict(_)) => {
                form.refuse("name", "Vous avez déjà un taux de ce nom.");
            }
            Err(e) => return Err(e.into()),
        }
    }
    render(&state, &space, &form, StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn remove(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (_, rate_id) = path.into_inner();
    let rate = state
        .store
        .vat_rate(rate_id)
        .await?
        .ok_or(PageError::NotFound)?;
    if rate.producer_id != space.producer.id {
        return Err(PageError::NotFound);
    }
    let message = match state.store.delete_vat_rate(rate_id).await? {
        VatRateRemoval::Removed => format!("Le taux « {} » est supprimé.", rate.name),
        VatRateRemoval::NotFound => return Err(PageError::NotFound),
        VatRateRemoval::InUse(offers) => format!(
            "Le taux « {} » n'est pas supprimé : des offres l'utilisent ({}). Changez d'abord leur taux.",
            rate.name,
            offers
                .iter()
                .map(|o| format!("{} — {}", o.product_name, o.label))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Ok(space.visitor.redirect_with(&base(&space), &message))
}

/// Registers the VAT page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/espace-producteur/{producer_id}/produits/tva";
    cfg.route(at, web::get().to(page))
        .route(at, web::post().to(add))
        .route(
            "/espace-producteur/{producer_id}/produits/tva/{vat_id}/supprimer",
            web::post().to(remove),
        );
}
