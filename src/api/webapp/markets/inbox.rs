//! A market's messages, for its admins: the conversations with the people
//! who wrote (producers offering a catalog, customers), a conversation with
//! its answer form, and a catalog offered in it linked in one click
//! ("l'administrateur n'aura qu'à cliquer sur le lien").

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::contact::MESSAGE_MAX;
use super::{chrome, MarketTab};
use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, FormState, InMarket, PageError, Posted};
use crate::api::webapp::messages::{conversation_lines, ConversationLine, ConversationPage};
use crate::domain::text::LongText;
use crate::store::messages::NewMessage;
use crate::store::outbox::OutboxMessage;

#[derive(Template)]
#[template(path = "marche/messages.html")]
struct InboxPage {
    chrome: Chrome,
    conversations: Vec<ConversationLine>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Reply {
    body: String,
}

async fn inbox(state: web::Data<AppState>, space: InMarket) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let conversations = state
        .store
        .conversations_of_markets(&[space.market.id])
        .await?
        .into_iter()
        .map(|c| ConversationLine::new(c, true, now))
        .collect();
    space.visitor.page(&InboxPage {
        chrome: chrome(&space, "Messages", MarketTab::Messages),
        conversations,
    })
}

fn conversation_path(market_id: Uuid, correspondent: Uuid) -> String {
    format!("{}/{correspondent}", MarketTab::Messages.href(market_id))
}

async fn render(
    state: &AppState,
    space: &InMarket,
    correspondent: Uuid,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let records = state
        .store
        .conversation(space.market.id, correspondent)
        .await?;
    let Some((name, _)) = state.store.account_contact(correspondent).await? else {
        return Err(PageError::NotFound);
    };
    if records.is_empty() {
        return Err(PageError::NotFound);
    }
    let now = state.clock.now();
    state
        .store
        .mark_read(space.market.id, correspondent, true, now)
        .await?;
    let here = conversation_path(space.market.id, correspondent);
    space.visitor.page_with(
        status,
        &ConversationPage {
            chrome: chrome(space, "Conversation", MarketTab::Messages),
            title: format!("Conversation avec {name}"),
            back: MarketTab::Messages.href(space.market.id),
            action: here.clone(),
            link_action: Some(MarketTab::Catalogs.href(space.market.id)),
            messages: conversation_lines(records, fr::zone(&space.market.timezone), now),
            here,
            form,
        },
    )
}

async fn conversation(
    state: web::Data<AppState>,
    space: InMarket,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let (_, correspondent) = path.into_inner();
    render(
        &state,
        &space,
        correspondent,
        &FormState::new(),
        StatusCode::OK,
    )
    .await
}

async fn reply(
    state: web::Data<AppState>,
    space: InMarket,
    path: web::Path<(Uuid, Uuid)>,
    Posted(input): Posted<Reply>,
) -> Result<HttpResponse, PageError> {
    let (_, correspondent) = path.into_inner();
    let mut form = FormState::new().with("body", input.body.trim());
    let body = form.check(LongText::parse(&input.body, "body", MESSAGE_MAX));
    if body.as_ref().is_some_and(LongText::is_empty) {
        form.refuse("body", "Écrivez votre réponse.");
    }
    let existing = state
        .store
        .conversation(space.market.id, correspondent)
        .await?;
    let contact = state.store.account_contact(correspondent).await?;
    let (Some(_), Some((_, email))) = (existing.first(), contact) else {
        return Err(PageError::NotFound);
    };
    let (Some(body), true) = (body, form.is_valid()) else {
        return render(
            &state,
            &space,
            correspondent,
            &form,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let market = &space.market;
    let email = OutboxMessage {
        kind: "message",
        recipient: email,
        subject: format!("Réponse de {} — {}", space.caller.name, market.name),
        body: format!(
            "{} ({}) vous répond :\n\n{}\n\n—\nRetrouvez la conversation sur étal : Messages.\n",
            space.caller.name,
            market.name,
            body.as_str()
        ),
        dedupe_key: String::new(),
    };
    state
        .store
        .send_message(
            &NewMessage {
                market_id: market.id,
                correspondent_id: correspondent,
                author_id: space.caller.account_id,
                from_admin: true,
                producer_id: None,
                catalog_id: None,
                body: body.as_str().to_owned(),
                at: state.clock.now(),
            },
            &[email],
        )
        .await?;
    Ok(space.visitor.redirect_with(
        &conversation_path(market.id, correspondent),
        "Réponse envoyée.",
    ))
}

/// Registers the market's inbox.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mes-marches/{market_id}/messages", web::get().to(inbox))
        .route(
            "/mes-marches/{market_id}/messages/{account_id}",
            web::get().to(conversation),
        )
        .route(
            "/mes-marches/{market_id}/messages/{account_id}",
            web::post().to(reply),
        );
}
