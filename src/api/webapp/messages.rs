//! The signed-in person's messages (`/messages`): their conversations with
//! the markets they wrote to, each with its answer form
//! (`/messages/{market_id}`), and a link to the inbox of each market they
//! administer. How a conversation reads is shared with the market's inbox.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use super::kit::fr;
use super::kit::{Chrome, FormState, PageError, Posted, Section, SignedIn};
use super::markets::contact::{signature, write_to_admins, ToAdmins, MESSAGE_MAX};
use crate::api::state::AppState;
use crate::domain::text::LongText;
use crate::store::markets::MarketRecord;
use crate::store::messages::{ConversationRecord, MessageRecord};

/// Characters of the last message shown in a list.
const EXCERPT: usize = 120;

/// A conversation in a list.
pub struct ConversationLine {
    pub href: String,
    /// The other side: the market (for its correspondent) or the person.
    pub with: String,
    pub market: String,
    pub when: String,
    pub excerpt: String,
    pub unread: i64,
}

impl ConversationLine {
    /// `for_admin`: the list is a market's inbox.
    pub fn new(c: ConversationRecord, for_admin: bool, now: DateTime<Utc>) -> Self {
        let mut excerpt: String = c.last_body.chars().take(EXCERPT).collect();
        if c.last_body.chars().count() > EXCERPT {
            excerpt.push('…');
        }
        Self {
            href: if for_admin {
                format!(
                    "/mes-marches/{}/messages/{}",
                    c.market_id, c.correspondent_id
                )
            } else {
                format!("/messages/{}", c.market_id)
            },
            with: if for_admin {
                c.correspondent_name
            } else {
                c.market_name.clone()
            },
            market: c.market_name,
            when: fr::moment(c.last_at, chrono_tz::Europe::Paris, now),
            excerpt,
            unread: c.unread,
        }
    }
}

/// A message in a conversation.
pub struct MessageLine {
    pub author: String,
    pub from_admin: bool,
    pub when: String,
    pub body: String,
    pub producer: Option<String>,
    /// A catalog offered: its name and code, and whether it is linked.
    pub catalog: Option<(String, String, bool)>,
}

/// The messages of a conversation, said in French.
pub fn conversation_lines(
    records: Vec<MessageRecord>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<MessageLine> {
    records
        .into_iter()
        .map(|m| MessageLine {
            author: m.author_name,
            from_admin: m.from_admin,
            when: fr::moment(m.created_at, tz, now),
            body: m.body,
            producer: m.producer_name,
            catalog: match (m.catalog_name, m.catalog_code) {
                (Some(name), Some(code)) => Some((name, code, m.catalog_linked)),
                _ => None,
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    chrome: Chrome,
    conversations: Vec<ConversationLine>,
    markets: Vec<(MarketRecord, i64)>,
}

/// A conversation with its answer form, seen from either side.
#[derive(Template)]
#[template(path = "conversation.html")]
pub struct ConversationPage<'a> {
    pub chrome: Chrome,
    pub title: String,
    /// The list it belongs to.
    pub back: String,
    /// Where the answer is posted.
    pub action: String,
    /// Where "Relier ce catalogue" posts (a market's admins only).
    pub link_action: Option<String>,
    /// This page (an offered catalog's link comes back here).
    pub here: String,
    pub messages: Vec<MessageLine>,
    pub form: &'a FormState,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Reply {
    body: String,
}

async fn messages(state: web::Data<AppState>, signed: SignedIn) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let conversations = state
        .store
        .conversations_of(signed.caller.account_id)
        .await?
        .into_iter()
        .map(|c| ConversationLine::new(c, false, now))
        .collect();
    let administered = state.store.markets_by_ids(&signed.caller.markets).await?;
    let inboxes = state
        .store
        .conversations_of_markets(&signed.caller.markets)
        .await?;
    let markets = administered
        .into_iter()
        .map(|m| {
            let unread = inboxes
                .iter()
                .filter(|c| c.market_id == m.id)
                .map(|c| c.unread)
                .sum();
            (m, unread)
        })
        .collect();
    let visitor = &signed.visitor;
    visitor.page(&MessagesPage {
        chrome: visitor.chrome("Messages", Section::Messages),
        conversations,
        markets,
    })
}

async fn render(
    state: &AppState,
    signed: &SignedIn,
    market: &MarketRecord,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let me = signed.caller.account_id;
    let records = state.store.conversation(market.id, me).await?;
    if records.is_empty() {
        return Err(PageError::NotFound);
    }
    let now = state.clock.now();
    state.store.mark_read(market.id, me, false, now).await?;
    let here = format!("/messages/{}", market.id);
    let visitor = &signed.visitor;
    visitor.page_with(
        status,
        &ConversationPage {
            chrome: visitor.chrome("Conversation", Section::Messages),
            title: format!("Conversation avec {}", market.name),
            back: "/messages".into(),
            action: here.clone(),
            link_action: None,
            messages: conversation_lines(records, fr::zone(&market.timezone), now),
            here,
            form,
        },
    )
}

async fn market_of(state: &AppState, id: Uuid) -> Result<MarketRecord, PageError> {
    state.store.market(id).await?.ok_or(PageError::NotFound)
}

async fn conversation(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let market = market_of(&state, *path).await?;
    render(&state, &signed, &market, &FormState::new(), StatusCode::OK).await
}

async fn reply(
    state: web::Data<AppState>,
    signed: SignedIn,
    path: web::Path<Uuid>,
    Posted(input): Posted<Reply>,
) -> Result<HttpResponse, PageError> {
    let market = market_of(&state, *path).await?;
    let me = signed.caller.account_id;
    let existing = state.store.conversation(market.id, me).await?;
    let Some(first) = existing.first() else {
        return Err(PageError::NotFound);
    };
    let mut form = FormState::new().with("body", input.body.trim());
    let body = form.check(LongText::parse(&input.body, "body", MESSAGE_MAX));
    if body.as_ref().is_some_and(LongText::is_empty) {
        form.refuse("body", "Écrivez votre message.");
    }
    let (Some(body), true) = (body, form.is_valid()) else {
        return render(
            &state,
            &signed,
            &market,
            &form,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let who = signature(&state, &signed.caller, first.producer_id).await?;
    write_to_admins(
        &state,
        ToAdmins {
            market: &market,
            from: &signed.caller,
            producer_id: first.producer_id,
            catalog_id: None,
            subject: format!("Nouveau message de {who} — {}", market.name),
            email: format!("{who} vous écrit :\n\n{}", body.as_str()),
            body: body.as_str().to_owned(),
        },
    )
    .await?;
    Ok(signed
        .visitor
        .redirect_with(&format!("/messages/{}", market.id), "Message envoyé."))
}

/// Registers the messages pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/messages", web::get().to(messages))
        .route("/messages/{market_id}", web::get().to(conversation))
        .route("/messages/{market_id}", web::post().to(reply));
}
