//! The layout of a scenario: which offers are on sale, who sells them,
//! which are hot and how much stock each has — and the random picks that
//! baskets are drawn from. Built by [`crate::scenario::ScenarioSpec::layout`].

use rand::Rng;

/// One offer of the layout.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferPlan {
    pub index: usize,
    pub producer: usize,
    pub hot: bool,
    /// Units in stock (`None` = unlimited).
    pub stock: Option<u64>,
    pub price_cents: u64,
}

impl OfferPlan {
    /// The price as the API wants it (`"1.50"`).
    pub fn price(&self) -> String {
        format!("{}.{:02}", self.price_cents / 100, self.price_cents % 100)
    }
}

/// The offers on sale and who sells them.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub producers: usize,
    pub offers: Vec<OfferPlan>,
}

impl Layout {
    /// Offers of one producer.
    pub fn of_producer(&self, producer: usize) -> impl Iterator<Item = &OfferPlan> {
        self.offers.iter().filter(move |o| o.producer == producer)
    }

    /// Offers whose availability is watched for push lag and charts: the
    /// hot ones, or else the first 16 with a limited stock.
    pub fn observed(&self) -> Vec<usize> {
        let hot: Vec<usize> = self
            .offers
            .iter()
            .filter(|o| o.hot)
            .map(|o| o.index)
            .collect();
        if !hot.is_empty() {
            return hot;
        }
        self.offers
            .iter()
            .filter(|o| o.stock.is_some())
            .take(16)
            .map(|o| o.index)
            .collect()
    }

    /// A random offer matching the filters and not already chosen.
    pub(crate) fn pick<R: Rng>(
        &self,
        rng: &mut R,
        producer: Option<usize>,
        hot: Option<bool>,
        chosen: &[usize],
    ) -> Option<usize> {
        let fits = |o: &&OfferPlan| {
            producer.map_or(true, |p| o.producer == p)
                && hot.map_or(true, |h| o.hot == h)
                && !chosen.contains(&o.index)
        };
        // Fast path for big layouts: a few random probes before a scan.
        for _ in 0..8 {
            let o = &self.offers[rng.gen_range(0..self.offers.len())];
            if fits(&o) {
                return Some(o.index);
            }
        }
        let candidates: Vec<usize> = self.offers.iter().filter(fits).map(|o| o.index).collect();
        if candidates.is_empty() {
            None
        } else {
            Some(candidates[rng.gen_range(0..candidates.len())])
        }
    }
}
