//! `Idempotency-Key`: a retried order returns the first answer instead of
//! ordering twice. The first request with a key claims it; concurrent
//! requests with the same key wait for its outcome; later ones get the
//! answer the writer stored in the same transaction as the order itself
//! (so the answer exists iff the order does).
//!
//! The engine is the only writer of orders (one engine per database, held
//! by an advisory lock), so it can know every used key in memory and spare
//! a fresh request any database round trip: an account's keys are loaded
//! once, the first time it sends a key, and each key is added as its order
//! commits. Only a true retry reads its stored answer. A key whose outcome
//! is unknown (the database failed mid-commit, which may have committed) is
//! marked uncertain, so its next use looks in the database. Accounts idle
//! for a while are forgotten and loaded again when they come back, which
//! bounds the memory by the customers of the moment.
//!
//! Every decision about one account is taken under its registry entry's
//! lock, so a claim, a commit and a forgetting can never interleave.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tokio::sync::watch;
use uuid::Uuid;

use super::error::OrderError;
use crate::domain::order::OrderView;
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

/// What is known of a used key.
#[derive(Debug, Clone, PartialEq)]
enum Used {
    /// Committed for the request with this hash; the answer is stored.
    Committed(Vec<u8>),
    /// Its outcome is unknown: the database decides.
    Uncertain,
}

/// The keys of one account.
struct Account {
    /// `None` until loaded from the database.
    used: Option<HashMap<String, Used>>,
    /// While one request loads `used`, the others wait for its sender to go.
    loading: Option<watch::Receiver<()>>,
    in_flight: HashMap<String, InFlight>,
    last_used: Instant,
}

impl Account {
    fn new() -> Self {
        Self {
            used: None,
            loading: None,
            in_flight: HashMap::new(),
            last_used: Instant::now(),
        }
    }

    fn busy(&self) -> bool {
        !self.in_flight.is_empty() || self.loading.is_some()
    }
}

type Accounts = Arc<DashMap<Uuid, Account>>;

/// The keys of the accounts ordering at the moment.
#[derive(Default)]
pub struct Idempotency {
    accounts: Accounts,
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
    account_id: Uuid,
    key: String,
    request_hash: Vec<u8>,
    sender: watch::Sender<Outcome>,
    accounts: Accounts,
    finished: bool,
}

impl ClaimGuard {
    pub fn finish(mut self, outcome: Result<OrderView, OrderError>) {
        self.settle(outcome);
    }

    fn settle(&mut self, outcome: Result<OrderView, OrderError>) {
        self.finished = true;
        if let Some(mut account) = self.accounts.get_mut(&self.account_id) {
            account.in_flight.remove(&self.key);
            account.last_used = Instant::now();
            let used = match &outcome {
                Ok(_) => Some(Used::Committed(self.request_hash.clone())),
                // Refusals change nothing; "unavailable" may hide a commit.
                Err(OrderError::Unavailable) => Some(Used::Uncertain),
                Err(_) => None,
            };
            if let (Some(used), Some(keys)) = (used, account.used.as_mut()) {
                keys.insert(self.key.clone(), used);
            }
        }
        let _ = self.sender.send(Some(outcome));
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.settle(Err(OrderError::Unavailable));
        }
    }
}

/// What to do after looking at an account under its lock.
enum Step {
    Wait(watch::Receiver<Outcome>),
    WaitForLoad(watch::Receiver<()>),
    Load(watch::Sender<()>),
    LookUp(Used),
    Claimed(ClaimGuard),
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
    Ok(Some(record.answer))
}

