//! Recaps of orders (guide ch. 7, "Préparer les commandes"):
//!
//! - `GET /distributions/{id}/recap` — the market's admins see the whole
//!   distribution; a producer's member passes `?producer_id=` and sees only
//!   that producer's lines;
//! - `GET /producers/{id}/recap?distribution_ids=…|date=…[&catalog_ids=…]`
//!   — one recap across several catalogs and markets of the same day.
//!
//! `view=product` (what to prepare) or `customer` (order numbers, lines);
//! `format=json`, `csv`, or `html` (printable: the order form by product,
//! or the sign-off list by customer with a signature column).

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::Caller;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::market::parse_timezone;
use crate::domain::recap::render::{
    orders_csv, products_csv, products_html, signoff_html, Heading,
};
use crate::domain::recap::Recap;
use crate::store::recaps::{RecapDistribution, RecapScope};

/// Most distributions in one recap.
const MAX_DISTRIBUTIONS: usize = 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Product,
    Customer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Html,
}

fn parse_view(value: Option<&str>) -> Result<View, ApiError> {
    match value.unwrap_or("product") {
        "product" => Ok(View::Product),
        "customer" => Ok(View::Customer),
        _ => Err(ApiError::invalid_field(
            "view",
            "must be `product` or `customer`",
        )),
    }
}

fn parse_format(value: Option<&str>) -> Result<Format, ApiError> {
    match value.unwrap_or("json") {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        "html" => Ok(Format::Html),
        _ => Err(ApiError::invalid_field(
            "format",
            "must be `json`, `csv` or `html`",
        )),
    }
}

/// Comma-separated ids, each checked, named by the field.
fn parse_ids(value: &str, field: &str) -> Result<Vec<Uuid>, ApiError> {
    let mut ids = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id: Uuid = part
            .parse()
            .map_err(|_| ApiError::invalid_field(field, format!("`{part}` is not an id")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(ApiError::invalid_field(field, "must list at least one id"));
    }
    if ids.len() > MAX_DISTRIBUTIONS {
        return Err(ApiError::invalid_field(
            field,
            format!("at most {MAX_DISTRIBUTIONS} ids"),
        ));
    }
    Ok(ids)
}

fn describe(d: &RecapDistribution) -> String {
    let tz = parse_timezone(&d.timezone, "timezone").unwrap_or(chrono_tz::Tz::UTC);
    format!(
        "{} — {} — distribution du {}",
        d.market_name,
        d.place,
        d.starts_at.with_timezone(&tz).format("%d/%m/%Y %H:%M")
    )
}

/// Answers a recap in the asked view and format.
fn answer(
    recap: &Recap,
    distributions: &[RecapDistribution],
    title: String,
    view: View,
    format: Format,
) -> HttpResponse {
    let heading = Heading {
        title,
        details: distributions.iter().map(describe).collect(),
    };
    let name = match view {
        View::Product => "products",
        View::Customer => "customers",
    };
    match format {
        Format::Json => {
            let listed = match view {
                View::Product => json!({"products": recap.products}),
                View::Customer => json!({"orders": recap.orders}),
            };
            let mut body = json!({
                "title": heading.title,
                "view": if view == View::Product { "product" } else { "customer" },
                "distributions": distributions.iter().map(|d| json!({
                    "id": d.id, "market_id": d.market_id, "market_name": d.market_name,
                    "place": d.place, "starts_at": d.starts_at, "ends_at": d.ends_at,
                    "delivered_at": d.delivered_at, "validated_at": d.validated_at,
                })).collect::<Vec<_>>(),
                "vat": recap.vat,
                "totals": recap.totals,
            });
            if let (Some(body), Some(listed)) = (body.as_object_mut(), listed.as_object()) {
                body.extend(listed.clone());
            }
            HttpResponse::Ok().json(body)
        }
        Format::Csv => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"recap-{name}.csv\""),
            ))
            .body(match view {
                View::Product => products_csv(recap),
                View::Customer => orders_csv(recap),
            }),
        Format::Html => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(match view {
                View::Product => products_html(recap, &heading),
                View::Customer => signoff_html(recap, &heading),
            }),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DistributionRecapQuery {
    /// `product` (default) or `customer`.
    #[param(schema_with = crate::api::schema::recap_view)]
    view: Option<String>,
    /// `json` (default), `csv` or `html`.
    #[param(schema_with = crate::api::schema::recap_format)]
    format: Option<String>,
    /// Only this producer's lines (required unless the caller is a market admin).
    producer_id: Option<Uuid>,
}

