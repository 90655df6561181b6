//! Catalogues: the producer's catalogs with their code and share link;
//! creating or editing one by ticking offers and, for each, an optional
//! catalog price; the markets it is linked to (a market admin links it
//! with its code; the producer may take it out of a market); and the red
//! "Forcer la synchronisation" button, which pushes price and product
//! changes into the sales already open (new orders only).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::catalog_form::{choices, own_entries, parse, CatalogForm, OfferChoice};
use crate::api::state::AppState;
use crate::api::webapp::kit::{
    Chrome, FormState, InProducer, NoFields, PageError, Posted, ProducerTab,
};
use crate::domain::market::share_link;
use crate::domain::text::Name;
use crate::store::catalogs::{CatalogRecord, NewEntry};
use crate::store::DbError;

struct CatalogLine {
    href: String,
    name: String,
    code: String,
    share: String,
    offers: usize,
    markets: Vec<String>,
}

struct LinkedMarket {
    id: Uuid,
    name: String,
}

#[derive(Template)]
#[template(path = "producteur/catalogues.html")]
struct ListPage {
    chrome: Chrome,
    base: String,
    catalogs: Vec<CatalogLine>,
}

#[derive(Template)]
#[template(path = "producteur/catalogue.html")]
struct CatalogPage<'a> {
    chrome: Chrome,
    base: String,
    catalog: Option<CatalogHead>,
    form: &'a FormState,
    choices: Vec<OfferChoice>,
    markets: Vec<LinkedMarket>,
}

struct CatalogHead {
    id: Uuid,
    code: String,
    share: String,
}

fn base(space: &InProducer) -> String {
    ProducerTab::Catalogs.href(space.producer.id)
}

async fn own_catalog(
    state: &AppState,
    space: &InProducer,
    id: Uuid,
) -> Result<CatalogRecord, PageError> {
    state
        .store
        .catalog(id)
        .await?
        .filter(|c| c.producer_id == space.producer.id)
        .ok_or(PageError::NotFound)
}

async fn list(state: web::Data<AppState>, space: InProducer) -> Result<HttpResponse, PageError> {
    let catalogs = state.store.producer_catalogs(space.producer.id).await?;
    let ids: Vec<Uuid> = catalogs.iter().map(|c| c.id).collect();
    let mut counts: HashMap<Uuid, usize> = HashMap::new();
    for entry in state.store.catalog_entries(&ids).await? {
        if entry.active {
            *counts.entry(entry.catalog_id).or_default() += 1;
        }
    }
    let mut markets: HashMap<Uuid, Vec<String>> = HashMap::new();
    for link in state.store.catalogs_markets(&ids).await? {
        markets.entry(link.catalog_id).or_default().push(link.name);
    }
    let base = base(&space);
    let catalogs = catalogs
        .into_iter()
        .map(|c| CatalogLine {
            href: format!("{base}/{}", c.id),
            share: share_link(&c.code),
            offers: counts.get(&c.id).copied().unwrap_or(0),
            markets: markets.remove(&c.id).unwrap_or_default(),
            name: c.name,
            code: c.code,
        })
        .collect();
    space.visitor.page(&ListPage {
        chrome: space.chrome("Catalogues", ProducerTab::Catalogs),
        base,
        catalogs,
    })
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    space: &InProducer,
    catalog: Option<&CatalogRecord>,
    form: &FormState,
    selected: &HashMap<Uuid, String>,
    errors: &HashMap<Uuid, String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let markets = match catalog {
        Some(c) => state
            .store
            .catalogs_markets(&[c.id])
            .await?
            .into_iter()
            .map(|m| LinkedMarket {
                id: m.id,
                name: m.name,
            })
            .collect(),
        None => Vec::new(),
    };
    let title = catalog.map_or_else(|| "Nouveau catalogue".to_owned(), |c| c.name.clone());
    space.visitor.page_with(
        status,
        &CatalogPage {
            chrome: space.chrome(title, ProducerTab::Catalogs),
            base: base(space),
            catalog: catalog.map(|c| CatalogHead {
                id: c.id,
                share: share_link(&c.code),
                code: c.code.clone(),
            }),
            form,
            choices: choices(state, space, selected, errors).await?,
            markets,
        },
    )
}

async fn new_page(
    state: web::Data<AppState>,
    space: InProducer,
) -> Result<HttpResponse, PageError> {
    let none = HashMap::new();
    render(
        &state,
        &space,
        None,
        &FormState::new(),
        &none,
        &none,
        StatusCode::OK,
    )
    .await
}

