//! Where orders go: etal over HTTP ([`etal::EtalTarget`]) or the
//! conventional row-locking checkout straight against PostgreSQL
//! ([`baseline::BaselineTarget`]). Both answer with the same [`Attempt`], so
//! the load models, the recorder and the checks never know which one ran.

pub mod baseline;
pub mod etal;

use std::time::Duration;

use uuid::Uuid;

use crate::record::Outcome;

/// An order as acknowledged: its id and lines (offer index → milli-units,
/// sorted by offer index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    pub id: Uuid,
    pub lines: Vec<(u32, i64)>,
}

/// What an operation ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Placed or changed: the whole order after the change.
    Order(OrderState),
    /// Cancelled.
    Cancelled,
    /// Refused; nothing changed (problem `code`).
    Refused(String),
    /// No usable answer: the outcome is unknown.
    Failed(String),
}

impl Answer {
    pub fn outcome(&self) -> Outcome {
        match self {
            Answer::Order(_) | Answer::Cancelled => Outcome::Accepted,
            Answer::Refused(code) => Outcome::Refused(code.clone()),
            Answer::Failed(reason) => Outcome::Failed(reason.clone()),
        }
    }
}

/// An operation's answer, how many retries it took, and when it was first
/// and last sent (µs since epoch).
#[derive(Debug, Clone)]
pub struct Attempt {
    pub answer: Answer,
    pub retries: u32,
    pub sent_us: u64,
    /// When the try that got this answer was sent (= `sent_us` without retries).
    pub last_sent_us: u64,
}

/// Retries of answers that say "nothing was done, try again" (503) and of
/// requests that got no answer at all.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub retries: u32,
    /// Longest pause before a retry (caps `Retry-After`).
    pub max_backoff: Duration,
    /// Send an `Idempotency-Key` with every order (etal; off only to
    /// measure what the key costs — retries are then unsafe).
    pub idempotency_keys: bool,
}

impl RetryPolicy {
    /// Pause before retry number `n` (1-based): `Retry-After` if the server
    /// gave one, else 10 ms doubling, capped.
    pub fn backoff(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = Duration::from_millis(10u64.saturating_mul(1 << n.min(10)));
        retry_after.unwrap_or(exponential).min(self.max_backoff)
    }
}

/// Sorts lines by offer and merges repeated offers.
pub fn normalise(mut lines: Vec<(u32, i64)>) -> Vec<(u32, i64)> {
    lines.sort_by_key(|l| l.0);
    let mut merged: Vec<(u32, i64)> = Vec::with_capacity(lines.len());
    for (offer, qty) in lines {
        match merged.last_mut() {
            Some(last) if last.0 == offer => last.1 += qty,
            _ => merged.push((offer, qty)),
        }
    }
    merged
}

/// The target of a run.
pub enum Target {
    Etal(etal::EtalTarget),
    Baseline(baseline::BaselineTarget),
}

impl Target {
    /// Places (etal: adds to) the customer's order.
    pub async fn place(&self, customer: usize, basket: &[(usize, u32)]) -> Attempt {
        match self {
            Target::Etal(t) => t.place(customer, basket).await,
            Target::Baseline(t) => t.place(customer, basket).await,
        }
    }

    /// Replaces the lines of an order.
    pub async fn change(&self, customer: usize, order: Uuid, basket: &[(usize, u32)]) -> Attempt {
        match self {
            Target::Etal(t) => t.change(customer, order, basket).await,
            Target::Baseline(t) => t.change(customer, order, basket).await,
        }
    }

    /// Cancels an order.
    pub async fn cancel(&self, customer: usize, order: Uuid) -> Attempt {
        match self {
            Target::Etal(t) => t.cancel(customer, order).await,
            Target::Baseline(t) => t.cancel(customer, order).await,
        }
    }

    /// Whether posting again adds to the customer's order (etal) rather
    /// than creating a new one (the baseline).
    pub fn orders_accumulate(&self) -> bool {
        matches!(self, Target::Etal(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            retries: 5,
            max_backoff: Duration::from_millis(100),
            idempotency_keys: true,
        };
        assert_eq!(p.backoff(1, None), Duration::from_millis(20));
        assert_eq!(p.backoff(2, None), Duration::from_millis(40));
        assert_eq!(p.backoff(5, None), Duration::from_millis(100));
        assert_eq!(
            p.backoff(1, Some(Duration::from_secs(1))),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn lines_are_sorted_and_merged() {
        assert_eq!(
            normalise(vec![(3, 1000), (1, 2000), (3, 500)]),
            vec![(1, 2000), (3, 1500)]
        );
    }
}
