//! One customer iteration: draw a basket, order it (retrying 503s with the
//! same `Idempotency-Key`), then maybe change or cancel the order, then
//! think. Each customer remembers its order as last acknowledged, so every
//! acknowledgement yields the exact change of ordered units per offer (for
//! push lag) and the last acknowledged state of every order (for the
//! checks).

use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::checkout::{Answer, Attempt, OrderState, Target};
use crate::model::IterationFn;
use crate::record::{now_us, AckEvent, AckedOrder, Op, Recorder};
use crate::scenario::{Layout, ScenarioSpec};

/// What a customer knows between iterations.
pub struct CustomerState {
    rng: StdRng,
    /// The current order as last acknowledged.
    order: Option<OrderState>,
    /// False after a request without answer: the order may differ.
    known: bool,
    /// A request is on its way (checked at the end of the run).
    pending: bool,
}

/// The workload of one run.
pub struct Workload {
    pub spec: ScenarioSpec,
    pub layout: Layout,
    pub target: Target,
    pub rec: Arc<Mutex<Recorder>>,
    /// Think between iterations (closed model only).
    pub think: bool,
    customers: Vec<Mutex<CustomerState>>,
}

impl Workload {
    pub fn new(
        spec: ScenarioSpec,
        layout: Layout,
        target: Target,
        rec: Arc<Mutex<Recorder>>,
        customers: usize,
        think: bool,
        seed: u64,
    ) -> Self {
        Self {
            spec,
            layout,
            target,
            rec,
            think,
            customers: (0..customers)
                .map(|c| {
                    Mutex::new(CustomerState {
                        rng: StdRng::seed_from_u64(
                            seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                        ),
                        order: None,
                        known: true,
                        pending: false,
                    })
                })
                .collect(),
        }
    }

    /// The iteration as the load models want it.
    pub fn iteration_fn(self: &Arc<Self>) -> IterationFn {
        let this = self.clone();
        Arc::new(move |c, intended_us| {
            let this = this.clone();
            Box::pin(async move { this.iteration(c, intended_us).await })
        })
    }

    async fn iteration(&self, c: usize, intended_us: u64) {
        let Some(slot) = self.customers.get(c) else {
            return;
        };
        let (basket, roll, other, think) = {
            let Ok(mut st) = slot.lock() else { return };
            let basket = self.spec.basket(&self.layout, &mut st.rng);
            let roll: f64 = st.rng.gen();
            let other = self.spec.basket(&self.layout, &mut st.rng);
            let think = self.spec.think_time(&mut st.rng);
            st.pending = true;
            (basket, roll, other, think)
        };
        if let Ok(mut r) = self.rec.lock() {
            r.iterations += 1;
        }
        // A full order is cancelled first and a new one started.
        let full = slot
            .lock()
            .ok()
            .and_then(|st| st.order.as_ref().map(|o| (o.id, o.lines.len())))
            .filter(|(_, lines)| {
                self.target.orders_accumulate()
                    && self.spec.max_order_lines > 0
                    && *lines >= self.spec.max_order_lines
            });
        if let Some((order, _)) = full {
            let sent = now_us();
            let renewed = self.target.cancel(c, order).await;
            self.settle(c, Op::Cancel, sent, &renewed);
        }
        let placed = self.target.place(c, &basket).await;
        self.settle(c, Op::Order, intended_us, &placed);
        if let Answer::Order(order) = &placed.answer {
            if roll < self.spec.change_share {
                let sent = now_us();
                let changed = self.target.change(c, order.id, &other).await;
                self.settle(c, Op::Change, sent, &changed);
            } else if roll < self.spec.change_share + self.spec.cancel_share {
                let sent = now_us();
                let cancelled = self.target.cancel(c, order.id).await;
                self.settle(c, Op::Cancel, sent, &cancelled);
            }
        }
        if let Ok(mut st) = slot.lock() {
            st.pending = false;
        }
        if self.think && !think.is_zero() {
            tokio::time::sleep(think).await;
        }
    }

