//! Markets ("Marchés"): creation (the creator becomes admin), their public
//! card and their admins (an admin adds others by email). The catalogs
//! linked to a market live in [`links`], the producers' directory of
//! markets near a point in [`directory`].
//!
//! Who may do what: any account creates a market; only its admins edit it,
//! list or add admins, and link catalogs. Unlinking is allowed to the
//! market's admins *and* to the members of the catalog's producer (see
//! [`links`]). Reading a market, its catalogs and the directory needs no
//! account.

mod directory;
mod links;

use actix_web::{get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::account::Email;
use crate::domain::geo::Coordinates;
use crate::domain::market::{parse_timezone, Weekday, DEFAULT_TIMEZONE};
use crate::domain::percent::Percent;
use crate::domain::text::{Name, ShortText};
use crate::store::markets::{MarketFields, MarketRecord};
use crate::store::DbError;

#[derive(Deserialize, ToSchema)]
pub struct PlaceInput {
    #[schema(schema_with = crate::api::schema::line500)]
    address: String,
    #[schema(schema_with = crate::api::schema::latitude)]
    lat: f64,
    #[schema(schema_with = crate::api::schema::longitude)]
    lng: f64,
}

#[derive(Deserialize, ToSchema)]
pub struct MarketInput {
    #[schema(schema_with = crate::api::schema::name)]
    name: String,
    place: PlaceInput,
    #[serde(default)]
    online_payment: bool,
    /// ISO weekday 1..7 (Monday = 1) or a day name (`"thursday"`).
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::weekday_or_null)]
    usual_weekday: Option<Value>,
    /// IANA zone; default `Europe/Paris`.
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::timezone_or_null)]
    timezone: Option<String>,
    /// Platform fee in percent; default 0.
    #[serde(default, with = "crate::domain::decimal::string_option")]
    #[schema(schema_with = crate::api::schema::percent_or_null)]
    fee_rate: Option<Decimal>,
}

#[derive(Serialize, ToSchema)]
pub struct PlaceView {
    address: String,
    lat: f64,
    lng: f64,
}

#[derive(Serialize, ToSchema)]
pub struct MarketView {
    id: Uuid,
    name: String,
    place: PlaceView,
    /// ISO weekday, Monday = 1.
    usual_weekday: Option<i16>,
    online_payment: bool,
    timezone: String,
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    fee_rate: Decimal,
}

