//! The demo's market days: a sale open *now* and one coming next week, on
//! every start. Time comes from the engine's clock (so tests drive it).
//!
//! - **Open**: any demo distribution whose default order window contains
//!   now is kept. Otherwise a fresh one is created at the Croix-Rousse, on
//!   its usual day (Thursday) at least two days away, 17:00–19:30: the
//!   window opened an hour ago and closes the evening before at 20:00
//!   (Paris time). Every producer takes
//!   part, and two customers place their orders through the engine
//!   (`Engine::change_order`, exactly like `POST …/orders`), so stock,
//!   order numbers and the shop are coherent. Orders are placed only in a
//!   distribution created by this run: what users did in an existing sale
//!   (cancelled an order, ordered more) is never redone.
//! - **Upcoming**: any demo distribution whose window opens later is kept;
//!   otherwise one is created at Villeurbanne on the first Saturday at
//!   least a week away, 9:00–12:00, orders from the Monday before at 8:00
//!   to the Thursday at 20:00.
//!
//! A kept distribution without any participation (a run cut short) gets
//! every demo catalog of its market.

use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::build::Setup;
use super::data;
use super::DemoError;
use crate::domain::market::parse_timezone;
use crate::domain::quantity::Quantity;
use crate::domain::sale::{OrderChange, RequestedLine, SaleRefusal};
use crate::domain::window::{DistributionTimes, SaleStatus};
use crate::engine::error::OrderError;
use crate::engine::ordering::Customer;
use crate::engine::Engine;
use crate::store::distributions::DistributionRecord;
use crate::store::participations::NewParticipation;

/// Index of the market of the open sale (Croix-Rousse) in `data::MARKETS`.
const OPEN_MARKET: usize = 0;
/// Index of the market of the upcoming one (Villeurbanne).
const UPCOMING_MARKET: usize = 1;

/// A demo distribution and the index of its market in `data::MARKETS`.
#[derive(Debug, Clone)]
pub struct DemoDistribution {
    pub market: usize,
    pub record: DistributionRecord,
    /// Created by this run (`false`: found from an earlier one).
    pub created: bool,
}

/// The two distributions the demo shows.
#[derive(Debug, Clone)]
pub struct Sales {
    pub open: DemoDistribution,
    pub upcoming: DemoDistribution,
}

/// Finds or creates the open and the upcoming distribution.
pub async fn ensure(engine: &Engine, setup: &Setup) -> Result<Sales, DemoError> {
    let store = engine.store();
    let now = engine.clock().now();
    let mut planned = Vec::new();
    for (index, market) in setup.markets.iter().enumerate() {
        for record in store
            .market_distributions(market.id, now, None, false, 500)
            .await?
        {
            planned.push(DemoDistribution {
                market: index,
                record,
                created: false,
            });
        }
    }
    let status = |d: &DemoDistribution| match d.record.times() {
        Ok(times) => Some(times.window().status_at(now)),
        Err(_) => None,
    };
    let open = match planned.iter().find(|d| status(d) == Some(SaleStatus::Open)) {
        Some(found) => found.clone(),
        None => {
            let weekday = data::MARKETS
                .get(OPEN_MARKET)
                .map(|m| m.weekday)
                .ok_or_else(|| DemoError::Data("the open sale's market is missing".into()))?;
            create(engine, setup, OPEN_MARKET, open_times(now, weekday)?).await?
        }
    };
    let upcoming = match planned
        .iter()
        .find(|d| status(d) == Some(SaleStatus::Upcoming))
    {
        Some(found) => found.clone(),
        None => create(engine, setup, UPCOMING_MARKET, upcoming_times(now)?).await?,
    };
    for distribution in [&open, &upcoming] {
        ensure_participations(engine, setup, distribution).await?;
    }
    if open.created {
        place_orders(engine, setup, open.record.id).await?;
    }
    Ok(Sales { open, upcoming })
}

fn paris() -> Result<Tz, DemoError> {
    Ok(parse_timezone(
        crate::domain::market::DEFAULT_TIMEZONE,
        "timezone",
    )?)
}

/// `date` at `hour:minute`, Paris time.
fn at(zone: Tz, date: NaiveDate, hour: u32, minute: u32) -> Result<DateTime<Utc>, DemoError> {
    let time = NaiveTime::from_hms_opt(hour, minute, 0)
        .ok_or_else(|| DemoError::Data(format!("no time {hour}:{minute}")))?;
    zone.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| DemoError::Data(format!("{date} {time} does not exist in {zone}")))
}

fn days(date: NaiveDate, n: i64) -> NaiveDate {
    date + Duration::days(n)
}