async fn edit_page(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let catalog = own_catalog(&state, &space, path.1).await?;
    let selected: HashMap<Uuid, String> = state
        .store
        .catalog_entries(&[catalog.id])
        .await?
        .into_iter()
        .map(|e| {
            let typed = e
                .price_override
                .map(|p| p.to_string().replace('.', ","))
                .unwrap_or_default();
            (e.offer_id, typed)
        })
        .collect();
    let form = FormState::new().with("name", &catalog.name);
    render(
        &state,
        &space,
        Some(&catalog),
        &form,
        &selected,
        &HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// What a posted catalog form asks for once checked, the same for a new
/// catalog and an edited one (`catalog`): its name and its entries (the
/// producer's own active offers only), or `Err` with the page again (422)
/// showing each error next to its field.
async fn checked(
    state: &AppState,
    space: &InProducer,
    catalog: Option<&CatalogRecord>,
    input: &CatalogForm,
) -> Result<Result<(Name, Vec<NewEntry>), HttpResponse>, PageError> {
    let parsed = parse(input);
    let (Some(name), true) = (parsed.name, parsed.form.is_valid()) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render(
            state,
            space,
            catalog,
            &parsed.form,
            &parsed.selected,
            &parsed.errors,
            status,
        )
        .await
        .map(Err);
    };
    Ok(Ok((name, own_entries(state, space, parsed.entries).await?)))
}

async fn create(
    state: web::Data<AppState>,
    space: InProducer,
    Posted(input): Posted<CatalogForm>,
) -> Result<HttpResponse, PageError> {
    let (name, entries) = match checked(&state, &space, None, &input).await? {
        Ok(asked) => asked,
        Err(page_again) => return Ok(page_again),
    };
    let catalog = state
        .store
        .create_catalog(space.producer.id, name.as_str(), &entries)
        .await?;
    Ok(space.visitor.redirect_with(
        &format!("{}/{}", base(&space), catalog.id),
        &format!(
            "Catalogue créé. Son code, {}, permet au responsable d'un marché de l'ajouter.",
            catalog.code
        ),
    ))
}

async fn update(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
    Posted(input): Posted<CatalogForm>,
) -> Result<HttpResponse, PageError> {
    let catalog = own_catalog(&state, &space, path.1).await?;
    let (name, entries) = match checked(&state, &space, Some(&catalog), &input).await? {
        Ok(asked) => asked,
        Err(page_again) => return Ok(page_again),
    };
    state
        .store
        .replace_catalog(catalog.id, name.as_str(), &entries)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(space.visitor.redirect_with(
        &format!("{}/{}", base(&space), catalog.id),
        "Catalogue enregistré. Les ventes déjà ouvertes gardent leurs prix jusqu'à la prochaine \
         vente ; « Forcer la synchronisation » les applique tout de suite.",
    ))
}

async fn force_sync(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let catalog = own_catalog(&state, &space, path.1).await?;
    let synced = state
        .engine
        .sync_catalog(catalog.id)
        .await
        .map_err(|e| match e {
            DbError::NotFound => PageError::NotFound,
            other => other.into(),
        })?;
    let message = match synced.len() {
        0 => "Aucune vente ouverte : rien à synchroniser.".to_owned(),
        1 => "Synchronisé : la vente ouverte applique le catalogue aux nouvelles commandes.".to_owned(),
        n => format!("Synchronisé : les {n} ventes ouvertes appliquent le catalogue aux nouvelles commandes."),
    };
    Ok(space
        .visitor
        .redirect_with(&format!("{}/{}", base(&space), catalog.id), &message))
}

async fn unlink(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (_, catalog_id, market_id) = path.into_inner();
    let catalog = own_catalog(&state, &space, catalog_id).await?;
    if !state.store.unlink_catalog(market_id, catalog.id).await? {
        return Err(PageError::NotFound);
    }
    Ok(space.visitor.redirect_with(
        &format!("{}/{}", base(&space), catalog.id),
        "Le catalogue n'est plus proposé dans ce marché.",
    ))
}

/// Registers the catalog pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let base = "/espace-producteur/{producer_id}/catalogues";
    cfg.route(base, web::get().to(list))
        .route(&format!("{base}/nouveau"), web::get().to(new_page))
        .route(&format!("{base}/nouveau"), web::post().to(create))
        .route(&format!("{base}/{{catalog_id}}"), web::get().to(edit_page))
        .route(&format!("{base}/{{catalog_id}}"), web::post().to(update))
        .route(
            &format!("{base}/{{catalog_id}}/synchroniser"),
            web::post().to(force_sync),
        )
        .route(
            &format!("{base}/{{catalog_id}}/marches/{{market_id}}/retirer"),
            web::post().to(unlink),
        );
}
