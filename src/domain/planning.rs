//! Planning rules: where a distribution stands (upcoming, ended, cancelled,
//! validated), how many weeks a series may repeat, reading instants typed by
//! clients, and a participation's *effective* order window (its own override
//! of either bound, or else the distribution's default).
//!
//! Kept pure so the API (planning, dashboard) and the ordering engine (sale
//! opening and closing) apply exactly the same window arithmetic.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::FieldError;
use super::schedule::MAX_OCCURRENCES;
use super::window::{DistributionTimes, OrderWindow, SaleStatus};

/// Where a distribution (market day) stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributionStatus {
    /// Not cancelled and `ends_at` still in the future: it can be edited,
    /// cancelled, and catalogs can join it.
    Upcoming,
    /// `ends_at` has passed (not cancelled, not validated yet).
    Ended,
    /// The market's referent validated it (payouts follow).
    Validated,
    /// Cancelled by a market admin.
    Cancelled,
}

impl DistributionStatus {
    /// The status of a distribution ending at `ends_at`, at `now`.
    pub fn of(
        ends_at: DateTime<Utc>,
        cancelled_at: Option<DateTime<Utc>>,
        validated_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> DistributionStatus {
        if cancelled_at.is_some() {
            DistributionStatus::Cancelled
        } else if validated_at.is_some() {
            DistributionStatus::Validated
        } else if now < ends_at {
            DistributionStatus::Upcoming
        } else {
            DistributionStatus::Ended
        }
    }

    /// `"upcoming"`, `"ended"`, `"validated"` or `"cancelled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DistributionStatus::Upcoming => "upcoming",
            DistributionStatus::Ended => "ended",
            DistributionStatus::Validated => "validated",
            DistributionStatus::Cancelled => "cancelled",
        }
    }

    /// Whether it may still be edited, cancelled or joined.
    pub fn is_upcoming(self) -> bool {
        self == DistributionStatus::Upcoming
    }
}

/// Reads an RFC 3339 instant with an offset (`2027-09-16T17:00:00+02:00`);
/// `None` (field absent) is refused as required.
pub fn parse_instant(raw: Option<&str>, field: &str) -> Result<DateTime<Utc>, FieldError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| FieldError::new(field, "is required"))?;
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            FieldError::new(
                field,
                "must be an RFC 3339 date-time with an offset, e.g. 2027-09-16T17:00:00+02:00",
            )
        })
}

/// Like [`parse_instant`], for an optional field: absent or null → `None`.
pub fn parse_optional_instant(
    raw: Option<&str>,
    field: &str,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    match raw {
        None => Ok(None),
        Some(_) => parse_instant(raw, field).map(Some),
    }
}

/// Number of weeks of a series (`repeat.weekly`): 1..=52.
pub fn weekly_count(value: i64) -> Result<u32, FieldError> {
    u32::try_from(value)
        .ok()
        .filter(|n| (1..=MAX_OCCURRENCES).contains(n))
        .ok_or_else(|| {
            FieldError::new(
                "repeat.weekly",
                format!("must be between 1 and {MAX_OCCURRENCES}"),
            )
        })
}

/// A participation's effective window: each bound is its override when set,
/// else the distribution's default. It must open before it closes and close
/// no later than the distribution ends; errors name `orders_open_at` or
/// `orders_close_at`.
pub fn effective_window(
    times: &DistributionTimes,
    opens_override: Option<DateTime<Utc>>,
    closes_override: Option<DateTime<Utc>>,
) -> Result<OrderWindow, FieldError> {
    let default = times.window();
    let opens = opens_override.unwrap_or(default.opens_at());
    let closes = closes_override.unwrap_or(default.closes_at());
    let window = OrderWindow::parse(opens, closes).map_err(|e| match closes_override {
        // Only the opening was overridden: that is what the client got wrong.
        None if opens_override.is_some() => FieldError::new(
            "orders_open_at",
            "must be before the distribution's orders_close_at",
        ),
        _ => e,
    })?;
    times.check_window(&window)?;
    Ok(window)
}

