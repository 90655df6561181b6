//! The scenario builder: what is on sale (producers, offers, which are hot
//! and how much stock they have) and what a customer puts in a basket. Pure
//! (no I/O): the same [`Layout`] and basket generator drive the etal run and
//! the baseline, so both see exactly the same workload.
//!
//! Quantities are integer *units* here (every offer is sold by the piece);
//! the engine reports decimals, converted to thousandths ("milli-units") at
//! the edges.

use std::time::Duration;

use rand::Rng;

pub use crate::layout::{Layout, OfferPlan};

/// The knobs of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSpec {
    /// Producers, each with one catalog taking part in the distribution.
    pub producers: usize,
    /// Offers in all (spread round-robin over the producers).
    pub offers: usize,
    /// The first `hot_offers` offers are the ones everybody wants.
    pub hot_offers: usize,
    /// Stock of each hot offer, in units.
    pub hot_stock: u64,
    /// Stock of every other offer (`None` = unlimited).
    pub stock: Option<u64>,
    /// Lines per basket, inclusive range.
    pub basket_lines: (usize, usize),
    /// Units per line, inclusive range.
    pub quantity: (u32, u32),
    /// Probability that a line picks a hot offer (when there are some).
    pub hot_share: f64,
    /// Share of baskets drawn across producers (the rest from one producer).
    pub multi_producer_share: f64,
    /// Share of accepted orders followed by a change (PATCH).
    pub change_share: f64,
    /// Share of accepted orders followed by a cancellation (DELETE).
    pub cancel_share: f64,
    /// Pause between a customer's iterations, inclusive range.
    pub think: (Duration, Duration),
    /// etal keeps one order per customer and distribution, and posting
    /// again adds to it; a customer whose order has this many lines
    /// cancels it and starts a new one (0: never), so orders stay the size
    /// of real baskets over a long run.
    pub max_order_lines: usize,
}

impl ScenarioSpec {
    /// One hot offer with a stock that will not run out: pure contention.
    pub fn hot() -> Self {
        Self {
            producers: 1,
            offers: 1,
            hot_offers: 1,
            hot_stock: 50_000_000,
            stock: None,
            basket_lines: (1, 1),
            quantity: (1, 1),
            hot_share: 1.0,
            multi_producer_share: 0.0,
            change_share: 0.0,
            cancel_share: 0.0,
            think: (Duration::ZERO, Duration::ZERO),
            max_order_lines: 10,
        }
    }

    /// 1,000 offers with ample stock, one line per basket: little contention.
    pub fn spread() -> Self {
        Self {
            producers: 4,
            offers: 1000,
            hot_offers: 0,
            hot_stock: 0,
            stock: Some(1_000_000),
            hot_share: 0.0,
            ..Self::hot()
        }
    }

    /// A lifelike rush: a few hot offers that sell out, mixed baskets,
    /// some customers changing or cancelling.
    pub fn rush() -> Self {
        Self {
            producers: 3,
            offers: 30,
            hot_offers: 2,
            hot_stock: 500,
            stock: Some(10_000),
            basket_lines: (1, 3),
            quantity: (1, 2),
            hot_share: 0.5,
            multi_producer_share: 0.3,
            change_share: 0.1,
            cancel_share: 0.05,
            think: (Duration::ZERO, Duration::ZERO),
            max_order_lines: 10,
        }
    }

