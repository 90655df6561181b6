//! The fair waiting room of popular sales, as the API reaches it: joining
//! (a ticket, its place and the wait), a ticket's status, the room at a
//! glance, and the market admin's mark. The rules are `domain::admission`;
//! each distribution actor keeps its room, and checks it before a basket or
//! an order takes stock. Tickets live in memory only, like holds: after a
//! restart customers join again (the popular mark is stored).

use uuid::Uuid;

use super::distribution_actor::{JoinRoom, RoomStatusOf, TicketStatusOf};
use super::error::OrderError;
use super::Engine;
use crate::domain::admission::{RoomStatus, TicketStatus};
use crate::store::DbError;

impl Engine {
    /// The customer joins the distribution's waiting room, or finds their
    /// ticket again: its status, and whether it is a new ticket.
    pub async fn join_room(
        &self,
        distribution_id: Uuid,
        customer_id: Uuid,
    ) -> Result<(TicketStatus, bool), OrderError> {
        let actor = self.distribution(distribution_id);
        let ticket = Uuid::new_v4();
        let status = self
            .ask(
                &actor,
                JoinRoom {
                    customer_id,
                    ticket,
                },
            )
            .await?
            .map_err(OrderError::Refused)?;
        Ok((status, status.ticket == ticket))
    }

    /// Where the customer's ticket stands (`None`: not theirs, or unknown).
    pub async fn ticket_status(
        &self,
        distribution_id: Uuid,
        customer_id: Uuid,
        ticket: Uuid,
    ) -> Result<Option<TicketStatus>, OrderError> {
        let actor = self.distribution(distribution_id);
        self.ask(
            &actor,
            TicketStatusOf {
                customer_id,
                ticket,
            },
        )
        .await?
        .map_err(OrderError::Refused)
    }

    /// The distribution's waiting room at a glance (`None`: no sale yet).
    pub async fn room_status(
        &self,
        distribution_id: Uuid,
    ) -> Result<Option<RoomStatus>, OrderError> {
        let actor = self.distribution(distribution_id);
        self.ask(&actor, RoomStatusOf)
            .await?
            .map_err(OrderError::Refused)
    }

    /// A market admin marks the sale popular (or not): stored, then the
    /// distribution's actor reloads it. `false` for an unknown distribution.
    pub async fn set_popular(&self, distribution_id: Uuid, popular: bool) -> Result<bool, DbError> {
        let found = self.store().set_popular(distribution_id, popular).await?;
        if found {
            self.reload_distribution(distribution_id);
        }
        Ok(found)
    }
}
