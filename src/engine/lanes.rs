//! One change at a time per customer and distribution, in arrival order.
//!
//! The rules of a sale let a customer change either their order or their
//! basket at a time (`domain::sale` refuses a second change while one is
//! in flight, so an order never consumes a hold that a basket change is
//! placing at the same instant). A customer's own requests must not meet
//! that refusal: a shop page sends the basket's hold and, a moment later,
//! the order — the order must wait for the hold, not be refused by it. So
//! every change of a customer's order or basket (`engine::ordering`,
//! `engine::carts`) first enters the customer's lane here and waits for
//! the change ahead of it; the sale's refusal remains as the rule's guard.
//!
//! A lane exists only while someone is in it or waiting for it.

use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::domain::cart::CartKey;

/// The lanes of every customer with a change under way.
#[derive(Default)]
pub struct Lanes {
    lanes: DashMap<CartKey, Arc<Mutex<()>>>,
}

/// A customer's turn: the next change of theirs waits until it is dropped.
pub struct Turn<'a> {
    lanes: &'a Lanes,
    key: CartKey,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Lanes {
    /// Waits for the customer's changes ahead (first come, first served).
    pub async fn enter(&self, key: CartKey) -> Turn<'_> {
        let lane = self.lanes.entry(key).or_default().clone();
        let guard = lane.lock_owned().await;
        Turn {
            lanes: self,
            key,
            guard: Some(guard),
        }
    }

    /// Lanes in use (someone in it or waiting).
    pub fn len(&self) -> usize {
        self.lanes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lanes.is_empty()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        // Nobody else holds the lane (the map's reference only) and nobody
        // can take it meanwhile: the shard is locked.
        self.lanes
            .lanes
            .remove_if(&self.key, |_, lane| Arc::strong_count(lane) == 1);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use uuid::Uuid;

    use super::*;

    fn key(customer: u128) -> CartKey {
        CartKey {
            distribution_id: Uuid::from_u128(1),
            customer_id: Uuid::from_u128(customer),
        }
    }

    // On the paused clock: a sleep ends only once every task is idle, so
    // each spawned change is queued in its lane before the next arrives.
    #[tokio::test(start_paused = true)]
    async fn a_customers_changes_take_turns_in_arrival_order() {
        let lanes = Arc::new(Lanes::default());
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let first = lanes.enter(key(7)).await;
        let mut waiting = Vec::new();
        for n in 1..=3 {
            let (lanes, log) = (lanes.clone(), log.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = lanes.enter(key(7)).await;
                log.lock().map(|mut l| l.push(n)).ok();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }));
            // Each is queued before the next arrives.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Another customer is not held up.
        drop(lanes.enter(key(8)).await);
        assert!(log.lock().map(|l| l.is_empty()).unwrap_or(false));
        drop(first);
        for task in waiting {
            task.await.ok();
        }
        assert_eq!(*log.lock().expect("log"), vec![1, 2, 3]);
        assert!(lanes.is_empty(), "a lane goes with its last user");
    }
}