    /// Records an answer and updates what the customer knows.
    fn settle(&self, c: usize, op: Op, intended_us: u64, attempt: &Attempt) {
        let done_us = now_us();
        let Some(slot) = self.customers.get(c) else {
            return;
        };
        let Ok(mut st) = slot.lock() else { return };
        let Ok(mut rec) = self.rec.lock() else { return };
        rec.record(
            op,
            intended_us,
            attempt.sent_us,
            done_us,
            &attempt.answer.outcome(),
            attempt.retries,
        );
        if op == Op::Order && matches!(attempt.answer, Answer::Order(_)) {
            rec.accepted_orders.push((attempt.last_sent_us, done_us));
        }
        match &attempt.answer {
            Answer::Order(new) => {
                // etal adds to the customer's order; the baseline creates a
                // new order per checkout (the previous one stays as it is).
                let previous: &[(u32, i64)] = match (&st.order, op) {
                    (Some(old), Op::Change) => &old.lines,
                    (Some(old), _) if self.target.orders_accumulate() && old.id == new.id => {
                        &old.lines
                    }
                    _ => &[],
                };
                let deltas = deltas(previous, &new.lines);
                rec.acks.push(AckEvent {
                    t_us: done_us,
                    deltas,
                    known: st.known,
                });
                rec.orders.insert(
                    new.id,
                    AckedOrder {
                        lines: new.lines.clone(),
                        cancelled: false,
                        certain: true,
                    },
                );
                st.order = Some(new.clone());
                st.known = true;
            }
            Answer::Cancelled => {
                if let Some(old) = st.order.take() {
                    let deltas = deltas(&old.lines, &[]);
                    rec.acks.push(AckEvent {
                        t_us: done_us,
                        deltas,
                        known: st.known,
                    });
                    if let Some(acked) = rec.orders.get_mut(&old.id) {
                        acked.cancelled = true;
                    }
                }
                st.known = true;
            }
            Answer::Refused(_) => {}
            Answer::Failed(_) => {
                st.known = false;
                if let Some(acked) = st.order.as_ref().and_then(|o| rec.orders.get_mut(&o.id)) {
                    acked.certain = false;
                }
            }
        }
    }

    /// At the end: orders of customers whose last request never finished
    /// (aborted) may hold a newer state than acknowledged.
    pub fn mark_unfinished(&self) -> usize {
        let mut unfinished = 0;
        let mut orders = Vec::new();
        for slot in &self.customers {
            let Ok(st) = slot.lock() else { continue };
            if st.pending {
                unfinished += 1;
                orders.extend(st.order.as_ref().map(|o| o.id));
            }
        }
        if let Ok(mut rec) = self.rec.lock() {
            for id in orders {
                if let Some(acked) = rec.orders.get_mut(&id) {
                    acked.certain = false;
                }
            }
        }
        unfinished
    }
}

/// Per-offer change from `old` to `new` (both sorted by offer), non-zero only.
pub fn deltas(old: &[(u32, i64)], new: &[(u32, i64)]) -> Vec<(u32, i64)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) if o.0 == n.0 => {
                if n.1 != o.1 {
                    out.push((o.0, n.1 - o.1));
                }
                i += 1;
                j += 1;
            }
            (Some(o), Some(n)) if o.0 < n.0 => {
                out.push((o.0, -o.1));
                i += 1;
            }
            (Some(_), Some(n)) | (None, Some(n)) => {
                out.push((n.0, n.1));
                j += 1;
            }
            (Some(o), None) => {
                out.push((o.0, -o.1));
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_cover_grown_shrunk_new_and_removed_lines() {
        let old = [(1, 1000), (2, 2000), (4, 1000)];
        let new = [(1, 3000), (3, 1000), (4, 1000)];
        assert_eq!(deltas(&old, &new), vec![(1, 2000), (2, -2000), (3, 1000)]);
        assert_eq!(deltas(&[], &new), vec![(1, 3000), (3, 1000), (4, 1000)]);
        assert_eq!(deltas(&old, &[]), vec![(1, -1000), (2, -2000), (4, -1000)]);
    }
}
