//! The server's outgoing mail (password resets): over SMTP with `lettre` when
//! `LOREGRAPH_SMTP_URL` names a relay, otherwise written to the log for the operator to pass on.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::IdentitySettings;
use crate::error::{AppError, AppResult};

pub struct Mailer {
    relay: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

/// How a mail left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// No relay is configured: the mail was logged.
    Logged,
}

impl Mailer {
    /// Refuses a relay URL or sender address that cannot work, at start-up.
    pub fn new(settings: &IdentitySettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("LOREGRAPH_MAIL_FROM is not a mail address ({e})"))?;
        let relay = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("LOREGRAPH_SMTP_URL is not usable ({e})"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            ),
            None => {
                tracing::info!(
                    "no mail relay (LOREGRAPH_SMTP_URL): password-reset mails are written to this log"
                );
                None
            }
        };
        Ok(Self { relay, from })
    }

    pub fn has_relay(&self) -> bool {
        self.relay.is_some()
    }

    /// Sends a plain-text mail to `to`, or logs it when there is no relay.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> AppResult<Delivery> {
        let Some(relay) = &self.relay else {
            tracing::warn!(
                to,
                subject,
                body,
                "no mail relay is configured (LOREGRAPH_SMTP_URL): this mail is logged instead of sent"
            );
            return Ok(Delivery::Logged);
        };
        let recipient: Mailbox = to
            .parse()
            .map_err(|_| AppError::bad_input("the recipient is not a mail address"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(recipient)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(AppError::internal)?;
        relay.send(message).await.map_err(|error| {
            tracing::warn!(%error, "the mail relay refused a mail or could not be reached");
            AppError::Upstream("the mail could not be sent".into())
        })?;
        Ok(Delivery::Sent)
    }
}
