//! A market's public page (`/marche/{market_id}`, guide ch. 4 "la fiche de
//! présentation de chaque marché"): where and when, payment, its admins'
//! names, its number of customers, the producers present and the next
//! distributions with their shops. A signed-in visitor writes to the
//! admins ("Envoyer un message"); a producer's member offers one of its
//! catalogs ("Envoyer un catalogue"), which an admin links in one click.
//! Both land in the market's inbox and the writer's, and go out by e-mail.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::auth::Caller;
use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, FormState, PageError, Posted, Section, SignedIn, Visitor};
use crate::api::webapp::sales::SaleView;
use crate::domain::text::LongText;
use crate::store::markets::MarketRecord;
use crate::store::messages::NewMessage;
use crate::store::outbox::OutboxMessage;
use crate::store::public::UpcomingSale;

/// Distributions shown.
const NEXT_DISTRIBUTIONS: i64 = 8;
/// Longest message.
pub const MESSAGE_MAX: usize = 4000;

struct DistributionLine {
    sale: SaleView,
    place: Option<String>,
}

/// A catalog the visitor may offer.
struct CatalogChoice {
    id: Uuid,
    label: String,
    linked: bool,
}

#[derive(Template)]
#[template(path = "marche/public.html")]
struct MarketPage<'a> {
    chrome: Chrome,
    market: MarketRecord,
    day: Option<String>,
    admins: Vec<String>,
    customers: i64,
    producers: Vec<(Uuid, String)>,
    distributions: Vec<DistributionLine>,
    signed_in: bool,
    is_admin: bool,
    /// The visitor's producer spaces (writing for one of them).
    producers_of_visitor: Vec<(Uuid, String)>,
    catalogs: Vec<CatalogChoice>,
    form: &'a FormState,
    catalog_form: &'a FormState,
    /// Sign in, then back here.
    sign_in: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MessageForm {
    body: String,
    producer_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CatalogForm {
    catalog_id: String,
    body: String,
}

fn market_id(path: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(path).map_err(|_| PageError::NotFound)
}

async fn render(
    state: &AppState,
    visitor: &Visitor,
    market: MarketRecord,
    form: &FormState,
    catalog_form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let facts = state
        .store
        .market_facts(&[market.id])
        .await?
        .remove(&market.id)
        .unwrap_or_default();
    let distributions = state
        .store
        .market_distributions(market.id, now, None, false, NEXT_DISTRIBUTIONS)
        .await?;
    let participating = state
        .store
        .upcoming_sales(now, NEXT_DISTRIBUTIONS)
        .await?
        .into_iter()
        .filter(|s| s.market_id == market.id)
        .collect::<Vec<_>>();
    let distributions = distributions
        .into_iter()
        .map(|d| {
            let sale = participating
                .iter()
                .find(|s| s.distribution_id == d.id)
                .cloned()
                .unwrap_or(UpcomingSale {
                    market_id: market.id,
                    distribution_id: d.id,
                    place: d.place.clone(),
                    starts_at: d.starts_at,
                    ends_at: d.ends_at,
                    orders_open_at: d.orders_open_at,
                    orders_close_at: d.orders_close_at,
                    producers: 0,
                });
            DistributionLine {
                sale: SaleView::new(&sale, &market.timezone, now),
                place: d.place,
            }
        })
        .collect();
    let mut producers_of_visitor = Vec::new();
    let mut catalogs = Vec::new();
    let is_admin = visitor
        .account
        .as_ref()
        .is_some_and(|c| c.is_market_admin(market.id));
    if let Some(caller) = &visitor.account {
        let producer_ids: Vec<Uuid> = caller.producers.iter().map(|(id, _)| *id).collect();
        let linked: Vec<Uuid> = state
            .store
            .market_catalog_links(market.id, None)
            .await?
            .into_iter()
            .map(|l| l.catalog_id)
            .collect();
        for producer in state.store.producers_by_ids(&producer_ids).await? {
            for catalog in state.store.producer_catalogs(producer.id).await? {
                catalogs.push(CatalogChoice {
                    linked: linked.contains(&catalog.id),
                    label: if producer_ids.len() > 1 {
                        format!(
                            "{} — {} (code {})",
                            producer.name, catalog.name, catalog.code
                        )
                    } else {
                        format!("{} (code {})", catalog.name, catalog.code)
                    },
                    id: catalog.id,
                });
            }
            producers_of_visitor.push((producer.id, producer.name));
        }
    }
    let page = MarketPage {
        chrome: visitor.chrome(market.name.clone(), Section::Directory),
        day: market
            .usual_weekday
            .map(|d| format!("le {}", fr::weekday(d))),
        admins: facts.admins,
        customers: facts.customers,
        producers: facts.producers,
        distributions,
        signed_in: visitor.account.is_some(),
        is_admin,
        producers_of_visitor,
        catalogs,
        form,
        catalog_form,
        sign_in: format!(
            "/connexion?suite={}",
            crate::api::webapp::kit::page::encode_query(&visitor.here)
        ),
        market,
    };
    visitor.page_with(status, &page)
}

async fn load(state: &AppState, id: &str) -> Result<MarketRecord, PageError> {
    state
        .store
        .market(market_id(id)?)
        .await?
        .ok_or(PageError::NotFound)
}

async fn page(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let market = load(&state, &path).await?;
    let empty = FormState::new();
    render(&state, &visitor, market, &empty, &empty, StatusCode::OK).await
}

/// A message to a market's admins from a correspondent.
pub struct ToAdmins<'a> {
    pub market: &'a MarketRecord,
    /// The writer (the conversation's correspondent).
    pub from: &'a Caller,
    pub producer_id: Option<Uuid>,
    pub catalog_id: Option<Uuid>,
    /// What the conversation shows.
    pub body: String,
    /// The e-mail's subject and text.
    pub subject: String,
    pub email: String,
}

