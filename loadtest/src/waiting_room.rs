//! `rush --waiting-room`: the sale is marked popular, so customers go
//! through etal's fair waiting room before they may hold or order.
//!
//! * Before the opening, the early crowd joins (`POST …/admission`), one
//!   after another in a random order, so the arrival order is exact; the
//!   join's answer has no place yet (the engine draws at the opening).
//! * At the opening, the latecomers join the same way, spread over
//!   `--late-over`.
//! * Each customer then learns its place (`GET …/admission/{ticket}`),
//!   sends two probes that must be refused — an order without a ticket,
//!   and, while its turn is clearly still to come, one with it — and polls
//!   its ticket until admitted: every half of the time left until the
//!   earliest instant its place can be admitted at the room's rate (at
//!   most 500 ms, at least 10 ms), then every 10 ms. From then on its
//!   holds and orders carry the `Admission-Ticket`.
//!
//! What every customer saw is kept as [`Seat`]s and judged by
//! [`crate::fairness`]; every accepted hold or order is checked against
//! its customer's turn as it comes back ([`WaitingRoom::taken`]), and the
//! orders in the database after the run ([`WaitingRoom::stored_orders`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use crate::checkout::etal::Tickets;
use crate::checks::Check;
use crate::fairness::{self, Breaches, Room, Seat};
use crate::record::now_us;
use crate::report::AdmissionReport;
use crate::setup::Api;

/// Longest and shortest pause between two polls of a ticket.
const POLL_MAX: Duration = Duration::from_millis(500);
const POLL_MIN: Duration = Duration::from_millis(10);
/// A probe with the ticket is sent only this long before the place's turn
/// at the earliest, so its answer surely comes back before that turn.
const PROBE_MARGIN_US: u64 = 250_000;

/// How the room is exercised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoomPlan {
    /// Customers who join after the opening.
    pub latecomers: usize,
    /// Over how long after the opening they arrive.
    pub late_over: Duration,
}

/// A ticket's standing, as `GET …/admission/{ticket}` gives it.
#[derive(Debug, Deserialize)]
struct TicketView {
    ticket: Uuid,
    position: Option<usize>,
    admitted: bool,
}

/// One customer's state.
#[derive(Default)]
struct SeatState {
    seat: Seat,
    ticket: Option<Uuid>,
    probed: bool,
}

/// The probes a customer sends once, before its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// An order without `Admission-Ticket`: always refused while the room
    /// is active.
    WithoutTicket,
    /// An order with the ticket, long before its place's turn.
    BeforeTurn,
}

/// A customer's place, once known.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub position: usize,
    pub admitted: bool,
}

/// The waiting room of one run.
pub struct WaitingRoom {
    api: Api,
    distribution_id: Uuid,
    tokens: Arc<Vec<String>>,
    /// Shared with the checkout, which sends them.
    pub tickets: Arc<Tickets>,
    seats: Vec<Mutex<SeatState>>,
    /// Per customer: joined yet.
    joined: Vec<watch::Sender<bool>>,
    pub room: Room,
    pub opens_at: DateTime<Utc>,
    deadline: OnceLock<Instant>,
    arrivals: AtomicU64,
    polls: AtomicU64,
    breaches: Mutex<Breaches>,
}

impl WaitingRoom {
    /// Marks the sale popular (as its market admin) and reads the room's
    /// rate.
    pub async fn open(
        api: &Api,
        admin_token: &str,
        distribution_id: Uuid,
        tokens: Arc<Vec<String>>,
        opens_at: DateTime<Utc>,
    ) -> anyhow::Result<Arc<Self>> {
        let path = format!("/api/v1/distributions/{distribution_id}/waiting-room");
        let marked = api
            .expect(
                Method::PUT,
                &path,
                Some(&json!({"popular": true})),
                Some(admin_token),
                200,
            )
            .await
            .context("marking the sale popular")?;
        let mut rate = marked["rate_per_s"].as_f64().unwrap_or(0.0);
        if rate <= 0.0 {
            let room = api.expect(Method::GET, &path, None, None, 200).await?;
            rate = room["rate_per_s"].as_f64().unwrap_or(0.0);
        }
        let until_open = (opens_at - Utc::now()).num_microseconds().unwrap_or(0);
        let open_us = (now_us() as i64 + until_open).max(0) as u64;
        let customers = tokens.len();
        Ok(Arc::new(Self {
            api: api.clone(),
            distribution_id,
            tickets: Arc::new(Tickets::new(customers)),
            seats: (0..customers).map(|_| Mutex::default()).collect(),
            joined: (0..customers).map(|_| watch::channel(false).0).collect(),
            tokens,
            room: Room {
                open_us,
                rate_per_s: rate,
            },
            opens_at,
            deadline: OnceLock::new(),
            arrivals: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            breaches: Mutex::default(),
        }))
    }

    /// Customers wait for admission until `deadline` (the end of the load).
    pub fn set_deadline(&self, deadline: Instant) {
        let _ = self.deadline.set(deadline);
    }

    fn past_deadline(&self) -> bool {
        self.deadline.get().is_some_and(|d| Instant::now() >= *d)
    }

