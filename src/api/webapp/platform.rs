//! The platform admin's pages: every producer (`/plateforme`) and the
//! form that changes a producer's legal information
//! (`/plateforme/producteurs/{producer_id}/infos-legales`), which the
//! producer only reads. Platform admins are granted from the command line
//! (`etal admin grant EMAIL`); anyone else gets a 404 here.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::{Chrome, FormState, PageError, Posted, Section, SignedIn};
use crate::api::state::AppState;
use crate::domain::legal::LegalInfo;
use crate::store::producer_profile::ProducerProfile;

struct ProducerLine {
    id: Uuid,
    name: String,
    legal_name: String,
    siret: String,
}

#[derive(Template)]
#[template(path = "plateforme.html")]
struct ListPage {
    chrome: Chrome,
    producers: Vec<ProducerLine>,
}

#[derive(Template)]
#[template(path = "plateforme_legal.html")]
struct LegalPage<'a> {
    chrome: Chrome,
    producer_id: Uuid,
    producer_name: String,
    form: &'a FormState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LegalForm {
    legal_name: String,
    siret: String,
    legal_address: String,
    vat_number: String,
}

/// The signed-in platform admin, or a 404.
async fn platform_admin(state: &AppState, signed: &SignedIn) -> Result<(), PageError> {
    if state
        .store
        .is_platform_admin(signed.caller.account_id)
        .await?
    {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

async fn list(state: web::Data<AppState>, signed: SignedIn) -> Result<HttpResponse, PageError> {
    platform_admin(&state, &signed).await?;
    let producers = state
        .store
        .all_producer_profiles()
        .await?
        .into_iter()
        .map(|p| ProducerLine {
            id: p.id,
            name: p.name,
            legal_name: p.legal_name.unwrap_or_default(),
            siret: p.siret.unwrap_or_default(),
        })
        .collect();
    let visitor = &signed.visitor;
    visitor.page(&ListPage {
        chrome: visitor.chrome("Administration de la plateforme", Section::None),
        producers,
    })
}

async fn producer(state: &AppState, id: Uuid) -> Result<ProducerProfile, PageError> {
    state
        .store
        .producer_profile(id)
        .await?
        .ok_or(PageError::NotFound)
}

fn render(
    signed: &SignedIn,
    profile: &ProducerProfile,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let visitor = &signed.visitor;
    visitor.page_with(
        status,
        &LegalPage {
            chrome: visitor.chrome(format!("Infos légales — {}", profile.name), Section::None),
            producer_id: profile.id,
            producer_name: profile.name.clone(),
            form,
        },
    )
}

async fn legal_page(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    platform_admin(&state, &signed).await?;
    let profile = producer(&state, *path).await?;
    let form = FormState::new()
        .with("legal_name", profile.legal_name.clone().unwrap_or_default())
        .with("siret", profile.siret.clone().unwrap_or_default())
        .with(
            "legal_address",
            profile.legal_address.clone().unwrap_or_default(),
        )
        .with("vat_number", profile.vat_number.clone().unwrap_or_default());
    render(&signed, &profile, &form, StatusCode::OK)
}

async fn save_legal(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<Uuid>,
    Posted(input): Posted<LegalForm>,
) -> Result<HttpResponse, PageError> {
    platform_admin(&state, &signed).await?;
    let profile = producer(&state, *path).await?;
    let mut form = FormState::new()
        .with("legal_name", input.legal_name.trim())
        .with("siret", input.siret.trim())
        .with("legal_address", input.legal_address.trim())
        .with("vat_number", input.vat_number.trim());
    match LegalInfo::parse(
        &input.legal_name,
        &input.siret,
        &input.legal_address,
        &input.vat_number,
    ) {
        Ok(info) => {
            state.store.set_legal_info(profile.id, &info).await?;
            tracing::info!(producer = %profile.id, by = %signed.caller.account_id, "legal information changed");
            Ok(signed.visitor.redirect_with(
                "/plateforme",
                &format!("Infos légales de {} enregistrées.", profile.name),
            ))
        }
        Err(errors) => {
            for e in errors {
                let reason = match e.field.as_str() {
                    "siret" => "Le SIRET compte 14 chiffres et doit être valide (clé de contrôle)."
                        .to_owned(),
                    "vat_number" => {
                        "Numéro de TVA invalide (par exemple FR40303265045).".to_owned()
                    }
                    _ => super::kit::form::french(&e.reason),
                };
                form.refuse(&e.field, reason);
            }
            render(&signed, &profile, &form, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// Registers the platform admin's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let legal = "/plateforme/producteurs/{producer_id}/infos-legales";
    cfg.route("/plateforme", web::get().to(list))
        .route(legal, web::get().to(legal_page))
        .route(legal, web::post().to(save_legal));
}
