//! Numbers written for French readers, in one place: `1 234,50 €`,
//! `1,537`, `5,5 %` — a decimal comma, and a narrow no-break space (U+202F)
//! between thousands and before `€` and `%`, so a line never breaks inside
//! an amount. The pages (`api::webapp::kit::fr`), the recaps printed or
//! mailed to producers use these; the shop's script spells money the same
//! way (`formatCents` in `web/common.js`). Machine formats (CSV, JSON)
//! keep the decimal point.

use rust_decimal::Decimal;

use super::money::{round_cents, Money};

/// Thousands separator (narrow no-break space).
const GROUP: char = '\u{202f}';
/// Before `€` and `%` (the same narrow no-break space).
const BEFORE_SIGN: char = '\u{202f}';

/// A decimal as written in French, without trailing zeros: `1 234,5`.
pub fn decimal(value: Decimal) -> String {
    spell(&value.normalize().to_string())
}

/// An amount in euros, always with cents: `1 234,50 €`.
pub fn money(value: Money) -> String {
    euros(value.into())
}

/// Any amount in euros (a computed one, negative too), rounded half-up to
/// the cent: `-3,00 €`.
pub fn euros(amount: Decimal) -> String {
    format!(
        "{}{BEFORE_SIGN}€",
        spell(&format!("{:.2}", round_cents(amount)))
    )
}

/// A percentage: `5,5 %`.
pub fn percent(value: Decimal) -> String {
    format!("{}{BEFORE_SIGN}%", decimal(value))
}

/// `-1234.50` → `-1 234,50` (the point becomes a comma, the integer part
/// is grouped by three digits).
fn spell(text: &str) -> String {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (integer, fraction) = match digits.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (digits, None),
    };
    let mut out = String::with_capacity(text.len() + 8);
    if negative {
        out.push('-');
    }
    let count = integer.chars().count();
    for (i, c) in integer.chars().enumerate() {
        if i > 0 && (count - i) % 3 == 0 {
            out.push(GROUP);
        }
        out.push(c);
    }
    if let Some(fraction) = fraction {
        out.push(',');
        out.push_str(fraction);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn as_money(value: Decimal) -> String {
        money(Money::parse(value, "amount").unwrap())
    }

    #[test]
    fn money_has_a_comma_cents_and_a_non_breaking_euro() {
        assert_eq!(as_money(dec!(20)), "20,00\u{202f}€");
        assert_eq!(as_money(dec!(2.5)), "2,50\u{202f}€");
        assert_eq!(as_money(dec!(0)), "0,00\u{202f}€");
        assert_eq!(as_money(dec!(0.05)), "0,05\u{202f}€");
    }

    #[test]
    fn thousands_are_grouped_by_narrow_spaces() {
        assert_eq!(as_money(dec!(1234.5)), "1\u{202f}234,50\u{202f}€");
        assert_eq!(as_money(dec!(999)), "999,00\u{202f}€");
        assert_eq!(as_money(dec!(1000)), "1\u{202f}000,00\u{202f}€");
        assert_eq!(
            as_money(dec!(999999999.99)),
            "999\u{202f}999\u{202f}999,99\u{202f}€"
        );
    }

    #[test]
    fn quantities_and_percentages_drop_trailing_zeros() {
        assert_eq!(decimal(dec!(1.537)), "1,537");
        assert_eq!(decimal(dec!(2.500)), "2,5");
        assert_eq!(decimal(dec!(3)), "3");
        assert_eq!(decimal(dec!(12500)), "12\u{202f}500");
        assert_eq!(decimal(dec!(-1.5)), "-1,5");
        assert_eq!(euros(dec!(-3)), "-3,00\u{202f}€");
        assert_eq!(euros(dec!(0.005)), "0,01\u{202f}€", "half-up to the cent");
        assert_eq!(percent(dec!(5.5)), "5,5\u{202f}%");
        assert_eq!(percent(dec!(20.00)), "20\u{202f}%");
    }
}
