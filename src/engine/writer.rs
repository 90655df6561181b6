//! The order writer: group commit. Confirmed orders queue here (bounded).
//! `writer_connections` committers take turns at the queue: each takes
//! every order waiting (up to `writer_batch_max`, waiting at most
//! `writer_batch_wait_ms` for more — 0: never wait) and commits them in one
//! transaction while the next committer gathers the orders that arrive
//! meanwhile. So an idle engine commits a lone order at once, and a busy
//! one keeps the database busy with batches that grow with the load.
//!
//! Committers may run side by side because the orders of one batch never
//! conflict with another's: the distribution actor lets one change per
//! customer's order be in flight, and each batch only inserts rows or
//! updates its own orders.
//!
//! `engine_writer_queue_depth` counts the orders the writer holds and has
//! not committed yet (queued, gathered, in the transaction): 0 on an idle
//! engine.
//!
//! Each order learns its own outcome through a oneshot channel, so the
//! customer gets 201 only after the commit. A full queue refuses at once
//! (the caller answers 503); a failed batch is retried order by order, so
//! one bad order cannot sink the others.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Mutex};

use super::fence::{Fence, WriteRight};
use crate::store::order_writes::OrderWrite;
use crate::store::{DbError, Store};

/// Why an order was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the order queue is full")]
    QueueFull,
    #[error("the order writer stopped")]
    Stopped,
    #[error("this node is not the ordering engine (it does not hold the lease)")]
    NotActive,
    #[error(transparent)]
    Db(#[from] DbError),
}

struct Job {
    write: OrderWrite,
    /// The right the order was prepared under: committed only if it is
    /// still the one in force (a node that lost and took the lease again
    /// meanwhile must not commit what its old actors reserved).
    right: WriteRight,
    done: oneshot::Sender<Result<(), DbError>>,
}

/// Handle to the writer task.
#[derive(Clone)]
pub struct OrderWriter {
    queue: mpsc::Sender<Job>,
    pending: Pending,
}

/// Orders held by the writer and not committed yet, published as
/// `engine_writer_queue_depth`.
#[derive(Clone, Default)]
struct Pending(Arc<AtomicI64>);

impl Pending {
    fn add(&self, n: i64) {
        let now = self.0.fetch_add(n, Ordering::AcqRel) + n;
        metrics::gauge!("engine_writer_queue_depth").set(now.max(0) as f64);
    }
}

/// Where one order hears its outcome; sending it first takes the order
/// off the pending count.
struct Outcome(oneshot::Sender<Result<(), DbError>>, Pending);

impl Outcome {
    fn send(self, result: Result<(), DbError>) {
        self.1.add(-1);
        // The caller may have gone (its request was cut): nothing to tell.
        let _ = self.0.send(result);
    }
}

/// Batching limits.
#[derive(Debug, Clone, Copy)]
pub struct WriterLimits {
    pub batch_max: usize,
    pub batch_wait: Duration,
    pub queue_capacity: usize,
    /// Transactions that may be in flight at once (committer tasks).
    pub committers: usize,
}

impl OrderWriter {
    /// Starts the writer task on the current runtime. Every transaction
    /// checks `fence` (a cluster node's lease epoch) before committing.
    pub fn start(store: Store, limits: WriterLimits, fence: Fence) -> Self {
        let (queue, jobs) = mpsc::channel(limits.queue_capacity);
        let jobs = Arc::new(Mutex::new(jobs));
        let pending = Pending::default();
        pending.add(0);
        for _ in 0..limits.committers.max(1) {
            actix::spawn(run(
                store.clone(),
                jobs.clone(),
                limits,
                fence.clone(),
                pending.clone(),
            ));
        }
        Self { queue, pending }
    }