/// The market's usual day at least two days away (so the sale closing the
/// evening before stays open at least until tomorrow evening), 17:00–19:30;
/// orders opened an hour ago.
fn open_times(now: DateTime<Utc>, weekday: i16) -> Result<DistributionTimes, DemoError> {
    let zone = paris()?;
    let mut day = days(now.with_timezone(&zone).date_naive(), 2);
    while i16::try_from(day.weekday().number_from_monday()).ok() != Some(weekday) {
        day = days(day, 1);
    }
    let hour_ago = now - Duration::hours(1);
    let opens = hour_ago
        .duration_trunc(Duration::minutes(1))
        .unwrap_or(hour_ago);
    let closes = at(zone, days(day, -1), 20, 0)?;
    let starts = at(zone, day, 17, 0)?;
    let ends = at(zone, day, 19, 30)?;
    Ok(DistributionTimes::parse(starts, ends, opens, closes)?)
}

/// The first Saturday at least a week away; orders Monday 8:00 → Thursday 20:00.
fn upcoming_times(now: DateTime<Utc>) -> Result<DistributionTimes, DemoError> {
    let zone = paris()?;
    let mut day = days(now.with_timezone(&zone).date_naive(), 7);
    while day.weekday() != chrono::Weekday::Sat {
        day = days(day, 1);
    }
    let starts = at(zone, day, 9, 0)?;
    let ends = at(zone, day, 12, 0)?;
    let opens = at(zone, days(day, -5), 8, 0)?;
    let closes = at(zone, days(day, -2), 20, 0)?;
    Ok(DistributionTimes::parse(starts, ends, opens, closes)?)
}

async fn create(
    engine: &Engine,
    setup: &Setup,
    market: usize,
    times: DistributionTimes,
) -> Result<DemoDistribution, DemoError> {
    let market_id = setup
        .markets
        .get(market)
        .map(|m| m.id)
        .ok_or_else(|| DemoError::Data("a demo market is missing".into()))?;
    let record = engine
        .store()
        .create_distributions(market_id, None, &[times], None)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| DemoError::Data("no distribution was created".into()))?;
    Ok(DemoDistribution {
        market,
        record,
        created: true,
    })
}

/// Every demo catalog of its market takes part, unless some already do.
async fn ensure_participations(
    engine: &Engine,
    setup: &Setup,
    distribution: &DemoDistribution,
) -> Result<(), DemoError> {
    let store = engine.store();
    let id = distribution.record.id;
    if !store.distribution_participations(id).await?.is_empty() {
        return Ok(());
    }
    let items: Vec<NewParticipation> = setup
        .producers
        .iter()
        .filter_map(|p| p.catalogs.get(distribution.market))
        .map(|catalog| NewParticipation {
            distribution_id: id,
            catalog_id: *catalog,
            opens_override: None,
            closes_override: None,
        })
        .collect();
    store.create_participations(&items).await?;
    engine.reload_distribution(id);
    Ok(())
}

/// The demo customers' orders, through the engine like `POST …/orders`.
async fn place_orders(engine: &Engine, setup: &Setup, distribution: Uuid) -> Result<(), DemoError> {
    for (customer, lines) in data::ORDERS {
        let account = setup
            .customers
            .get(customer)
            .ok_or_else(|| DemoError::Data("a demo customer is missing".into()))?;
        let mut requested = Vec::new();
        for (product, label, quantity) in lines {
            let offer_id = setup.offer(product, label).ok_or_else(|| {
                DemoError::Data(format!("no demo offer `{label}` of `{product}`"))
            })?;
            let quantity: Decimal = Quantity::parse_str(quantity, "quantity")?.value();
            requested.push(RequestedLine { offer_id, quantity });
        }
        let who = Customer {
            id: account.id,
            name: account.name.to_owned(),
        };
        order(engine, distribution, who, requested).await?;
    }
    Ok(())
}

/// One order, retried a few times when the engine asks to (busy, reloading).
async fn order(
    engine: &Engine,
    distribution: Uuid,
    customer: Customer,
    lines: Vec<RequestedLine>,
) -> Result<(), DemoError> {
    const ATTEMPTS: u32 = 5;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let change = OrderChange::Add(lines.clone());
        match engine
            .change_order(distribution, customer.clone(), change, None)
            .await
        {
            Ok(_) => return Ok(()),
            Err(
                OrderError::Overloaded
                | OrderError::Unavailable
                | OrderError::Refused(SaleRefusal::Retry | SaleRefusal::Busy),
            ) if attempt < ATTEMPTS => {
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                    .await;
            }
            Err(refused) => {
                return Err(DemoError::Order(format!(
                    "{}'s order was refused: {refused:?}",
                    customer.name
                )))
            }
        }
    }
}
