//! Weekly series of distributions ("every Thursday 17:00–19:00").
//!
//! Occurrences repeat the first one's *local wall-clock* times in the
//! market's time zone, not its UTC instants: a Paris market at 17:00 stays at
//! 17:00 after the October change, i.e. 15:00 UTC then 16:00 UTC. Local times
//! that do not exist (spring-forward gap) move forward by the gap's length
//! (02:30 → 03:30); local times that happen twice (autumn fall-back) take the
//! earlier instant.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::error::FieldError;
use super::window::DistributionTimes;

/// Most occurrences one series may create (a year of weeks).
pub const MAX_OCCURRENCES: u32 = 52;

/// `count` weekly occurrences starting with `first` (included), keeping the
/// local times of `first` in `tz`. Errors name `count`, or
/// `occurrences[i].<field>` if a DST shift made occurrence `i` inconsistent.
pub fn weekly_series(
    first: &DistributionTimes,
    count: u32,
    tz: Tz,
) -> Result<Vec<DistributionTimes>, FieldError> {
    if !(1..=MAX_OCCURRENCES).contains(&count) {
        return Err(FieldError::new(
            "count",
            format!("must be between 1 and {MAX_OCCURRENCES}"),
        ));
    }
    let window = first.window();
    let locals = [
        first.starts_at(),
        first.ends_at(),
        window.opens_at(),
        window.closes_at(),
    ]
    .map(|t| t.with_timezone(&tz).naive_local());
    (0..count)
        .map(|week| {
            let shift = Duration::weeks(i64::from(week));
            let [starts, ends, opens, closes] = locals.map(|l| resolve_local(tz, l + shift));
            DistributionTimes::parse(starts, ends, opens, closes)
                .map_err(|e| e.at(&format!("occurrences[{week}]")))
        })
        .collect()
}

/// The instant showing `local` on clocks in `tz`: the earlier one when it
/// happens twice; when it never happens (a gap), the instant it would be
/// with the offset in force just before the gap, so 02:30 on a spring-forward
/// night becomes 03:30 and durations across the series are kept.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps last at most a few hours: a day before is safely outside.
            let before = tz
                .from_local_datetime(&(local - Duration::days(1)))
                .earliest()
                .map(|t| t.offset().fix())
                .unwrap_or_else(|| Utc.fix());
            (local - Duration::seconds(i64::from(before.local_minus_utc()))).and_utc()
        }
    }
}

/// A local date (`2026-12-10`) and time (`17:30`) in `tz`, as an instant
/// (see [`resolve_local`] for daylight-saving edges); `None` when either
/// does not read.
pub fn local_instant(date: &str, time: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let date = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let time = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M").ok()?;
    Some(resolve_local(tz, date.and_time(time)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, Timelike, Weekday};
    use chrono_tz::Europe::Paris;

    #[test]
    fn local_dates_and_times_are_read_in_the_zone() {
        // 17:30 in Paris in December is 16:30 UTC; in July 15:30 UTC.
        assert_eq!(
            local_instant("2026-12-10", "17:30", Paris),
            Some(paris(2026, 12, 10, 17, 30))
        );
        assert_eq!(
            local_instant(" 2026-07-10", "17:30 ", Paris).map(|t| t.hour()),
            Some(15)
        );
        assert_eq!(local_instant("10/12/2026", "17:30", Paris), None);
        assert_eq!(local_instant("2026-12-10", "25:00", Paris), None);
    }

    fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Paris
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn thursdays_keep_local_time_across_october_change() {
        // Thu 19 Oct 2023 17:00–19:00 Paris; orders Sun 08:00 → Tue 22:00.
        let first = DistributionTimes::parse(
            paris(2023, 10, 19, 17, 0),
            paris(2023, 10, 19, 19, 0),
            paris(2023, 10, 15, 8, 0),
            paris(2023, 10, 17, 22, 0),
        )
        .unwrap();
        let series = weekly_series(&first, 4, Paris).unwrap();
        assert_eq!(series.len(), 4);
        assert_eq!(series[0], first);
        for (i, occ) in series.iter().enumerate() {
            let start = occ.starts_at().with_timezone(&Paris);
            assert_eq!(start.weekday(), Weekday::Thu);
            assert_eq!((start.hour(), start.minute()), (17, 0), "occurrence {i}");
            assert_eq!(occ.ends_at().with_timezone(&Paris).hour(), 19);
            assert_eq!(occ.window().opens_at().with_timezone(&Paris).hour(), 8);
            assert_eq!(occ.window().closes_at().with_timezone(&Paris).hour(), 22);
        }
        // Summer time (UTC+2) then winter time (UTC+1).
        assert_eq!(series[1].starts_at(), utc(2023, 10, 26, 15, 0));
        assert_eq!(series[2].starts_at(), utc(2023, 11, 2, 16, 0));
        // The window of the 3rd occurrence opens on the very day of the change.
        assert_eq!(series[2].window().opens_at(), utc(2023, 10, 29, 7, 0));
        assert_eq!(series[3].starts_at(), utc(2023, 11, 9, 16, 0));
    }

    #[test]
    fn count_is_bounded() {
        let first = DistributionTimes::parse(
            utc(2023, 9, 7, 15, 0),
            utc(2023, 9, 7, 17, 0),
            utc(2023, 9, 1, 6, 0),
            utc(2023, 9, 5, 20, 0),
        )
        .unwrap();
        assert_eq!(weekly_series(&first, 0, Paris).unwrap_err().field, "count");
        assert_eq!(weekly_series(&first, 53, Paris).unwrap_err().field, "count");
        let year = weekly_series(&first, 52, Paris).unwrap();
        assert_eq!(year.len(), 52);
        assert_eq!(year[51].starts_at().with_timezone(&Paris).hour(), 17);
    }

    #[test]
    fn gaps_move_forward_and_repeats_take_the_earlier() {
        let naive = |d: u32, m: u32, h: u32, min: u32| {
            NaiveDate::from_ymd_opt(2023, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap()
        };
        // 26 Mar 2023 02:30 does not exist in Paris: 03:30 CEST.
        assert_eq!(
            resolve_local(Paris, naive(26, 3, 2, 30)),
            utc(2023, 3, 26, 1, 30)
        );
        // 29 Oct 2023 02:30 happens twice: the CEST one.
        assert_eq!(
            resolve_local(Paris, naive(29, 10, 2, 30)),
            utc(2023, 10, 29, 0, 30)
        );
        assert_eq!(
            resolve_local(Paris, naive(1, 7, 12, 0)),
            utc(2023, 7, 1, 10, 0)
        );
    }

    #[test]
    fn sunday_night_series_across_spring_gap() {
        // Orders close Sundays 02:30 local; the 26 Mar one falls in the gap.
        let first = DistributionTimes::parse(
            paris(2023, 3, 19, 9, 0),
            paris(2023, 3, 19, 12, 0),
            paris(2023, 3, 12, 8, 0),
            paris(2023, 3, 19, 2, 30),
        )
        .unwrap();
        let series = weekly_series(&first, 3, Paris).unwrap();
        assert_eq!(series[1].window().closes_at(), utc(2023, 3, 26, 1, 30));
        assert_eq!(series[1].starts_at(), utc(2023, 3, 26, 7, 0));
        assert_eq!(series[2].window().closes_at(), utc(2023, 4, 2, 0, 30));
    }
}
