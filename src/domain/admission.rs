//! The fair waiting room of a popular sale (one per distribution).
//!
//! Customers join before or during the opening and get a ticket. Those who
//! joined before the opening instant are put in a random order at that
//! instant — a draw with a seeded RNG (ChaCha8, portable), so it is fair
//! and yet reproducible — and whoever joins later queues behind them in
//! arrival order. The line is then admitted at `rate_per_s` (a token bucket
//! of one second's worth: a line that has drained lets the next arrivals in
//! at once, a crowd arriving later queues again). An admitted ticket opens
//! its customer's basket and order calls until it goes unused for
//! `idle_expiry`; then its customer joins again, at the back.
//!
//! The room is *active* when the market admin marked the sale as popular,
//! or when at least `threshold` customers were waiting at the opening.
//! Inactive, every ticket is admitted at once and nobody needs one.
//!
//! Pure: time is given, nothing here sleeps or does I/O.

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The waiting room's rules, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdmissionRules {
    /// Customers waiting at the opening that make a sale popular by itself.
    pub threshold: usize,
    /// Customers admitted per second.
    pub rate_per_s: f64,
    /// An admitted ticket unused this long expires.
    pub idle_expiry: Duration,
    /// Seed of the opening draw.
    pub seed: u64,
}

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TicketStatus {
    pub ticket: Uuid,
    /// Place in the line, from 1 (`None` until the opening draw).
    pub position: Option<usize>,
    pub admitted: bool,
    /// Seconds until admission, about (0 once admitted).
    pub estimated_wait_s: u64,
    /// An admitted ticket that went unused too long (join again).
    pub expired: bool,
}

/// Why a call that needs admission is refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotAdmitted {
    /// No ticket, or not this customer's.
    NoTicket,
    /// Waiting: where and for how long.
    Waiting(TicketStatus),
    /// Admitted once, unused too long.
    Expired,
}

/// The room at a glance (live pushes, the shop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoomStatus {
    /// Everyone needs an admitted ticket.
    pub active: bool,
    /// The opening draw took place.
    pub drawn: bool,
    /// Places admitted so far (positions up to this one are in).
    pub admitted: usize,
    /// Customers in line not admitted yet.
    pub waiting: usize,
    pub rate_per_s: f64,
}

#[derive(Debug, Clone)]
struct Ticket {
    customer_id: Uuid,
    /// Index in `line` (`None` before the draw).
    index: Option<usize>,
    /// Last use (or admission): an admitted ticket expires from there.
    last_used: Option<DateTime<Utc>>,
}

/// One distribution's waiting room.
#[derive(Debug, Clone)]
pub struct WaitingRoom {
    rules: AdmissionRules,
    opens_at: DateTime<Utc>,
    popular: bool,
    tickets: HashMap<Uuid, Ticket>,
    by_customer: HashMap<Uuid, Uuid>,
    /// Joined before the opening, in arrival order (drawn at the opening).
    early: Vec<Uuid>,
    /// The line, once drawn: drawn early joiners, then later arrivals.
    line: Vec<Uuid>,
    drawn: bool,
    active: bool,
    /// Places admitted (`line[..admitted]`).
    admitted: usize,
    /// Admissions earned and not used yet (the token bucket).
    allowance: f64,
    /// Up to when the bucket was filled.
    filled_at: DateTime<Utc>,
}

impl WaitingRoom {
    /// A room for a sale opening at `opens_at`; `popular` if marked so.
    pub fn new(rules: AdmissionRules, opens_at: DateTime<Utc>, popular: bool) -> Self {
        Self {
            rules,
            opens_at,
            popular,
            tickets: HashMap::new(),
            by_customer: HashMap::new(),
            early: Vec::new(),
            line: Vec::new(),
            drawn: false,
            active: popular,
            admitted: 0,
            allowance: 0.0,
            filled_at: opens_at,
        }
    }

    /// The sale is marked popular (or not) by its market admin.
    pub fn set_popular(&mut self, popular: bool, now: DateTime<Utc>) {
        self.advance(now);
        self.popular = popular;
        if !self.drawn {
            self.active = popular;
        } else if popular && !self.active {
            // Everyone already in stays in; from now on, the line.
            self.active = true;
            self.allowance = 0.0;
            for ticket in self.tickets.values_mut() {
                ticket.last_used = Some(now);
            }
        }
    }

    /// The opening instant moved (the distribution was edited).
    pub fn set_opening(&mut self, opens_at: DateTime<Utc>) {
        if !self.drawn {
            self.opens_at = opens_at;
            self.filled_at = opens_at;
        }
    }

    /// Whether calls that take stock need an admitted ticket at `now`.
    pub fn is_active(&mut self, now: DateTime<Utc>) -> bool {
        self.advance(now);
        self.drawn && self.active
    }

    /// Moves the room to `now`: the opening draw, then admissions.
    pub fn advance(&mut self, now: DateTime<Utc>) {
        if !self.drawn && now >= self.opens_at {
            self.draw();
        }
        if !self.drawn {
            return;
        }
        if now > self.filled_at {
            let elapsed_ms = (now - self.filled_at).num_milliseconds() as f64;
            self.filled_at = now;
            if self.active {
                self.allowance += elapsed_ms * self.rules.rate_per_s / 1000.0;
            }
        }
        self.admit(now);
    }

