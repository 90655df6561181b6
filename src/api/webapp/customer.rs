//! The customer's own pages: `/mes-commandes` (every order in every
//! market, how far it is, its lines with their weighing and what is to pay
//! once weighed), `/mon-compte` (name, password) and deleting the account
//! (`/mon-compte/supprimer`, the FAQ's question; see
//! `store::account_deletion` for what goes and what stays).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::kit::fr;
use super::kit::{Chrome, FormState, PageError, Posted, Section, SignedIn};
use crate::api::accounts::{verify_login, PASSWORD_HASH_MEMORY_KIB};
use crate::api::credentials::hash_password_in_turn;
use crate::api::state::AppState;
use crate::domain::account::Password;
use crate::domain::sale::OrderChange;
use crate::domain::text::Name;
use crate::engine::ordering::Customer;
use crate::store::account_deletion::{Blockers, DeletionPlan};
use crate::store::customer_orders::{CustomerLineRow, CustomerOrderRow};

/// Orders listed on `/mes-commandes`.
const ORDERS_SHOWN: i64 = 200;

struct LineView {
    producer: String,
    product: String,
    quantity: String,
    weight: Option<String>,
    to_weigh: bool,
    total: String,
}

struct OrderView {
    number: i32,
    market: String,
    place: String,
    when: String,
    status: String,
    open: bool,
    shop: String,
    lines: Vec<LineView>,
    total: String,
    /// What is to pay once weighed, when it differs from the total.
    final_total: Option<String>,
}

#[derive(Template)]
#[template(path = "mes_commandes.html")]
struct OrdersPage {
    chrome: Chrome,
    orders: Vec<OrderView>,
}

#[derive(Template)]
#[template(path = "compte/mon_compte.html")]
struct AccountPage<'a> {
    chrome: Chrome,
    email: String,
    form: &'a FormState,
    password_form: &'a FormState,
}

#[derive(Template)]
#[template(path = "compte/supprimer.html")]
struct DeletePage<'a> {
    chrome: Chrome,
    plan: DeletionPlan,
    preparing: Vec<String>,
    form: &'a FormState,
}

fn status(o: &CustomerOrderRow, now: DateTime<Utc>) -> (String, bool) {
    if o.status == "cancelled" {
        ("Annulée".into(), false)
    } else if o.cancelled_at.is_some() {
        ("Distribution annulée".into(), false)
    } else if o.validated_at.is_some() {
        ("Retirée — distribution validée".into(), false)
    } else if now >= o.ends_at {
        ("Retirée".into(), false)
    } else if o.closes_at.is_some_and(|c| now < c) {
        (
            "Commandes ouvertes : vous pouvez encore la modifier".into(),
            true,
        )
    } else {
        ("En préparation".into(), false)
    }
}

fn line_view(l: &CustomerLineRow) -> (LineView, rust_decimal::Decimal, rust_decimal::Decimal) {
    let ordered = crate::domain::money::round_cents(l.unit_price * l.quantity);
    let now = l.final_total.unwrap_or(ordered);
    (
        LineView {
            producer: l.producer_name.clone(),
            product: format!("{} — {}", l.product_name, l.label),
            quantity: fr::quantity(l.quantity),
            weight: l.weight.map(|w| format!("{} {}", fr::quantity(w), l.unit)),
            to_weigh: l.variable_price && l.weight.is_none(),
            total: fr::money(now),
        },
        ordered,
        now,
    )
}

