//! The waiting room's rules, tested on the clock they are given.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

fn at(seconds: f64) -> DateTime<Utc> {
    opens() + Duration::milliseconds((seconds * 1000.0) as i64)
}

fn opens() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000)
}

fn rules(threshold: usize, rate: f64, seed: u64) -> AdmissionRules {
    AdmissionRules {
        threshold,
        rate_per_s: rate,
        idle_expiry: Duration::minutes(5),
        seed,
    }
}

/// `n` customers join before the opening; their (customer, ticket) ids.
fn crowd(room: &mut WaitingRoom, n: usize) -> Vec<(Uuid, Uuid)> {
    (0..n)
        .map(|i| {
            let (customer, ticket) = (Uuid::new_v4(), Uuid::new_v4());
            let status = room.join(customer, ticket, at(-60.0 + i as f64 * 0.01));
            assert_eq!(status.position, None, "no place before the draw");
            (customer, ticket)
        })
        .collect()
}

fn positions(room: &mut WaitingRoom, people: &[(Uuid, Uuid)], now: DateTime<Utc>) -> Vec<usize> {
    people
        .iter()
        .map(|(_, ticket)| room.status(*ticket, now).unwrap().position.unwrap())
        .collect()
}

#[test]
fn a_quiet_sale_needs_no_ticket() {
    let mut room = WaitingRoom::new(rules(3, 10.0, 1), opens(), false);
    let people = crowd(&mut room, 2);
    assert!(!room.is_active(at(0.0)), "2 waiting, threshold 3");
    assert_eq!(room.check(Uuid::new_v4(), None, at(0.0)), Ok(()));
    let status = room.status(people[0].1, at(0.0)).unwrap();
    assert!(status.admitted);
    assert_eq!(status.estimated_wait_s, 0);
    let late = room.join(Uuid::new_v4(), Uuid::new_v4(), at(1.0));
    assert!(late.admitted);
}

#[test]
fn a_crowd_at_the_opening_makes_the_sale_popular_by_itself() {
    let mut room = WaitingRoom::new(rules(3, 10.0, 1), opens(), false);
    crowd(&mut room, 3);
    assert!(!room.room_status(at(-1.0)).active, "not before the opening");
    assert!(room.is_active(at(0.0)));
    assert_eq!(
        room.check(Uuid::new_v4(), None, at(0.0)),
        Err(NotAdmitted::NoTicket)
    );
}

#[test]
fn the_early_crowd_is_drawn_at_random_reproducibly() {
    let draw = |seed| {
        let mut room = WaitingRoom::new(rules(1, 10.0, seed), opens(), true);
        let people = crowd(&mut room, 50);
        (positions(&mut room, &people, at(0.0)), people)
    };
    let (first, _) = draw(7);
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=50).collect::<Vec<_>>(), "every place once");
    assert_ne!(first, (1..=50).collect::<Vec<_>>(), "not the arrival order");
    assert_eq!(draw(7).0, first, "the same seed draws the same order");
    assert_ne!(draw(8).0, first, "another seed, another order");
}

#[test]
fn the_line_is_admitted_at_the_rate_in_its_order() {
    let mut room = WaitingRoom::new(rules(1, 10.0, 3), opens(), true);
    let people = crowd(&mut room, 50);
    let mut by_place = people.clone();
    let places = positions(&mut room, &people, at(0.0));
    by_place.sort_by_key(|(_, t)| places[people.iter().position(|(_, x)| x == t).unwrap()]);
    assert_eq!(room.room_status(at(0.0)).admitted, 0);
    assert_eq!(room.room_status(at(1.0)).admitted, 10);
    assert_eq!(room.room_status(at(2.55)).admitted, 25);
    // The 25 first places are in, the others wait their turn.
    for (i, (customer, ticket)) in by_place.iter().enumerate() {
        let outcome = room.check(*customer, Some(*ticket), at(2.55));
        if i < 25 {
            assert_eq!(outcome, Ok(()), "place {}", i + 1);
        } else {
            let Err(NotAdmitted::Waiting(status)) = outcome else {
                panic!("place {} should wait: {outcome:?}", i + 1);
            };
            assert_eq!(status.position, Some(i + 1));
            // (i + 1 − 25 − 0.5 earned) ÷ 10 per second, rounded up.
            let expected = ((i as f64 + 1.0 - 25.5) / 10.0).ceil() as u64;
            assert_eq!(status.estimated_wait_s, expected, "place {}", i + 1);
        }
    }
    assert_eq!(room.room_status(at(60.0)).admitted, 50);
    assert_eq!(room.room_status(at(60.0)).waiting, 0);
}

