//! VAT: rates, the excl./incl. split of a price, and per-rate recaps.
//!
//! Prices are entered VAT included (the guide's offers: "2,50 € TTC"), so the
//! excluded part is derived: `excl = round(incl ÷ (1 + rate))` and
//! `vat = incl − excl`, which keeps `excl + vat == incl` to the cent.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::FieldError;
use super::money::Money;
use super::percent::Percent;

/// A producer's VAT rate in percent (`5.5`, `20`), `0..=100`, ≤ 2 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VatRate(Percent);

impl VatRate {
    /// Validates a rate given in percent.
    pub fn parse(value: Decimal, field: &str) -> Result<VatRate, FieldError> {
        Percent::parse(value, field).map(VatRate)
    }

    /// Parses text such as `"5.5"`.
    pub fn parse_str(value: &str, field: &str) -> Result<VatRate, FieldError> {
        Percent::parse_str(value, field).map(VatRate)
    }

    /// The rate in percent (`5.5`).
    pub fn percent(self) -> Decimal {
        self.0.value()
    }
}

impl fmt::Display for VatRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The VAT-excluded part of a VAT-included price, rounded half-up to cents.
pub fn price_excl_vat(price_incl: Money, rate: VatRate) -> Money {
    let divisor = Decimal::ONE_HUNDRED + rate.percent();
    Money::from_non_negative(price_incl.amount() * Decimal::ONE_HUNDRED / divisor)
}

/// The VAT part of a VAT-included price: `incl − excl`.
pub fn vat_amount(price_incl: Money, rate: VatRate) -> Money {
    price_incl
        .checked_sub(price_excl_vat(price_incl, rate))
        .unwrap_or(Money::ZERO)
}

/// One row of a VAT recap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VatLine {
    pub rate: VatRate,
    pub incl: Money,
    pub excl: Money,
    pub vat: Money,
}

/// Totals of a VAT recap across every rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VatTotals {
    pub incl: Money,
    pub excl: Money,
    pub vat: Money,
}

/// Accumulates VAT-included amounts per rate for recaps.
///
/// The split is computed once per rate on the accumulated total (not per
/// line and then summed), as on an invoice, so a recap's VAT does not drift
/// by a cent per line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VatBreakdown {
    incl_by_rate: BTreeMap<VatRate, Money>,
}

impl VatBreakdown {
    /// An empty recap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a VAT-included amount sold at `rate`.
    pub fn add(&mut self, rate: VatRate, incl: Money) {
        let entry = self.incl_by_rate.entry(rate).or_insert(Money::ZERO);
        *entry = *entry + incl;
    }

    /// One row per rate, lowest rate first.
    pub fn lines(&self) -> Vec<VatLine> {
        self.incl_by_rate
            .iter()
            .map(|(&rate, &incl)| VatLine {
                rate,
                incl,
                excl: price_excl_vat(incl, rate),
                vat: vat_amount(incl, rate),
            })
            .collect()
    }

    /// Sum of the rows.
    pub fn totals(&self) -> VatTotals {
        let lines = self.lines();
        VatTotals {
            incl: lines.iter().map(|l| l.incl).sum(),
            excl: lines.iter().map(|l| l.excl).sum(),
            vat: lines.iter().map(|l| l.vat).sum(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn money(v: Decimal) -> Money {
        Money::parse(v, "m").unwrap()
    }

    fn rate(v: Decimal) -> VatRate {
        VatRate::parse(v, "rate").unwrap()
    }

    #[test]
    fn splits_a_price() {
        let incl = money(dec!(2.50));
        assert_eq!(price_excl_vat(incl, rate(dec!(5.5))).to_string(), "2.37");
        assert_eq!(vat_amount(incl, rate(dec!(5.5))).to_string(), "0.13");
        assert_eq!(
            price_excl_vat(money(dec!(20)), rate(dec!(20))).to_string(),
            "16.67"
        );
        assert_eq!(
            vat_amount(money(dec!(20)), rate(dec!(20))).to_string(),
            "3.33"
        );
        assert_eq!(
            price_excl_vat(money(dec!(12)), rate(dec!(0))).to_string(),
            "12.00"
        );
        assert_eq!(vat_amount(money(dec!(12)), rate(dec!(0))), Money::ZERO);
        assert_eq!(price_excl_vat(Money::ZERO, rate(dec!(20))), Money::ZERO);
    }

    #[test]
    fn rate_parsing_names_the_field() {
        assert_eq!(VatRate::parse(dec!(120), "rate").unwrap_err().field, "rate");
        assert_eq!(
            VatRate::parse_str("5.50", "rate").unwrap().to_string(),
            "5.5"
        );
        let r: VatRate = serde_json::from_str(r#""5.5""#).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), r#""5.5""#);
    }

    #[test]
    fn breakdown_per_rate() {
        let mut b = VatBreakdown::new();
        assert_eq!(b.totals().incl, Money::ZERO);
        b.add(rate(dec!(20)), money(dec!(20)));
        b.add(rate(dec!(5.5)), money(dec!(2.50)));
        b.add(rate(dec!(5.5)), money(dec!(2.50)));
        b.add(rate(dec!(5.50)), money(dec!(5)));
        let lines = b.lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].rate, rate(dec!(5.5)));
        assert_eq!(lines[0].incl.to_string(), "10.00");
        assert_eq!(lines[0].excl.to_string(), "9.48");
        assert_eq!(lines[0].vat.to_string(), "0.52");
        assert_eq!(lines[1].excl.to_string(), "16.67");
        let t = b.totals();
        assert_eq!(t.incl.to_string(), "30.00");
        assert_eq!(t.excl.to_string(), "26.15");
        assert_eq!(t.vat.to_string(), "3.85");
        assert_eq!(t.excl + t.vat, t.incl);
    }
}