async fn my_orders(
    state: web::Data<AppState>,
    signed: SignedIn,
) -> Result<HttpResponse, PageError> {
    let now = state.clock.now();
    let rows = state
        .store
        .customer_orders(signed.caller.account_id, ORDERS_SHOWN)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|o| o.order_id).collect();
    let mut lines: HashMap<Uuid, Vec<CustomerLineRow>> = HashMap::new();
    for l in state.store.customer_order_lines(&ids).await? {
        lines.entry(l.order_id).or_default().push(l);
    }
    let orders = rows
        .iter()
        .map(|o| {
            let (status, open) = status(o, now);
            let mut views = Vec::new();
            let (mut ordered, mut due) = (rust_decimal::Decimal::ZERO, rust_decimal::Decimal::ZERO);
            for l in lines.get(&o.order_id).map(Vec::as_slice).unwrap_or(&[]) {
                let (view, was, is) = line_view(l);
                ordered += was;
                due += is;
                views.push(view);
            }
            OrderView {
                number: o.number,
                market: o.market_name.clone(),
                place: o.place.clone(),
                when: fr::span(o.starts_at, o.ends_at, fr::zone(&o.timezone), now),
                status,
                open,
                shop: format!("/shop/{}", o.distribution_id),
                lines: views,
                total: fr::money(ordered),
                final_total: (due != ordered).then(|| fr::money(due)),
            }
        })
        .collect();
    let visitor = &signed.visitor;
    visitor.page(&OrdersPage {
        chrome: visitor.chrome("Mes commandes", Section::Orders),
        orders,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NameForm {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    current: String,
    password: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteForm {
    password: String,
}

async fn account_page(
    signed: &SignedIn,
    form: &FormState,
    password_form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let visitor = &signed.visitor;
    visitor.page_with(
        status,
        &AccountPage {
            chrome: visitor.chrome("Mon compte", Section::Account),
            email: signed.caller.email.clone(),
            form,
            password_form,
        },
    )
}

async fn account(signed: SignedIn) -> Result<HttpResponse, PageError> {
    let form = FormState::new().with("name", signed.caller.name.clone());
    account_page(&signed, &form, &FormState::new(), StatusCode::OK).await
}

async fn rename(
    state: web::Data<AppState>,
    signed: SignedIn,
    Posted(input): Posted<NameForm>,
) -> Result<HttpResponse, PageError> {
    let mut form = FormState::new().with("name", input.name.trim());
    let Some(name) = form.check(Name::parse(&input.name, "name")) else {
        return account_page(
            &signed,
            &form,
            &FormState::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    state
        .store
        .set_account_name(signed.caller.account_id, name.as_str())
        .await?;
    Ok(signed
        .visitor
        .redirect_with("/mon-compte", "Votre nom est enregistré."))
}

async fn change_password(
    state: web::Data<AppState>,
    signed: SignedIn,
    Posted(input): Posted<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let mut form = FormState::new();
    let password = form.check(Password::parse(&input.password, "password"));
    let known = verify_login(&state, &signed.caller.email, input.current.clone()).await?;
    if known != Some(signed.caller.account_id) {
        form.refuse("current", "Ce n'est pas votre mot de passe actuel.");
    }
    let (Some(password), true) = (password, form.is_valid()) else {
        let name = FormState::new().with("name", signed.caller.name.clone());
        return account_page(&signed, &name, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let hash = hash_password_in_turn(password, PASSWORD_HASH_MEMORY_KIB)
        .await
        .map_err(|reason| {
            tracing::error!(%reason, "password hashing failed");
            PageError::Internal
        })?;
    state
        .store
        .set_password_hash(signed.caller.account_id, &hash, signed.caller.token_id)
        .await?;
    Ok(signed.visitor.redirect_with(
        "/mon-compte",
        "Mot de passe changé. Vos autres sessions sont fermées.",
    ))
}

fn preparing(blockers: &Blockers) -> Vec<String> {
    blockers
        .in_preparation
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(number, market, starts_at)| {
            format!(
                "commande n° {number}, {market}, {}",
                fr::day(*starts_at, chrono_tz::Europe::Paris, *starts_at)
            )
        })
        .collect()
}

async fn delete_page(
    state: &AppState,
    signed: &SignedIn,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let plan = state
        .store
        .deletion_plan(signed.caller.account_id, state.clock.now())
        .await?;
    let visitor = &signed.visitor;
    visitor.page_with(
        status,
        &DeletePage {
            chrome: visitor.chrome("Supprimer mon compte", Section::Account),
            preparing: preparing(&plan.blockers),
            plan,
            form,
        },
    )
}

async fn confirm_delete(
    state: web::Data<AppState>,
    signed: SignedIn,
) -> Result<HttpResponse, PageError> {
    delete_page(&state, &signed, &FormState::new(), StatusCode::OK).await
}

async fn delete(
    state: web::Data<AppState>,
    signed: SignedIn,
    Posted(input): Posted<DeleteForm>,
) -> Result<HttpResponse, PageError> {
    let caller = &signed.caller;
    let known = verify_login(&state, &caller.email, input.password.clone()).await?;
    if known != Some(caller.account_id) {
        let mut form = FormState::new();
        form.refuse("password", "Ce n'est pas votre mot de passe.");
        return delete_page(&state, &signed, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let plan = state
        .store
        .deletion_plan(caller.account_id, state.clock.now())
        .await?;
    if !plan.blockers.is_empty() {
        return delete_page(&state, &signed, &FormState::new(), StatusCode::CONFLICT).await;
    }
    // Orders in open sales are cancelled like the customer would: their
    // stock is back in the shops at once.
    for distribution_id in &plan.open_orders {
        let customer = Customer {
            id: caller.account_id,
            name: caller.name.clone(),
        };
        if let Err(e) = state
            .engine
            .change_order(*distribution_id, customer, OrderChange::Cancel, None)
            .await
        {
            tracing::warn!(
                ?e,
                "an open order could not be cancelled before deleting an account"
            );
            let mut form = FormState::new();
            form.refuse(
                "password",
                "Une de vos commandes n'a pas pu être annulée : rien n'a été supprimé, réessayez.",
            );
            return delete_page(&state, &signed, &form, StatusCode::CONFLICT).await;
        }
    }
    let anonymous = format!(
        "supprime-{}@comptes-supprimes.invalid",
        Uuid::new_v4().simple()
    );
    match state
        .store
        .delete_account(caller.account_id, &anonymous, state.clock.now())
        .await?
    {
        Ok(touched) => {
            for distribution_id in touched {
                state.engine.reload_distribution(distribution_id);
                state.engine.hub().resync(distribution_id);
            }
            let mut answer = signed
                .visitor
                .redirect_with("/", "Votre compte est supprimé. Au revoir !");
            signed.visitor.sign_out(&state, &mut answer).await.ok();
            tracing::info!("an account was deleted");
            Ok(answer)
        }
        Err(_) => delete_page(&state, &signed, &FormState::new(), StatusCode::CONFLICT).await,
    }
}

/// Registers the customer's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mes-commandes", web::get().to(my_orders))
        .route("/mon-compte", web::get().to(account))
        .route("/mon-compte", web::post().to(rename))
        .route("/mon-compte/mot-de-passe", web::post().to(change_password))
        .route("/mon-compte/supprimer", web::get().to(confirm_delete))
        .route("/mon-compte/supprimer", web::post().to(delete));
}
