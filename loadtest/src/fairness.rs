//! How fair a waiting room was, from what its customers saw (pure: the
//! waiting-room run in [`crate::waiting_room`] collects the data).
//!
//! Each customer leaves a [`Seat`]: when it joined (joins are sent one
//! after another, so arrival order is exact), whether it joined before the
//! opening draw, the place the engine gave it, and when it first saw
//! itself admitted. From the seats:
//!
//! * **the line** — the early crowd must hold places `1..=E` (a
//!   permutation) and latecomers the places behind, in arrival order
//!   ([`line_order`], gating);
//! * **the draw** — how far the drawn order strays from arrival order
//!   (Kendall's τ near 0: random; a fastest-connection-wins room gives 1);
//! * **admission order** against the line (τ = 1 and no displacement if
//!   the engine admits strictly by place; polling blurs a little) and
//!   against arrival order;
//! * **the rate** — a place `p` cannot be admitted before `p / rate`
//!   seconds after the opening (the engine's bucket starts empty and earns
//!   `rate` admissions a second), so a customer seen admitted, or a call
//!   that takes stock accepted, before that instant broke the room
//!   ([`Room::earliest_us`], gating);
//! * **time to admission** — from the opening (early crowd) or from joining
//!   (latecomers) until seen admitted, and how far behind the rate's
//!   earliest instant that was.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::checks::Check;
use crate::record::LatencySummary;

/// Slack for the engine's millisecond clock and the conversion of wall
/// time to the tester's clock, µs.
pub const CLOCK_SLACK_US: u64 = 2_000;

/// One customer's way through the waiting room.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seat {
    /// Arrival order (0-based): the order the joins were answered in.
    pub arrival: usize,
    /// When the join was answered (µs, the tester's clock).
    pub joined_us: u64,
    /// Joined before the opening draw (no place in the join's answer).
    pub early: bool,
    /// Place in the line from 1, once known.
    pub position: Option<usize>,
    /// When the customer first saw itself admitted (answer time, µs).
    pub admitted_us: Option<u64>,
}

/// The room as configured: when it opened and how fast it admits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Room {
    /// The opening instant on the tester's clock (µs).
    pub open_us: u64,
    pub rate_per_s: f64,
}

impl Room {
    /// The earliest instant place `position` can be admitted (µs).
    pub fn earliest_us(&self, position: usize) -> u64 {
        let rate = self.rate_per_s.max(f64::MIN_POSITIVE);
        self.open_us + (position as f64 * 1e6 / rate).floor() as u64
    }

    /// Whether something seen at `at_us` for place `position` came before
    /// that place could be admitted (beyond the clocks' slack).
    pub fn before_turn(&self, position: usize, at_us: u64) -> bool {
        at_us + CLOCK_SLACK_US < self.earliest_us(position)
    }
}

/// How one order agrees with another over the same customers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    pub customers: usize,
    /// Kendall's τ: 1 the same order, 0 unrelated, −1 reversed.
    pub kendall_tau: f64,
    /// Pairs of customers the two orders put the other way round.
    pub discordant_pairs: u64,
    /// Mean and largest |rank in one − rank in the other|, in places.
    pub mean_displacement: f64,
    pub max_displacement: usize,
}

/// Ranks (0-based) of `keys`, ties broken by index.
fn ranks(keys: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| (keys[i], i));
    let mut rank = vec![0; keys.len()];
    for (r, i) in order.into_iter().enumerate() {
        rank[i] = r;
    }
    rank
}

