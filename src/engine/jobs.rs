//! Background work after the sale, driven by the injectable clock:
//!
//! - **closing summaries**: when a participation's window has closed, its
//!   producer's members get the recap of that catalog (queued in the outbox
//!   with `participations.summary_sent_at` in one transaction: once);
//! - **delivery settlement**: `engine.delivery_delay_minutes` after a
//!   distribution ends its orders count as delivered (`real −= delivered`,
//!   `ordered −= delivered`), through [`Engine::with_stock_moves`] so the
//!   stock ledgers follow, exactly once (`distributions.delivered_at`);
//! - **outbox delivery** through the [`Notifier`].
//!
//! [`Jobs::spawn`] runs a pass every `engine.jobs_interval_ms`; tests call
//! [`Jobs::run_due`] after moving the clock and await its report. Passes
//! may overlap (the loop and a test): every step claims its work in the
//! database, and outbox delivery is serialised in the process.

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::notifier::Notifier;
use super::stock_moves::{MoveError, StockMove};
use super::{Engine, EngineInner};
use crate::configuration::Settings;
use crate::domain::market::parse_timezone;
use crate::domain::quantity::StockLevel;
use crate::domain::recap::render::{summary_text, Heading};
use crate::domain::recap::Recap;
use crate::store::after_sale::DueSummary;
use crate::store::outbox::OutboxMessage;
use crate::store::recaps::RecapScope;
use crate::store::settlement::SettleError;
use crate::store::{DbError, DbResult};

/// Participations summarised per pass.
const SUMMARIES_PER_PASS: i64 = 50;

/// One outbox delivery at a time in this process, so two overlapping
/// passes never send the same message twice.
static DISPATCH: Mutex<()> = Mutex::const_new(());

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    /// Participations whose summary was queued.
    pub summaries: usize,
    /// Distributions settled as delivered.
    pub deliveries: usize,
    /// Outbox messages delivered.
    pub messages: usize,
}

/// The after-sale jobs of an engine.
pub struct Jobs {
    engine: Engine,
    notifier: Arc<Notifier>,
    delivery_delay: chrono::Duration,
    every: Duration,
}

impl Jobs {
    pub fn new(engine: Engine, settings: &Settings) -> Self {
        let notifier = Arc::new(Notifier::new(engine.store().clone(), &settings.notify));
        Self {
            engine,
            notifier,
            delivery_delay: chrono::Duration::minutes(i64::from(
                settings.engine.delivery_delay_minutes,
            )),
            every: Duration::from_millis(settings.engine.jobs_interval_ms.max(10)),
        }
    }

    /// Runs a pass now; each step's failure is logged and the others go on.
    pub async fn run_due(&self) -> JobReport {
        run_pass(&self.engine, &self.notifier, self.delivery_delay).await
    }

    /// Runs passes in the background until the engine is dropped or its
    /// database pool closed (shutdown).
    pub fn spawn(self) {
        let weak: Weak<EngineInner> = Arc::downgrade(&self.engine.inner);
        let Jobs {
            notifier,
            delivery_delay,
            every,
            ..
        } = self;
        actix::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else {
                    break;
                };
                let engine = Engine { inner };
                if engine.store().pool().is_closed() {
                    break;
                }
                // In a cluster only the active engine runs the jobs.
                if engine.is_active() {
                    run_pass(&engine, &notifier, delivery_delay).await;
                }
            }
        });
    }
}

async fn run_pass(engine: &Engine, notifier: &Notifier, delay: chrono::Duration) -> JobReport {
    let now = engine.clock().now();
    let mut report = JobReport::default();
    match engine.queue_summaries(now).await {
        Ok(n) => report.summaries = n,
        Err(e) => tracing::warn!(error = %e, "closing summaries failed; retried next pass"),
    }
    match engine.deliver_due(now, delay).await {
        Ok(n) => report.deliveries = n,
        Err(e) => tracing::warn!(error = %e, "delivery settlement failed; retried next pass"),
    }
    let _one_at_a_time = DISPATCH.lock().await;
    match notifier.dispatch(engine.clock().now()).await {
        Ok(n) => report.messages = n,
        Err(e) => tracing::warn!(error = %e, "outbox delivery failed; retried next pass"),
    }
    report
}