/// Status of a sale open in `[opens_at, closes_at)` at `now`; a degenerate
/// window (which the schema and the parsers prevent) counts as closed.
pub fn sale_status(
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> SaleStatus {
    OrderWindow::parse(opens_at, closes_at)
        .map(|w| w.status_at(now))
        .unwrap_or(SaleStatus::Closed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 9, d, h, 0, 0).unwrap()
    }

    fn times() -> DistributionTimes {
        DistributionTimes::parse(at(16, 15), at(16, 17), at(10, 6), at(14, 20)).unwrap()
    }

    #[test]
    fn distribution_status() {
        let s = |c, v, now| DistributionStatus::of(at(16, 17), c, v, now);
        assert_eq!(s(None, None, at(16, 16)), DistributionStatus::Upcoming);
        assert_eq!(s(None, None, at(16, 17)), DistributionStatus::Ended);
        assert_eq!(
            s(None, Some(at(16, 18)), at(17, 0)),
            DistributionStatus::Validated
        );
        assert_eq!(
            s(Some(at(1, 0)), None, at(1, 0)),
            DistributionStatus::Cancelled
        );
        assert!(DistributionStatus::Upcoming.is_upcoming());
        assert_eq!(DistributionStatus::Cancelled.as_str(), "cancelled");
    }

    #[test]
    fn instants() {
        assert_eq!(
            parse_instant(Some("2027-09-16T17:00:00+02:00"), "starts_at").unwrap(),
            at(16, 15)
        );
        assert_eq!(
            parse_instant(None, "starts_at").unwrap_err().reason,
            "is required"
        );
        assert_eq!(
            parse_instant(Some("2027-09-16 17:00"), "ends_at")
                .unwrap_err()
                .field,
            "ends_at"
        );
        assert_eq!(parse_optional_instant(None, "x").unwrap(), None);
        assert!(parse_optional_instant(Some("nope"), "x").is_err());
    }

    #[test]
    fn weekly_counts() {
        assert_eq!(weekly_count(1).unwrap(), 1);
        assert_eq!(weekly_count(52).unwrap(), 52);
        for bad in [0, 53, -1, i64::MAX] {
            assert_eq!(weekly_count(bad).unwrap_err().field, "repeat.weekly");
        }
    }

    #[test]
    fn effective_windows() {
        let t = times();
        assert_eq!(effective_window(&t, None, None).unwrap(), t.window());
        let w = effective_window(&t, Some(at(3, 6)), None).unwrap();
        assert_eq!((w.opens_at(), w.closes_at()), (at(3, 6), at(14, 20)));
        let w = effective_window(&t, None, Some(at(15, 12))).unwrap();
        assert_eq!((w.opens_at(), w.closes_at()), (at(10, 6), at(15, 12)));
        // Opening override after the default close.
        let e = effective_window(&t, Some(at(15, 0)), None).unwrap_err();
        assert_eq!(e.field, "orders_open_at");
        // Both overrides, inverted.
        let e = effective_window(&t, Some(at(12, 0)), Some(at(11, 0))).unwrap_err();
        assert_eq!(e.field, "orders_close_at");
        // Closing after the distribution ends.
        let e = effective_window(&t, None, Some(at(16, 18))).unwrap_err();
        assert_eq!(e.field, "orders_close_at");
    }

    #[test]
    fn sale_statuses() {
        assert_eq!(sale_status(at(1, 0), at(2, 0), at(1, 12)), SaleStatus::Open);
        assert_eq!(
            sale_status(at(2, 0), at(1, 0), at(1, 12)),
            SaleStatus::Closed
        );
        let before = at(1, 0) - chrono::Duration::hours(1);
        assert_eq!(
            sale_status(at(1, 0), at(2, 0), before),
            SaleStatus::Upcoming
        );
    }
}
