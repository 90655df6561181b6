//! The two load models.
//!
//! * **Closed**: `C` customers, each placing an order, waiting for the
//!   answer, thinking, and starting again. The offered load adapts to the
//!   server (a slow server gets fewer requests), so its latencies hide
//!   queueing: that is *coordinated omission*.
//! * **Open**: iterations arrive on a schedule — a constant rate or a
//!   linear ramp — whatever the server does. Each due iteration is queued
//!   for the next free customer and its latency is measured from its
//!   *intended* start, so time spent waiting because the server (or the
//!   customer pool) was slow is counted, as wrk2 and k6 do. An iteration
//!   that cannot start within `max_delay` of its intended time, or finds the
//!   queue full, is *dropped* and counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::record::{now_us, Recorder};

/// How load is offered.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadModel {
    Closed {
        customers: usize,
    },
    Open {
        customers: usize,
        /// Iterations per second at the start and at the end (linear ramp).
        rate_start: f64,
        rate_end: f64,
        /// Longest wait of a due iteration for a free customer.
        max_delay: Duration,
    },
}

impl LoadModel {
    pub fn customers(&self) -> usize {
        match self {
            LoadModel::Closed { customers } | LoadModel::Open { customers, .. } => *customers,
        }
    }
}

/// A model, for how long, and at most how many iterations.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    pub model: LoadModel,
    pub duration: Duration,
    pub max_iterations: Option<u64>,
}

/// The arrival schedule of the open model: intended start of iteration `k`
/// (0-based), in seconds from the start. Arrivals follow a rate going
/// linearly from `r0` to `r1` over `duration` seconds, so the `k`-th one is
/// where the cumulative count `r0 t + (r1 - r0) t² / 2D` reaches `k`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub r0: f64,
    pub r1: f64,
    pub duration: f64,
}

impl Schedule {
    /// Intended start of iteration `k`, or `None` past the end.
    pub fn intended(&self, k: u64) -> Option<f64> {
        let k = k as f64;
        let a = (self.r1 - self.r0) / (2.0 * self.duration);
        let t = if a.abs() < 1e-12 {
            if self.r0 <= 0.0 {
                return None;
            }
            k / self.r0
        } else {
            let disc = self.r0 * self.r0 + 4.0 * a * k;
            if disc < 0.0 {
                return None;
            }
            (-self.r0 + disc.sqrt()) / (2.0 * a)
        };
        (t.is_finite() && t >= 0.0 && t < self.duration).then_some(t)
    }

    /// How many iterations the schedule holds.
    #[cfg(test)]
    pub fn expected(&self) -> u64 {
        ((self.r0 + self.r1) / 2.0 * self.duration).ceil().max(0.0) as u64
    }
}

/// One iteration of customer `c`, intended to start at `intended_us`.
pub type IterationFn = Arc<dyn Fn(usize, u64) -> BoxFuture<'static, ()> + Send + Sync>;

