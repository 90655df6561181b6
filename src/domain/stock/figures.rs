//! An offer's stock figures as shown to producers (the stock page, their
//! live feed) and, clamped, to customers.

use rust_decimal::Decimal;

/// Tracked or not, real, ordered (undelivered and in flight), held (baskets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StockFigures {
    pub tracked: bool,
    pub real: Decimal,
    pub ordered: Decimal,
    pub held: Decimal,
}

impl StockFigures {
    /// Figures read from the database: nothing held (holds live in memory).
    pub fn stored(tracked: bool, real: Decimal, ordered: Decimal) -> Self {
        Self {
            tracked,
            real,
            ordered,
            held: Decimal::ZERO,
        }
    }

    /// `real − ordered − held` for a tracked offer (negative when real stock
    /// was lowered below what is already ordered); `None` = unlimited.
    pub fn available(&self) -> Option<Decimal> {
        self.tracked
            .then(|| (self.real - self.ordered - self.held).normalize())
    }

    /// What a shop shows: never below zero; `None` = unlimited.
    pub fn shown_available(&self) -> Option<Decimal> {
        self.available().map(|a| a.max(Decimal::ZERO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn availability_only_when_tracked_and_never_shown_negative() {
        let mut s = StockFigures {
            tracked: true,
            real: dec!(10),
            ordered: dec!(3),
            held: dec!(2),
        };
        assert_eq!(s.available(), Some(dec!(5)));
        assert_eq!(s.shown_available(), Some(dec!(5)));
        s.real = dec!(1);
        s.held = Decimal::ZERO;
        assert_eq!(s.available(), Some(dec!(-2)));
        assert_eq!(s.shown_available(), Some(dec!(0)));
        s.tracked = false;
        assert_eq!(s.available(), None);
        assert_eq!(s.shown_available(), None);
        assert_eq!(
            StockFigures::stored(true, dec!(4.500), dec!(1)).available(),
            Some(dec!(3.5))
        );
    }
}