impl Idempotency {
    /// Claims a key, waits for the request holding it, or finds its answer.
    pub async fn claim(&self, key: &IdempotencyKey, store: &Store) -> Result<Slot, OrderError> {
        loop {
            match self.step(key)? {
                Step::Claimed(guard) => return Ok(Slot::Claimed(guard)),
                Step::Wait(mut outcome) => {
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
                // Ends (with an error) when the loader drops its sender.
                Step::WaitForLoad(mut loaded) => while loaded.changed().await.is_ok() {},
                Step::Load(loading) => self.load(key.account_id, store, loading).await?,
                Step::LookUp(used) => {
                    if let Some(view) = stored_answer(key, store).await? {
                        return Ok(Slot::Answered(view));
                    }
                    if used != Used::Uncertain {
                        // Remembered as committed yet not stored: do not guess.
                        tracing::error!(key = %key.key, "idempotency key committed but not stored");
                        return Err(OrderError::Unavailable);
                    }
                    self.forget_uncertain(key);
                }
            }
        }
    }

    /// Looks at the account once, under its lock.
    fn step(&self, key: &IdempotencyKey) -> Result<Step, OrderError> {
        let mut account = self
            .accounts
            .entry(key.account_id)
            .or_insert_with(Account::new);
        account.last_used = Instant::now();
        if let Some(flight) = account.in_flight.get(&key.key) {
            if flight.request_hash != key.request_hash {
                return Err(OrderError::KeyReused);
            }
            return Ok(Step::Wait(flight.outcome.clone()));
        }
        if let Some(used) = account.used.as_ref() {
            return Ok(match used.get(&key.key) {
                Some(Used::Committed(hash)) if *hash != key.request_hash => {
                    return Err(OrderError::KeyReused)
                }
                Some(known) => Step::LookUp(known.clone()),
                None => {
                    let (sender, outcome) = watch::channel(None);
                    account.in_flight.insert(
                        key.key.clone(),
                        InFlight {
                            request_hash: key.request_hash.clone(),
                            outcome,
                        },
                    );
                    Step::Claimed(ClaimGuard {
                        account_id: key.account_id,
                        key: key.key.clone(),
                        request_hash: key.request_hash.clone(),
                        sender,
                        accounts: self.accounts.clone(),
                        finished: false,
                    })
                }
            });
        }
        match &account.loading {
            // A loader that went away without finishing: take over.
            Some(loaded) if loaded.has_changed().is_ok() => Ok(Step::WaitForLoad(loaded.clone())),
            _ => {
                let (sender, loaded) = watch::channel(());
                account.loading = Some(loaded);
                Ok(Step::Load(sender))
            }
        }
    }

    /// Loads an account's used keys; `loading` wakes the waiters when dropped.
    async fn load(
        &self,
        account_id: Uuid,
        store: &Store,
        loading: watch::Sender<()>,
    ) -> Result<(), OrderError> {
        let loaded = store.idempotency_keys_of(account_id).await;
        let mut account = self.accounts.entry(account_id).or_insert_with(Account::new);
        account.loading = None;
        drop(loading);
        let rows = loaded.map_err(|_| OrderError::Unavailable)?;
        let used = rows
            .into_iter()
            .map(|row| {
                let used = if row.answered {
                    Used::Committed(row.request_hash)
                } else {
                    Used::Uncertain
                };
                (row.key, used)
            })
            .collect();
        account.used = Some(used);
        Ok(())
    }

    /// An uncertain key turned out not to be stored: it may be claimed.
    fn forget_uncertain(&self, key: &IdempotencyKey) {
        if let Some(mut account) = self.accounts.get_mut(&key.account_id) {
            if let Some(used) = account.used.as_mut() {
                if used.get(&key.key) == Some(&Used::Uncertain) {
                    used.remove(&key.key);
                }
            }
        }
    }

    /// Forgets every account (this engine just took over or lost the
    /// ordering lease: another engine may have used keys meanwhile, so
    /// they are loaded again from the database on their next use).
    pub fn forget_all(&self) {
        self.accounts.clear();
    }

    /// Forgets the accounts that sent no key for `idle` (nothing in flight).
    pub fn forget_idle(&self, idle: Duration) {
        self.accounts
            .retain(|_, account| account.busy() || account.last_used.elapsed() < idle);
    }

    /// Accounts whose keys are in memory (for tests).
    pub fn accounts_known(&self) -> usize {
        self.accounts.len()
    }
}
