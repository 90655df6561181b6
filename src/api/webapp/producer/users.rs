//! Utilisateurs: who may manage the space. The owner adds a collaborator
//! by the e-mail of an existing account and removes members; a
//! collaborator may leave; the last owner cannot be removed
//! (`domain::roles::removal_allowed`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::webapp::kit::members::{add_by_email, EmailForm, Refusals};
use crate::api::webapp::kit::{
    Chrome, FormState, InProducer, NoFields, PageError, Posted, ProducerTab,
};
use crate::domain::roles::{removal_allowed, ProducerRole, RemovalRefusal};

struct MemberLine {
    account_id: Uuid,
    name: String,
    email: String,
    owner: bool,
    me: bool,
}

#[derive(Template)]
#[template(path = "producteur/utilisateurs.html")]
struct UsersPage<'a> {
    chrome: Chrome,
    base: String,
    members: Vec<MemberLine>,
    is_owner: bool,
    form: &'a FormState,
}

fn base(space: &InProducer) -> String {
    ProducerTab::Users.href(space.producer.id)
}

async fn render(
    state: &AppState,
    space: &InProducer,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let members = state
        .store
        .producer_members(space.producer.id)
        .await?
        .into_iter()
        .map(|m| MemberLine {
            me: m.account_id == space.caller.account_id,
            owner: m.role == "owner",
            account_id: m.account_id,
            name: m.name,
            email: m.email,
        })
        .collect();
    space.visitor.page_with(
        status,
        &UsersPage {
            chrome: space.chrome("Utilisateurs", ProducerTab::Users),
            base: base(space),
            members,
            is_owner: space.is_owner(),
            form,
        },
    )
}

async fn page(state: web::Data<AppState>, space: InProducer) -> Result<HttpResponse, PageError> {
    render(&state, &space, &FormState::new(), StatusCode::OK).await
}

async fn add(
    state: web::Data<AppState>,
    space: InProducer,
    Posted(input): Posted<EmailForm>,
) -> Result<HttpResponse, PageError> {
    if !space.is_owner() {
        return Err(PageError::NotFound);
    }
    let refusals = Refusals {
        unknown: "Aucun compte n'a cette adresse : demandez à cette personne de créer son compte d'abord.",
        already: "Cette personne a déjà accès à cet espace.",
    };
    let (form, added) = add_by_email(&state, &input, refusals, |account_id| {
        state
            .store
            .add_producer_member(space.producer.id, account_id, ProducerRole::Collaborator)
    })
    .await?;
    if let Some(account) = added {
        return Ok(space.visitor.redirect_with(
            &base(&space),
            &format!("{} peut maintenant gérer cet espace.", account.name),
        ));
    }
    render(&state, &space, &form, StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn remove(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let account_id = path.1;
    let itself = account_id == space.caller.account_id;
    let outcome = state
        .store
        .remove_producer_member(space.producer.id, account_id, |target, owners| {
            removal_allowed(space.role, target, itself, owners)
        })
        .await?
        .ok_or(PageError::NotFound)?;
    match outcome {
        Ok(()) if itself => Ok(space.visitor.redirect_with(
            "/espace-producteur",
            "Vous avez quitté cet espace producteur.",
        )),
        Ok(()) => Ok(space
            .visitor
            .redirect_with(&base(&space), "Cette personne n'a plus accès à cet espace.")),
        Err(RemovalRefusal::NotOwner) => Err(PageError::NotFound),
        Err(RemovalRefusal::LastOwner) => Ok(space.visitor.redirect_with(
            &base(&space),
            "Le dernier propriétaire de l'espace ne peut pas être retiré.",
        )),
    }
}

/// Registers the members page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/espace-producteur/{producer_id}/utilisateurs";
    cfg.route(at, web::get().to(page))
        .route(at, web::post().to(add))
        .route(
            "/espace-producteur/{producer_id}/utilisateurs/{account_id}/retirer",
            web::post().to(remove),
        );
}
