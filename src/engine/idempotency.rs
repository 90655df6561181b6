//! `Idempotency-Key`: a retried order returns the first answer instead of
//! ordering twice. The first request with a key claims it; concurrent
//! requests with the same key wait for its outcome; later ones find the
//! answer in the database, where the writer stored it in the same
//! transaction as the order itself (so the answer exists iff the order does).

use std::sync::Arc;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use tokio::sync::watch;
use uuid::Uuid;

use super::ordering::{OrderError, OrderView};
use crate::store::Store;

/// A key as sent by a client, with a hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub account_id: Uuid,
    pub key: String,
    pub request_hash: Vec<u8>,
}

type Outcome = Option<Result<OrderView, OrderError>>;

struct InFlight {
    request_hash: Vec<u8>,
    outcome: watch::Receiver<Outcome>,
}

/// Keys being processed right now.
#[derive(Default)]
pub struct Idempotency {
    in_flight: Arc<DashMap<(Uuid, String), InFlight>>,
}

/// The result of claiming a key.
pub enum Slot {
    /// The key was used before: here is its answer.
    Answered(OrderView),
    /// This request owns the key; report its outcome through the guard.
    Claimed(ClaimGuard),
}

/// Owner of an in-flight key; its outcome goes to everyone waiting.
pub struct ClaimGuard {
    id: (Uuid, String),
    sender: watch::Sender<Outcome>,
    in_flight: Arc<DashMap<(Uuid, String), InFlight>>,
    finished: bool,
}

impl ClaimGuard {
    pub fn finish(mut self, outcome: Result<OrderView, OrderError>) {
        self.finished = true;
        let _ = self.sender.send(Some(outcome));
        self.in_flight.remove(&self.id);
    }
}

/// The answer stored for a key, if any (`KeyReused` for another request).
async fn stored_answer(
    key: &IdempotencyKey,
    store: &Store,
) -> Result<Option<OrderView>, OrderError> {
    let stored = store
        .idempotent_answer(key.account_id, &key.key)
        .await
        .map_err(|_| OrderError::Unavailable)?;
    let Some(record) = stored else {
        return Ok(None);
    };
    if record.request_hash != key.request_hash {
        return Err(OrderError::KeyReused);
    }
    serde_json::from_value(record.body)
        .map(Some)
        .map_err(|_| OrderError::Unavailable)
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.sender.send(Some(Err(OrderError::Unavailable)));
            self.in_flight.remove(&self.id);
        }
    }
}

impl Idempotency {
    /// Claims a key, waits for the request holding it, or finds its answer.
    pub async fn claim(&self, key: &IdempotencyKey, store: &Store) -> Result<Slot, OrderError> {
        let id = (key.account_id, key.key.clone());
        loop {
            let waiting = self
                .in_flight
                .get(&id)
                .map(|f| (f.request_hash == key.request_hash, f.outcome.clone()));
            if let Some((same_request, mut outcome)) = waiting {
                if !same_request {
                    return Err(OrderError::KeyReused);
                }
                let result = outcome
                    .wait_for(Option::is_some)
                    .await
                    .map(|o| o.clone())
                    .unwrap_or(None);
                return match result {
                    Some(Ok(view)) => Ok(Slot::Answered(view)),
                    Some(Err(error)) => Err(error),
                    None => Err(OrderError::Unavailable),
                };
            }
            if let Some(view) = stored_answer(key, store).await? {
                return Ok(Slot::Answered(view));
            }
            let guard = match self.in_flight.entry(id.clone()) {
                Entry::Occupied(_) => continue,
                Entry::Vacant(slot) => {
                    let (sender, outcome) = watch::channel(None);
                    slot.insert(InFlight {
                        request_hash: key.request_hash.clone(),
                        outcome,
                    });
                    ClaimGuard {
                        id: id.clone(),
                        sender,
                        in_flight: self.in_flight.clone(),
                        finished: false,
                    }
                }
            };
            // A request holding the key may have committed and let go of it
            // between our look-up and our claim: it stores its answer before
            // letting go, so looking again closes that gap.
            return match stored_answer(key, store).await {
                Ok(None) => Ok(Slot::Claimed(guard)),
                Ok(Some(view)) => {
                    // Anyone who started waiting on us meanwhile gets it too.
                    guard.finish(Ok(view.clone()));
                    Ok(Slot::Answered(view))
                }
                Err(error) => {
                    guard.finish(Err(error.clone()));
                    Err(error)
                }
            };
        }
    }
}
