//! Paramètres: "Mon profil" — the name, a short presentation (one or two
//! sentences for the directory and the page vitrine), a longer
//! description, a logo and a portrait — with the link to the public page
//! vitrine; and "Infos légales" (legal name, SIRET, address, VAT number),
//! shown read-only: only a platform admin changes them (`platform.rs`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::api::state::AppState;
use crate::api::webapp::kit::upload::{image_of, Uploaded};
use crate::api::webapp::kit::{Chrome, FormState, InProducer, PageError, ProducerTab};
use crate::domain::text::{LongText, Name};
use crate::store::images::ImageKind;
use crate::store::producer_profile::{ProducerProfile, ProfileChange};

#[derive(Template)]
#[template(path = "producteur/parametres.html")]
struct SettingsPage<'a> {
    chrome: Chrome,
    base: String,
    vitrine: String,
    form: &'a FormState,
    logo: Option<String>,
    portrait: Option<String>,
    legal: Vec<(&'static str, String)>,
}

/// The thumbnail path of an image id.
pub fn thumbnail_of(id: Option<uuid::Uuid>) -> Option<String> {
    id.map(|id| format!("/images/{id}/vignette"))
}

fn legal_lines(profile: &ProducerProfile) -> Vec<(&'static str, String)> {
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "non renseigné".to_owned());
    vec![
        ("Raison sociale", shown(&profile.legal_name)),
        ("SIRET", shown(&profile.siret)),
        ("Adresse", shown(&profile.legal_address)),
        ("N° de TVA intracommunautaire", shown(&profile.vat_number)),
    ]
}

async fn render(
    space: &InProducer,
    profile: &ProducerProfile,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    space.visitor.page_with(
        status,
        &SettingsPage {
            chrome: space.chrome("Paramètres", ProducerTab::Settings),
            base: ProducerTab::Settings.href(space.producer.id),
            vitrine: format!("/vitrine/{}", space.producer.id),
            form,
            logo: thumbnail_of(profile.logo_image_id),
            portrait: thumbnail_of(profile.portrait_image_id),
            legal: legal_lines(profile),
        },
    )
}

async fn profile_of(state: &AppState, space: &InProducer) -> Result<ProducerProfile, PageError> {
    state
        .store
        .producer_profile(space.producer.id)
        .await?
        .ok_or(PageError::NotFound)
}

async fn page(state: web::Data<AppState>, space: InProducer) -> Result<HttpResponse, PageError> {
    let profile = profile_of(&state, &space).await?;
    let form = FormState::new()
        .with("name", &profile.name)
        .with(
            "short_description",
            profile.short_description.clone().unwrap_or_default(),
        )
        .with(
            "description",
            profile.description.clone().unwrap_or_default(),
        );
    render(&space, &profile, &form, StatusCode::OK).await
}

/// What to do with an image of the profile: a new one stored
/// (`Some(Some(id))`), removed (`Some(None)`) or kept (`None`).
async fn stored(
    state: &AppState,
    producer_id: uuid::Uuid,
    kind: ImageKind,
    image: Option<crate::images::Processed>,
    remove: bool,
) -> Result<Option<Option<uuid::Uuid>>, PageError> {
    Ok(match image {
        Some(image) => Some(Some(
            state.store.insert_image(producer_id, kind, &image).await?,
        )),
        None if remove => Some(None),
        None => None,
    })
}

async fn save(
    state: web::Data<AppState>,
    space: InProducer,
    Uploaded(input): Uploaded,
) -> Result<HttpResponse, PageError> {
    let profile = profile_of(&state, &space).await?;
    let mut form = FormState::new();
    for field in ["name", "short_description", "description"] {
        form.set(field, input.text(field).trim());
    }
    let name = form.check(Name::parse(input.text("name"), "name"));
    let short = form.check(LongText::parse(
        input.text("short_description"),
        "short_description",
        300,
    ));
    let description = form.check(LongText::parse(
        input.text("description"),
        "description",
        2000,
    ));
    let limit = state.settings.web.upload_limit_bytes;
    let logo = image_of(&input, "logo", limit, &mut form).await?;
    let portrait = image_of(&input, "portrait", limit, &mut form).await?;
    let (Some(name), Some(short), Some(description), true) =
        (name, short, description, form.is_valid())
    else {
        return render(&space, &profile, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let id = space.producer.id;
    let logo = stored(
        &state,
        id,
        ImageKind::Logo,
        logo,
        input.ticked("remove_logo"),
    )
    .await?;
    let portrait = stored(
        &state,
        id,
        ImageKind::Portrait,
        portrait,
        input.ticked("remove_portrait"),
    )
    .await?;
    let text = |t: &LongText| (!t.is_empty()).then(|| t.as_str().to_owned());
    let (short, description) = (text(&short), text(&description));
    state
        .store
        .update_profile(
            space.producer.id,
            &ProfileChange {
                name: name.as_str(),
                short_description: short.as_deref(),
                description: description.as_deref(),
                logo,
                portrait,
            },
        )
        .await?;
    Ok(space.visitor.redirect_with(
        &ProducerTab::Settings.href(space.producer.id),
        "Profil enregistré : votre page vitrine est à jour.",
    ))
}

/// Registers the settings page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/espace-producteur/{producer_id}/parametres";
    cfg.route(at, web::get().to(page))
        .route(at, web::post().to(save));
}