/// Writes a message to a market's admins and queues one e-mail per admin
/// (outbox, same transaction).
pub async fn write_to_admins(state: &AppState, message: ToAdmins<'_>) -> Result<(), PageError> {
    let market = message.market;
    let emails: Vec<OutboxMessage> = state
        .store
        .market_admin_emails(market.id)
        .await?
        .into_iter()
        .map(|recipient| OutboxMessage {
            kind: "message",
            recipient,
            subject: message.subject.clone(),
            body: format!(
                "{}\n\n—\nRépondez depuis étal : Mes marchés → {} → Messages.\n",
                message.email, market.name
            ),
            dedupe_key: String::new(),
        })
        .collect();
    state
        .store
        .send_message(
            &NewMessage {
                market_id: market.id,
                correspondent_id: message.from.account_id,
                author_id: message.from.account_id,
                from_admin: false,
                producer_id: message.producer_id,
                catalog_id: message.catalog_id,
                body: message.body,
                at: state.clock.now(),
            },
            &emails,
        )
        .await?;
    Ok(())
}

/// "Paul Martin (Ferme du Grand Champ)".
pub async fn signature(
    state: &AppState,
    caller: &Caller,
    producer_id: Option<Uuid>,
) -> Result<String, PageError> {
    let producer = match producer_id {
        Some(id) => state.store.producer(id).await?.map(|p| p.name),
        None => None,
    };
    Ok(match producer {
        Some(p) => format!("{} ({p})", caller.name),
        None => caller.name.clone(),
    })
}