/// How the order by `observed` agrees with the order by `reference`
/// (pairs of keys, one pair per customer); `None` under two customers.
pub fn agreement(pairs: &[(u64, u64)]) -> Option<Agreement> {
    let n = pairs.len();
    if n < 2 {
        return None;
    }
    let reference: Vec<u64> = pairs.iter().map(|p| p.0).collect();
    let observed: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    let (a, b) = (ranks(&reference), ranks(&observed));
    let (mut concordant, mut discordant) = (0u64, 0u64);
    for i in 0..n {
        for j in i + 1..n {
            match (a[i] < a[j], b[i] < b[j]) {
                (x, y) if x == y => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let all = (n * (n - 1) / 2) as f64;
    let displacement: Vec<usize> = a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y)).collect();
    Some(Agreement {
        customers: n,
        kendall_tau: (concordant as f64 - discordant as f64) / all,
        discordant_pairs: discordant,
        mean_displacement: displacement.iter().sum::<usize>() as f64 / n as f64,
        max_displacement: displacement.into_iter().max().unwrap_or(0),
    })
}

/// The three comparisons of the report.
pub fn draw_vs_arrival(seats: &[Seat]) -> Option<Agreement> {
    let pairs: Vec<(u64, u64)> = seats
        .iter()
        .filter(|s| s.early)
        .filter_map(|s| Some((s.arrival as u64, s.position? as u64)))
        .collect();
    agreement(&pairs)
}

/// Admission order (as seen) against the line (places).
pub fn admission_vs_line(seats: &[Seat]) -> Option<Agreement> {
    let pairs: Vec<(u64, u64)> = seats
        .iter()
        .filter_map(|s| Some((s.position? as u64, s.admitted_us?)))
        .collect();
    agreement(&pairs)
}

/// Admission order (as seen) against arrival order.
pub fn admission_vs_arrival(seats: &[Seat]) -> Option<Agreement> {
    let pairs: Vec<(u64, u64)> = seats
        .iter()
        .filter_map(|s| Some((s.arrival as u64, s.admitted_us?)))
        .collect();
    agreement(&pairs)
}

fn summary(values: impl Iterator<Item = u64>) -> LatencySummary {
    // Up to an hour: a room of 10,000 at 5 a second takes half of one.
    let mut h =
        Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
    for v in values {
        h.saturating_record(v.max(1));
    }
    LatencySummary::of(&h)
}

/// Time to admission (ms): from the opening for the early crowd, from
/// joining for latecomers.
pub fn time_to_admission(seats: &[Seat], room: &Room) -> LatencySummary {
    summary(seats.iter().filter_map(|s| {
        let from = if s.early { room.open_us } else { s.joined_us };
        Some(s.admitted_us?.saturating_sub(from))
    }))
}

/// How long after the earliest instant its place allowed each customer
/// saw itself admitted (ms): the engine's delay plus the polling's.
pub fn lag_behind_rate(seats: &[Seat], room: &Room) -> LatencySummary {
    summary(seats.iter().filter_map(|s| {
        let earliest = room.earliest_us(s.position?).max(s.joined_us);
        Some(s.admitted_us?.saturating_sub(earliest))
    }))
}

/// Places as they must be: the early crowd holds `1..=E` exactly once
/// each, latecomers the places behind it in their arrival order, and
/// everyone who joined has a place once the room was drawn.
pub fn line_order(seats: &[Seat]) -> Check {
    let early: Vec<&Seat> = seats.iter().filter(|s| s.early).collect();
    let mut late: Vec<&Seat> = seats.iter().filter(|s| !s.early).collect();
    late.sort_by_key(|s| s.arrival);
    let e = early.len();
    let mut problems = Vec::new();
    let mut taken = vec![false; e + 1];
    let mut violations = 0i64;
    for s in &early {
        match s.position {
            Some(p) if (1..=e).contains(&p) && !taken[p] => taken[p] = true,
            other => {
                violations += 1;
                problems.push(format!("early joiner #{} got place {other:?}", s.arrival));
            }
        }
    }
    let mut last = e;
    for s in &late {
        match s.position {
            Some(p) if p > last => last = p,
            other => {
                violations += 1;
                problems.push(format!(
                    "latecomer #{} got place {other:?} (after place {last})",
                    s.arrival
                ));
            }
        }
    }
    Check {
        name: "admission_line_order".into(),
        passed: violations == 0,
        value: violations,
        gating: true,
        detail: if problems.is_empty() {
            format!(
                "{e} early joiners drawn into places 1–{e}, {} latecomers behind them in arrival order",
                late.len()
            )
        } else {
            format!(
                "{violations} customers out of place — {}",
                problems.into_iter().take(3).collect::<Vec<_>>().join("; ")
            )
        },
    }
}

/// What the tester saw taken without admission:
/// * `admitted_early`: customers seen admitted before their turn;
/// * `taken_early`: stock-taking calls (holds, orders) answered before
///   their customer's turn, and orders the database dates before it;
/// * `probes_accepted`: calls deliberately sent without a ticket, or with
///   one whose turn could not have come, that were accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Breaches {
    pub admitted_early: u64,
    pub taken_early: u64,
    pub probes_accepted: u64,
    /// Orders in the database of customers who never had a place.
    pub without_place: u64,
    pub probes_sent: u64,
    pub taken_checked: u64,
}