/// A distribution's recap: whole for the market's admins, one producer's
/// lines for that producer's members (`?producer_id=`).
#[utoipa::path(tag = "recaps", params(DistributionRecapQuery),
    responses((status = 200, description = "JSON, CSV or HTML per `format`"),
        (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[get("/distributions/{id}/recap")]
#[tracing::instrument(name = "distribution_recap", skip_all, fields(distribution = %path))]
pub async fn distribution_recap(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<DistributionRecapQuery>,
) -> Result<HttpResponse, ApiError> {
    let view = parse_view(query.view.as_deref())?;
    let format = parse_format(query.format.as_deref())?;
    let distributions = state.store.recap_distributions(&[*path]).await?;
    let Some(distribution) = distributions.first() else {
        return Err(ApiError::not_found("no distribution with this id"));
    };
    let admin = caller.is_market_admin(distribution.market_id);
    let mut title = format!("Commandes — {}", distribution.market_name);
    if let Some(producer_id) = query.producer_id {
        if !admin && caller.producer_role(producer_id).is_none() {
            return Err(ApiError::forbidden(
                "only the producer's members and the market's admins see these lines",
            ));
        }
        if let Some(producer) = state.store.producer(producer_id).await? {
            title = format!("{} — {title}", producer.name);
        }
    } else if !admin {
        return Err(ApiError::forbidden(
            "only the market's admins see the whole distribution; producers pass `producer_id`",
        ));
    }
    let scope = RecapScope {
        distribution_ids: vec![distribution.id],
        producer_id: query.producer_id,
        catalog_ids: None,
    };
    let recap = Recap::build(&state.store.recap_lines(&scope).await?);
    Ok(answer(&recap, &distributions, title, view, format))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProducerRecapQuery {
    /// Comma-separated distribution ids …
    #[param(schema_with = crate::api::schema::id_list)]
    distribution_ids: Option<String>,
    /// … or a local date (`2023-09-09`): every distribution of the producer that day.
    #[param(schema_with = crate::api::schema::date)]
    date: Option<String>,
    /// Comma-separated ids of this producer's catalogs (default: all).
    #[param(schema_with = crate::api::schema::id_list)]
    catalog_ids: Option<String>,
    #[param(schema_with = crate::api::schema::recap_view)]
    view: Option<String>,
    #[param(schema_with = crate::api::schema::recap_format)]
    format: Option<String>,
}

/// One recap of a producer's lines across several distributions (markets
/// of the same day) and catalogs.
#[utoipa::path(tag = "recaps", params(ProducerRecapQuery),
    responses((status = 200, description = "JSON, CSV or HTML per `format`"),
        (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[get("/producers/{id}/recap")]
#[tracing::instrument(name = "producer_recap", skip_all, fields(producer = %path))]
pub async fn producer_recap(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<ProducerRecapQuery>,
) -> Result<HttpResponse, ApiError> {
    let producer_id = *path;
    caller.require_producer_member(producer_id)?;
    let view = parse_view(query.view.as_deref())?;
    let format = parse_format(query.format.as_deref())?;
    let ids = match (&query.distribution_ids, &query.date) {
        (Some(ids), None) => parse_ids(ids, "distribution_ids")?,
        (None, Some(date)) => {
            let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| ApiError::invalid_field("date", "must be a date like 2023-09-09"))?;
            state
                .store
                .producer_distributions_on(producer_id, date)
                .await?
        }
        _ => {
            return Err(ApiError::invalid_field(
                "distribution_ids",
                "give either `distribution_ids` or `date`",
            ))
        }
    };
    let distributions = state.store.recap_distributions(&ids).await?;
    if distributions.len() != ids.len() {
        return Err(ApiError::invalid_field(
            "distribution_ids",
            "lists a distribution that does not exist",
        ));
    }
    let catalog_ids = match &query.catalog_ids {
        None => None,
        Some(raw) => {
            let ids = parse_ids(raw, "catalog_ids")?;
            if state
                .store
                .catalogs_of_producer(producer_id, &ids)
                .await?
                .len()
                != ids.len()
            {
                return Err(ApiError::invalid_field(
                    "catalog_ids",
                    "lists a catalog that is not this producer's",
                ));
            }
            Some(ids)
        }
    };
    let scope = RecapScope {
        distribution_ids: ids,
        producer_id: Some(producer_id),
        catalog_ids,
    };
    let recap = Recap::build(&state.store.recap_lines(&scope).await?);
    let name = state
        .store
        .producer(producer_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    Ok(answer(
        &recap,
        &distributions,
        format!("{name} — commandes"),
        view,
        format,
    ))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(distribution_recap).service(producer_recap);
}
