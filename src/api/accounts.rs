//! Accounts and sessions: sign-up, login (a bearer token), logout.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::Duration;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::credentials::{
    decoy_hash_in_turn, hash_password_in_turn, issue_token, verify_password_in_turn,
};
use super::problem::ApiError;
use super::schema;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::account::{Email, Password};
use crate::domain::text::ShortText;
use crate::store::accounts::AccountRecord;
use crate::store::DbError;

/// Argon2 memory cost, KiB (OWASP's recommended minimum for argon2id).
pub const PASSWORD_HASH_MEMORY_KIB: u32 = 19 * 1024;

#[derive(Deserialize, ToSchema)]
pub struct SignUp {
    #[schema(schema_with = schema::email)]
    email: String,
    /// 8 to 128 characters, kept as typed.
    #[schema(schema_with = schema::password)]
    password: String,
    #[schema(schema_with = schema::name)]
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct AccountView {
    id: Uuid,
    email: String,
    name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct Login {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// Send as `Authorization: Bearer <token>`; shown only once.
    token: String,
    account_id: Uuid,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// Creates an account.
#[utoipa::path(tag = "accounts", request_body = SignUp,
    responses((status = 201, body = AccountView), (status = 409, description = "email taken"), (status = 422)))]
#[post("/accounts")]
#[tracing::instrument(name = "sign_up", skip_all)]
pub async fn sign_up(
    state: web::Data<AppState>,
    body: Json<SignUp>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut check = Collect::default();
    let email = check.field(Email::parse(&body.email, "email"));
    let password = check.field(Password::parse(&body.password, "password"));
    let name = check.field(ShortText::parse(&body.name, "name", 100));
    let (Some(email), Some(password), Some(name)) = (email, password, name) else {
        return Err(check.into_error());
    };
    let account = register(&state, &email, password, &name).await?;
    Ok(HttpResponse::Created().json(AccountView {
        id: account.id,
        email: account.email,
        name: account.name,
    }))
}

/// Logs in: exchanges email and password for a bearer token.
#[utoipa::path(tag = "accounts", request_body = Login,
    responses((status = 201, body = SessionView), (status = 401)))]
#[post("/sessions")]
#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    body: Json<Login>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account_id = verify_login(&state, &body.email, body.password)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown email or wrong password"))?;
    let token = issue_token();
    let expires_at =
        state.clock.now() + Duration::hours(i64::from(state.settings.auth.token_ttl_hours));
    state
        .store
        .insert_token(account_id, &token.hash, expires_at)
        .await?;
    Ok(HttpResponse::Created().json(SessionView {
        // The one place the clear token leaves the engine.
        token: token.clear.expose_secret().to_owned(),
        account_id,
        expires_at,
    }))
}

/// Logs out: revokes the token used for this request.
#[utoipa::path(tag = "accounts", responses((status = 204), (status = 401)),
    security(("bearer" = [])))]
#[delete("/sessions/current")]
#[tracing::instrument(name = "logout", skip_all, fields(account = %caller.account_id))]
pub async fn logout(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    state
        .store
        .revoke_token(caller.token_id, state.clock.now())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account and roles.
#[utoipa::path(tag = "accounts", responses((status = 200, body = MeView), (status = 401)),
    security(("bearer" = [])))]
#[get("/accounts/me")]
#[tracing::instrument(name = "me", skip_all)]
pub async fn me(caller: Caller) -> Result<web::Json<MeView>, ApiError> {
    Ok(web::Json(MeView {
        id: caller.account_id,
        email: caller.email,
        name: caller.name,
        producers: caller
            .producers
            .iter()
            .map(|(id, role)| MembershipView {
                producer_id: *id,
                role: role.as_str().to_owned(),
            })
            .collect(),
        markets: caller.markets,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct MeView {
    id: Uuid,
    email: String,
    name: String,
    producers: Vec<MembershipView>,
    /// Markets the caller administers.
    markets: Vec<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct MembershipView {
    producer_id: Uuid,
    role: String,
}

/// Creates an account (the password hashed with argon2id, in turn);
/// `409 email_taken` when the address has an account. Shared by the JSON
/// sign-up and the sign-up page.
pub async fn register(
    state: &AppState,
    email: &Email,
    password: Password,
    name: &ShortText,
) -> Result<AccountRecord, ApiError> {
    let hash = hash_password_in_turn(password, PASSWORD_HASH_MEMORY_KIB)
        .await
        .map_err(|reason| {
            tracing::error!(%reason, "password hashing failed");
            ApiError::internal()
        })?;
    state
        .store
        .create_account(email, name.as_str(), &hash)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => {
                ApiError::conflict_with("email_taken", "an account with this email already exists")
            }
            other => other.into(),
        })
}

/// The account whose email and password these are, or `None`. An unknown
/// email is checked against a decoy hash of the same cost, so both refusals
/// take as long. Shared by the JSON login and the sign-in page.
pub async fn verify_login(
    state: &AppState,
    email: &str,
    password: String,
) -> Result<Option<Uuid>, ApiError> {
    let failed = |reason: String| {
        tracing::error!(%reason, "password verification failed");
        ApiError::internal()
    };
    let known = match Email::parse(email, "email") {
        Ok(email) => state.store.credentials(&email).await?,
        Err(_) => None,
    };
    let (account_id, stored) = match known {
        Some((account_id, stored)) => (Some(account_id), stored),
        None => (
            None,
            decoy_hash_in_turn(PASSWORD_HASH_MEMORY_KIB)
                .await
                .map_err(failed)?,
        ),
    };
    let matches = verify_password_in_turn(password, stored)
        .await
        .map_err(failed)?;
    Ok(account_id.filter(|_| matches))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(sign_up)
        .service(login)
        .service(logout)
        .service(me);
}