/// Runs the load until the duration (or the iteration budget) is used up,
/// or `stop` flips to true. Returns when every started iteration is done.
pub async fn drive(
    load: &LoadSpec,
    rec: Arc<Mutex<Recorder>>,
    stop: tokio::sync::watch::Receiver<bool>,
    iteration: IterationFn,
) {
    let start = Instant::now();
    let start_us = now_us();
    let deadline = start + load.duration;
    let started = Arc::new(AtomicU64::new(0));
    let budget = load.max_iterations.unwrap_or(u64::MAX);
    match &load.model {
        LoadModel::Closed { customers } => {
            let mut tasks = Vec::with_capacity(*customers);
            for c in 0..*customers {
                let iteration = iteration.clone();
                let started = started.clone();
                let stop = stop.clone();
                tasks.push(tokio::spawn(async move {
                    while Instant::now() < deadline && !*stop.borrow() {
                        if started.fetch_add(1, Ordering::Relaxed) >= budget {
                            break;
                        }
                        iteration(c, now_us()).await;
                    }
                }));
            }
            for task in tasks {
                let _ = task.await;
            }
        }
        LoadModel::Open {
            customers,
            rate_start,
            rate_end,
            max_delay,
        } => {
            let schedule = Schedule {
                r0: *rate_start,
                r1: *rate_end,
                duration: load.duration.as_secs_f64(),
            };
            let capacity = (*customers * 4).max(64);
            let (tx, rx) = mpsc::channel::<u64>(capacity);
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            let max_delay_us = max_delay.as_micros() as u64;
            let mut workers = Vec::with_capacity(*customers);
            for c in 0..*customers {
                let rx = rx.clone();
                let iteration = iteration.clone();
                let rec = rec.clone();
                workers.push(tokio::spawn(async move {
                    loop {
                        let next = rx.lock().await.recv().await;
                        let Some(intended_us) = next else { break };
                        if now_us().saturating_sub(intended_us) > max_delay_us {
                            if let Ok(mut r) = rec.lock() {
                                r.dropped += 1;
                            }
                            continue;
                        }
                        iteration(c, intended_us).await;
                    }
                }));
            }
            let mut k = 0u64;
            while let Some(t) = schedule.intended(k) {
                if k >= budget || *stop.borrow() {
                    break;
                }
                let due = start + Duration::from_secs_f64(t);
                if due > Instant::now() {
                    tokio::time::sleep_until(due).await;
                }
                let intended_us = start_us + (t * 1e6) as u64;
                if tx.try_send(intended_us).is_err() {
                    if let Ok(mut r) = rec.lock() {
                        r.dropped += 1;
                    }
                }
                started.fetch_add(1, Ordering::Relaxed);
                k += 1;
            }
            drop(tx);
            for worker in workers {
                let _ = worker.await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{LatencySummary, Op, Outcome};

    #[test]
    fn constant_schedule_is_evenly_spaced() {
        let s = Schedule {
            r0: 100.0,
            r1: 100.0,
            duration: 2.0,
        };
        assert_eq!(s.intended(0), Some(0.0));
        assert!((s.intended(50).unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(s.intended(200), None);
        assert_eq!(s.expected(), 200);
    }

    #[test]
    fn ramp_schedule_accelerates() {
        let s = Schedule {
            r0: 10.0,
            r1: 110.0,
            duration: 10.0,
        };
        let count = (0..).take_while(|&k| s.intended(k).is_some()).count() as u64;
        assert!(
            count.abs_diff(s.expected()) <= 1,
            "{count} vs {}",
            s.expected()
        );
        let gap = |k| s.intended(k + 1).unwrap() - s.intended(k).unwrap();
        assert!(gap(1) > gap(count - 3) * 5.0, "the rate grows");
    }

    /// A server that takes 20 ms per order behind one customer while
    /// iterations arrive every 5 ms: the corrected latency must show the
    /// queue (far above 20 ms) while the service time stays at about 20 ms,
    /// and what cannot start within the allowed delay is dropped.
    #[tokio::test]
    async fn open_model_corrects_coordinated_omission_and_drops() {
        let rec = Arc::new(Mutex::new(Recorder::new(now_us())));
        let recorder = rec.clone();
        let iteration: IterationFn = Arc::new(move |_c, intended_us| {
            let rec = recorder.clone();
            Box::pin(async move {
                let sent = now_us();
                tokio::time::sleep(Duration::from_millis(20)).await;
                let done = now_us();
                rec.lock().unwrap().record(
                    Op::Order,
                    intended_us,
                    sent,
                    done,
                    &Outcome::Accepted,
                    0,
                );
            })
        });
        let load = LoadSpec {
            model: LoadModel::Open {
                customers: 1,
                rate_start: 200.0,
                rate_end: 200.0,
                max_delay: Duration::from_millis(150),
            },
            duration: Duration::from_millis(600),
            max_iterations: None,
        };
        let (_keep, stop) = tokio::sync::watch::channel(false);
        drive(&load, rec.clone(), stop, iteration).await;
        let r = rec.lock().unwrap();
        let stats = r.op(Op::Order);
        let latency = LatencySummary::of(&stats.latency);
        let service = LatencySummary::of(&stats.service);
        assert!(stats.sent > 0);
        assert!(latency.max > 100.0, "queueing is counted: {latency:?}");
        assert!(
            latency.p50 > service.p50 * 2.0,
            "{latency:?} vs {service:?}"
        );
        assert!(r.dropped > 0, "the rate could not be held");
        assert_eq!(
            stats.sent + r.dropped,
            120,
            "every due iteration is accounted for"
        );
    }

    #[tokio::test]
    async fn closed_model_respects_the_iteration_budget() {
        let rec = Arc::new(Mutex::new(Recorder::new(now_us())));
        let count = Arc::new(AtomicU64::new(0));
        let counter = count.clone();
        let iteration: IterationFn = Arc::new(move |_c, _t| {
            let counter = counter.clone();
            Box::pin(async move {
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            })
        });
        let load = LoadSpec {
            model: LoadModel::Closed { customers: 4 },
            duration: Duration::from_secs(30),
            max_iterations: Some(10),
        };
        let (_keep, stop) = tokio::sync::watch::channel(false);
        drive(&load, rec, stop, iteration).await;
        assert_eq!(count.load(Ordering::Relaxed), 10);
    }
}