    /// A preset by name (`hot`, `spread`, `rush`).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "hot" => Some(Self::hot()),
            "spread" => Some(Self::spread()),
            "rush" => Some(Self::rush()),
            _ => None,
        }
    }

    /// Everything that makes the scenario impossible, in one message.
    pub fn validate(&self) -> Result<(), String> {
        let mut errors = Vec::new();
        if self.producers == 0 || self.producers > 100 {
            errors.push("producers must be 1..=100".to_owned());
        }
        if self.offers == 0 || self.offers > 10_000 {
            errors.push("offers must be 1..=10000".to_owned());
        }
        if self.offers < self.producers {
            errors.push("every producer needs at least one offer (offers >= producers)".into());
        }
        if self.producers > 0 && self.offers.div_ceil(self.producers) > 500 {
            errors.push("at most 500 offers per producer (one catalog each)".to_owned());
        }
        if self.hot_offers > self.offers {
            errors.push("hot offers cannot outnumber offers".to_owned());
        }
        if self.hot_offers > 0 && self.hot_stock == 0 {
            errors.push("hot offers need a stock of at least one unit".to_owned());
        }
        if self.hot_stock > 900_000_000 || self.stock.is_some_and(|s| s > 900_000_000) {
            errors.push("stock must be at most 900000000 units".to_owned());
        }
        let (lo, hi) = self.basket_lines;
        if lo == 0 || lo > hi || hi > 200 {
            errors.push("basket lines must be a range within 1..=200".to_owned());
        } else if hi > self.offers {
            errors.push("a basket cannot have more lines than there are offers".to_owned());
        }
        let (qlo, qhi) = self.quantity;
        if qlo == 0 || qlo > qhi || qhi > 10_000 {
            errors.push("quantity must be a range within 1..=10000".to_owned());
        }
        for (name, p) in [
            ("hot share", self.hot_share),
            ("multi-producer share", self.multi_producer_share),
            ("change share", self.change_share),
            ("cancel share", self.cancel_share),
        ] {
            if !(0.0..=1.0).contains(&p) {
                errors.push(format!("{name} must be between 0 and 1"));
            }
        }
        if self.change_share + self.cancel_share > 1.0 {
            errors.push("change share + cancel share must be at most 1".to_owned());
        }
        if self.think.0 > self.think.1 {
            errors.push("think time must be a range (min..max)".to_owned());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// Lays the offers out over the producers.
    pub fn layout(&self) -> Layout {
        let offers = (0..self.offers)
            .map(|i| {
                let hot = i < self.hot_offers;
                OfferPlan {
                    index: i,
                    producer: i % self.producers,
                    hot,
                    stock: if hot {
                        Some(self.hot_stock)
                    } else {
                        self.stock
                    },
                    // 1.00 € to 5.90 €, deterministic.
                    price_cents: 100 + (i as u64 % 50) * 10,
                }
            })
            .collect();
        Layout {
            producers: self.producers,
            offers,
        }
    }

    /// A basket: distinct offers (by index) and their units.
    pub fn basket<R: Rng>(&self, layout: &Layout, rng: &mut R) -> Vec<(usize, u32)> {
        let lines = rng.gen_range(self.basket_lines.0..=self.basket_lines.1);
        let multi = layout.producers > 1 && lines > 1 && rng.gen_bool(self.multi_producer_share);
        let single_producer = if multi {
            None
        } else {
            Some(rng.gen_range(0..layout.producers))
        };
        let mut chosen: Vec<usize> = Vec::with_capacity(lines);
        for line in 0..lines {
            // Multi-producer baskets walk the producers so lines differ.
            let producer = match single_producer {
                Some(p) => Some(p),
                None if multi => chosen
                    .first()
                    .map(|&first| (layout.offers[first].producer + line) % layout.producers),
                None => None,
            };
            let want_hot = self.hot_offers > 0 && rng.gen_bool(self.hot_share);
            let pick = layout
                .pick(rng, producer, Some(want_hot), &chosen)
                .or_else(|| layout.pick(rng, producer, None, &chosen))
                .or_else(|| layout.pick(rng, None, None, &chosen));
            if let Some(offer) = pick {
                chosen.push(offer);
            }
        }
        chosen
            .into_iter()
            .map(|offer| {
                let units = rng.gen_range(self.quantity.0..=self.quantity.1);
                (offer, units)
            })
            .collect()
    }

    /// A think time drawn from the range.
    pub fn think_time<R: Rng>(&self, rng: &mut R) -> Duration {
        let (lo, hi) = self.think;
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo).as_micros() as u64;
        lo + Duration::from_micros(rng.gen_range(0..=span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn presets_are_valid() {
        for name in ["hot", "spread", "rush"] {
            let spec = ScenarioSpec::preset(name).unwrap();
            spec.validate().unwrap();
        }
        assert!(ScenarioSpec::preset("nope").is_none());
    }

    #[test]
    fn layout_spreads_offers_and_gives_hot_ones_their_stock() {
        let spec = ScenarioSpec::rush();
        let layout = spec.layout();
        assert_eq!(layout.offers.len(), 30);
        for p in 0..3 {
            assert_eq!(layout.of_producer(p).count(), 10);
        }
        assert!(layout.offers[..2]
            .iter()
            .all(|o| o.hot && o.stock == Some(500)));
        assert!(layout.offers[2..]
            .iter()
            .all(|o| !o.hot && o.stock == Some(10_000)));
        assert_eq!(layout.observed(), vec![0, 1]);
        assert_eq!(layout.offers[3].price(), "1.30");
    }

    #[test]
    fn hot_preset_always_orders_the_hot_offer() {
        let spec = ScenarioSpec::hot();
        let layout = spec.layout();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            assert_eq!(spec.basket(&layout, &mut rng), vec![(0, 1)]);
        }
    }

    #[test]
    fn baskets_respect_lines_quantities_and_mix() {
        let spec = ScenarioSpec {
            basket_lines: (2, 3),
            multi_producer_share: 1.0,
            ..ScenarioSpec::rush()
        };
        let layout = spec.layout();
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..500 {
            let basket = spec.basket(&layout, &mut rng);
            assert!((2..=3).contains(&basket.len()), "{basket:?}");
            let mut offers: Vec<usize> = basket.iter().map(|l| l.0).collect();
            offers.sort();
            offers.dedup();
            assert_eq!(offers.len(), basket.len(), "distinct offers");
            assert!(basket.iter().all(|l| (1..=2).contains(&l.1)));
            let producers: std::collections::HashSet<usize> =
                basket.iter().map(|l| layout.offers[l.0].producer).collect();
            assert!(producers.len() >= 2, "multi-producer basket {basket:?}");
        }
        let single = ScenarioSpec {
            multi_producer_share: 0.0,
            hot_share: 0.0,
            ..spec
        };
        for _ in 0..500 {
            let basket = single.basket(&layout, &mut rng);
            let producers: std::collections::HashSet<usize> =
                basket.iter().map(|l| layout.offers[l.0].producer).collect();
            assert_eq!(producers.len(), 1, "single-producer basket {basket:?}");
        }
    }

    #[test]
    fn hot_share_sets_how_often_hot_offers_are_picked() {
        let spec = ScenarioSpec {
            hot_share: 0.5,
            multi_producer_share: 1.0,
            basket_lines: (1, 1),
            ..ScenarioSpec::rush()
        };
        let layout = spec.layout();
        let mut rng = StdRng::seed_from_u64(3);
        let hot = (0..4000)
            .filter(|_| layout.offers[spec.basket(&layout, &mut rng)[0].0].hot)
            .count();
        // Single-producer baskets may lack a hot offer of their producer, so
        // the share is at most one half and clearly above zero.
        assert!((800..=2200).contains(&hot), "{hot}");
    }

    #[test]
    fn impossible_scenarios_are_refused_with_reasons() {
        let bad = ScenarioSpec {
            producers: 0,
            hot_offers: 5,
            offers: 2,
            basket_lines: (3, 2),
            change_share: 0.8,
            cancel_share: 0.8,
            ..ScenarioSpec::rush()
        };
        let message = bad.validate().unwrap_err();
        for part in ["producers", "hot offers", "basket lines", "change share"] {
            assert!(message.contains(part), "{message}");
        }
    }

    #[test]
    fn think_time_stays_in_range() {
        let spec = ScenarioSpec {
            think: (Duration::from_millis(10), Duration::from_millis(20)),
            ..ScenarioSpec::hot()
        };
        let mut rng = StdRng::seed_from_u64(9);
        for _ in 0..100 {
            let t = spec.think_time(&mut rng);
            assert!(t >= Duration::from_millis(10) && t <= Duration::from_millis(20));
        }
    }
}
