//! The distribution actor's waiting room (`domain::admission`): created
//! when the sale is loaded (its opening is the first of its windows,
//! popular if a market admin marked it so), consulted before anything
//! takes stock, joined and looked up by customers, and pushed to the
//! storefront's watchers as it moves (once per tick at most).

use actix::prelude::*;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DistributionActor;
use crate::domain::admission::{AdmissionRules, RoomStatus, TicketStatus, WaitingRoom};
use crate::domain::sale::{Sale, SaleRefusal};

/// A customer joins the waiting room (`ticket`: the id of a new ticket,
/// used if they hold none).
#[derive(Message)]
#[rtype(result = "Result<TicketStatus, SaleRefusal>")]
pub struct JoinRoom {
    pub customer_id: Uuid,
    pub ticket: Uuid,
}

/// Where a customer's ticket stands (`None`: not theirs, or unknown).
#[derive(Message)]
#[rtype(result = "Result<Option<TicketStatus>, SaleRefusal>")]
pub struct TicketStatusOf {
    pub customer_id: Uuid,
    pub ticket: Uuid,
}

/// The room at a glance (`None`: the sale has no opening yet).
#[derive(Message)]
#[rtype(result = "Result<Option<RoomStatus>, SaleRefusal>")]
pub struct RoomStatusOf;

impl DistributionActor {
    /// This distribution's rules: its own seed, derived from the engine's.
    fn room_rules(&self) -> AdmissionRules {
        let (high, low) = self.id.as_u64_pair();
        AdmissionRules {
            seed: self.wiring.admission.seed ^ high ^ low.rotate_left(17),
            ..self.wiring.admission
        }
    }

    /// The room follows a (re)loaded sale: its opening and its mark.
    pub(super) fn follow_sale_in_room(&mut self, sale: &Sale, now: DateTime<Utc>) {
        let Some(opening) = sale.opening() else {
            return;
        };
        let popular = sale.distribution.popular;
        match self.room.as_mut() {
            Some(room) => {
                room.set_opening(opening);
                room.set_popular(popular, now);
            }
            None => self.room = Some(WaitingRoom::new(self.room_rules(), opening, popular)),
        }
    }

    /// A call that takes stock: allowed unless the room is active and the
    /// customer's ticket is not admitted.
    pub(super) fn admit(
        &mut self,
        customer_id: Uuid,
        ticket: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<(), SaleRefusal> {
        match self.room.as_mut() {
            Some(room) => room
                .check(customer_id, ticket, now)
                .map_err(SaleRefusal::NotAdmitted),
            None => Ok(()),
        }
    }

    /// The room as the shop shows it: only when the sale opens through it.
    pub(super) fn room_shown(&mut self, now: DateTime<Utc>) -> Option<RoomStatus> {
        let status = self.room.as_mut()?.room_status(now);
        status.active.then_some(status)
    }

    /// Pushes the room to the storefront's watchers when it moved (and once
    /// more when it stops being active).
    pub(super) fn push_room(&mut self, now: DateTime<Utc>) {
        let Some(status) = self.room.as_mut().map(|room| room.room_status(now)) else {
            return;
        };
        let was_active = self.pushed_room.is_some_and(|s| s.active);
        if self.pushed_room == Some(status) || !(status.active || was_active) {
            return;
        }
        self.pushed_room = Some(status);
        self.wiring.hub.admission(self.id, status);
    }
}

impl Handler<JoinRoom> for DistributionActor {
    type Result = Result<TicketStatus, SaleRefusal>;

    fn handle(&mut self, msg: JoinRoom, _: &mut Context<Self>) -> Self::Result {
        let now = self.wiring.clock.now();
        let sale = self.sale_mut()?;
        if sale.distribution.cancelled_at.is_some() {
            return Err(SaleRefusal::DistributionCancelled);
        }
        let closes = sale.participations.iter().map(|p| p.closes_at).max();
        if closes.is_some_and(|closes| now >= closes) {
            return Err(SaleRefusal::SaleClosed { offer_id: None });
        }
        let room = self
            .room
            .as_mut()
            .ok_or(SaleRefusal::SaleClosed { offer_id: None })?;
        Ok(room.join(msg.customer_id, msg.ticket, now))
    }
}

impl Handler<TicketStatusOf> for DistributionActor {
    type Result = Result<Option<TicketStatus>, SaleRefusal>;

    fn handle(&mut self, msg: TicketStatusOf, _: &mut Context<Self>) -> Self::Result {
        let now = self.wiring.clock.now();
        self.sale_mut()?;
        Ok(self
            .room
            .as_mut()
            .and_then(|room| room.status_for(msg.customer_id, msg.ticket, now)))
    }
}

impl Handler<RoomStatusOf> for DistributionActor {
    type Result = Result<Option<RoomStatus>, SaleRefusal>;

    fn handle(&mut self, _: RoomStatusOf, _: &mut Context<Self>) -> Self::Result {
        let now = self.wiring.clock.now();
        self.sale_mut()?;
        Ok(self.room.as_mut().map(|room| room.room_status(now)))
    }
}
