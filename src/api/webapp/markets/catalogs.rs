//! The catalogs linked to a market, for its admins (guide ch. 5): the
//! producers' catalogs the market sells, linking one by its code (told by
//! phone, or from its share link) and unlinking one.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{chrome, MarketTab};
use crate::api::state::AppState;
use crate::api::webapp::kit::{Chrome, FormState, InMarket, NoFields, PageError, Posted};
use crate::domain::market::CatalogCode;
use crate::store::markets::MarketCatalogRecord;
use crate::store::DbError;

#[derive(Template)]
#[template(path = "marche/catalogues.html")]
struct CatalogsPage<'a> {
    chrome: Chrome,
    base: String,
    links: Vec<MarketCatalogRecord>,
    form: &'a FormState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinkForm {
    code: String,
    /// Where to come back (the conversation the catalog was offered in).
    retour: String,
}

async fn render(
    state: &AppState,
    space: &InMarket,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let links = state
        .store
        .market_catalog_links(space.market.id, None)
        .await?;
    space.visitor.page_with(
        status,
        &CatalogsPage {
            chrome: chrome(space, "Catalogues", MarketTab::Catalogs),
            base: MarketTab::Catalogs.href(space.market.id),
            links,
            form,
        },
    )
}

async fn page(state: web::Data<AppState>, space: InMarket) -> Result<HttpResponse, PageError> {
    render(&state, &space, &FormState::new(), StatusCode::OK).await
}

/// Links the catalog of `code` to the market; the message to show, or the
/// French reason it was not linked.
pub async fn link_by_code(
    state: &AppState,
    space: &InMarket,
    code: &str,
) -> Result<Result<String, String>, PageError> {
    let Ok(code) = CatalogCode::parse(code, "code") else {
        return Ok(Err(
            "Indiquez le code du catalogue : 4 à 10 chiffres.".into()
        ));
    };
    let Some(catalog) = state.store.catalog_by_code(&code).await? else {
        return Ok(Err("Aucun catalogue n'a ce code.".into()));
    };
    match state.store.link_catalog(space.market.id, catalog.id).await {
        Ok(()) => {
            let producer = state
                .store
                .producer(catalog.producer_id)
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            Ok(Ok(format!(
                "Catalogue « {} » de {producer} relié au marché : il peut participer aux distributions.",
                catalog.name
            )))
        }
        Err(DbError::Conflict(_)) => Ok(Err("Ce catalogue est déjà relié au marché.".into())),
        Err(e) => Err(e.into()),
    }
}

async fn link(
    state: web::Data<AppState>,
    space: InMarket,
    Posted(input): Posted<LinkForm>,
) -> Result<HttpResponse, PageError> {
    let back = crate::api::webapp::kit::page::local_path(Some(&input.retour))
        .filter(|p| p.starts_with(&format!("/mes-marches/{}/", space.market.id)));
    match link_by_code(&state, &space, &input.code).await? {
        Ok(message) => {
            let to = back.unwrap_or_else(|| MarketTab::Catalogs.href(space.market.id));
            Ok(space.visitor.redirect_with(&to, &message))
        }
        Err(reason) => match back {
            Some(to) => Ok(space.visitor.redirect_with(&to, &reason)),
            None => {
                let mut form = FormState::new().with("code", input.code.trim());
                form.refuse("code", reason);
                render(&state, &space, &form, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        },
    }
}

async fn unlink(
    state: web::Data<AppState>,
    space: InMarket,
    path: web::Path<(Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (_, catalog_id) = path.into_inner();
    if !state
        .store
        .unlink_catalog(space.market.id, catalog_id)
        .await?
    {
        return Err(PageError::NotFound);
    }
    Ok(space.visitor.redirect_with(
        &MarketTab::Catalogs.href(space.market.id),
        "Catalogue retiré du marché. Les participations déjà prévues restent.",
    ))
}

/// Registers the market's catalogs page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/mes-marches/{market_id}/catalogues";
    cfg.route(at, web::get().to(page))
        .route(at, web::post().to(link))
        .route(
            "/mes-marches/{market_id}/catalogues/{catalog_id}/retirer",
            web::post().to(unlink),
        );
}
