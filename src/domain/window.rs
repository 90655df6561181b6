//! Order windows and distribution times.
//!
//! A sale is open from `orders_open_at` (included) to `orders_close_at`
//! (excluded): at the closing instant it is already closed, so "closes at
//! 18:00" refuses an order stamped 18:00:00.
//!
//! A distribution (market day) runs from `starts_at` to `ends_at`. Its
//! orders usually close before it starts (the guide's habit), but closing
//! later is allowed as long as it is no later than `ends_at` — a sale that
//! outlives its distribution could never be delivered. The same bound applies
//! to a participation's own window.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::FieldError;

/// Where a sale stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleStatus {
    /// Before `orders_open_at`.
    Upcoming,
    /// In `[orders_open_at, orders_close_at)`.
    Open,
    /// At or after `orders_close_at`.
    Closed,
}

impl SaleStatus {
    /// `"upcoming"`, `"open"` or `"closed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SaleStatus::Upcoming => "upcoming",
            SaleStatus::Open => "open",
            SaleStatus::Closed => "closed",
        }
    }
}

/// A validated order window: `opens_at < closes_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderWindow {
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
}

impl OrderWindow {
    /// Validates a window; errors name `orders_close_at`.
    pub fn parse(
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    ) -> Result<OrderWindow, FieldError> {
        if closes_at <= opens_at {
            return Err(FieldError::new(
                "orders_close_at",
                "must be after orders_open_at",
            ));
        }
        Ok(OrderWindow {
            opens_at,
            closes_at,
        })
    }

    /// When orders open (included).
    pub fn opens_at(&self) -> DateTime<Utc> {
        self.opens_at
    }

    /// When orders close (excluded).
    pub fn closes_at(&self) -> DateTime<Utc> {
        self.closes_at
    }

    /// The sale's status at `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> SaleStatus {
        if now < self.opens_at {
            SaleStatus::Upcoming
        } else if now < self.closes_at {
            SaleStatus::Open
        } else {
            SaleStatus::Closed
        }
    }
}

/// Validated times of a distribution and its default order window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DistributionTimes {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    window: OrderWindow,
}

impl DistributionTimes {
    /// Checks `starts_at < ends_at`, `orders_open_at < orders_close_at` and
    /// `orders_close_at ≤ ends_at`; errors name `ends_at` or `orders_close_at`.
    pub fn parse(
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        orders_open_at: DateTime<Utc>,
        orders_close_at: DateTime<Utc>,
    ) -> Result<DistributionTimes, FieldError> {
        if ends_at <= starts_at {
            return Err(FieldError::new("ends_at", "must be after starts_at"));
        }
        let times = DistributionTimes {
            starts_at,
            ends_at,
            window: OrderWindow::parse(orders_open_at, orders_close_at)?,
        };
        times.check_window(&times.window)?;
        Ok(times)
    }

    /// Whether `window` (e.g. a participation's override) fits this
    /// distribution: it must close no later than `ends_at`.
    pub fn check_window(&self, window: &OrderWindow) -> Result<(), FieldError> {
        if window.closes_at > self.ends_at {
            return Err(FieldError::new(
                "orders_close_at",
                "must not be after the distribution ends (ends_at)",
            ));
        }
        Ok(())
    }

    /// When the distribution starts.
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }

    /// When the distribution ends.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.ends_at
    }

    /// The default order window.
    pub fn window(&self) -> OrderWindow {
        self.window
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 9, d, h, 0, 0).unwrap()
    }

    #[test]
    fn window_must_close_after_it_opens() {
        assert!(OrderWindow::parse(at(1, 8), at(5, 18)).is_ok());
        for closes in [at(1, 8), at(1, 7)] {
            let e = OrderWindow::parse(at(1, 8), closes).unwrap_err();
            assert_eq!(e.field, "orders_close_at");
        }
    }

    #[test]
    fn status_boundaries() {
        let w = OrderWindow::parse(at(1, 8), at(5, 18)).unwrap();
        assert_eq!(w.status_at(at(1, 7)), SaleStatus::Upcoming);
        assert_eq!(w.status_at(at(1, 8)), SaleStatus::Open);
        assert_eq!(w.status_at(at(5, 17)), SaleStatus::Open);
        let just_before = at(5, 18) - chrono::Duration::nanoseconds(1);
        assert_eq!(w.status_at(just_before), SaleStatus::Open);
        assert_eq!(w.status_at(at(5, 18)), SaleStatus::Closed);
        assert_eq!(w.status_at(at(6, 0)), SaleStatus::Closed);
        assert_eq!(
            serde_json::to_string(&SaleStatus::Upcoming).unwrap(),
            r#""upcoming""#
        );
        assert_eq!(SaleStatus::Closed.as_str(), "closed");
    }

    #[test]
    fn distribution_times() {
        let t = DistributionTimes::parse(at(7, 17), at(7, 19), at(1, 8), at(5, 18)).unwrap();
        assert_eq!(t.starts_at(), at(7, 17));
        assert_eq!(t.ends_at(), at(7, 19));
        assert_eq!(t.window().closes_at(), at(5, 18));
        // Closing during the distribution, up to its end, is allowed.
        assert!(DistributionTimes::parse(at(7, 17), at(7, 19), at(1, 8), at(7, 19)).is_ok());
    }

    #[test]
    fn distribution_times_refusals_name_fields() {
        let field = |r: Result<DistributionTimes, FieldError>| r.unwrap_err().field;
        assert_eq!(
            field(DistributionTimes::parse(
                at(7, 19),
                at(7, 19),
                at(1, 8),
                at(5, 18)
            )),
            "ends_at"
        );
        assert_eq!(
            field(DistributionTimes::parse(
                at(7, 17),
                at(7, 19),
                at(5, 18),
                at(5, 18)
            )),
            "orders_close_at"
        );
        assert_eq!(
            field(DistributionTimes::parse(
                at(7, 17),
                at(7, 19),
                at(1, 8),
                at(7, 20)
            )),
            "orders_close_at"
        );
        let t = DistributionTimes::parse(at(7, 17), at(7, 19), at(1, 8), at(5, 18)).unwrap();
        let late = OrderWindow::parse(at(2, 8), at(8, 0)).unwrap();
        assert_eq!(t.check_window(&late).unwrap_err().field, "orders_close_at");
        assert!(t
            .check_window(&OrderWindow::parse(at(2, 8), at(6, 0)).unwrap())
            .is_ok());
    }
}