    fn token(&self, c: usize) -> &str {
        self.tokens.get(c).map_or("", String::as_str)
    }

    fn admission_path(&self) -> String {
        format!("/api/v1/distributions/{}/admission", self.distribution_id)
    }

    /// Customer `c` joins; its arrival is the order the answers came in.
    async fn join(&self, c: usize) -> anyhow::Result<()> {
        let answer = self
            .api
            .expect_any(
                Method::POST,
                &self.admission_path(),
                self.token(c),
                &[200, 201],
            )
            .await
            .with_context(|| format!("customer {c} joining the waiting room"))?;
        let view: TicketView = serde_json::from_value(answer)?;
        let joined_us = now_us();
        let arrival = self.arrivals.fetch_add(1, Ordering::Relaxed) as usize;
        self.tickets.set(c, view.ticket);
        if let Some(slot) = self.seats.get(c) {
            let mut st = slot.lock().map_err(|_| anyhow!("seat poisoned"))?;
            st.ticket = Some(view.ticket);
            st.seat.arrival = arrival;
            st.seat.joined_us = joined_us;
            st.seat.early = view.position.is_none();
            st.seat.position = view.position;
            if view.admitted {
                st.seat.admitted_us = Some(joined_us);
            }
        }
        if let Some(flag) = self.joined.get(c) {
            flag.send_replace(true);
        }
        Ok(())
    }

    /// The early crowd joins, one after another, in `order`.
    pub async fn join_early(&self, order: &[usize]) -> anyhow::Result<()> {
        for &c in order {
            self.join(c).await?;
        }
        Ok(())
    }

