//! Push lag, computed after the run from the acknowledgement log and the
//! watchers' frame logs (both timed on the tester's one clock).
//!
//! **Definition.** For an observed offer with stock `S`, let `N(t)` be the
//! net units ordered in changes *acknowledged* to customers up to `t` (sum
//! of the per-offer deltas of every 201/200/204). Each acknowledgement `i`
//! at `tᵢ` that *increased* the offer's ordered units sets a target
//! `Tᵢ = S − N(tᵢ)`: the availability the acknowledged orders imply. The
//! push lag of `i` at watcher `w` is the time from `tᵢ` until `w` holds a
//! value `≤ Tᵢ + G(tᵢ, t]`, where `G` is the units given back by
//! acknowledged changes and cancellations after `tᵢ` (they may legitimately
//! raise availability again). It is 0 when `w` already held such a value
//! at `tᵢ` (the engine counts a reservation against availability before the
//! commit, so the push can beat the 201). In words: how long after an
//! order is acknowledged a storefront shows availability at least as low as
//! the acknowledged orders imply.
//!
//! With no changes or cancellations on the offer this is exact. With them,
//! a give-back committed but not yet acknowledged can delay the match by at
//! most that give-back's own commit-to-ack time. Acknowledgements whose
//! delta was a guess (their customer had a request without answer before)
//! make the figure approximate; the report says so.

use hdrhistogram::Histogram;

use crate::record::{histogram, AckEvent, MAX_LATENCY_US};
use crate::watchers::{Frame, UNKNOWN};

/// Push lag over every (sampled acknowledgement, watcher) pair.
pub struct PushLag {
    /// µs.
    pub hist: Histogram<u64>,
    /// Pairs whose change reached the watcher after the acknowledgement.
    pub measured: u64,
    /// Pairs already visible at the acknowledgement (lag 0).
    pub before_ack: u64,
    /// Pairs never reflected before the watcher stopped.
    pub never: u64,
    /// Acknowledgements considered (sampled when there are many).
    pub acks_sampled: u64,
    /// Some deltas were guesses (see the module documentation).
    pub approximate: bool,
}

/// One observed offer: its index and stock (milli-units).
pub struct Observed {
    pub offer: u32,
    pub stock: i64,
}

/// Per-offer events extracted from the acknowledgement log (sorted by time).
struct OfferAcks {
    /// (time, delta, net ordered after this ack)
    events: Vec<(u64, i64, i64)>,
    /// (time, cumulative units given back up to and including it)
    given_back: Vec<(u64, i64)>,
    approximate: bool,
}

fn offer_acks(acks: &[AckEvent], offer: u32) -> OfferAcks {
    let mut events = Vec::new();
    let mut given_back = Vec::new();
    let (mut net, mut back, mut approximate) = (0i64, 0i64, false);
    for ack in acks {
        for &(o, delta) in &ack.deltas {
            if o != offer {
                continue;
            }
            approximate |= !ack.known;
            net += delta;
            events.push((ack.t_us, delta, net));
            if delta < 0 {
                back -= delta;
                given_back.push((ack.t_us, back));
            }
        }
    }
    OfferAcks {
        events,
        given_back,
        approximate,
    }
}

/// Units given back by acknowledgements at or before `t`.
fn given_back_until(given_back: &[(u64, i64)], t: u64) -> i64 {
    let n = given_back.partition_point(|&(at, _)| at <= t);
    if n == 0 {
        0
    } else {
        given_back[n - 1].1
    }
}

/// Computes push lag. `acks` must be sorted by time; `watchers` holds each
/// watcher's frames (sorted by arrival, as logged). At most `max_samples`
/// acknowledgements per offer are measured (evenly spread).
pub fn push_lag(
    acks: &[AckEvent],
    observed: &[Observed],
    watchers: &[Vec<Frame>],
    max_samples: usize,
) -> PushLag {
    let mut out = PushLag {
        hist: histogram(),
        measured: 0,
        before_ack: 0,
        never: 0,
        acks_sampled: 0,
        approximate: false,
    };
    for obs in observed {
        let per = offer_acks(acks, obs.offer);
        out.approximate |= per.approximate;
        let increases: Vec<&(u64, i64, i64)> = per.events.iter().filter(|e| e.1 > 0).collect();
        if increases.is_empty() {
            continue;
        }
        let step = (increases.len() / max_samples.max(1)).max(1);
        let frames: Vec<Vec<(u64, i64)>> = watchers
            .iter()
            .map(|log| {
                log.iter()
                    .filter(|f| f.1 == obs.offer)
                    .map(|f| (f.0, f.2))
                    .collect()
            })
            .collect();
        for &&(t_ack, _, net_after) in increases.iter().step_by(step) {
            out.acks_sampled += 1;
            let target = obs.stock - net_after;
            let back_at_ack = given_back_until(&per.given_back, t_ack);
            for f in &frames {
                let p = f.partition_point(|&(t, _)| t <= t_ack);
                let held = if p == 0 { UNKNOWN } else { f[p - 1].1 };
                if held != UNKNOWN && held <= target {
                    out.before_ack += 1;
                    out.hist.saturating_record(1);
                    continue;
                }
                let reached = f[p..].iter().find(|&&(t, v)| {
                    v <= target + given_back_until(&per.given_back, t) - back_at_ack
                });
                match reached {
                    Some(&(t, _)) => {
                        out.measured += 1;
                        out.hist
                            .saturating_record((t - t_ack).clamp(1, MAX_LATENCY_US));
                    }
                    None => out.never += 1,
                }
            }
        }
    }
    out
}

