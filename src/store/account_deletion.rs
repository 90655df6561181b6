//! Deleting an account (the FAQ: "puis-je supprimer mon compte ?").
//!
//! What stays: the orders of past distributions, for the producers' and
//! markets' accounts — under an anonymous account row ("Compte supprimé",
//! an address nobody can sign in with) when the account has such history,
//! else the row itself goes. Everything else goes: tokens, idempotency
//! keys, memberships of producer spaces and markets, messages, cancelled
//! orders, and the producer spaces it owns that never sold anything.
//!
//! What prevents it (nothing is changed): being the last admin of a
//! market, owning a producer space that has sales (its history must stay
//! with someone), or an order being prepared (its sale closed, its
//! distribution not over). Orders in a sale still open are cancelled by
//! the caller through the engine first (stock comes back live).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbResult, Store};

/// Why an account cannot be deleted now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blockers {
    /// Markets it is the only admin of.
    pub last_admin_of: Vec<String>,
    /// Producer spaces it owns that have sales.
    pub owned_with_sales: Vec<String>,
    /// Orders being prepared: (number, market, distribution start).
    pub in_preparation: Vec<(i32, String, DateTime<Utc>)>,
}

impl Blockers {
    pub fn is_empty(&self) -> bool {
        self.last_admin_of.is_empty()
            && self.owned_with_sales.is_empty()
            && self.in_preparation.is_empty()
    }
}

/// What deleting would do, for the confirmation page.
#[derive(Debug, Clone, Default)]
pub struct DeletionPlan {
    pub blockers: Blockers,
    /// Producer spaces deleted with it (owned, no sales).
    pub spaces_deleted: Vec<String>,
    /// Distributions where it has an order in an open sale (cancelled first).
    pub open_orders: Vec<Uuid>,
    /// Orders of past distributions kept anonymously.
    pub past_orders: i64,
}

/// Owned producer spaces with whether they have order lines.
const OWNED: &str = "SELECT p.id, p.name,
        EXISTS (SELECT 1 FROM order_lines l
                  JOIN participations q ON q.id = l.participation_id
                  JOIN catalogs c ON c.id = q.catalog_id
                 WHERE c.producer_id = p.id)
        OR EXISTS (SELECT 1 FROM payouts y WHERE y.producer_id = p.id) AS has_sales
   FROM producers p JOIN producer_members m ON m.producer_id = p.id
  WHERE m.account_id = $1 AND m.role = 'owner'
  ORDER BY p.name";

