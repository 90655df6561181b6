//! The order writer: group commit. Confirmed orders queue here (bounded);
//! one task takes up to `writer_batch_max` of them, waiting at most
//! `writer_batch_wait_ms` for more, and commits them in one transaction.
//! Each order learns its own outcome through a oneshot channel, so the
//! customer gets 201 only after the commit. A full queue refuses at once
//! (the caller answers 503); a failed batch is retried order by order, so
//! one bad order cannot sink the others.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::store::order_writes::OrderWrite;
use crate::store::{DbError, Store};

/// Why an order was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the order queue is full")]
    QueueFull,
    #[error("the order writer stopped")]
    Stopped,
    #[error(transparent)]
    Db(#[from] DbError),
}

struct Job {
    write: OrderWrite,
    done: oneshot::Sender<Result<(), DbError>>,
}

/// Handle to the writer task.
#[derive(Clone)]
pub struct OrderWriter {
    queue: mpsc::Sender<Job>,
}

/// Batching limits.
#[derive(Debug, Clone, Copy)]
pub struct WriterLimits {
    pub batch_max: usize,
    pub batch_wait: Duration,
    pub queue_capacity: usize,
}

impl OrderWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store, limits: WriterLimits) -> Self {
        let (queue, jobs) = mpsc::channel(limits.queue_capacity);
        actix::spawn(run(store, jobs, limits));
        Self { queue }
    }

    /// Queues an order and waits for its commit. Refuses at once when full.
    pub async fn write(&self, write: OrderWrite) -> Result<(), WriteError> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .try_send(Job { write, done })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => WriteError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => WriteError::Stopped,
            })?;
        metrics::gauge!("engine_writer_queue_depth")
            .set((self.queue.max_capacity() - self.queue.capacity()) as f64);
        outcome.await.map_err(|_| WriteError::Stopped)??;
        Ok(())
    }
}

async fn run(store: Store, mut jobs: mpsc::Receiver<Job>, limits: WriterLimits) {
    let mut batch: Vec<Job> = Vec::with_capacity(limits.batch_max);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        let deadline = tokio::time::Instant::now() + limits.batch_wait;
        while batch.len() < limits.batch_max {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    match tokio::time::timeout_at(deadline, jobs.recv()).await {
                        Ok(Some(job)) => batch.push(job),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }
        commit(&store, &mut batch).await;
    }
}

async fn commit(store: &Store, batch: &mut Vec<Job>) {
    let started = Instant::now();
    let size = batch.len();
    let (writes, done): (Vec<OrderWrite>, Vec<_>) =
        batch.drain(..).map(|job| (job.write, job.done)).unzip();
    let outcome = store.write_orders(&writes).await;
    metrics::histogram!("engine_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("engine_commit_batch_size").record(size as f64);
    match outcome {
        Ok(()) => {
            for done in done {
                let _ = done.send(Ok(()));
            }
        }
        Err(DbError::Unavailable(reason)) => {
            tracing::warn!(%reason, size, "order batch not committed: database unavailable");
            for done in done {
                let _ = done.send(Err(DbError::Unavailable(reason.clone())));
            }
        }
        Err(e) if size > 1 => {
            tracing::warn!(error = %e, size, "order batch failed; retrying order by order");
            for (write, done) in writes.iter().zip(done) {
                let result = store.write_orders(std::slice::from_ref(write)).await;
                let _ = done.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "order not committed");
            for done in done {
                let _ = done.send(Err(DbError::Other(e.to_string())));
            }
        }
    }
}