/// The availability acknowledged orders imply (`S − N(t)`) at each of
/// `times`, in milli-units.
pub fn acknowledged_level(acks: &[AckEvent], obs: &Observed, times: &[u64]) -> Vec<i64> {
    let per = offer_acks(acks, obs.offer);
    times
        .iter()
        .map(|&t| {
            let n = per.events.partition_point(|e| e.0 <= t);
            obs.stock - if n == 0 { 0 } else { per.events[n - 1].2 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(t_us: u64, delta: i64) -> AckEvent {
        AckEvent {
            t_us,
            deltas: vec![(0, delta)],
            known: true,
        }
    }

    fn lag_ms(p: &PushLag, q: f64) -> u64 {
        p.hist.value_at_quantile(q)
    }

    #[test]
    fn lag_runs_from_the_ack_to_the_first_frame_showing_it() {
        let acks = [ack(100, 1), ack(200, 1)];
        let frames = vec![vec![(50, 0, 10), (150, 0, 9), (260, 0, 8)]];
        let p = push_lag(
            &acks,
            &[Observed {
                offer: 0,
                stock: 10,
            }],
            &frames,
            100,
        );
        assert_eq!((p.measured, p.before_ack, p.never), (2, 0, 0));
        assert_eq!(lag_ms(&p, 0.0), 50);
        assert_eq!(lag_ms(&p, 1.0), 60);
    }

    #[test]
    fn a_push_before_the_ack_counts_as_zero() {
        // The reservation is visible before the commit is acknowledged.
        let acks = [ack(100, 1)];
        let frames = vec![vec![(90, 0, 9)]];
        let p = push_lag(
            &acks,
            &[Observed {
                offer: 0,
                stock: 10,
            }],
            &frames,
            100,
        );
        assert_eq!((p.measured, p.before_ack), (0, 1));
    }

    #[test]
    fn a_watcher_that_never_catches_up_is_counted() {
        let acks = [ack(100, 3)];
        let frames = vec![vec![(50, 0, 10), (150, 0, 8)], vec![(120, 0, 7)]];
        let p = push_lag(
            &acks,
            &[Observed {
                offer: 0,
                stock: 10,
            }],
            &frames,
            100,
        );
        assert_eq!((p.measured, p.never), (1, 1));
    }

    #[test]
    fn give_backs_after_the_ack_raise_the_bar() {
        // +2 acknowledged at 100 (target 8), then a cancellation of 2
        // acknowledged at 120: a frame showing 10 at 130 reflects both.
        let acks = [ack(100, 2), ack(120, -2)];
        let frames = vec![vec![(10, 0, 10), (130, 0, 10)]];
        let p = push_lag(
            &acks,
            &[Observed {
                offer: 0,
                stock: 10,
            }],
            &frames,
            100,
        );
        assert_eq!(p.measured, 1);
        assert_eq!(lag_ms(&p, 1.0), 30);
    }

    #[test]
    fn unknown_deltas_make_the_figure_approximate() {
        let mut a = ack(100, 1);
        a.known = false;
        let p = push_lag(
            &[a],
            &[Observed {
                offer: 0,
                stock: 10,
            }],
            &[vec![]],
            100,
        );
        assert!(p.approximate);
        assert_eq!(p.never, 1);
    }

    #[test]
    fn acknowledged_level_follows_the_acks() {
        let acks = [ack(100, 2), ack(200, 3), ack(300, -1)];
        let obs = Observed {
            offer: 0,
            stock: 10,
        };
        assert_eq!(
            acknowledged_level(&acks, &obs, &[0, 100, 250, 400]),
            vec![10, 8, 5, 6]
        );
    }
}
