//! A producer's products (page PRODUITS): list, create, read, replace.
//! Members of the producer only. Setting `active: false` takes every offer
//! of the product out of every catalog in the same transaction; the answer
//! says how many catalog entries went (`removed_from_catalogs`).
//!
//! Booleans may be omitted: `organic`, `variable_price` and `multi_weight`
//! default to false, `active` to true, and `fractional` (bulk: customers
//! may order 1.5 kg, real stock may be 12.5) to `variable_price` unless the
//! product is multi-weight (units weighed one by one are whole units).

use actix_web::{get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::producers::existing_producer;
use super::schema;
use super::state::AppState;
use super::validate::Collect;
use crate::api::json::Json;
use crate::domain::offer::{photo_url, ProductSpec, SaleFlags};
use crate::domain::text::{LongText, Name, ShortText};
use crate::store::products::ProductRecord;

fn yes() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
pub struct ProductInput {
    #[schema(schema_with = schema::name)]
    name: String,
    /// The product's unit ("kg", "pièce", "botte").
    #[schema(schema_with = schema::line32)]
    unit: String,
    #[schema(schema_with = schema::line100)]
    category: String,
    #[serde(default)]
    organic: bool,
    /// "prix variable selon pesée": the price follows the weighed weight.
    #[serde(default)]
    variable_price: bool,
    /// "multi-pesée": each unit is weighed on its own; needs `variable_price`.
    #[serde(default)]
    multi_weight: bool,
    #[serde(default = "yes")]
    active: bool,
    /// Fractional quantities and stock allowed (bulk); default `variable_price && !multi_weight`.
    #[serde(default)]
    fractional: Option<bool>,
    #[serde(default)]
    #[schema(schema_with = schema::text2000)]
    description: Option<String>,
    /// An absolute `http(s)://` URL; blank or `null` for none.
    #[serde(default)]
    #[schema(schema_with = schema::photo_url)]
    photo_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductView {
    id: Uuid,
    producer_id: Uuid,
    name: String,
    description: Option<String>,
    category: String,
    unit: String,
    organic: bool,
    photo_url: Option<String>,
    active: bool,
    variable_price: bool,
    multi_weight: bool,
    fractional: bool,
}

impl From<ProductRecord> for ProductView {
    fn from(p: ProductRecord) -> Self {
        Self {
            id: p.id,
            producer_id: p.producer_id,
            name: p.name,
            description: p.description,
            category: p.category,
            unit: p.unit,
            organic: p.organic,
            photo_url: p.photo_url,
            active: p.active,
            variable_price: p.variable_price,
            multi_weight: p.multi_weight,
            fractional: p.fractional,
        }
    }
}

/// The product after a replace, and what deactivating it removed.
#[derive(Serialize, ToSchema)]
pub struct ProductUpdateView {
    #[serde(flatten)]
    product: ProductView,
    /// Catalog entries of its offers removed (non-zero only when inactive).
    removed_from_catalogs: u64,
}

fn parse_product(input: &ProductInput) -> Result<ProductSpec, ApiError> {
    let mut check = Collect::default();
    let name = check.field(Name::parse(&input.name, "name"));
    let unit = check.field(ShortText::parse(&input.unit, "unit", 32));
    let category = check.field(ShortText::parse(&input.category, "category", 100));
    let description = match input.description.as_deref() {
        None => None,
        Some(text) => check
            .field(LongText::parse(text, "description", 2000))
            .filter(|d| !d.is_empty()),
    };
    let photo = match input.photo_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) => check.field(photo_url(url, "photo_url")),
    };
    let flags = match SaleFlags::parse(input.variable_price, input.multi_weight, input.fractional) {
        Ok(flags) => Some(flags),
        Err(errors) => {
            errors.into_iter().for_each(|e| check.push(e));
            None
        }
    };
    match (name, unit, category, flags) {
        (Some(name), Some(unit), Some(category), Some(flags)) if check.is_ok() => Ok(ProductSpec {
            name,
            unit,
            category,
            description,
            photo_url: photo,
            organic: input.organic,
            active: input.active,
            flags,
        }),
        _ => Err(check.into_error()),
    }
}

/// Loads a product the caller may manage: 404 if unknown, 403 if the caller
/// is not a member of its producer.
pub async fn managed_product(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<ProductRecord, ApiError> {
    let product = state
        .store
        .product(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no product with this id"))?;
    caller.require_producer_member(product.producer_id)?;
    Ok(product)
}

/// Every product of the producer, active or not (members only).
#[utoipa::path(tag = "products",
    responses((status = 200, body = [ProductView]), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/producers/{id}/products")]
#[tracing::instrument(name = "list_products", skip_all, fields(producer = %path))]
pub async fn list_products(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<Vec<ProductView>>, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_member(producer_id)?;
    let products = state.store.products(producer_id).await?;
    Ok(web::Json(products.into_iter().map(Into::into).collect()))
}

/// Creates a product (members only). It needs at least one offer to be sold.
#[utoipa::path(tag = "products", request_body = ProductInput,
    responses((status = 201, body = ProductView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[post("/producers/{id}/products")]
#[tracing::instrument(name = "create_product", skip_all, fields(producer = %path))]
pub async fn create_product(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<ProductInput>,
) -> Result<HttpResponse, ApiError> {
    let producer_id = *path;
    existing_producer(&state, producer_id).await?;
    caller.require_producer_member(producer_id)?;
    let spec = parse_product(&body)?;
    let product = state.store.create_product(producer_id, &spec).await?;
    Ok(HttpResponse::Created().json(ProductView::from(product)))
}

/// One product (members only).
#[utoipa::path(tag = "products",
    responses((status = 200, body = ProductView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[get("/products/{id}")]
#[tracing::instrument(name = "get_product", skip_all, fields(product = %path))]
pub async fn get_product(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<web::Json<ProductView>, ApiError> {
    Ok(web::Json(
        managed_product(&state, &caller, *path).await?.into(),
    ))
}

/// Replaces the product's editable fields. With `active: false` its offers
/// leave every catalog at once (`removed_from_catalogs` says how many
/// entries); reactivating does not put them back.
#[utoipa::path(tag = "products", request_body = ProductInput,
    responses((status = 200, body = ProductUpdateView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[put("/products/{id}")]
#[tracing::instrument(name = "update_product", skip_all, fields(product = %path))]
pub async fn update_product(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<ProductInput>,
) -> Result<web::Json<ProductUpdateView>, ApiError> {
    let id = *path;
    managed_product(&state, &caller, id).await?;
    let spec = parse_product(&body)?;
    let (product, removed) = state
        .store
        .update_product(id, &spec)
        .await?
        .ok_or_else(|| ApiError::not_found("no product with this id"))?;
    Ok(web::Json(ProductUpdateView {
        product: product.into(),
        removed_from_catalogs: removed,
    }))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_products)
        .service(create_product)
        .service(get_product)
        .service(update_product);
}
