//! A market's admins: the list, adding one by e-mail (an existing
//! account), and removing one — oneself included — as long as one stays.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::{chrome, MarketTab};
use crate::api::state::AppState;
use crate::api::webapp::kit::members::{add_by_email, EmailForm, Refusals};
use crate::api::webapp::kit::{Chrome, FormState, InMarket, NoFields, PageError, Posted};
use crate::store::market_admin::AdminRemoval;
use crate::store::markets::MarketAdminRecord;

#[derive(Template)]
#[template(path = "marche/administrateurs.html")]
struct AdminsPage<'a> {
    chrome: Chrome,
    base: String,
    me: Uuid,
    admins: Vec<MarketAdminRecord>,
    form: &'a FormState,
}

async fn render(
    state: &AppState,
    space: &InMarket,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let admins = state.store.market_admins(space.market.id).await?;
    space.visitor.page_with(
        status,
        &AdminsPage {
            chrome: chrome(space, "Administrateurs", MarketTab::Admins),
            base: MarketTab::Admins.href(space.market.id),
            me: space.caller.account_id,
            admins,
            form,
        },
    )
}

async fn page(state: web::Data<AppState>, space: InMarket) -> Result<HttpResponse, PageError> {
    render(&state, &space, &FormState::new(), StatusCode::OK).await
}

async fn add(
    state: web::Data<AppState>,
    space: InMarket,
    Posted(input): Posted<EmailForm>,
) -> Result<HttpResponse, PageError> {
    let refusals = Refusals {
        unknown: "Aucun compte n'a cette adresse : la personne doit d'abord créer son compte.",
        already: "Cette personne administre déjà le marché.",
    };
    let (form, added) = add_by_email(&state, &input, refusals, |account_id| {
        state.store.add_market_admin(space.market.id, account_id)
    })
    .await?;
    if let Some(account) = added {
        return Ok(space.visitor.redirect_with(
            &MarketTab::Admins.href(space.market.id),
            &format!("{} administre maintenant le marché.", account.name),
        ));
    }
    render(&state, &space, &form, StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn remove(
    state: web::Data<AppState>,
    space: InMarket,
    path: web::Path<(Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (_, account_id) = path.into_inner();
    let here = MarketTab::Admins.href(space.market.id);
    match state
        .store
        .remove_market_admin(space.market.id, account_id)
        .await?
    {
        AdminRemoval::NotAdmin => Err(PageError::NotFound),
        AdminRemoval::LastAdmin => Ok(space.visitor.redirect_with(
            &here,
            "Un marché garde au moins un administrateur : ajoutez-en un autre d'abord.",
        )),
        AdminRemoval::Removed if account_id == space.caller.account_id => Ok(space
            .visitor
            .redirect_with("/mes-marches", "Vous n'administrez plus ce marché.")),
        AdminRemoval::Removed => Ok(space.visitor.redirect_with(&here, "Administrateur retiré.")),
    }
}

/// Registers the admins page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/mes-marches/{market_id}/administrateurs";
    cfg.route(at, web::get().to(page))
        .route(at, web::post().to(add))
        .route(
            "/mes-marches/{market_id}/administrateurs/{account_id}/retirer",
            web::post().to(remove),
        );
}