    /// Latecomers join after the opening, one after another, spread over
    /// `over`.
    pub fn join_late(
        self: &Arc<Self>,
        order: Vec<usize>,
        over: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let open =
                Instant::now() + Duration::from_micros(this.room.open_us.saturating_sub(now_us()));
            let step = over / order.len().max(1) as u32;
            for (k, c) in order.into_iter().enumerate() {
                tokio::time::sleep_until(open + step * k as u32).await;
                if this.past_deadline() {
                    break;
                }
                if let Err(e) = this.join(c).await {
                    eprintln!("loadtest: {e:#}");
                }
            }
        })
    }

    /// Customer `c` was seen admitted at `at_us`.
    fn admitted(&self, c: usize, position: usize, at_us: u64) {
        let Some(slot) = self.seats.get(c) else {
            return;
        };
        let Ok(mut st) = slot.lock() else { return };
        if st.seat.admitted_us.is_none() {
            st.seat.admitted_us = Some(at_us);
            if self.room.before_turn(position, at_us) {
                if let Ok(mut b) = self.breaches.lock() {
                    b.admitted_early += 1;
                }
            }
        }
    }

    /// Where customer `c`'s ticket stands.
    async fn poll(&self, c: usize, ticket: Uuid) -> Option<TicketView> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        let path = format!("{}/{ticket}", self.admission_path());
        let answer = self
            .api
            .expect(Method::GET, &path, None, Some(self.token(c)), 200)
            .await
            .ok()?;
        serde_json::from_value(answer).ok()
    }

    /// Customer `c`'s ticket (and whether it was already seen admitted).
    fn ticket_of(&self, c: usize) -> Option<(Uuid, Option<usize>, bool)> {
        let st = self.seats.get(c)?.lock().ok()?;
        Some((st.ticket?, st.seat.position, st.seat.admitted_us.is_some()))
    }

    /// Whether customer `c` has been seen admitted.
    pub fn is_admitted(&self, c: usize) -> bool {
        self.ticket_of(c).is_some_and(|t| t.2)
    }

    /// Waits until customer `c` has joined and knows its place (`None` if
    /// the run ends first).
    pub async fn place(&self, c: usize) -> Option<Place> {
        let mut joined = self.joined.get(c)?.subscribe();
        let deadline = *self.deadline.get()?;
        tokio::time::timeout_at(deadline, joined.wait_for(|j| *j))
            .await
            .ok()?
            .ok()?;
        let open =
            Instant::now() + Duration::from_micros(self.room.open_us.saturating_sub(now_us()));
        tokio::time::sleep_until(open.min(deadline)).await;
        loop {
            let (ticket, position, admitted) = self.ticket_of(c)?;
            if let Some(position) = position {
                return Some(Place { position, admitted });
            }
            if self.past_deadline() {
                return None;
            }
            if let Some(view) = self.poll(c, ticket).await {
                let at = now_us();
                if let Some(slot) = self.seats.get(c) {
                    if let Ok(mut st) = slot.lock() {
                        st.seat.position = view.position;
                    }
                }
                if let (Some(p), true) = (view.position, view.admitted) {
                    self.admitted(c, p, at);
                }
            }
            if self.ticket_of(c).is_some_and(|t| t.1.is_none()) {
                tokio::time::sleep(POLL_MIN * 2).await;
            }
        }
    }

    /// The probes customer `c` sends now (once per customer).
    pub fn probes(&self, c: usize, place: Place) -> Vec<Probe> {
        let Some(Ok(mut st)) = self.seats.get(c).map(|s| s.lock()) else {
            return Vec::new();
        };
        if st.probed || place.admitted {
            return Vec::new();
        }
        st.probed = true;
        let mut probes = vec![Probe::WithoutTicket];
        if now_us() + PROBE_MARGIN_US < self.room.earliest_us(place.position) {
            probes.push(Probe::BeforeTurn);
        }
        probes
    }

    /// A probe's answer: accepted is a breach (without a ticket, always;
    /// with it, when answered before the place's turn).
    pub fn probed(&self, probe: Probe, place: Place, accepted: bool, answered_us: u64) {
        let Ok(mut b) = self.breaches.lock() else {
            return;
        };
        b.probes_sent += 1;
        let breach = match probe {
            Probe::WithoutTicket => accepted,
            Probe::BeforeTurn => accepted && self.room.before_turn(place.position, answered_us),
        };
        if breach {
            b.probes_accepted += 1;
        }
    }

    /// Polls customer `c`'s ticket until it is admitted: `false` if the
    /// run ends first.
    pub async fn admission(&self, c: usize, place: Place) -> bool {
        if place.admitted || self.is_admitted(c) {
            return true;
        }
        let Some((ticket, _, _)) = self.ticket_of(c) else {
            return false;
        };
        let joined = self
            .seats
            .get(c)
            .and_then(|s| s.lock().ok().map(|st| st.seat.joined_us))
            .unwrap_or(0);
        let due = self.room.earliest_us(place.position).max(joined);
        loop {
            if self.past_deadline() {
                return false;
            }
            let now = now_us();
            let pause = if now < due {
                Duration::from_micros((due - now) / 2).clamp(POLL_MIN, POLL_MAX)
            } else {
                POLL_MIN
            };
            tokio::time::sleep(pause).await;
            let Some(view) = self.poll(c, ticket).await else {
                continue;
            };
            if view.admitted {
                self.admitted(c, view.position.unwrap_or(place.position), now_us());
                return true;
            }
        }
    }

    /// An accepted hold or order of customer `c`, answered at `answered_us`.
    pub fn taken(&self, c: usize, answered_us: u64) {
        let position = self.ticket_of(c).and_then(|t| t.1);
        let Ok(mut b) = self.breaches.lock() else {
            return;
        };
        b.taken_checked += 1;
        match position {
            Some(p) if !self.room.before_turn(p, answered_us) => {}
            _ => b.taken_early += 1,
        }
    }

    /// The run's orders in the database, each against its customer's turn
    /// (`accounts`: customer index → account id).
    pub async fn stored_orders(&self, db: &PgPool, accounts: &[Uuid]) -> anyhow::Result<()> {
        let rows: Vec<(Uuid, DateTime<Utc>)> =
            sqlx::query_as("SELECT customer_id, created_at FROM orders WHERE distribution_id = $1")
                .bind(self.distribution_id)
                .fetch_all(db)
                .await
                .context("reading the run's orders")?;
        let mut b = self.breaches.lock().map_err(|_| anyhow!("poisoned"))?;
        for (customer, created_at) in rows {
            b.taken_checked += 1;
            let position = accounts
                .iter()
                .position(|a| *a == customer)
                .and_then(|c| self.ticket_of(c))
                .and_then(|t| t.1);
            let Some(p) = position else {
                b.without_place += 1;
                continue;
            };
            let offset = (created_at - self.opens_at).num_microseconds().unwrap_or(0);
            let at = (self.room.open_us as i64 + offset).max(0) as u64;
            if self.room.before_turn(p, at) {
                b.taken_early += 1;
            }
        }
        Ok(())
    }

    /// What every customer saw.
    pub fn seats(&self) -> Vec<Seat> {
        self.seats
            .iter()
            .filter_map(|s| s.lock().ok())
            .filter(|st| st.ticket.is_some())
            .map(|st| st.seat.clone())
            .collect()
    }

    /// The room's figures and checks (after [`Self::stored_orders`]).
    pub fn report(&self) -> (AdmissionReport, Vec<Check>) {
        let seats = self.seats();
        let breaches = self.breaches.lock().map(|b| *b).unwrap_or_default();
        let early = seats.iter().filter(|s| s.early).count();
        let report = AdmissionReport {
            rate_per_s: self.room.rate_per_s,
            customers: seats.len(),
            early,
            latecomers: seats.len() - early,
            admitted: seats.iter().filter(|s| s.admitted_us.is_some()).count(),
            time_to_admission_ms: fairness::time_to_admission(&seats, &self.room),
            lag_behind_rate_ms: fairness::lag_behind_rate(&seats, &self.room),
            draw_vs_arrival: fairness::draw_vs_arrival(&seats),
            admission_vs_line: fairness::admission_vs_line(&seats),
            admission_vs_arrival: fairness::admission_vs_arrival(&seats),
            polls: self.polls.load(Ordering::Relaxed),
        };
        let checks = vec![
            fairness::line_order(&seats),
            fairness::taken_without_admission(&breaches),
            fairness::admitted_within_run(&seats),
        ];
        (report, checks)
    }
}