    /// Queues an order prepared under `right` and waits for its commit.
    /// Refuses at once when full.
    pub async fn write(&self, write: OrderWrite, right: WriteRight) -> Result<(), WriteError> {
        let (done, outcome) = oneshot::channel();
        // Counted before it is queued, so a quick commit never makes it negative.
        self.pending.add(1);
        self.queue
            .try_send(Job { write, right, done })
            .map_err(|e| {
                self.pending.add(-1);
                match e {
                    mpsc::error::TrySendError::Full(_) => WriteError::QueueFull,
                    mpsc::error::TrySendError::Closed(_) => WriteError::Stopped,
                }
            })?;
        match outcome.await.map_err(|_| WriteError::Stopped)? {
            Ok(()) => Ok(()),
            Err(DbError::Fenced { held: 0, .. }) => Err(WriteError::NotActive),
            Err(e) => Err(WriteError::Db(e)),
        }
    }
}

async fn run(
    store: Store,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    limits: WriterLimits,
    fence: Fence,
    pending: Pending,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(limits.batch_max);
    loop {
        if !gather(&jobs, &mut batch, limits).await {
            break;
        }
        commit(&store, &mut batch, &fence, &pending).await;
    }
}

/// Takes this committer's turn at the queue: the first order (waiting for
/// it), then whatever else is queued. False when the queue is closed.
async fn gather(
    jobs: &Mutex<mpsc::Receiver<Job>>,
    batch: &mut Vec<Job>,
    limits: WriterLimits,
) -> bool {
    let mut jobs = jobs.lock().await;
    let Some(first) = jobs.recv().await else {
        return false;
    };
    batch.push(first);
    let deadline = tokio::time::Instant::now() + limits.batch_wait;
    while batch.len() < limits.batch_max {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) if limits.batch_wait.is_zero() => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                match tokio::time::timeout_at(deadline, jobs.recv()).await {
                    Ok(Some(job)) => batch.push(job),
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
    true
}

/// Commits a batch and tells each order its outcome. Each order leaves the
/// pending count before its caller hears back, so a client that got its
/// answer never reads a queue depth that still counts its order. Orders
/// prepared under another right than the one in force, or while the node
/// holds none, are refused without touching the database.
async fn commit(store: &Store, batch: &mut Vec<Job>, fence: &Fence, pending: &Pending) {
    let started = Instant::now();
    let right = fence.right();
    let mut writes = Vec::with_capacity(batch.len());
    let mut done = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        let outcome = Outcome(job.done, pending.clone());
        if job.right == right {
            writes.push(job.write);
            done.push(outcome);
        } else {
            // Prepared under an epoch that is gone.
            outcome.send(Err(DbError::Fenced {
                held: 0,
                current: 0,
            }));
        }
    }
    if writes.is_empty() {
        return;
    }
    let size = writes.len();
    let epoch = match right {
        WriteRight::Unchecked => None,
        WriteRight::Epoch(epoch) => Some(epoch),
        WriteRight::NotHeld => {
            for done in done {
                done.send(Err(DbError::Fenced {
                    held: 0,
                    current: 0,
                }));
            }
            return;
        }
    };
    let outcome = store.write_orders(&writes, epoch).await;
    metrics::histogram!("engine_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("engine_commit_batch_size").record(size as f64);
    match outcome {
        Ok(()) => {
            for done in done {
                done.send(Ok(()));
            }
        }
        Err(DbError::Unavailable(reason)) => {
            tracing::warn!(%reason, size, "order batch not committed: database unavailable");
            for done in done {
                done.send(Err(DbError::Unavailable(reason.clone())));
            }
        }
        Err(DbError::Fenced { held, current }) => {
            tracing::warn!(
                held,
                current,
                size,
                "order batch refused: the ordering lease was taken over"
            );
            metrics::counter!("engine_fenced_batches_total").increment(1);
            for done in done {
                done.send(Err(DbError::Fenced { held, current }));
            }
        }
        Err(e) if size > 1 => {
            tracing::warn!(error = %e, size, "order batch failed; retrying order by order");
            for (write, done) in writes.iter().zip(done) {
                let result = store.write_orders(std::slice::from_ref(write), epoch).await;
                done.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "order not committed");
            for done in done {
                done.send(Err(DbError::Other(e.to_string())));
            }
        }
    }
}
