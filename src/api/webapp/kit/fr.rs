//! Saying numbers and dates the French way on the pages: `2,50 €`,
//! `jeudi 12 décembre`, `17 h 30`, in the market's time zone.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::domain::french;

const WEEKDAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
/// `2.5` → `2,50 €`; `1234.5` → `1 234,50 €` (rounded half-up to the
/// cent): [`crate::domain::french`], the one place numbers are spelled.
pub fn money(amount: Decimal) -> String {
    french::euros(amount)
}

/// A quantity without useless zeros: `10.000` → `10`, `0.500` → `0,5`.
pub fn quantity(value: Decimal) -> String {
    french::decimal(value)
}

/// A percentage: `5.50` → `5,5 %`.
pub fn percent(value: Decimal) -> String {
    french::percent(value)
}

/// The zone of a market, Paris when it does not parse.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::Paris)
}

/// ISO weekday (Monday = 1) → `lundi` …
pub fn weekday(iso: i16) -> &'static str {
    usize::try_from(iso - 1)
        .ok()
        .and_then(|i| WEEKDAYS.get(i))
        .copied()
        .unwrap_or("")
}

/// `jeudi 12 décembre` (the year only when it is not `now`'s).
pub fn day(at: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&tz);
    let name = WEEKDAYS[local.weekday().num_days_from_monday() as usize];
    let month = MONTHS[local.month0() as usize];
    let first = if local.day() == 1 {
        "1er".to_owned()
    } else {
        local.day().to_string()
    };
    if local.year() == now.with_timezone(&tz).year() {
        format!("{name} {first} {month}")
    } else {
        format!("{name} {first} {month} {}", local.year())
    }
}

/// A calendar date: `mardi 12 septembre` (the year when not `now`'s).
pub fn date(d: chrono::NaiveDate, now: DateTime<Utc>) -> String {
    d.and_hms_opt(12, 0, 0)
        .map(|t| day(t.and_utc(), chrono_tz::UTC, now))
        .unwrap_or_default()
}

/// `17 h 30` (`17 h` on the hour).
pub fn time(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    if local.minute() == 0 {
        format!("{} h", local.hour())
    } else {
        format!("{} h {:02}", local.hour(), local.minute())
    }
}

/// `jeudi 12 décembre à 17 h 30`.
pub fn moment(at: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    format!("{} à {}", day(at, tz, now), time(at, tz))
}

/// `jeudi 12 décembre, 17 h – 19 h 30`.
pub fn span(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    format!(
        "{}, {} – {}",
        day(start, tz, now),
        time(start, tz),
        time(end, tz)
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn money_is_french() {
        assert_eq!(money(dec!(2.5)), "2,50\u{202f}€");
        assert_eq!(money(dec!(1234.5)), "1\u{202f}234,50\u{202f}€");
        assert_eq!(money(dec!(0.005)), "0,01\u{202f}€");
        assert_eq!(money(dec!(-3)), "-3,00\u{202f}€");
        assert_eq!(money(dec!(123456)), "123\u{202f}456,00\u{202f}€");
    }

    #[test]
    fn quantities_drop_useless_zeros() {
        assert_eq!(quantity(dec!(10.000)), "10");
        assert_eq!(quantity(dec!(0.500)), "0,5");
        assert_eq!(percent(dec!(5.50)), "5,5\u{202f}%");
    }

    #[test]
    fn dates_are_local_and_french() {
        let paris = zone("Europe/Paris");
        // 16:30 UTC in December is 17:30 in Paris.
        let at = Utc
            .with_ymd_and_hms(2026, 12, 10, 16, 30, 0)
            .single()
            .expect("date");
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("date");
        assert_eq!(moment(at, paris, now), "jeudi 10 décembre à 17 h 30");
        let end = at + chrono::Duration::minutes(90);
        assert_eq!(
            span(at, end, paris, now),
            "jeudi 10 décembre, 17 h 30 – 19 h"
        );
        let next_year = Utc
            .with_ymd_and_hms(2027, 1, 1, 12, 0, 0)
            .single()
            .expect("date");
        assert_eq!(day(next_year, paris, now), "vendredi 1er janvier 2027");
        assert_eq!(weekday(4), "jeudi");
        assert_eq!(weekday(0), "");
        assert_eq!(zone("nowhere"), chrono_tz::Europe::Paris);
    }
}
