//! Where a signed-in producer lands: `/espace-producteur` (its producer
//! space; a chooser when it belongs to several, the creation form when it
//! has none). The other landings are `/mes-marches` (`markets::admin`)
//! and `/mes-commandes` (`customer`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::{see_other, Chrome, FormState, PageError, Posted, Section, SignedIn};
use crate::api::state::AppState;
use crate::domain::text::{LongText, Name};
use crate::store::producers::ProducerRecord;

#[derive(Template)]
#[template(path = "espace_choix.html")]
struct ChooserPage<'a> {
    chrome: Chrome,
    producers: Vec<ProducerRecord>,
    form: &'a FormState,
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

/// Registers the landing pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/espace-producteur", web::get().to(chooser))
        .route("/espace-producteur", web::post().to(create_producer));
}