fn summary_messages(due: &DueSummary, recap: &Recap, recipients: &[String]) -> Vec<OutboxMessage> {
    let tz = parse_timezone(&due.timezone, "timezone").unwrap_or(chrono_tz::Tz::UTC);
    let day = due.starts_at.with_timezone(&tz).format("%d/%m/%Y %H:%M");
    let heading = Heading {
        title: format!("{} — {}", due.producer_name, due.catalog_name),
        details: vec![format!("{}, distribution du {day}", due.market_name)],
    };
    let body = summary_text(recap, &heading);
    let subject = format!(
        "Commandes {} — {} — {day} ({} commande(s))",
        due.catalog_name,
        due.market_name,
        recap.orders.len()
    );
    recipients
        .iter()
        .map(|recipient| OutboxMessage {
            kind: "summary",
            recipient: recipient.clone(),
            subject: subject.clone(),
            body: body.clone(),
            dedupe_key: format!("summary:{}:{recipient}", due.participation_id),
        })
        .collect()
}

impl Engine {
    /// Queues the closing recap of every participation whose sale closed.
    pub async fn queue_summaries(&self, now: DateTime<Utc>) -> DbResult<usize> {
        let store = self.store();
        let mut queued = 0;
        for due in store.due_summaries(now, SUMMARIES_PER_PASS).await? {
            let scope = RecapScope {
                distribution_ids: vec![due.distribution_id],
                producer_id: Some(due.producer_id),
                catalog_ids: Some(vec![due.catalog_id]),
            };
            let recap = Recap::build(&store.recap_lines(&scope).await?);
            let recipients = store.producer_member_emails(due.producer_id).await?;
            let messages = summary_messages(&due, &recap, &recipients);
            if store
                .queue_summary(due.participation_id, now, &messages)
                .await?
            {
                tracing::info!(participation = %due.participation_id, orders = recap.orders.len(),
                    recipients = messages.len(), "closing summary queued");
                metrics::counter!("jobs_summaries_total").increment(1);
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Settles every distribution that ended `delay` ago or more.
    pub async fn deliver_due(
        &self,
        now: DateTime<Utc>,
        delay: chrono::Duration,
    ) -> DbResult<usize> {
        let mut delivered = 0;
        for distribution_id in self.store().deliveries_due(now, delay).await? {
            if self.settle_delivery(distribution_id, now).await? {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// Settles one distribution: its undelivered lines become delivered and
    /// each offer's `ordered` (and, for tracked offers, real stock) drops by
    /// what was delivered. `false` if it was settled already or moved while
    /// being planned (the next pass plans again).
    pub async fn settle_delivery(
        &self,
        distribution_id: Uuid,
        now: DateTime<Utc>,
    ) -> DbResult<bool> {
        let store = self.store().clone();
        let plan = store.delivery_plan(distribution_id).await?;
        let mut moves = Vec::with_capacity(plan.len());
        for offer in &plan {
            let delivered = StockLevel::parse(offer.quantity, "quantity")
                .map_err(|e| DbError::Other(format!("delivered quantity out of range: {e:?}")))?;
            moves.push(StockMove::deliver(offer.offer_id, delivered));
        }
        let write = async move { store.settle_delivery(distribution_id, now, &plan).await };
        match self.with_stock_moves(&moves, write).await {
            Ok(()) => {
                tracing::info!(distribution = %distribution_id, offers = moves.len(),
                    "orders delivered; stock settled");
                metrics::counter!("jobs_deliveries_total").increment(1);
                Ok(true)
            }
            Err(MoveError::Write(SettleError::AlreadyDone | SettleError::Changed)) => Ok(false),
            Err(MoveError::Write(SettleError::Db(e))) => Err(e),
            Err(MoveError::Stock(e)) => Err(DbError::Unavailable(format!(
                "offer actors busy during settlement: {e:?}"
            ))),
        }
    }
}