impl From<MarketRecord> for MarketView {
    fn from(m: MarketRecord) -> Self {
        Self {
            id: m.id,
            name: m.name,
            place: PlaceView {
                address: m.address,
                lat: m.lat,
                lng: m.lng,
            },
            usual_weekday: m.usual_weekday,
            online_payment: m.online_payment,
            timezone: m.timezone,
            fee_rate: m.fee_rate,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct AdminInput {
    /// The e-mail of an existing account (404 when none has it).
    #[schema(schema_with = crate::api::schema::email)]
    email: String,
}

#[derive(Serialize, ToSchema)]
pub struct AdminView {
    account_id: Uuid,
    email: String,
    name: String,
}

fn parse_market(input: &MarketInput) -> Result<MarketFields, ApiError> {
    let mut check = Collect::default();
    let name = check.field(Name::parse(&input.name, "name"));
    let address = check.field(ShortText::parse(&input.place.address, "place.address", 500));
    let at = check
        .field(Coordinates::parse(input.place.lat, input.place.lng).map_err(|e| e.at("place")));
    let weekday = match &input.usual_weekday {
        None | Some(Value::Null) => Some(None),
        Some(v) => check
            .field(Weekday::parse_json(v, "usual_weekday"))
            .map(Some),
    };
    let timezone = check.field(parse_timezone(
        input.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE),
        "timezone",
    ));
    let fee_rate = check.field(Percent::parse(
        input.fee_rate.unwrap_or(Decimal::ZERO),
        "fee_rate",
    ));
    match (name, address, at, weekday, timezone, fee_rate) {
        (Some(name), Some(address), Some(at), Some(weekday), Some(tz), Some(fee)) => {
            Ok(MarketFields {
                name: name.as_str().to_owned(),
                address: address.into_string(),
                lat: at.lat(),
                lng: at.lng(),
                usual_weekday: weekday.map(Weekday::iso),
                online_payment: input.online_payment,
                timezone: tz.name().to_owned(),
                fee_rate: fee.value(),
            })
        }
        _ => Err(check.into_error()),
    }
}

/// Loads a market or answers 404.
pub async fn existing_market(state: &AppState, id: Uuid) -> Result<MarketRecord, ApiError> {
    state
        .store
        .market(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no market with this id"))
}

/// Creates a market; the caller becomes its admin.
#[utoipa::path(tag = "markets", request_body = MarketInput,
    responses((status = 201, body = MarketView), (status = 401), (status = 422)),
    security(("bearer" = [])))]
#[post("/markets")]
#[tracing::instrument(name = "create_market", skip_all, fields(account = %caller.account_id))]
pub async fn create_market(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<MarketInput>,
) -> Result<HttpResponse, ApiError> {
    let fields = parse_market(&body)?;
    let market = state
        .store
        .create_market(caller.account_id, &fields)
        .await?;
    Ok(HttpResponse::Created().json(MarketView::from(market)))
}

/// A market's public card.
#[utoipa::path(tag = "markets", responses((status = 200, body = MarketView), (status = 404)))]
#[get("/markets/{id}")]
#[tracing::instrument(name = "get_market", skip_all, fields(market = %path))]
pub async fn get_market(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<web::Json<MarketView>, ApiError> {
    Ok(web::Json(existing_market(&state, *path).await?.into()))
}

/// Replaces a market's fields (admins). Absent optional fields take their
/// defaults, as on creation.
#[utoipa::path(tag = "markets", request_body = MarketInput,
    responses((status = 200, body = MarketView), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[put("/markets/{id}")]
#[tracing::instrument(name = "update_market", skip_all, fields(market = %path))]
pub async fn update_market(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<MarketInput>,
) -> Result<web::Json<MarketView>, ApiError> {
    let id = *path;
    existing_market(&state, id).await?;
    caller.require_market_admin(id)?;
    let fields = parse_market(&body)?;
    let market = state
        .store
        .update_market(id, &fields)
        .await?
        .ok_or_else(|| ApiError::not_found("no market with this id"))?;
    Ok(web::Json(market.into()))
}

/// Adds an admin by email (admins).
#[utoipa::path(tag = "markets", request_body = AdminInput,
    responses((status = 201, body = AdminView), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[post("/markets/{id}/admins")]
#[tracing::instrument(name = "add_market_admin", skip_all, fields(market = %path))]
pub async fn add_admin(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<AdminInput>,
) -> Result<HttpResponse, ApiError> {
    let market_id = *path;
    existing_market(&state, market_id).await?;
    caller.require_market_admin(market_id)?;
    let email = Email::parse(&body.email, "email")?;
    let account = state.store.account_by_email(&email).await?.ok_or_else(|| {
        ApiError::names_nothing(
            "email",
            "no account has this email; ask them to sign up first",
        )
    })?;
    state
        .store
        .add_market_admin(market_id, account.id)
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => ApiError::conflict("this account is already an admin"),
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(AdminView {
        account_id: account.id,
        email: account.email,
        name: account.name,
    }))
}

/// A market's admins (admins).
#[utoipa::path(tag = "markets",
    responses((status = 200, body = [AdminView]), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/markets/{id}/admins")]
#[tracing::instrument(name = "list_market_admins", skip_all, fields(market = %path))]
pub async fn list_admins(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<AdminView>>, ApiError> {
    let market_id = *path;
    existing_market(&state, market_id).await?;
    caller.require_market_admin(market_id)?;
    let admins = state.store.market_admins(market_id).await?;
    Ok(web::Json(
        admins
            .into_iter()
            .map(|a| AdminView {
                account_id: a.account_id,
                email: a.email,
                name: a.name,
            })
            .collect(),
    ))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_market)
        .service(get_market)
        .service(update_market)
        .service(add_admin)
        .service(list_admins)
        .service(links::link_catalog)
        .service(links::unlink_catalog)
        .service(links::list_links)
        .service(directory::directory);
}