    /// Admits what the bucket allows (everyone when the room is inactive).
    fn admit(&mut self, now: DateTime<Utc>) {
        let waiting = self.line.len() - self.admitted;
        let admit = if self.active {
            (self.allowance.floor().max(0.0) as usize).min(waiting)
        } else {
            waiting
        };
        for id in &self.line[self.admitted..self.admitted + admit] {
            if let Some(ticket) = self.tickets.get_mut(id) {
                ticket.last_used = Some(now);
            }
        }
        self.admitted += admit;
        if self.active {
            // A drained line banks at most one second of admissions.
            self.allowance = (self.allowance - admit as f64).min(self.rules.rate_per_s.max(1.0));
        }
    }

    /// The opening draw: the early crowd in a random order, first in line.
    fn draw(&mut self) {
        self.drawn = true;
        self.active = self.popular || self.early.len() >= self.rules.threshold;
        let mut early = std::mem::take(&mut self.early);
        let mut rng = ChaCha8Rng::seed_from_u64(self.rules.seed);
        early.shuffle(&mut rng);
        for id in early {
            self.enqueue(id);
        }
        self.filled_at = self.opens_at;
    }

    fn enqueue(&mut self, id: Uuid) {
        if let Some(ticket) = self.tickets.get_mut(&id) {
            ticket.index = Some(self.line.len());
            self.line.push(id);
        }
    }

    /// The customer joins (or is already in: same ticket). `new_ticket`
    /// names a new ticket; a customer whose admission expired gets it and
    /// queues at the back.
    pub fn join(
        &mut self,
        customer_id: Uuid,
        new_ticket: Uuid,
        now: DateTime<Utc>,
    ) -> TicketStatus {
        self.advance(now);
        if let Some(id) = self.by_customer.get(&customer_id).copied() {
            let status = self.status_of(id, now);
            if !status.expired {
                return status;
            }
            self.tickets.remove(&id);
        }
        self.tickets.insert(
            new_ticket,
            Ticket {
                customer_id,
                index: None,
                last_used: None,
            },
        );
        self.by_customer.insert(customer_id, new_ticket);
        if self.drawn {
            self.enqueue(new_ticket);
            // A drained line lets the newcomer in at once (within the bucket).
            self.admit(now);
        } else {
            self.early.push(new_ticket);
        }
        self.status_of(new_ticket, now)
    }

    /// Where a customer's ticket stands (`None`: unknown, or another's).
    pub fn status_for(
        &mut self,
        customer_id: Uuid,
        ticket: Uuid,
        now: DateTime<Utc>,
    ) -> Option<TicketStatus> {
        let theirs = self
            .tickets
            .get(&ticket)
            .is_some_and(|t| t.customer_id == customer_id);
        if theirs {
            self.status(ticket, now)
        } else {
            None
        }
    }

    /// Where a ticket stands (`None` for an unknown ticket).
    pub fn status(&mut self, ticket: Uuid, now: DateTime<Utc>) -> Option<TicketStatus> {
        self.advance(now);
        self.tickets
            .contains_key(&ticket)
            .then(|| self.status_of(ticket, now))
    }

    fn status_of(&self, id: Uuid, now: DateTime<Utc>) -> TicketStatus {
        let ticket = self.tickets.get(&id);
        let index = ticket.and_then(|t| t.index);
        let admitted = index.is_some_and(|i| i < self.admitted);
        let expired = admitted
            && ticket
                .and_then(|t| t.last_used)
                .is_some_and(|used| now - used >= self.rules.idle_expiry);
        TicketStatus {
            ticket: id,
            position: index.map(|i| i + 1),
            admitted: admitted && !expired,
            estimated_wait_s: if admitted {
                0
            } else {
                self.wait_for(index, now)
            },
            expired,
        }
    }

    /// Seconds, about, until the place at `index` is admitted.
    fn wait_for(&self, index: Option<usize>, now: DateTime<Utc>) -> u64 {
        let rate = self.rules.rate_per_s.max(f64::MIN_POSITIVE);
        let ahead = match index {
            Some(i) => (i + 1 - self.admitted.min(i + 1)) as f64 - self.allowance,
            // Before the draw: the whole early crowd may be ahead.
            None => self.early.len() as f64,
        };
        let until_opening = if self.drawn {
            0.0
        } else {
            (self.opens_at - now).num_milliseconds().max(0) as f64 / 1000.0
        };
        let seconds = until_opening + (ahead / rate).max(0.0);
        if self.drawn && !self.active {
            return 0;
        }
        seconds.ceil() as u64
    }

    /// A call that takes stock, with `ticket`, by `customer_id`: allowed
    /// (and the ticket's use noted) or refused with where the ticket stands.
    pub fn check(
        &mut self,
        customer_id: Uuid,
        ticket: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<(), NotAdmitted> {
        if !self.is_active(now) {
            return Ok(());
        }
        let Some(id) = ticket.filter(|id| {
            self.tickets
                .get(id)
                .is_some_and(|t| t.customer_id == customer_id)
        }) else {
            return Err(NotAdmitted::NoTicket);
        };
        let status = self.status_of(id, now);
        if status.expired {
            return Err(NotAdmitted::Expired);
        }
        if !status.admitted {
            return Err(NotAdmitted::Waiting(status));
        }
        if let Some(ticket) = self.tickets.get_mut(&id) {
            ticket.last_used = Some(now);
        }
        Ok(())
    }

    /// The room at a glance.
    pub fn room_status(&mut self, now: DateTime<Utc>) -> RoomStatus {
        self.advance(now);
        RoomStatus {
            active: self.drawn && self.active || !self.drawn && self.popular,
            drawn: self.drawn,
            admitted: self.admitted,
            waiting: self.line.len() - self.admitted + self.early.len(),
            rate_per_s: self.rules.rate_per_s,
        }
    }

    /// Whether anyone holds a ticket (the room cannot be forgotten).
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }
}