#[test]
fn latecomers_queue_behind_in_arrival_order() {
    let mut room = WaitingRoom::new(rules(1, 10.0, 3), opens(), true);
    crowd(&mut room, 30);
    let late: Vec<TicketStatus> = (0..3)
        .map(|i| room.join(Uuid::new_v4(), Uuid::new_v4(), at(1.0 + i as f64)))
        .collect();
    let places: Vec<Option<usize>> = late.iter().map(|s| s.position).collect();
    assert_eq!(places, vec![Some(31), Some(32), Some(33)]);
    assert!(late.iter().all(|s| !s.admitted));
    // Before the opening, a joiner's wait covers the opening and the crowd.
    let mut early = WaitingRoom::new(rules(1, 10.0, 3), opens(), true);
    crowd(&mut early, 20);
    let waiting = early.join(Uuid::new_v4(), Uuid::new_v4(), at(-30.0));
    assert_eq!(
        waiting.estimated_wait_s,
        30 + 3,
        "30 s to the opening, 21 ahead at 10/s"
    );
}

#[test]
fn a_drained_line_lets_newcomers_in_one_second_at_a_time() {
    let mut room = WaitingRoom::new(rules(1, 10.0, 3), opens(), true);
    crowd(&mut room, 5);
    assert_eq!(room.room_status(at(1.0)).waiting, 0);
    // Quiet for a minute: at most one second's worth is banked.
    let burst: Vec<bool> = (0..25)
        .map(|_| room.join(Uuid::new_v4(), Uuid::new_v4(), at(61.0)).admitted)
        .collect();
    assert_eq!(burst.iter().filter(|a| **a).count(), 10);
    assert!(burst[..10].iter().all(|a| *a), "the first arrivals first");
}

#[test]
fn an_admitted_ticket_unused_expires_and_its_customer_joins_again() {
    let mut room = WaitingRoom::new(rules(1, 100.0, 3), opens(), true);
    let people = crowd(&mut room, 2);
    let (customer, ticket) = people[0];
    assert_eq!(room.check(customer, Some(ticket), at(1.0)), Ok(()));
    // Used: its idle time starts again.
    assert_eq!(room.check(customer, Some(ticket), at(200.0)), Ok(()));
    assert_eq!(room.check(customer, Some(ticket), at(499.0)), Ok(()));
    assert_eq!(
        room.check(customer, Some(ticket), at(799.0)),
        Err(NotAdmitted::Expired)
    );
    assert!(room.status(ticket, at(799.0)).unwrap().expired);
    // Someone else's ticket opens nothing.
    let (other, _) = people[1];
    assert_eq!(
        room.check(other, Some(ticket), at(1.0)),
        Err(NotAdmitted::NoTicket)
    );
    // Joining again: a new ticket, at the back of the line.
    let again = room.join(customer, Uuid::new_v4(), at(800.0));
    assert_ne!(again.ticket, ticket);
    assert_eq!(again.position, Some(3));
    assert!(again.admitted, "the line had drained");
    // Joining twice keeps one's ticket.
    assert_eq!(
        room.join(customer, Uuid::new_v4(), at(801.0)).ticket,
        again.ticket
    );
}

#[test]
fn marking_a_sale_popular_after_the_opening_queues_the_newcomers() {
    let mut room = WaitingRoom::new(rules(100, 1.0, 3), opens(), false);
    let people = crowd(&mut room, 2);
    assert!(!room.is_active(at(1.0)));
    room.set_popular(true, at(2.0));
    assert!(room.is_active(at(2.0)));
    assert_eq!(
        room.check(people[0].0, Some(people[0].1), at(2.0)),
        Ok(()),
        "in stays in"
    );
    let late = room.join(Uuid::new_v4(), Uuid::new_v4(), at(2.0));
    assert!(!late.admitted);
    assert_eq!(late.position, Some(3));
    assert!(room.status(late.ticket, at(3.0)).unwrap().admitted);
}

proptest! {
    #[test]
    fn admissions_never_outrun_the_rate_and_follow_the_line(
        early in 0..60usize,
        rate in 1..20u32,
        steps in proptest::collection::vec((0..3000u32, 0..4usize), 1..40),
    ) {
        let rate = f64::from(rate);
        let mut room = WaitingRoom::new(rules(0, rate, 11), opens(), true);
        crowd(&mut room, early);
        let mut now_ms = 0u32;
        let mut joined = early;
        for (wait_ms, arrivals) in steps {
            now_ms += wait_ms;
            let now = at(f64::from(now_ms) / 1000.0);
            for _ in 0..arrivals {
                let status = room.join(Uuid::new_v4(), Uuid::new_v4(), now);
                joined += 1;
                prop_assert_eq!(status.position, Some(joined), "arrival order");
            }
            let s = room.room_status(now);
            let earned = (f64::from(now_ms) / 1000.0 * rate).floor() as usize;
            prop_assert!(s.admitted <= earned, "{} admitted, {} earned", s.admitted, earned);
            prop_assert_eq!(s.admitted + s.waiting, joined);
        }
    }
}