/// Nobody takes stock without admission (gating).
pub fn taken_without_admission(b: &Breaches) -> Check {
    let total = b.admitted_early + b.taken_early + b.probes_accepted + b.without_place;
    Check {
        name: "taken_without_admission".into(),
        passed: total == 0,
        value: total as i64,
        gating: true,
        detail: format!(
            "{} probes without a ticket or before their turn, {} accepted; {} holds, orders and \
             stored orders checked against their place's turn at the room's rate, {} early; \
             {} customers seen admitted before their turn; {} orders of customers without a place",
            b.probes_sent,
            b.probes_accepted,
            b.taken_checked,
            b.taken_early,
            b.admitted_early,
            b.without_place
        ),
    }
}

/// How many customers were admitted within the run (reported).
pub fn admitted_within_run(seats: &[Seat]) -> Check {
    let admitted = seats.iter().filter(|s| s.admitted_us.is_some()).count();
    Check {
        name: "admitted_within_run".into(),
        passed: true,
        value: admitted as i64,
        gating: false,
        detail: format!(
            "{admitted} of {} customers admitted before the run ended",
            seats.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(arrival: usize, early: bool, position: Option<usize>, admitted: Option<u64>) -> Seat {
        Seat {
            arrival,
            joined_us: arrival as u64 * 10,
            early,
            position,
            admitted_us: admitted,
        }
    }

    #[test]
    fn agreement_measures_how_far_one_order_strays_from_another() {
        let same = agreement(&[(1, 10), (2, 20), (3, 30), (4, 40)]).unwrap();
        assert_eq!(same.kendall_tau, 1.0);
        assert_eq!((same.discordant_pairs, same.max_displacement), (0, 0));
        assert_eq!(same.mean_displacement, 0.0);

        let reversed = agreement(&[(1, 40), (2, 30), (3, 20), (4, 10)]).unwrap();
        assert_eq!(reversed.kendall_tau, -1.0);
        assert_eq!(reversed.discordant_pairs, 6);
        assert_eq!(reversed.max_displacement, 3);
        assert_eq!(reversed.mean_displacement, 2.0);

        // One neighbour swap: one pair of six the other way round.
        let swap = agreement(&[(1, 10), (2, 30), (3, 20), (4, 40)]).unwrap();
        assert!((swap.kendall_tau - (5.0 - 1.0) / 6.0).abs() < 1e-12);
        assert_eq!((swap.discordant_pairs, swap.max_displacement), (1, 1));
        assert_eq!(swap.mean_displacement, 0.5);

        assert!(agreement(&[(1, 1)]).is_none());
    }

    #[test]
    fn a_shuffled_draw_is_far_from_arrival_order() {
        // 200 early joiners drawn by a fixed pseudo-random permutation.
        let n = 200usize;
        let places: Vec<usize> = (0..n).map(|i| (i * 73 + 11) % n + 1).collect();
        let seats: Vec<Seat> = places
            .iter()
            .enumerate()
            .map(|(i, &p)| seat(i, true, Some(p), None))
            .collect();
        let draw = draw_vs_arrival(&seats).unwrap();
        assert!(draw.kendall_tau.abs() < 0.3, "{draw:?}");
        // First come, first served would be τ = 1.
        let fifo: Vec<Seat> = (0..n).map(|i| seat(i, true, Some(i + 1), None)).collect();
        assert_eq!(draw_vs_arrival(&fifo).unwrap().kendall_tau, 1.0);
    }

    #[test]
    fn admission_is_compared_with_the_line_and_with_arrival() {
        // Three early joiners drawn 3, 1, 2, one latecomer at place 4,
        // admitted in place order.
        let seats = vec![
            seat(0, true, Some(3), Some(300)),
            seat(1, true, Some(1), Some(100)),
            seat(2, true, Some(2), Some(200)),
            seat(3, false, Some(4), Some(400)),
        ];
        let line = admission_vs_line(&seats).unwrap();
        assert_eq!((line.kendall_tau, line.max_displacement), (1.0, 0));
        let arrival = admission_vs_arrival(&seats).unwrap();
        assert!(arrival.kendall_tau < 1.0);
        assert_eq!(arrival.discordant_pairs, 2);
        // Admitted out of place: seen in the figures.
        let mut wrong = seats.clone();
        wrong[3].admitted_us = Some(50);
        let line = admission_vs_line(&wrong).unwrap();
        assert_eq!((line.discordant_pairs, line.max_displacement), (3, 3));
    }

    #[test]
    fn the_line_must_be_the_draw_then_arrival_order() {
        let good = vec![
            seat(0, true, Some(2), None),
            seat(1, true, Some(1), None),
            seat(2, false, Some(3), None),
            seat(3, false, Some(4), None),
        ];
        let check = line_order(&good);
        assert!(check.passed, "{}", check.detail);
        assert!(check.gating);

        // A latecomer placed in front of the drawn crowd.
        let mut ahead = good.clone();
        ahead[2].position = Some(1);
        ahead[1].position = Some(3);
        let check = line_order(&ahead);
        assert!(!check.passed);
        assert_eq!(check.value, 2, "{}", check.detail);

        // Latecomers swapped: the second arrival before the first.
        let mut swapped = good.clone();
        swapped[2].position = Some(4);
        swapped[3].position = Some(3);
        assert_eq!(line_order(&swapped).value, 1);

        // The same place twice, and an early joiner never placed.
        let mut twice = good;
        twice[0].position = Some(1);
        assert_eq!(line_order(&twice).value, 1);
        twice[0].position = None;
        assert_eq!(line_order(&twice).value, 1);
    }

    #[test]
    fn nothing_is_admitted_before_its_turn_at_the_rate() {
        let room = Room {
            open_us: 1_000_000,
            rate_per_s: 50.0,
        };
        // Place 50 at 50 a second: one second after the opening.
        assert_eq!(room.earliest_us(50), 2_000_000);
        assert_eq!(room.earliest_us(1), 1_020_000);
        assert!(room.before_turn(50, 1_900_000));
        assert!(!room.before_turn(50, 1_999_000), "within the clocks' slack");
        assert!(!room.before_turn(50, 2_100_000));
    }

    #[test]
    fn times_to_admission_count_from_the_opening_or_from_joining() {
        let room = Room {
            open_us: 1_000_000,
            rate_per_s: 10.0,
        };
        let seats = vec![
            // Early, place 1: due at 1.1 s, seen at 1.15 s.
            Seat {
                arrival: 0,
                joined_us: 500_000,
                early: true,
                position: Some(1),
                admitted_us: Some(1_150_000),
            },
            // Latecomer, place 2: joined at 3 s (long after its turn at
            // 1.2 s), seen at 3.01 s.
            Seat {
                arrival: 1,
                joined_us: 3_000_000,
                early: false,
                position: Some(2),
                admitted_us: Some(3_010_000),
            },
            // Never admitted: not counted.
            seat(2, false, Some(3), None),
        ];
        let wait = time_to_admission(&seats, &room);
        assert_eq!(wait.count, 2);
        assert!((wait.max - 150.0).abs() < 0.5, "{wait:?}");
        assert!((wait.p50 - 10.0).abs() < 0.5, "{wait:?}");
        let lag = lag_behind_rate(&seats, &room);
        assert!((lag.max - 50.0).abs() < 0.5, "{lag:?}");
        assert!((lag.p50 - 10.0).abs() < 0.5, "{lag:?}");
        let within = admitted_within_run(&seats);
        assert_eq!((within.value, within.gating), (2, false));
    }

    #[test]
    fn any_breach_fails_the_admission_check() {
        let clean = Breaches {
            probes_sent: 10,
            taken_checked: 40,
            ..Default::default()
        };
        assert!(taken_without_admission(&clean).passed);
        for breach in [
            Breaches {
                admitted_early: 1,
                ..clean
            },
            Breaches {
                taken_early: 1,
                ..clean
            },
            Breaches {
                probes_accepted: 1,
                ..clean
            },
            Breaches {
                without_place: 1,
                ..clean
            },
        ] {
            let check = taken_without_admission(&breach);
            assert!(!check.passed && check.gating, "{breach:?}");
            assert_eq!(check.value, 1);
        }
    }
}
