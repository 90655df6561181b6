//! Catalogs ("CATALOGUES"): a producer's selection of offers with optional
//! price overrides, managed by the producer's members. Each catalog gets a
//! random 6-digit code and a share link (`/catalog/<code>`) whose content a
//! market admin previews without an account ([`share`]) before linking it
//! to a market (`markets/links.rs`).
//!
//! Entries are validated before anything is written — unknown offer, offer of
//! another producer or inactive, duplicate, negative or over-precise price —
//! and every bad one is named (`entries[2].offer_id`) in one 422.

mod share;

use std::collections::HashMap;

use actix_web::{delete, get, post, put, web, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::producers::existing_producer;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::error::FieldError;
use crate::domain::market::share_link;
use crate::domain::money::Money;
use crate::domain::text::Name;
use crate::store::catalogs::{CatalogDeletion, CatalogEntryRecord, CatalogRecord, NewEntry};
use crate::store::DbError;

/// Most entries one catalog may hold.
const MAX_ENTRIES: usize = 2000;

#[derive(Deserialize, ToSchema)]
pub struct CatalogInput {
    #[schema(schema_with = crate::api::schema::name)]
    name: String,
    #[serde(default)]
    entries: Vec<EntryInput>,
}

#[derive(Deserialize, ToSchema)]
pub struct EntryInput {
    /// One of the producer's active offers (409 `unknown_reference` when
    /// it names none). Read as text so every bad entry is named at once.
    #[schema(schema_with = crate::api::schema::id)]
    offer_id: String,
    /// Price override incl. VAT; absent or null = the offer's own price.
    #[serde(default, with = "crate::domain::decimal::string_option")]
    #[schema(schema_with = crate::api::schema::money_or_null)]
    price: Option<Decimal>,
}

/// A producer or market named in another document.
#[derive(Serialize, ToSchema, Clone)]
pub struct Ref {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct EntryView {
    offer_id: Uuid,
    product_id: Uuid,
    product_name: String,
    label: String,
    #[serde(with = "crate::domain::decimal::string")]
    #[schema(value_type = String)]
    quantity: Decimal,
    unit: String,
    /// Effective price incl. VAT: the override, else the offer's price.
    #[schema(value_type = String)]
    price: Money,
    #[schema(value_type = String)]
    offer_price: Money,
    #[schema(value_type = Option<String>)]
    price_override: Option<Money>,
    /// false when the product or offer was deactivated: not sold.
    active: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogView {
    id: Uuid,
    producer_id: Uuid,
    code: String,
    share_link: String,
    name: String,
    entries: Vec<EntryView>,
    /// The markets this catalog is linked to.
    markets: Vec<Ref>,
}

fn money(value: Decimal) -> Money {
    Money::from_non_negative(value)
}

impl From<CatalogEntryRecord> for EntryView {
    fn from(e: CatalogEntryRecord) -> Self {
        let price_override = e.price_override.map(money);
        Self {
            offer_id: e.offer_id,
            product_id: e.product_id,
            product_name: e.product_name,
            label: e.label,
            quantity: e.quantity,
            unit: e.unit,
            price: price_override.unwrap_or_else(|| money(e.offer_price)),
            offer_price: money(e.offer_price),
            price_override,
            active: e.active,
        }
    }
}

/// Full views of catalogs: entries and linked markets, in three queries.
async fn catalog_views(
    state: &AppState,
    catalogs: Vec<CatalogRecord>,
) -> Result<Vec<CatalogView>, ApiError> {
    let ids: Vec<Uuid> = catalogs.iter().map(|c| c.id).collect();
    let mut entries: HashMap<Uuid, Vec<EntryView>> = HashMap::new();
    for e in state.store.catalog_entries(&ids).await? {
        entries.entry(e.catalog_id).or_default().push(e.into());
    }
    let mut markets: HashMap<Uuid, Vec<Ref>> = HashMap::new();
    for m in state.store.catalogs_markets(&ids).await? {
        markets.entry(m.catalog_id).or_default().push(Ref {
            id: m.id,
            name: m.name,
        });
    }
    Ok(catalogs
        .into_iter()
        .map(|c| CatalogView {
            id: c.id,
            producer_id: c.producer_id,
            share_link: share_link(&c.code),
            code: c.code,
            name: c.name,
            entries: entries.remove(&c.id).unwrap_or_default(),
            markets: markets.remove(&c.id).unwrap_or_default(),
        })
        .collect())
}

async fn catalog_view(state: &AppState, catalog: CatalogRecord) -> Result<CatalogView, ApiError> {
    catalog_views(state, vec![catalog])
        .await?
        .pop()
        .ok_or_else(ApiError::internal)
}

/// Validates a catalog document for `producer_id`: name and every entry.
async fn parse_catalog(
    state: &AppState,
    producer_id: Uuid,
    input: &CatalogInput,
) -> Result<(Name, Vec<NewEntry>), ApiError> {
    let mut check = Collect::default();
    let name = check.field(Name::parse(&input.name, "name"));
    if input.entries.len() > MAX_ENTRIES {
        check.push(FieldError::new(
            "entries",
            format!("at most {MAX_ENTRIES} entries"),
        ));
        return Err(check.into_error());
    }
    let mut first_seen: HashMap<Uuid, usize> = HashMap::new();
    let mut entries = Vec::with_capacity(input.entries.len());
    for (i, raw) in input.entries.iter().enumerate() {
        let at = |field: &str| format!("entries[{i}].{field}");
        let offer_id = crate::api::json::parse_id(&raw.offer_id);
        if offer_id.is_none() {
            check.push(FieldError::new(
                at("offer_id"),
                crate::api::json::NOT_A_VALID_ID,
            ));
        }
        if let Some(id) = offer_id {
            if let Some(j) = first_seen.insert(id, i) {
                first_seen.insert(id, j);
                check.push(FieldError::new(
                    at("offer_id"),
                    format!("this offer is already at entries[{j}]"),
                ));
            }
        }
        let price = match raw.price {
            None => Some(None),
            Some(p) => check.field(Money::parse(p, &at("price"))).map(Some),
        };
        if let (Some(offer_id), Some(price)) = (offer_id, price) {
            entries.push((
                i,
                NewEntry {
                    offer_id,
                    price_override: price.map(Decimal::from),
                },
            ));
        }
    }
    let ids: Vec<Uuid> = entries.iter().map(|(_, e)| e.offer_id).collect();
    let owners: HashMap<Uuid, _> = state
        .store
        .offer_owners(&ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    // An id that names none of the producer's offers is not a malformed
    // field but a reference to nothing: 404 once the rest is valid.
    let mut unknown = Vec::new();
    for (i, entry) in &entries {
        let field = format!("entries[{i}].offer_id");
        match owners.get(&entry.offer_id) {
            None => unknown.push(FieldError::new(field, "no offer has this id")),
            Some(o) if o.producer_id != producer_id => unknown.push(FieldError::new(
                field,
                "this offer belongs to another producer",
            )),
            Some(o) if !o.active => check.push(FieldError::new(
                field,
                "this offer or its product is not active",
            )),
            Some(_) => {}
        }
    }
    match name {
        Some(name) if check.is_ok() && unknown.is_empty() => {
            Ok((name, entries.into_iter().map(|(_, e)| e).collect()))
        }
        Some(_) if check.is_ok() => Err(ApiError::names_nothing_all(unknown)),
        // With other invalid fields, every one is named in the one 422.
        _ => {
            unknown.into_iter().for_each(|e| check.push(e));
            Err(check.into_error())
        }
    }
}

fn saving_error(e: DbError) -> ApiError {
    match e {
        DbError::Conflict(_) => {
            ApiError::conflict("the offers changed while the catalog was saved; try again")
        }
        other => other.into(),
    }
}

/// Loads a catalog or answers 404.
pub async fn existing_catalog(state: &AppState, id: Uuid) -> Result<CatalogRecord, ApiError> {
    state
        .store
        .catalog(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no catalog with this id"))
}

/// Creates a catalog (producer members); it gets a fresh random code.
#[utoipa::path(tag = "catalogs", request_body = CatalogInput,
    responses((status = 201, body = CatalogView), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[post("/producers/{id}/catalogs")]
#[tracing::instrument(name = "create_catalog", skip_all, fields(producer = %path))]
pub async fn create_catalog(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<CatalogInput>,
) -> Result<HttpResponse, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_member(producer_id)?;
    let (name, entries) = parse_catalog(&state, producer_id, &body).await?;
    let catalog = state
        .store
        .create_catalog(producer_id, name.as_str(), &entries)
        .await
        .map_err(saving_error)?;
    Ok(HttpResponse::Created().json(catalog_view(&state, catalog).await?))
}

/// A producer's catalogs with their entries and markets (producer members).
#[utoipa::path(tag = "catalogs",
    responses((status = 200, body = [CatalogView]), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/producers/{id}/catalogs")]
#[tracing::instrument(name = "list_catalogs", skip_all, fields(producer = %path))]
pub async fn list_catalogs(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<CatalogView>>, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_member(producer_id)?;
    let catalogs = state.store.producer_catalogs(producer_id).await?;
    Ok(web::Json(catalog_views(&state, catalogs).await?))
}

/// One catalog with its entries and markets (members of its producer).
#[utoipa::path(tag = "catalogs",
    responses((status = 200, body = CatalogView), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/catalogs/{id}")]
#[tracing::instrument(name = "get_catalog", skip_all, fields(catalog = %path))]
pub async fn get_catalog(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<CatalogView>, ApiError> {
    let catalog = existing_catalog(&state, *path).await?;
    caller.require_producer_member(catalog.producer_id)?;
    Ok(web::Json(catalog_view(&state, catalog).await?))
}

/// Renames a catalog and replaces all its entries (members of its producer).
/// Open sales keep their frozen prices until the next sale or a forced sync.
#[utoipa::path(tag = "catalogs", request_body = CatalogInput,
    responses((status = 200, body = CatalogView), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[put("/catalogs/{id}")]
#[tracing::instrument(name = "replace_catalog", skip_all, fields(catalog = %path))]
pub async fn replace_catalog(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<CatalogInput>,
) -> Result<web::Json<CatalogView>, ApiError> {
    let catalog = existing_catalog(&state, *path).await?;
    caller.require_producer_member(catalog.producer_id)?;
    let (name, entries) = parse_catalog(&state, catalog.producer_id, &body).await?;
    let catalog = state
        .store
        .replace_catalog(catalog.id, name.as_str(), &entries)
        .await
        .map_err(saving_error)?
        .ok_or_else(|| ApiError::not_found("no catalog with this id"))?;
    Ok(web::Json(catalog_view(&state, catalog).await?))
}

/// Deletes a catalog (members of its producer); refused with 409
/// `catalog_has_orders` once orders were placed through it.
#[utoipa::path(tag = "catalogs",
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
#[delete("/catalogs/{id}")]
#[tracing::instrument(name = "delete_catalog", skip_all, fields(catalog = %path))]
pub async fn delete_catalog(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let catalog = existing_catalog(&state, *path).await?;
    caller.require_producer_member(catalog.producer_id)?;
    match state.store.delete_catalog(catalog.id).await? {
        CatalogDeletion::Deleted => Ok(HttpResponse::NoContent().finish()),
        CatalogDeletion::NotFound => Err(ApiError::not_found("no catalog with this id")),
        CatalogDeletion::HasOrders(n) => Err(ApiError::conflict_with(
            "catalog_has_orders",
            format!("{n} order(s) were placed through this catalog; it cannot be deleted"),
        )
        .with("orders", n.into())),
    }
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(share::catalog_by_code)
        .service(create_catalog)
        .service(list_catalogs)
        .service(get_catalog)
        .service(replace_catalog)
        .service(delete_catalog);
}
