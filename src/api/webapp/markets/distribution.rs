//! One distribution, for its market's admins: when and where, the
//! catalogs taking part with their orders, the printable sign-off list of
//! the whole day, cancelling it while it has no orders, and — once it has
//! ended — validating it (guide ch. 7): orders freeze and each producer's
//! payout appears with the date the money is available and paid.

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::{chrome, MarketTab};
use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, InMarket, NoFields, PageError, Posted};
use crate::domain::planning::DistributionStatus;
use crate::store::distributions::{CancelOutcome, DistributionRecord};
use crate::store::settlement::ValidateRefusal;

struct Participant {
    producer: String,
    catalog: String,
    orders: i64,
    total: String,
}

struct PayoutLine {
    producer: String,
    gross: String,
    fee: String,
    net: String,
    available_on: String,
    paid_on: String,
    offline: bool,
}

#[derive(Template)]
#[template(path = "marche/distribution.html")]
struct DistributionPage {
    chrome: Chrome,
    base: String,
    back: String,
    when: String,
    place: String,
    window: String,
    status: DistributionStatus,
    validated: Option<String>,
    participants: Vec<Participant>,
    orders: i64,
    total: String,
    payouts: Vec<PayoutLine>,
    online_payment: bool,
}

/// The distribution of the path, if it is this market's.
async fn load(
    state: &AppState,
    space: &InMarket,
    id: Uuid,
) -> Result<DistributionRecord, PageError> {
    state
        .store
        .distribution(id)
        .await?
        .filter(|d| d.market_id == space.market.id)
        .ok_or(PageError::NotFound)
}

fn base(space: &InMarket, id: Uuid) -> String {
    format!(
        "{}/distributions/{id}",
        MarketTab::Distributions.href(space.market.id)
    )
}

async fn page(
    state: web::Data<AppState>,
    space: InMarket,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let (_, id) = path.into_inner();
    let d = load(&state, &space, id).await?;
    let now = state.clock.now();
    let tz = fr::zone(&space.market.timezone);
    let participants: Vec<Participant> = state
        .store
        .distribution_participants(d.id)
        .await?
        .into_iter()
        .map(|p| Participant {
            producer: p.producer_name,
            catalog: p.catalog_name,
            orders: p.orders,
            total: fr::money(p.total),
        })
        .collect();
    let summary = state.store.distribution_summary(d.id).await?;
    let payouts = state
        .store
        .distribution_payouts(d.id)
        .await?
        .into_iter()
        .map(|p| PayoutLine {
            producer: p.producer_name,
            gross: fr::money(p.gross),
            fee: fr::money(p.fee),
            net: fr::money(p.net),
            available_on: p
                .available_on
                .map_or_else(String::new, |x| fr::date(x, now)),
            paid_on: p.paid_on.map_or_else(String::new, |x| fr::date(x, now)),
            offline: p.status == "offline",
        })
        .collect();
    space.visitor.page(&DistributionPage {
        chrome: chrome(&space, "Distribution", MarketTab::Distributions),
        base: base(&space, d.id),
        back: MarketTab::Distributions.href(space.market.id),
        when: fr::span(d.starts_at, d.ends_at, tz, now),
        place: d
            .place
            .clone()
            .unwrap_or_else(|| space.market.address.clone()),
        window: format!(
            "du {} au {}",
            fr::moment(d.orders_open_at, tz, now),
            fr::moment(d.orders_close_at, tz, now)
        ),
        status: d.status(now),
        validated: d.validated_at.map(|at| fr::moment(at, tz, now)),
        orders: summary.as_ref().map_or(0, |s| s.orders),
        total: fr::money(summary.map_or(rust_decimal::Decimal::ZERO, |s| s.total)),
        participants,
        payouts,
        online_payment: space.market.online_payment,
    })
}

async fn validate(
    state: web::Data<AppState>,
    space: InMarket,
    path: web::Path<(Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (_, id) = path.into_inner();
    let d = load(&state, &space, id).await?;
    let now = state.clock.now();
    let message = match state
        .store
        .validate_distribution(d.id, space.caller.account_id, now)
        .await?
    {
        Ok(payouts) => {
            state.engine.reload_distribution(d.id);
            if space.market.online_payment {
                format!(
                    "Distribution validée : {} versement{} programmé{}.",
                    payouts.len(),
                    if payouts.len() > 1 { "s" } else { "" },
                    if payouts.len() > 1 { "s" } else { "" }
                )
            } else {
                "Distribution validée. Le paiement se règle directement avec les producteurs."
                    .to_owned()
            }
        }
        Err(ValidateRefusal::Unknown) => return Err(PageError::NotFound),
        Err(ValidateRefusal::Cancelled) => {
            "Cette distribution a été annulée : elle ne se valide pas.".to_owned()
        }
        Err(ValidateRefusal::AlreadyValidated(_)) => {
            "Cette distribution est déjà validée.".to_owned()
        }
        Err(ValidateRefusal::NotEnded(_)) => {
            "Une distribution se valide une fois terminée.".to_owned()
        }
    };
    Ok(space.visitor.redirect_with(&base(&space, d.id), &message))
}

async fn cancel(
    state: web::Data<AppState>,
    space: InMarket,
    path: web::Path<(Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (_, id) = path.into_inner();
    let d = load(&state, &space, id).await?;
    let now = state.clock.now();
    let message = match state.store.cancel_distribution(d.id, now).await? {
        Some(CancelOutcome::Cancelled(_)) => {
            state.engine.reload_distribution(d.id);
            "Distribution annulée.".to_owned()
        }
        Some(CancelOutcome::HasOrders(n)) => format!(
            "Cette distribution a {n} commande{} : elle ne peut pas être annulée.",
            if n > 1 { "s" } else { "" }
        ),
        Some(CancelOutcome::NotUpcoming(_)) => {
            "Seule une distribution à venir peut être annulée.".to_owned()
        }
        None => return Err(PageError::NotFound),
    };
    Ok(space.visitor.redirect_with(&base(&space, d.id), &message))
}

/// Registers a distribution's page and its actions.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let at = "/mes-marches/{market_id}/distributions/{distribution_id}";
    cfg.route(at, web::get().to(page))
        .route(&format!("{at}/valider"), web::post().to(validate))
        .route(&format!("{at}/annuler"), web::post().to(cancel));
}
