//! Bulk participation (the guide's check boxes + "+ Participer"): one
//! catalog in many distributions, or a list of (distribution, catalog)
//! items, each with an optional custom window. All or nothing: every
//! problem of every item is named in one 422 and nothing is created.

use std::collections::HashSet;

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{check_items, insert_error, parse_uuid, ParticipationView, Refusal};
use crate::api::auth::Caller;
use crate::api::distributions::distribution_changed;
use crate::api::json::Json;
use crate::api::problem::ApiError;
use crate::api::producers::existing_producer;
use crate::api::state::AppState;
use crate::api::validate::Collect;
use crate::domain::error::FieldError;
use crate::domain::planning::parse_optional_instant;
use crate::store::participations::NewParticipation;

/// Most participations one bulk request may create.
const BULK_MAX: usize = 200;

#[derive(Deserialize, ToSchema)]
pub struct BulkItemInput {
    distribution_id: Option<String>,
    catalog_id: Option<String>,
    #[schema(schema_with = crate::api::schema::date_time_or_null)]
    orders_open_at: Option<String>,
    #[schema(schema_with = crate::api::schema::date_time_or_null)]
    orders_close_at: Option<String>,
}

/// Either one catalog in many distributions, or a list of items.
#[derive(Deserialize, ToSchema)]
pub struct BulkInput {
    catalog_id: Option<String>,
    distribution_ids: Option<Vec<String>>,
    #[schema(schema_with = crate::api::schema::date_time_or_null)]
    orders_open_at: Option<String>,
    #[schema(schema_with = crate::api::schema::date_time_or_null)]
    orders_close_at: Option<String>,
    items: Option<Vec<BulkItemInput>>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkView {
    participations: Vec<ParticipationView>,
}

/// Which form a bulk request used; it decides how an item's error is named.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BulkShape {
    /// `{catalog_id, distribution_ids, orders_open_at?, orders_close_at?}`
    OneCatalog,
    /// `{items: [{distribution_id, catalog_id, orders_open_at?, orders_close_at?}]}`
    Items,
}

impl BulkShape {
    /// Names item `i`'s error as the client wrote it.
    fn name(self, i: usize, e: FieldError) -> FieldError {
        match self {
            BulkShape::Items => e.at(&format!("items[{i}]")),
            BulkShape::OneCatalog => match e.field.as_str() {
                "distribution_id" => FieldError::new(format!("distribution_ids[{i}]"), e.reason),
                "catalog_id" => FieldError::new(
                    format!("distribution_ids[{i}]"),
                    format!("catalog_id {}", e.reason),
                ),
                _ => FieldError::new(e.field, format!("for distribution_ids[{i}]: {}", e.reason)),
            },
        }
    }
}

/// Reads optional window bounds, naming them under `at`.
fn parse_window(
    check: &mut Collect,
    open: Option<&str>,
    close: Option<&str>,
    at: &str,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let o = check.field(parse_optional_instant(open, "orders_open_at").map_err(|e| e.at(at)));
    let c = check.field(parse_optional_instant(close, "orders_close_at").map_err(|e| e.at(at)));
    (o.flatten(), c.flatten())
}

