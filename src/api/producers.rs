//! A producer's space: creating it (the caller becomes its owner), its public
//! card, and its members (the owner adds collaborators by email, as in the
//! guide's "onglet Utilisateurs").

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::schema;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::account::Email;
use crate::domain::roles::ProducerRole;
use crate::domain::text::ShortText;
use crate::store::producers::{MemberRecord, ProducerRecord};
use crate::store::DbError;

#[derive(Deserialize, ToSchema)]
pub struct ProducerInput {
    #[schema(schema_with = schema::name)]
    name: String,
    /// One line; blank or `null` for none.
    #[serde(default)]
    #[schema(schema_with = schema::optional_line2000)]
    description: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProducerView {
    id: Uuid,
    name: String,
    description: Option<String>,
}

impl From<ProducerRecord> for ProducerView {
    fn from(p: ProducerRecord) -> Self {
        Self {
            id: p.id,
            name: p.name,
            description: p.description,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct MemberInput {
    /// The e-mail of an existing account (404 when none has it).
    #[schema(schema_with = schema::email)]
    email: String,
    /// Only `collaborator` can be added; there is one owner.
    #[schema(schema_with = schema::collaborator_role)]
    role: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    account_id: Uuid,
    email: String,
    name: String,
    role: String,
}

impl From<MemberRecord> for MemberView {
    fn from(m: MemberRecord) -> Self {
        Self {
            account_id: m.account_id,
            email: m.email,
            name: m.name,
            role: m.role,
        }
    }
}

fn parse_producer(input: &ProducerInput) -> Result<(ShortText, Option<ShortText>), ApiError> {
    let mut check = Collect::default();
    let name = check.field(ShortText::parse(&input.name, "name", 100));
    let description = match input.description.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => check.field(ShortText::parse(text, "description", 2000)),
    };
    match name {
        Some(name) if check.is_ok() => Ok((name, description)),
        _ => Err(check.into_error()),
    }
}

/// Loads a producer or answers 404.
pub async fn existing_producer(state: &AppState, id: Uuid) -> Result<ProducerRecord, ApiError> {
    state
        .store
        .producer(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no producer with this id"))
}

/// Creates a producer space; the caller becomes its owner.
#[utoipa::path(tag = "producers", request_body = ProducerInput,
    responses((status = 201, body = ProducerView), (status = 401), (status = 422)),
    security(("bearer" = [])))]
#[post("/producers")]
#[tracing::instrument(name = "create_producer", skip_all, fields(account = %caller.account_id))]
pub async fn create_producer(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ProducerInput>,
) -> Result<HttpResponse, ApiError> {
    let (name, description) = parse_producer(&body)?;
    let producer = state
        .store
        .create_producer(
            caller.account_id,
            name.as_str(),
            description.as_ref().map(ShortText::as_str),
        )
        .await?;
    Ok(HttpResponse::Created().json(ProducerView::from(producer)))
}

/// A producer's public card.
#[utoipa::path(tag = "producers", responses((status = 200, body = ProducerView), (status = 404)))]
#[get("/producers/{id}")]
#[tracing::instrument(name = "get_producer", skip_all, fields(producer = %path))]
pub async fn get_producer(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<web::Json<ProducerView>, ApiError> {
    Ok(web::Json(existing_producer(&state, *path).await?.into()))
}

/// Renames or re-describes a producer (owner or collaborator).
#[utoipa::path(tag = "producers", request_body = ProducerInput,
    responses((status = 200, body = ProducerView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[patch("/producers/{id}")]
#[tracing::instrument(name = "update_producer", skip_all, fields(producer = %path))]
pub async fn update_producer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<ProducerInput>,
) -> Result<web::Json<ProducerView>, ApiError> {
    let id = *path;
    existing_producer(&state, id).await?;
    caller.require_producer_member(id)?;
    let (name, description) = parse_producer(&body)?;
    let producer = state
        .store
        .update_producer(
            id,
            name.as_str(),
            description.as_ref().map(ShortText::as_str),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("no producer with this id"))?;
    Ok(web::Json(producer.into()))
}

/// Adds a collaborator by email (owner only).
#[utoipa::path(tag = "producers", request_body = MemberInput,
    responses((status = 201, body = MemberView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[post("/producers/{id}/members")]
#[tracing::instrument(name = "add_member", skip_all, fields(producer = %path))]
pub async fn add_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<MemberInput>,
) -> Result<HttpResponse, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_owner(producer_id)?;
    let mut check = Collect::default();
    let email = check.field(Email::parse(&body.email, "email"));
    let role = check.field(ProducerRole::parse(&body.role, "role"));
    if role == Some(ProducerRole::Owner) {
        check.push(crate::domain::error::FieldError::new(
            "role",
            "a producer has one owner; add members as `collaborator`",
        ));
    }
    let (Some(email), Some(role)) = (email, role) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let account = state.store.account_by_email(&email).await?.ok_or_else(|| {
        ApiError::names_nothing(
            "email",
            "no account has this email; ask them to sign up first",
        )
    })?;
    state
        .store
        .add_producer_member(producer_id, account.id, role)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => ApiError::conflict("this account is already a member"),
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(MemberView {
        account_id: account.id,
        email: account.email,
        name: account.name,
        role: role.as_str().to_owned(),
    }))
}

/// The members of a producer's space (members only).
#[utoipa::path(tag = "producers",
    responses((status = 200, body = [MemberView]), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/producers/{id}/members")]
#[tracing::instrument(name = "list_members", skip_all, fields(producer = %path))]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<MemberView>>, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_member(producer_id)?;
    let members = state.store.producer_members(producer_id).await?;
    Ok(web::Json(members.into_iter().map(Into::into).collect()))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_producer)
        .service(get_producer)
        .service(update_producer)
        .service(add_member)
        .service(list_members);
}
