//! The producers' directory of markets ("Voir tous les marchés"): markets
//! nearest first from a point, optionally of one usual weekday and within a
//! radius, each with the producers present, its number of customers and
//! its admins' names (to contact them).
//!
//! Distances are computed in Rust (`geo::nearest`) after loading the
//! candidate markets of the weekday (a few thousand rows at most for a
//! regional network); they are kilometres as a JSON number rounded to 0.1
//! (not money, so no decimal string).

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::PlaceView;
use crate::api::catalogs::Ref;
use crate::api::problem::ApiError;
use crate::api::state::AppState;
use crate::domain::geo::{nearest, Coordinates};
use crate::domain::market::{round_km, DirectorySearch, Weekday};
use crate::store::markets::MarketRecord;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Latitude of the starting point.
    #[param(value_type = f64, minimum = -90, maximum = 90, example = 45.77)]
    lat: String,
    /// Longitude of the starting point.
    #[param(value_type = f64, minimum = -180, maximum = 180, example = 4.83)]
    lng: String,
    /// Only markets whose usual day is this one (1..7 or a day name).
    #[param(schema_with = crate::api::schema::weekday)]
    weekday: Option<String>,
    /// Only markets within this many kilometres.
    #[param(schema_with = crate::api::schema::radius_km)]
    radius_km: Option<String>,
    /// At most this many markets (default 20).
    #[param(schema_with = crate::api::schema::limit)]
    limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryEntry {
    id: Uuid,
    name: String,
    place: PlaceView,
    usual_weekday: Option<i16>,
    online_payment: bool,
    /// Great-circle distance from the point, km, rounded to 0.1.
    distance_km: f64,
    /// Distinct producers of the catalogs linked to the market.
    producers: Vec<Ref>,
    /// Distinct customers who have a confirmed order in its distributions.
    customers: i64,
    /// Names of the market's admins, to contact them.
    admins: Vec<String>,
}

/// Markets nearest first from a point, optionally of one usual weekday and
/// within a radius, with the producers present and their customer count.
#[utoipa::path(tag = "markets", params(DirectoryQuery),
    responses((status = 200, body = [DirectoryEntry]), (status = 422)))]
#[get("/directory/markets")]
#[tracing::instrument(name = "market_directory", skip_all)]
pub async fn directory(
    state: web::Data<AppState>,
    query: web::Query<DirectoryQuery>,
) -> Result<web::Json<Vec<DirectoryEntry>>, ApiError> {
    let q = query.into_inner();
    let search = DirectorySearch::parse(
        Some(q.lat.as_str()),
        Some(q.lng.as_str()),
        q.weekday.as_deref(),
        q.radius_km.as_deref(),
        q.limit.as_deref(),
    )?;
    let candidates = state
        .store
        .markets_on_weekday(search.weekday.map(Weekday::iso))
        .await?;
    let mut candidates = candidates;
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    let mut found: Vec<(f64, MarketRecord)> = nearest(
        search.from,
        candidates,
        |m| Coordinates::parse(m.lat, m.lng).ok(),
        search.radius_km,
    );
    found.truncate(search.limit);

    let ids: Vec<Uuid> = found.iter().map(|(_, m)| m.id).collect();
    let mut facts = state.store.market_facts(&ids).await?;
    Ok(web::Json(
        found
            .into_iter()
            .map(|(distance, m)| DirectoryEntry {
                producers: facts
                    .get(&m.id)
                    .map(|f| {
                        f.producers
                            .iter()
                            .map(|(id, name)| Ref {
                                id: *id,
                                name: name.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                customers: facts.get(&m.id).map_or(0, |f| f.customers),
                admins: facts.remove(&m.id).map(|f| f.admins).unwrap_or_default(),
                distance_km: round_km(distance),
                id: m.id,
                name: m.name,
                place: PlaceView {
                    address: m.address,
                    lat: m.lat,
                    lng: m.lng,
                },
                usual_weekday: m.usual_weekday,
                online_payment: m.online_payment,
            })
            .collect(),
    ))
}