/// Parses a bulk body into items, naming every bad field.
fn parse_bulk(body: &BulkInput) -> Result<(Vec<NewParticipation>, BulkShape), ApiError> {
    let mut check = Collect::default();
    let mut items = Vec::new();
    if let Some(list) = &body.items {
        for (field, present) in [
            ("catalog_id", body.catalog_id.is_some()),
            ("distribution_ids", body.distribution_ids.is_some()),
            ("orders_open_at", body.orders_open_at.is_some()),
            ("orders_close_at", body.orders_close_at.is_some()),
        ] {
            if present {
                check.push(FieldError::new(
                    field,
                    "give it in each of items, not beside them",
                ));
            }
        }
        check_count(&mut check, "items", list.len());
        for (i, item) in list.iter().enumerate() {
            let at = format!("items[{i}]");
            let d = check.field(
                parse_uuid(item.distribution_id.as_deref(), "distribution_id")
                    .map_err(|e| e.at(&at)),
            );
            let c = check
                .field(parse_uuid(item.catalog_id.as_deref(), "catalog_id").map_err(|e| e.at(&at)));
            let (opens, closes) = parse_window(
                &mut check,
                item.orders_open_at.as_deref(),
                item.orders_close_at.as_deref(),
                &at,
            );
            if let (Some(distribution_id), Some(catalog_id)) = (d, c) {
                items.push(NewParticipation {
                    distribution_id,
                    catalog_id,
                    opens_override: opens,
                    closes_override: closes,
                });
            }
        }
        check.finish()?;
        return Ok((items, BulkShape::Items));
    }
    let catalog_id = check.field(parse_uuid(body.catalog_id.as_deref(), "catalog_id"));
    let (opens, closes) = parse_window(
        &mut check,
        body.orders_open_at.as_deref(),
        body.orders_close_at.as_deref(),
        "",
    );
    let ids = body.distribution_ids.as_deref().unwrap_or_default();
    if body.distribution_ids.is_none() {
        check.push(FieldError::new(
            "distribution_ids",
            "is required (or send items: [{distribution_id, catalog_id}])",
        ));
    } else {
        check_count(&mut check, "distribution_ids", ids.len());
    }
    for (i, raw) in ids.iter().enumerate() {
        let field = format!("distribution_ids[{i}]");
        let distribution_id = check.field(parse_uuid(Some(raw), &field));
        if let (Some(distribution_id), Some(catalog_id)) = (distribution_id, catalog_id) {
            items.push(NewParticipation {
                distribution_id,
                catalog_id,
                opens_override: opens,
                closes_override: closes,
            });
        }
    }
    check.finish()?;
    Ok((items, BulkShape::OneCatalog))
}

fn check_count(check: &mut Collect, field: &str, n: usize) {
    if n == 0 {
        check.push(FieldError::new(field, "must not be empty"));
    } else if n > BULK_MAX {
        check.push(FieldError::new(
            field,
            format!("must hold at most {BULK_MAX}"),
        ));
    }
}

/// Takes part in many distributions at once (member): all or nothing.
#[utoipa::path(tag = "participations", request_body = BulkInput,
    responses((status = 201, body = BulkView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[post("/producers/{id}/participations")]
#[tracing::instrument(name = "bulk_participate", skip_all, fields(producer = %path))]
pub async fn bulk_participate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Json<BulkInput>,
) -> Result<HttpResponse, ApiError> {
    let producer = existing_producer(&state, *path).await?;
    caller.require_producer_member(producer.id)?;
    let (items, shape) = parse_bulk(&body)?;
    let mut catalog_ids: Vec<Uuid> = items.iter().map(|i| i.catalog_id).collect();
    catalog_ids.sort();
    catalog_ids.dedup();
    let own: HashSet<Uuid> = state
        .store
        .planning_catalogs(&catalog_ids)
        .await?
        .into_iter()
        .filter(|c| c.producer_id == producer.id)
        .map(|c| c.id)
        .collect();
    const NOT_OWN: &str = "is not a catalog of this producer";
    if shape == BulkShape::OneCatalog && catalog_ids.iter().any(|c| !own.contains(c)) {
        return Err(ApiError::names_nothing("catalog_id", NOT_OWN));
    }
    let now = state.clock.now();
    let mut errors: Vec<(usize, FieldError)> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| !own.contains(&item.catalog_id))
        .map(|(i, _)| (i, FieldError::new("catalog_id", NOT_OWN)))
        .collect();
    for (i, refusal) in check_items(&state, &items, now).await? {
        if errors.iter().any(|(j, _)| *j == i) {
            continue;
        }
        let e = match refusal {
            Refusal::Invalid(e) => e,
            Refusal::NotUpcoming(status) => FieldError::new(
                "distribution_id",
                format!(
                    "is {}; only upcoming distributions can be joined",
                    status.as_str()
                ),
            ),
            Refusal::AlreadyParticipates => FieldError::new(
                "distribution_id",
                "this catalog already takes part in this distribution",
            ),
        };
        errors.push((i, e));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|(i, _)| *i);
        let named = errors.into_iter().map(|(i, e)| shape.name(i, e)).collect();
        return Err(ApiError::invalid_fields(named));
    }
    let created = state
        .store
        .create_participations(&items)
        .await
        .map_err(insert_error)?;
    let mut touched: Vec<Uuid> = created.iter().map(|p| p.distribution_id).collect();
    touched.sort();
    touched.dedup();
    for distribution_id in touched {
        distribution_changed(&state, distribution_id);
    }
    Ok(HttpResponse::Created().json(BulkView {
        participations: created
            .into_iter()
            .map(|p| ParticipationView::new(p, now))
            .collect(),
    }))
}
