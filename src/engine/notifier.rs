//! Delivers what the outbox holds (`store::outbox`): by e-mail over SMTP
//! when `[notify] smtp_host` is configured (lettre, rustls), otherwise to
//! the log — the message itself stays in the `outbox` table either way.
//!
//! A message is marked sent only after the SMTP server accepted it; a
//! failure is recorded on the row (`attempts`, `last_error`) and retried on
//! the next pass until `max_attempts`. Causes queue each message once (its
//! `dedupe_key`), so a restart re-sends nothing already sent.

use secrecy::ExposeSecret;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::configuration::{NotifySettings, SmtpTls};
use crate::store::outbox::PendingMessage;
use crate::store::{DbResult, Store};

/// Messages handled per pass.
const BATCH: i64 = 100;

enum Transport {
    /// No SMTP configured: messages go to the log.
    Log,
    Smtp {
        mailer: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    /// SMTP configured but unusable: messages wait, with the reason recorded.
    Broken(String),
}

/// Sends queued messages.
pub struct Notifier {
    store: Store,
    transport: Transport,
    max_attempts: i32,
}

impl Notifier {
    /// A notifier for these settings. A bad SMTP configuration does not stop
    /// the engine: it is logged, and messages wait in the outbox.
    pub fn new(store: Store, settings: &NotifySettings) -> Self {
        let transport = if settings.smtp_host.trim().is_empty() {
            Transport::Log
        } else {
            match smtp(settings) {
                Ok((mailer, from)) => Transport::Smtp {
                    mailer: Box::new(mailer),
                    from,
                },
                Err(reason) => {
                    tracing::error!(%reason, "SMTP configuration unusable; messages stay in the outbox");
                    Transport::Broken(reason)
                }
            }
        };
        Self {
            store,
            transport,
            max_attempts: i32::try_from(settings.max_attempts).unwrap_or(i32::MAX),
        }
    }

    /// Delivers pending messages; returns how many were delivered.
    pub async fn dispatch(&self, now: DateTime<Utc>) -> DbResult<usize> {
        let pending = self
            .store
            .pending_messages(self.max_attempts, BATCH)
            .await?;
        let mut sent = 0;
        for message in pending {
            match self.deliver(&message).await {
                Ok(()) => {
                    self.store.message_sent(message.id, now).await?;
                    metrics::counter!("notify_messages_total", "outcome" => "sent").increment(1);
                    sent += 1;
                }
                Err(reason) => {
                    tracing::warn!(outbox_id = message.id, attempt = message.attempts + 1, %reason,
                        "message not delivered; will retry");
                    metrics::counter!("notify_messages_total", "outcome" => "failed").increment(1);
                    self.store.message_failed(message.id, &reason).await?;
                }
            }
        }
        Ok(sent)
    }

    async fn deliver(&self, message: &PendingMessage) -> Result<(), String> {
        match &self.transport {
            Transport::Log => {
                tracing::info!(outbox_id = message.id, kind = %message.kind,
                    recipient = %message.recipient, subject = %message.subject,
                    "message (no SMTP configured; body kept in the outbox table)");
                Ok(())
            }
            Transport::Broken(reason) => Err(reason.clone()),
            Transport::Smtp { mailer, from } => {
                let to: Mailbox = message
                    .recipient
                    .parse()
                    .map_err(|e| format!("recipient: {e}"))?;
                let email = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(message.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(message.body.clone())
                    .map_err(|e| format!("message: {e}"))?;
                mailer
                    .send(email)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("smtp: {e}"))
            }
        }
    }
}

fn smtp(
    settings: &NotifySettings,
) -> Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), String> {
    let host = settings.smtp_host.trim();
    let builder = match settings.smtp_tls {
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| format!("smtp_host: {e}"))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
            .map_err(|e| format!("smtp_host: {e}"))?,
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    };
    let mut builder = builder
        .port(settings.smtp_port)
        .timeout(Some(Duration::from_secs(settings.smtp_timeout_secs.max(1))));
    if !settings.smtp_username.is_empty() {
        builder = builder.credentials(Credentials::new(
            settings.smtp_username.clone(),
            settings.smtp_password.expose_secret().to_owned(),
        ));
    }
    let from: Mailbox = settings.from.parse().map_err(|e| format!("from: {e}"))?;
    Ok((builder.build(), from))
}
