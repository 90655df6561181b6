//! The push window: how long the hub coalesces changes before it flushes
//! them to the storefronts, adapted to how well their sessions keep up.
//!
//! A flush costs a write per session. While the fan-out of one push takes
//! longer than the window, sessions find the next push already waiting when
//! they come back for one (or lose their backlog): they skip values anyway,
//! and the cores spent on pushes nobody reads in time are taken from the
//! orders and from the sessions themselves. So the window widens while more
//! than [`BEHIND_SHARE_PERCENT`] % of the storefront sessions that took a
//! push since the last flush were behind, and narrows back step by step
//! once none was for [`CALM_FLUSHES`] flushes in a row (a flush with
//! nothing to take counts as calm: no load) — always between the
//! configured narrowest and widest windows.
//!
//! [`Pace`] is what sessions report to (two relaxed atomic additions per
//! take); [`PushWindow`] is the pure rule the hub task applies after each
//! flush.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Share of sessions behind (in %) beyond which the window widens: the
/// push-lag target is a 99th percentile.
pub const BEHIND_SHARE_PERCENT: u64 = 1;
/// Flushes in a row without a session behind before the window narrows.
pub const CALM_FLUSHES: u32 = 3;
/// Widening factor (×3/2): a few flushes reach the fan-out's time.
const WIDEN: (u32, u32) = (3, 2);
/// Narrowing factor (×4/5): slower than widening, so the window settles
/// instead of swinging.
const NARROW: (u32, u32) = (4, 5);

/// What storefront sessions report when they take pushes, shared with the
/// hub (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Pace {
    counts: Arc<PaceCounts>,
}

#[derive(Debug, Default)]
struct PaceCounts {
    took: AtomicU64,
    behind: AtomicU64,
}

impl Pace {
    /// A session took pushes; `behind`: more than one was waiting for it,
    /// or it lost its backlog.
    pub fn took(&self, behind: bool) {
        self.counts.took.fetch_add(1, Ordering::Relaxed);
        if behind {
            self.counts.behind.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(took, behind)` since the last drain, and starts counting afresh.
    pub fn drain(&self) -> (u64, u64) {
        let took = self.counts.took.swap(0, Ordering::Relaxed);
        let behind = self.counts.behind.swap(0, Ordering::Relaxed);
        (took, behind.min(took))
    }
}

/// The current push window and the rule that moves it.
#[derive(Debug, Clone)]
pub struct PushWindow {
    narrowest: Duration,
    widest: Duration,
    current: Duration,
    /// Flushes in a row with no session behind.
    calm: u32,
}

impl PushWindow {
    /// Starts at `narrowest`; `widest` below it is taken as `narrowest`.
    pub fn new(narrowest: Duration, widest: Duration) -> Self {
        let narrowest = narrowest.max(Duration::from_millis(1));
        Self {
            narrowest,
            widest: widest.max(narrowest),
            current: narrowest,
            calm: 0,
        }
    }

    pub fn current(&self) -> Duration {
        self.current
    }

    /// After a flush: of the `took` takes of pushes reported since the
    /// previous one, `behind` were behind; `awaited`: the previous flush
    /// reached sessions, so takes were due. Returns the next window.
    pub fn after_flush(&mut self, took: u64, behind: u64, awaited: bool) -> Duration {
        if took == 0 && awaited {
            // Pushes went out and no session has come for one yet: no news
            // (they may all be busy with a long fan-out).
            return self.current;
        }
        if behind > 0 && behind * 100 > took * BEHIND_SHARE_PERCENT {
            self.calm = 0;
            self.current = (self.current * WIDEN.0 / WIDEN.1).min(self.widest);
        } else if behind == 0 {
            self.calm += 1;
            if self.calm >= CALM_FLUSHES {
                self.calm = 0;
                self.current = (self.current * NARROW.0 / NARROW.1).max(self.narrowest);
            }
        } else {
            // A few stragglers: hold the window where it is.
            self.calm = 0;
        }
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn widens_while_sessions_fall_behind_up_to_the_widest() {
        let mut w = PushWindow::new(100 * MS, 500 * MS);
        assert_eq!(w.current(), 100 * MS);
        assert_eq!(w.after_flush(1000, 200, true), 150 * MS);
        assert_eq!(w.after_flush(1000, 200, true), 225 * MS);
        assert_eq!(
            w.after_flush(1000, 200, true),
            337_500 * Duration::from_micros(1)
        );
        assert_eq!(
            w.after_flush(1000, 200, true),
            500 * MS,
            "never past the widest"
        );
        assert_eq!(w.after_flush(1000, 1000, true), 500 * MS);
    }

    #[test]
    fn narrows_step_by_step_after_calm_flushes_down_to_the_narrowest() {
        let mut w = PushWindow::new(100 * MS, 500 * MS);
        for _ in 0..10 {
            w.after_flush(10, 10, true);
        }
        assert_eq!(w.current(), 500 * MS);
        assert_eq!(w.after_flush(1000, 0, true), 500 * MS);
        assert_eq!(w.after_flush(0, 0, false), 500 * MS);
        assert_eq!(
            w.after_flush(1000, 0, true),
            400 * MS,
            "after {CALM_FLUSHES} calm flushes"
        );
        for _ in 0..CALM_FLUSHES {
            w.after_flush(1000, 0, true);
        }
        assert_eq!(w.current(), 320 * MS);
        for _ in 0..100 {
            w.after_flush(1000, 0, true);
        }
        assert_eq!(w.current(), 100 * MS, "never below the narrowest");
    }

    #[test]
    fn a_few_stragglers_hold_the_window_and_restart_the_calm_count() {
        let mut w = PushWindow::new(100 * MS, 500 * MS);
        w.after_flush(10, 10, true);
        assert_eq!(w.current(), 150 * MS);
        // 1 in 1,000 behind: not more than 1 %.
        assert_eq!(w.after_flush(1000, 1, true), 150 * MS);
        w.after_flush(1000, 0, true);
        w.after_flush(1000, 0, true);
        assert_eq!(
            w.after_flush(1000, 1, true),
            150 * MS,
            "the straggler reset the count"
        );
        w.after_flush(1000, 0, true);
        w.after_flush(1000, 0, true);
        assert_eq!(w.after_flush(1000, 0, true), 120 * MS);
        // 11 in 1,000: more than 1 %.
        assert_eq!(w.after_flush(1000, 11, true), 180 * MS);
    }

    #[test]
    fn no_take_yet_of_pushes_sent_is_no_news() {
        let mut w = PushWindow::new(100 * MS, 500 * MS);
        w.after_flush(10, 10, true);
        for _ in 0..10 {
            assert_eq!(w.after_flush(0, 0, true), 150 * MS);
        }
        w.after_flush(0, 0, false);
        w.after_flush(0, 0, false);
        assert_eq!(
            w.after_flush(0, 0, false),
            120 * MS,
            "nothing pushed: no load"
        );
    }

    #[test]
    fn bounds_are_kept_whatever_the_configuration() {
        let w = PushWindow::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(w.current(), MS);
        let mut w = PushWindow::new(200 * MS, 100 * MS);
        assert_eq!(
            w.after_flush(1, 1, true),
            200 * MS,
            "widest below narrowest"
        );
    }

    #[test]
    fn pace_counts_takes_and_starts_afresh_when_drained() {
        let pace = Pace::default();
        let session = pace.clone();
        session.took(false);
        session.took(true);
        session.took(false);
        assert_eq!(pace.drain(), (3, 1));
        assert_eq!(pace.drain(), (0, 0));
    }
}