async fn send_message(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
    Posted(input): Posted<MessageForm>,
) -> Result<HttpResponse, PageError> {
    let market = load(&state, &path).await?;
    let caller = &signed.caller;
    let mut form = FormState::new()
        .with("body", input.body.trim())
        .with("producer_id", input.producer_id.trim());
    if caller.is_market_admin(market.id) {
        form.refuse(
            "body",
            "Vous administrez ce marché : écrivez depuis sa messagerie.",
        );
    }
    let body = form.check(LongText::parse(&input.body, "body", MESSAGE_MAX));
    if body.as_ref().is_some_and(LongText::is_empty) {
        form.refuse("body", "Écrivez votre message.");
    }
    let producer_id = match input.producer_id.trim() {
        "" => None,
        raw => match Uuid::parse_str(raw)
            .ok()
            .filter(|id| caller.producer_role(*id).is_some())
        {
            Some(id) => Some(id),
            None => {
                form.refuse("producer_id", "Choisissez un de vos espaces producteur.");
                None
            }
        },
    };
    let (Some(body), true) = (body, form.is_valid()) else {
        return render(
            &state,
            &signed.visitor,
            market,
            &form,
            &FormState::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let who = signature(&state, caller, producer_id).await?;
    write_to_admins(
        &state,
        ToAdmins {
            market: &market,
            from: caller,
            producer_id,
            catalog_id: None,
            subject: format!("Nouveau message de {who} — {}", market.name),
            email: format!("{who} vous écrit :\n\n{}", body.as_str()),
            body: body.as_str().to_owned(),
        },
    )
    .await?;
    Ok(signed.visitor.redirect_with(
        &format!("/messages/{}", market.id),
        "Message envoyé aux administrateurs du marché.",
    ))
}

async fn send_catalog(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<String>,
    Posted(input): Posted<CatalogForm>,
) -> Result<HttpResponse, PageError> {
    let market = load(&state, &path).await?;
    let caller = &signed.caller;
    let mut form = FormState::new()
        .with("catalog_id", input.catalog_id.trim())
        .with("body", input.body.trim());
    let body = form.check(LongText::parse(&input.body, "body", MESSAGE_MAX));
    let catalog = match Uuid::parse_str(input.catalog_id.trim()) {
        Ok(id) => state.store.catalog(id).await?,
        Err(_) => None,
    }
    .filter(|c| caller.producer_role(c.producer_id).is_some());
    if catalog.is_none() {
        form.refuse("catalog_id", "Choisissez un de vos catalogues.");
    }
    let linked = match &catalog {
        Some(c) => state
            .store
            .market_catalog_links(market.id, Some(c.id))
            .await?
            .iter()
            .any(|l| l.catalog_id == c.id),
        None => false,
    };
    if linked {
        form.refuse("catalog_id", "Ce catalogue est déjà relié à ce marché.");
    }
    let (Some(body), Some(catalog), true) = (body, catalog, form.is_valid()) else {
        return render(
            &state,
            &signed.visitor,
            market,
            &FormState::new(),
            &form,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let producer = state
        .store
        .producer(catalog.producer_id)
        .await?
        .ok_or(PageError::NotFound)?;
    let text = if body.is_empty() {
        format!(
            "{} vous propose son catalogue « {} » (code {}).",
            producer.name, catalog.name, catalog.code
        )
    } else {
        body.as_str().to_owned()
    };
    write_to_admins(
        &state,
        ToAdmins {
            market: &market,
            from: caller,
            producer_id: Some(producer.id),
            catalog_id: Some(catalog.id),
            subject: format!(
                "{} vous propose son catalogue « {} » — {}",
                producer.name, catalog.name, market.name
            ),
            email: format!(
                "{} ({}) vous propose son catalogue « {} », code {}.\n\n{text}\n\nPour le relier au marché en un clic : Mes marchés → {} → Messages.",
                caller.name, producer.name, catalog.name, catalog.code, market.name
            ),
            body: text,
        },
    )
    .await?;
    Ok(signed.visitor.redirect_with(
        &format!("/messages/{}", market.id),
        &format!(
            "Catalogue « {} » envoyé : un administrateur du marché peut maintenant le relier.",
            catalog.name
        ),
    ))
}

/// Registers the public market page and its contact forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/marche/{market_id}", web::get().to(page))
        .route("/marche/{market_id}/message", web::post().to(send_message))
        .route(
            "/marche/{market_id}/catalogue",
            web::post().to(send_catalog),
        );
}
