//! Writing to a market's admins from its public page (guide ch. 4–5):
//! "Envoyer un message" (for oneself or one of one's producer spaces) and
//! "Envoyer un catalogue" (one of one's catalogs not linked yet, which an
//! admin then links in one click). Both land in the conversation (market ×
//! writer) that the admins read in the market's inbox and the writer in
//! `/messages`, and go out by e-mail to every admin (outbox). A refusal
//! shows the market's page again with the reason next to the field.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::public::{load, render};
use crate::api::auth::Caller;
use crate::api::state::AppState;
use crate::api::webapp::kit::{FormState, PageError, Posted, SignedIn};
use crate::domain::text::LongText;
use crate::store::markets::MarketRecord;
use crate::store::messages::NewMessage;
use crate::store::outbox::OutboxMessage;

/// Longest message.
pub const MESSAGE_MAX: usize = 4000;

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

/// Registers the contact forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/marche/{market_id}/message", web::post().to(send_message))
        .route(
            "/marche/{market_id}/catalogue",
            web::post().to(send_catalog),
        );
}
