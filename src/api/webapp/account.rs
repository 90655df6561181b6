//! Signing in (`/connexion`), signing up (`/inscription`, with the
//! producer space created at once when a farm name is given) and signing
//! out (`/deconnexion`). Credentials are checked by the same functions as
//! the JSON API's (`api::accounts`): the same argon2id hashes, the same
//! answer and timing for an unknown email and a wrong password.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::kit::page::local_path;
use super::kit::session::landing;
use super::kit::{Chrome, FormState, NoFields, PageError, Posted, Section, Visitor};
use crate::api::accounts::{register, verify_login};
use crate::api::state::AppState;
use crate::domain::account::{Email, Password};
use crate::domain::text::{Name, ShortText};

#[derive(Template)]
#[template(path = "connexion.html")]
struct SignInPage<'a> {
    chrome: Chrome,
    form: &'a FormState,
}

#[derive(Template)]
#[template(path = "inscription.html")]
struct SignUpPage<'a> {
    chrome: Chrome,
    form: &'a FormState,
}

#[derive(Template)]
#[template(path = "deconnexion.html")]
struct SignOutPage {
    chrome: Chrome,
}

#[derive(Deserialize)]
struct Next {
    suite: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    suite: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignUpForm {
    name: String,
    email: String,
    password: String,
    producer_name: String,
}

async fn sign_in_page(visitor: Visitor, next: web::Query<Next>) -> Result<HttpResponse, PageError> {
    let next = local_path(next.suite.as_deref());
    if let Some(caller) = &visitor.account {
        let to = next.unwrap_or_else(|| Visitor::home_of(caller).to_owned());
        return Ok(super::kit::see_other(&to));
    }
    let form = FormState::new().with("suite", next.unwrap_or_default());
    visitor.page(&SignInPage {
        chrome: visitor.chrome("Se connecter", Section::Account),
        form: &form,
    })
}

async fn sign_in(
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(input): Posted<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let account_id = verify_login(&state, &input.email, input.password).await?;
    let Some(account_id) = account_id else {
        let mut form = FormState::new()
            .with("email", input.email.trim())
            .with("suite", input.suite);
        form.refuse("form", "Adresse e-mail ou mot de passe incorrect.");
        return visitor.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignInPage {
                chrome: visitor.chrome("Se connecter", Section::Account),
                form: &form,
            },
        );
    };
    let roles = state.store.account_roles(account_id).await?;
    let home = landing(!roles.producers.is_empty(), !roles.markets.is_empty());
    let to = local_path(Some(&input.suite)).unwrap_or_else(|| home.to_owned());
    let mut answer = super::kit::see_other(&to);
    visitor.sign_in(&state, account_id, &mut answer).await?;
    Ok(answer)
}

async fn sign_up_page(visitor: Visitor) -> Result<HttpResponse, PageError> {
    if let Some(caller) = &visitor.account {
        return Ok(super::kit::see_other(Visitor::home_of(caller)));
    }
    visitor.page(&SignUpPage {
        chrome: visitor.chrome("Créer un compte", Section::Account),
        form: &FormState::new(),
    })
}

async fn sign_up(
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(input): Posted<SignUpForm>,
) -> Result<HttpResponse, PageError> {
    let mut form = FormState::new()
        .with("name", input.name.trim())
        .with("email", input.email.trim())
        .with("producer_name", input.producer_name.trim());
    let name = form.check(ShortText::parse(&input.name, "name", 100));
    let email = form.check(Email::parse(&input.email, "email"));
    let password = form.check(Password::parse(&input.password, "password"));
    let producer_name = match input.producer_name.trim() {
        "" => None,
        given => form.check(Name::parse(given, "producer_name")),
    };
    let refused = |visitor: &Visitor, form: &FormState| {
        visitor.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignUpPage {
                chrome: visitor.chrome("Créer un compte", Section::Account),
                form,
            },
        )
    };
    let (Some(name), Some(email), Some(password), true) = (name, email, password, form.is_valid())
    else {
        return refused(&visitor, &form);
    };
    let account = match register(&state, &email, password, &name).await {
        Ok(account) => account,
        Err(e) if e.code == "email_taken" => {
            form.refuse(
                "email",
                "Un compte existe déjà avec cette adresse : connectez-vous.",
            );
            return refused(&visitor, &form);
        }
        Err(e) => return Err(e.into()),
    };
    let to = match producer_name {
        Some(farm) => {
            let producer = state
                .store
                .create_producer(account.id, farm.as_str(), None)
                .await?;
            format!("/espace-producteur/{}", producer.id)
        }
        None => "/mes-commandes".to_owned(),
    };
    let mut answer = visitor.redirect_with(&to, "Bienvenue ! Votre compte est créé.");
    visitor.sign_in(&state, account.id, &mut answer).await?;
    Ok(answer)
}

async fn sign_out_page(visitor: Visitor) -> Result<HttpResponse, PageError> {
    visitor.page(&SignOutPage {
        chrome: visitor.chrome("Se déconnecter", Section::Account),
    })
}

async fn sign_out(
    state: web::Data<AppState>,
    visitor: Visitor,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let mut answer = visitor.redirect_with("/", "Vous êtes déconnecté.");
    visitor.sign_out(&state, &mut answer).await?;
    Ok(answer)
}

/// Registers the account pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/connexion", web::get().to(sign_in_page))
        .route("/connexion", web::post().to(sign_in))
        .route("/inscription", web::get().to(sign_up_page))
        .route("/inscription", web::post().to(sign_up))
        .route("/deconnexion", web::get().to(sign_out_page))
        .route("/deconnexion", web::post().to(sign_out));
}
