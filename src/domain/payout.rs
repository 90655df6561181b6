//! When producers are paid, and what the platform keeps.
//!
//! From the guide: money from a distribution is *available* 3 days after the
//! market's referent validates it, and *paid* automatically on a Monday — the
//! first Monday on or after the availability date (validated Sat 9/09 →
//! available Tue 12/09 → paid Mon 18/09; validated Wed 6/09 → available Sat
//! 9/09 → paid Mon 11/09). Days are counted in the market's time zone: a
//! validation at 23:30 UTC in summer is already the next day in Paris.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use super::money::Money;
use super::percent::Percent;

/// Days between validation and availability ("délai incompressible").
pub const AVAILABILITY_DELAY_DAYS: u64 = 3;

/// `(available_on, paid_on)` for a distribution validated at `validated_at`,
/// as dates in the market's time zone `tz`.
pub fn payout_dates(validated_at: DateTime<Utc>, tz: Tz) -> (NaiveDate, NaiveDate) {
    let validated_on = validated_at.with_timezone(&tz).date_naive();
    let available_on = add_days(validated_on, AVAILABILITY_DELAY_DAYS);
    let to_monday = (7 - u64::from(available_on.weekday().num_days_from_monday())) % 7;
    (available_on, add_days(available_on, to_monday))
}

fn add_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// `(fee, net)`: the platform's fee on `gross` at `fee_rate`, rounded
/// half-up to the cent, and what is left for the producer (`gross − fee`).
pub fn platform_fee(gross: Money, fee_rate: Percent) -> (Money, Money) {
    let fee = Money::from_non_negative(gross.amount() * fee_rate.fraction());
    let net = gross.checked_sub(fee).unwrap_or(Money::ZERO);
    (fee, net)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Weekday};
    use chrono_tz::Europe::Paris;
    use rust_decimal_macros::dec;

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, m, d).unwrap()
    }

    fn paris(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Paris
            .with_ymd_and_hms(2023, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn guide_examples() {
        // Saturday 9/09 → Tuesday 12/09 → Monday 18/09.
        assert_eq!(
            payout_dates(paris(9, 9, 10, 0), Paris),
            (date(9, 12), date(9, 18))
        );
        // Wednesday 6/09 → Saturday 9/09 → Monday 11/09.
        assert_eq!(
            payout_dates(paris(9, 6, 20, 0), Paris),
            (date(9, 9), date(9, 11))
        );
    }

    #[test]
    fn other_weekdays() {
        // Friday 8/09 → Monday 11/09, paid that same Monday.
        assert_eq!(
            payout_dates(paris(9, 8, 12, 0), Paris),
            (date(9, 11), date(9, 11))
        );
        // Monday 11/09 → Thursday 14/09 → next Monday 18/09.
        assert_eq!(
            payout_dates(paris(9, 11, 9, 0), Paris),
            (date(9, 14), date(9, 18))
        );
        // Every paid date is a Monday, on or after availability.
        for day in 1..=30 {
            let (available, paid) = payout_dates(paris(9, day, 12, 0), Paris);
            assert_eq!(paid.weekday(), Weekday::Mon);
            assert!(paid >= available && (paid - available).num_days() < 7);
        }
    }

    #[test]
    fn days_are_local_to_the_market() {
        // Friday 8/09 23:30 UTC is Saturday 9/09 01:30 in Paris.
        assert_eq!(
            payout_dates(utc(9, 8, 23, 30), Paris),
            (date(9, 12), date(9, 18))
        );
        // Read in UTC it would still be Friday.
        assert_eq!(
            payout_dates(utc(9, 8, 23, 30), Tz::UTC),
            (date(9, 11), date(9, 11))
        );
    }

    #[test]
    fn around_daylight_saving_changes() {
        // Sat 28/10 22:30 UTC = Sun 29/10 00:30 CEST → Wed 1/11 → Mon 6/11.
        assert_eq!(
            payout_dates(utc(10, 28, 22, 30), Paris),
            (date(11, 1), date(11, 6))
        );
        // Sun 29/10 22:30 UTC = 23:30 CET, still Sunday after the change.
        assert_eq!(
            payout_dates(utc(10, 29, 22, 30), Paris),
            (date(11, 1), date(11, 6))
        );
        // Sun 29/10 23:30 UTC = Mon 30/10 00:30 CET → Thu 2/11 → Mon 6/11.
        assert_eq!(
            payout_dates(utc(10, 29, 23, 30), Paris),
            (date(11, 2), date(11, 6))
        );
        // Sat 25/03 23:30 UTC = Sun 26/03 00:30 CET → Wed 29/03 → Mon 3/04.
        assert_eq!(
            payout_dates(utc(3, 25, 23, 30), Paris),
            (date(3, 29), date(4, 3))
        );
        // Fri 24/03 22:30 UTC = 23:30 CET, still Friday → Mon 27/03.
        assert_eq!(
            payout_dates(utc(3, 24, 22, 30), Paris),
            (date(3, 27), date(3, 27))
        );
        // Thu 30/03 22:30 UTC = Fri 31/03 00:30 CEST → Mon 3/04.
        assert_eq!(
            payout_dates(utc(3, 30, 22, 30), Paris),
            (date(4, 3), date(4, 3))
        );
    }

    #[test]
    fn fees_round_half_up() {
        let money = |v| Money::parse(v, "m").unwrap();
        let rate = |v| Percent::parse(v, "fee").unwrap();
        let (fee, net) = platform_fee(money(dec!(100)), rate(dec!(1.75)));
        assert_eq!(
            (fee.to_string(), net.to_string()),
            ("1.75".into(), "98.25".into())
        );
        let (fee, net) = platform_fee(money(dec!(12.34)), rate(dec!(2.5)));
        assert_eq!(
            (fee.to_string(), net.to_string()),
            ("0.31".into(), "12.03".into())
        );
        let (fee, _) = platform_fee(money(dec!(0.10)), rate(dec!(5)));
        assert_eq!(fee.to_string(), "0.01");
        let (fee, net) = platform_fee(money(dec!(9.99)), rate(dec!(0)));
        assert_eq!((fee, net), (Money::ZERO, money(dec!(9.99))));
        let (fee, net) = platform_fee(money(dec!(9.99)), rate(dec!(100)));
        assert_eq!((fee, net), (money(dec!(9.99)), Money::ZERO));
    }
}