impl Store {
    /// What deleting the account would do at `now`, and what prevents it.
    pub async fn deletion_plan(
        &self,
        account_id: Uuid,
        now: DateTime<Utc>,
    ) -> DbResult<DeletionPlan> {
        let pool = self.pool();
        let last_admin_of = sqlx::query_as::<_, (String,)>(
            "SELECT k.name FROM markets k JOIN market_admins a ON a.market_id = k.id
              WHERE a.account_id = $1
                AND NOT EXISTS (SELECT 1 FROM market_admins b
                                 WHERE b.market_id = k.id AND b.account_id <> $1)
              ORDER BY k.name",
        )
        .bind(account_id)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(n,)| n)
        .collect();
        let owned = sqlx::query_as::<_, (Uuid, String, bool)>(OWNED)
            .bind(account_id)
            .fetch_all(pool)
            .await?;
        // An order is "in preparation" once every sale it has lines in closed,
        // until its distribution ends; "open" while one of them is open.
        let orders = sqlx::query_as::<_, (i32, String, DateTime<Utc>, Uuid, DateTime<Utc>)>(
            "SELECT o.number, k.name, d.starts_at, d.id,
                    max(COALESCE(p.orders_close_at, d.orders_close_at)) AS closes_at
               FROM orders o
               JOIN distributions d ON d.id = o.distribution_id
               JOIN markets k ON k.id = d.market_id
               JOIN order_lines l ON l.order_id = o.id
               JOIN participations p ON p.id = l.participation_id
              WHERE o.customer_id = $1 AND o.status = 'confirmed' AND d.ends_at > $2
                AND d.cancelled_at IS NULL
              GROUP BY o.id, k.name, d.id
              ORDER BY d.starts_at",
        )
        .bind(account_id)
        .bind(now)
        .fetch_all(pool)
        .await?;
        let (past_orders,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM orders o JOIN distributions d ON d.id = o.distribution_id
              WHERE o.customer_id = $1 AND o.status = 'confirmed' AND d.ends_at <= $2",
        )
        .bind(account_id)
        .bind(now)
        .fetch_one(pool)
        .await?;
        let mut plan = DeletionPlan {
            past_orders,
            ..DeletionPlan::default()
        };
        plan.blockers.last_admin_of = last_admin_of;
        for (_, name, has_sales) in owned {
            if has_sales {
                plan.blockers.owned_with_sales.push(name);
            } else {
                plan.spaces_deleted.push(name);
            }
        }
        for (number, market, starts_at, distribution_id, closes_at) in orders {
            if now < closes_at {
                plan.open_orders.push(distribution_id);
            } else {
                plan.blockers
                    .in_preparation
                    .push((number, market, starts_at));
            }
        }
        Ok(plan)
    }

    /// Deletes the account as the module doc says, in one transaction,
    /// after checking again under lock that nothing prevents it (else the
    /// blockers, nothing changed). `anonymous_email` is the address the
    /// row takes when history keeps it. Answers the distributions whose
    /// participations went with a deleted producer space (their actors
    /// must reload).
    pub async fn delete_account(
        &self,
        account_id: Uuid,
        anonymous_email: &str,
        now: DateTime<Utc>,
    ) -> DbResult<Result<Vec<Uuid>, Blockers>> {
        let mut tx = self.pool().begin().await?;
        // New orders, tokens and memberships of this account wait for us.
        sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        let plan = self.deletion_plan(account_id, now).await?;
        let open: (i64,) = sqlx::query_as(
            "SELECT count(*) FROM orders o JOIN distributions d ON d.id = o.distribution_id
              WHERE o.customer_id = $1 AND o.status = 'confirmed' AND d.ends_at > $2
                AND d.cancelled_at IS NULL",
        )
        .bind(account_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if !plan.blockers.is_empty() || open.0 > 0 {
            let mut blockers = plan.blockers;
            if open.0 > 0 && blockers.in_preparation.is_empty() {
                // An open order the caller did not cancel: say it as one in progress.
                blockers.in_preparation.push((0, String::new(), now));
            }
            return Ok(Err(blockers));
        }
        let touched: Vec<Uuid> = sqlx::query_as::<_, (Uuid,)>(
            "SELECT DISTINCT q.distribution_id FROM participations q
               JOIN catalogs c ON c.id = q.catalog_id
               JOIN producer_members m ON m.producer_id = c.producer_id
              WHERE m.account_id = $1 AND m.role = 'owner'",
        )
        .bind(account_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect();
        // Producer spaces it owns without sales go with it (products,
        // offers, catalogs, images, links and planned participations).
        sqlx::query(
            "DELETE FROM producers p USING producer_members m
              WHERE m.producer_id = p.id AND m.account_id = $1 AND m.role = 'owner'",
        )
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        for statement in [
            "DELETE FROM messages WHERE correspondent_id = $1 OR author_id = $1",
            "DELETE FROM producer_members WHERE account_id = $1",
            "DELETE FROM market_admins WHERE account_id = $1",
            "DELETE FROM auth_tokens WHERE account_id = $1",
            "DELETE FROM idempotency_keys WHERE account_id = $1",
            "DELETE FROM platform_admins WHERE account_id = $1",
            "DELETE FROM orders WHERE customer_id = $1 AND status = 'cancelled'",
        ] {
            sqlx::query(statement)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        let (history,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM orders WHERE customer_id = $1)
                 OR EXISTS (SELECT 1 FROM order_line_changes WHERE changed_by = $1)
                 OR EXISTS (SELECT 1 FROM stock_movements WHERE account_id = $1)
                 OR EXISTS (SELECT 1 FROM distributions WHERE validated_by = $1)",
        )
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
        if history {
            sqlx::query(
                "UPDATE accounts SET name = 'Compte supprimé', email = $2, password_hash = '!supprimé'
                  WHERE id = $1",
            )
            .bind(account_id)
            .bind(anonymous_email)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("DELETE FROM accounts WHERE id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        // Cached token owners must not outlive the tokens.
        self.roles_changed();
        Ok(Ok(touched))
    }
}
